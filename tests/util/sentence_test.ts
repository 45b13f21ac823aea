import assert from "node:assert/strict";
import { thenSentence } from "../../src/util/sentence.ts";

Deno.test("thenSentence puts one full stop between a message and the next sentence, whether or not the message ends with one", () => {
  assert.equal(thenSentence("Not in our records.", "Check"), "Not in our records. Check");
  assert.equal(thenSentence("Not in our records", "Check"), "Not in our records. Check");
  assert.equal(thenSentence("Not in our records. \n", "Check"), "Not in our records. Check");
  assert.equal(thenSentence("Is it there?", "Check"), "Is it there? Check");
  assert.equal(thenSentence("", "Check"), "Check");
});
