// An ItemError's message says what the item threw: an Error by its name, any
// other value by its type, never calling a thrown string an Error.
import assert from "node:assert/strict";
import { ItemError } from "../../mod.ts";
import { errorToRecord } from "../../src/job/error_record.ts";
import { failureRecord } from "../../src/job/record.ts";

function threw(value: unknown): string {
  const record = failureRecord(
    { index: 7, attempt: 1, jobId: "j", kind: "threw" },
    errorToRecord(value),
  );
  return ItemError.fromRecord(record, { attempts: 1 }).message;
}

Deno.test("an item that threw an Error is named by the error's name", () => {
  assert.equal(threw(new RangeError("too far")), "Item 7 threw RangeError: too far");
});

Deno.test("an item that threw a value that is not an Error says its type, not Error", () => {
  assert.equal(threw("a plain string"), "Item 7 threw a string, not an Error: a plain string");
  assert.equal(threw({ code: 42 }), 'Item 7 threw an object, not an Error: {"code":42}');
  assert.equal(threw(3), "Item 7 threw a number, not an Error: 3");
  assert.match(threw(null), /^Item 7 threw null, not an Error: /);
});
