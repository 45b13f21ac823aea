// What an item's stack shows on the local target: the frames of the function
// that threw, and not those of cloudknot's runtime below them (runtime.ts,
// worker_main.ts), in the error, its cause and an AggregateError's errors.
import assert from "node:assert/strict";
import type { ItemError } from "../../../mod.ts";
import { THROWING_FRAMES } from "../../fixtures/throwing_frames.ts";
import { withKnot } from "./helpers.ts";

const HERE = import.meta.url;

/** The item error of a run's only item, which must have failed. */
async function onlyError(run: { settled(): Promise<unknown[]> }): Promise<ItemError> {
  const [settled] = await run.settled() as { status: string; reason?: ItemError }[];
  assert.equal(settled!.status, "rejected");
  return settled!.reason!;
}

/** The last line of a stack. */
const lastLine = (stack: string | undefined) => stack?.split("\n").at(-1) ?? "";

Deno.test("a module's thrown error's stack ends with the module's own frames, without the runtime's below them", async () => {
  await withKnot({
    name: "module-frames",
    module: new URL("../../fixtures/throwing_job.ts", import.meta.url).href,
    exportName: "measure",
  }, async (knot) => {
    const error = await onlyError(await knot.map([-1], { progress: false }));
    const whole = new RegExp(`^RangeError: negative reading -1\\n\\s+${THROWING_FRAMES.source}$`);
    assert.match(error.remote.stack ?? "", whole);
    assert.match((error.cause as Error).stack ?? "", whole);
  });
});

Deno.test("a func's thrown error, its cause and an AggregateError's errors have stacks that end with the func's frames", async () => {
  await withKnot({
    name: "func-frames",
    func: async (x: number) => {
      await Promise.resolve();
      const under = new Error(`under ${x}`);
      throw new AggregateError([new TypeError(`one ${x}`)], `all ${x}`, { cause: under });
    },
  }, async (knot) => {
    const error = await onlyError(await knot.map([1], { progress: false }));
    const cause = error.cause as AggregateError & { cause: Error };
    const stacks = [error.remote.stack, cause.stack, cause.cause.stack, cause.errors[0].stack];
    for (const stack of stacks) {
      assert.ok(lastLine(stack).includes(HERE), stack);
      assert.doesNotMatch(stack ?? "", /runItem|workerMain|src\/job\//);
    }
  });
});

Deno.test("a stack the runtime made itself, with no frame of the function, is kept whole", async () => {
  await withKnot({
    name: "runtime-made",
    func: (_x: number) => {
      Promise.reject("not an Error");
      return 1;
    },
  }, async (knot) => {
    const error = await onlyError(await knot.map([1], { progress: false }));
    assert.equal(error.remote.name, "UnhandledRejectionError");
    assert.match(error.remote.stack ?? "", /\n\s+at .*runItem .*src\/job\/runtime\.ts:/);
  });
});
