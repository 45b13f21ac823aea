import assert from "node:assert/strict";
import { Knot } from "../../mod.ts";
import { closestWord } from "../../src/util/validate.ts";

Deno.test("closestWord names a word within two edits, or else the one option that starts with it", () => {
  assert.equal(closestWord("memroy", ["memory", "vcpus"]), "memory");
  assert.equal(closestWord("export", ["exportName", "module"]), "exportName");
  assert.equal(closestWord("ex", ["exportName"]), undefined);
  assert.equal(closestWord("max", ["maxVcpus", "maxAttempts"]), undefined);
  assert.equal(closestWord("zzz", ["memory"]), undefined);
});

Deno.test("Knot.create() with export instead of exportName asks whether exportName was meant", async () => {
  const e = await Knot.create({ name: "k", module: "m.ts", export: "f" } as never).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(e), /has no option "export": did you mean "exportName"\?/);
});
