// An item whose function runs a program this machine does not have fails
// saying so and what to do, in the library's and the command line's words.
import assert from "node:assert/strict";
import type { ItemError } from "../../../mod.ts";
import { join } from "node:path";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { withKnot } from "./helpers.ts";

/** Runs a program by its name, with Deno's API or Node's. */
const runProgram = async (program: string, api: "deno" | "node") => {
  if (api === "node") (await import("node:child_process")).execFileSync(program);
  else await new Deno.Command(program, { stdout: "null", stderr: "null" }).output();
  return "ran";
};

Deno.test("an item whose function runs a program not on this machine fails after one attempt saying to install it or put it on PATH, then retry that run, with Deno's error at its head", async () => {
  const program = "cloudknot-no-such-program";
  await withKnot(
    { name: "no-program", retries: 3, func: runProgram, permissions: { run: true, env: true } },
    async (knot) => {
      const run = await knot.map([[program, "deno"], [program, "node"]], {
        starmap: true,
        progress: false,
      });
      const [settled, node] = await run.settled();
      assert.equal(settled!.status, "rejected");
      const error = (settled as { reason: ItemError }).reason;
      assert.equal(error.remote.name, "NotFound");
      // Every attempt would fail alike: the first is final, of 3 attempts.
      assert.deepEqual([error.attempt, (node as { reason: ItemError }).reason.attempt], [1, 1]);
      const advice = `the program ${program} is not on this machine, or not in a folder on the ` +
        "PATH of the process that maps the items. Install it, or put its folder on PATH, then " +
        `retry the items with run.retry() on the run's handle (knot.collect("${run.runId}") of ` +
        "knot no-program), or map them again";
      assert.equal(
        error.message,
        `Item 0 threw NotFound: Failed to spawn '${program}': entity not found: ${advice}`,
      );
      assert.match(error.remote.stack ?? "", new RegExp(`^NotFound: Failed to spawn '${program}'`));
      assert.ok(error.remote.stack?.includes(advice), "the stack's head says it too");
      // Node's words for it.
      assert.equal(
        (node as { reason: ItemError }).reason.message,
        `Item 1 threw Error: spawnSync ${program} ENOENT: ${advice}`,
      );
      assert.ok(
        inCliWords(error).endsWith(
          `then retry the items with cloudknot retry no-program ${run.runId}, or map them again`,
        ),
        inCliWords(error),
      );
    },
  );
});

Deno.test("collect() of a finished run whose item missed a program reads its one attempt as final and runs it no more", async () => {
  await withKnot(
    { name: "collected-program", retries: 3, func: runProgram, permissions: { run: true } },
    async (knot) => {
      const run = await knot.map([["cloudknot-no-such-program", "deno"]], {
        starmap: true,
        progress: false,
      });
      await run.settled();
      const [settled] = await (await knot.collect(run.runId)).settled();
      assert.equal(settled!.status, "rejected");
      assert.equal((settled as { reason: ItemError }).reason.attempt, 1);
      assert.deepEqual((await run.usage()).attempts.map((a) => a.attempt), [1]);
    },
  );
});

Deno.test("an item whose function ran a program not on this machine succeeds on run.retry() once the program is there", async () => {
  await withKnot(
    { name: "late-program", retries: 3, func: runProgram, permissions: { run: true } },
    async (knot, dir) => {
      const program = join(dir, "installed-later");
      const run = await knot.map([[program, "deno"]], { starmap: true, progress: false });
      const [settled] = await run.settled();
      assert.equal(settled!.status, "rejected");
      assert.equal((settled as { reason: ItemError }).reason.attempt, 1);
      await Deno.writeTextFile(program, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const retried = await run.retry({ progress: false });
      assert.deepEqual(await retried.results(), ["ran"]);
    },
  );
});
