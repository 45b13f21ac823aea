// The hang guard passes on what comes in time, and fails, naming what did not
// come, once its bound has passed.
import assert from "node:assert/strict";
import { endsWithin } from "./ends_within.ts";

Deno.test("endsWithin gives what comes in time, and fails naming what did not come past its bound", async () => {
  assert.equal(await endsWithin(Promise.resolve(7), 1_000, "seven"), 7);
  const never = new Promise<never>(() => {});
  await assert.rejects(
    () => endsWithin(never, 50, "the answer"),
    /^Error: the answer did not come within 0\.05 s \(a hang\)$/,
  );
});
