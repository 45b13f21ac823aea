/**
 * The frames of cloudknot's own runtime taken off the stack of an error a job
 * function threw: below the function's frames, V8 names where the runtime
 * called it (`runItem`, `workerMain`: `runtime.ts` and `worker_main.ts`
 * locally, `worker.js` in a container), which say nothing of the item.
 *
 * @module
 */
import type { SerializedError } from "./error_record.ts";

/** A line of a V8 stack that is a frame. */
const FRAME = /^\s+at /;

/**
 * A stack without the frames from the first one in the runtime's file on:
 * the function's frames above it stay, and so does a stack with no frame
 * above the runtime's (one the runtime made, or with no frames at all).
 *
 * @example Usage
 * ```ts
 * import { withoutRuntimeFrames } from "./runtime_frames.ts";
 *
 * const stack = "Error: bad\n    at job (file:///app/function.js:4:9)\n" +
 *   "    at runItem (file:///app/worker.js:4:4892)\n    at workerMain (file:///app/worker.js:7:3086)";
 * console.log(withoutRuntimeFrames(stack, "file:///app/worker.js"));
 * // Error: bad
 * //     at job (file:///app/function.js:4:9)
 * ```
 *
 * @param stack The stack.
 * @param runtimeUrl The URL of the file that holds the runtime's `runItem`.
 * @returns The stack without the runtime's frames.
 */
export function withoutRuntimeFrames(stack: string, runtimeUrl: string): string {
  const lines = stack.split("\n");
  // The frames are the lines at the end; a message's own lines come before them.
  let first = lines.length;
  while (first > 0 && FRAME.test(lines[first - 1]!)) first--;
  const named = `(${runtimeUrl}:`;
  const bare = `at ${runtimeUrl}:`;
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.includes(named) || line.includes(bare)) {
      return i > first ? lines.slice(0, i).join("\n") : stack;
    }
  }
  return stack;
}

/**
 * Takes the runtime's frames off an error record's stack, and off those of
 * its causes and an `AggregateError`'s errors, which the function made too.
 *
 * @example Usage
 * ```ts
 * import { dropRuntimeFrames } from "./runtime_frames.ts";
 *
 * const record = { name: "Error", message: "bad", stack: "Error: bad\n    at job (file:///f.js:1:1)\n    at runItem (file:///r.js:2:2)" };
 * dropRuntimeFrames(record, "file:///r.js");
 * console.log(record.stack); // "Error: bad\n    at job (file:///f.js:1:1)"
 * ```
 *
 * @param record The error record, changed in place.
 * @param runtimeUrl The URL of the file that holds the runtime's `runItem`.
 */
export function dropRuntimeFrames(record: SerializedError, runtimeUrl: string): void {
  if (record.stack !== undefined) record.stack = withoutRuntimeFrames(record.stack, runtimeUrl);
  if (record.cause !== undefined) dropRuntimeFrames(record.cause, runtimeUrl);
  for (const error of record.errors ?? []) dropRuntimeFrames(error, runtimeUrl);
}
