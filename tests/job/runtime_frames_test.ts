// The runtime's own frames are taken off the stack of an error a job
// function threw; the function's frames, and a stack with none, stay.
import assert from "node:assert/strict";
import { dropRuntimeFrames, withoutRuntimeFrames } from "../../src/job/runtime_frames.ts";
import type { SerializedError } from "../../src/job/error_record.ts";

const RUNTIME = "file:///app/worker.js";
const USER = "    at inner (file:///app/function.js:4:9)\n" +
  "    at Object.default [as fn] (file:///app/function.js:6:3)";
const BELOW = "    at async runItem (file:///app/worker.js:4:4892)\n" +
  "    at async workerMain (file:///app/worker.js:7:3086)";

Deno.test("the runtime's frames below the function's are left out, and every frame of the function stays", () => {
  assert.equal(
    withoutRuntimeFrames(`RangeError: bad\n${USER}\n${BELOW}`, RUNTIME),
    `RangeError: bad\n${USER}`,
  );
  // Deno's own frames below the runtime's go with them; a frame without a name counts too.
  assert.equal(
    withoutRuntimeFrames(
      `Error: x\n${USER}\n    at file:///app/worker.js:4:10\n    at ext:core/01_core.js:1:1`,
      RUNTIME,
    ),
    `Error: x\n${USER}`,
  );
});

Deno.test("a message of many lines keeps them all, even one that reads like a frame of the runtime", () => {
  const head = "Error: two\n    at runItem (file:///app/worker.js:1:1) is quoted here\nlines";
  assert.equal(
    withoutRuntimeFrames(`${head}\n${USER}\n${BELOW}`, RUNTIME),
    `${head}\n${USER}`,
  );
});

Deno.test("a stack with no frame of the function above the runtime's is kept whole", () => {
  const made = "UnhandledRejectionError: …\n" +
    "    at looseError (file:///app/worker.js:1:1)\n" +
    "    at runItem (file:///app/worker.js:4:4892)";
  assert.equal(withoutRuntimeFrames(made, RUNTIME), made);
  const timer = "Error: in timer\n    at Timeout._onTimeout (file:///app/function.js:6:1)\n" +
    "    at listOnTimeout (ext:core/02_timers.js:307:17)";
  assert.equal(withoutRuntimeFrames(timer, RUNTIME), timer);
  assert.equal(withoutRuntimeFrames("Error: no frames", RUNTIME), "Error: no frames");
});

Deno.test("the runtime's frames are left out of an error record's causes and an AggregateError's errors", () => {
  const record: SerializedError = {
    name: "AggregateError",
    message: "all",
    stack: `AggregateError: all\n${USER}\n${BELOW}`,
    errors: [{ name: "Error", message: "one", stack: `Error: one\n${USER}\n${BELOW}` }],
    cause: {
      name: "Error",
      message: "under",
      stack: `Error: under\n${USER}\n${BELOW}`,
      cause: { name: "Error", message: "deeper", stack: `Error: deeper\n${USER}\n${BELOW}` },
    },
  };
  dropRuntimeFrames(record, RUNTIME);
  assert.equal(record.stack, `AggregateError: all\n${USER}`);
  assert.equal(record.errors![0]!.stack, `Error: one\n${USER}`);
  assert.equal(record.cause!.stack, `Error: under\n${USER}`);
  assert.equal(record.cause!.cause!.stack, `Error: deeper\n${USER}`);
});
