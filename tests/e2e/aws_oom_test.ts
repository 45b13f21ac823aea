// A V8 heap out of memory on AWS Batch, against the emulator with real Docker
// containers: V8 stops at its heap limit, below the container's memory, and
// aborts (SIGTRAP). Docker does not mark the container OOMKilled, so ECS and
// Batch report no OutOfMemoryError reason (aws/amazon-ecs-agent#2231), and
// V8's "Fatal JavaScript out of memory" is only in the output. A job runs its
// items in worker processes, so the job sees its worker's last words and
// writes the item's record as out of memory itself; the container then exits
// 1 ("Essential container in task exited"). (When a job's own process dies
// that way, with no record, the client reads the end of its log instead:
// tests/targets/aws/batch/log_tail_test.ts.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { ItemError, Knot } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

/** Keeps what it makes until V8's heap is full; `"small"` returns at once. */
function hog(x: string): number {
  if (x === "small") return 1;
  const kept: object[] = [];
  while (true) kept.push({ at: kept.length, text: `item ${kept.length}` });
}

dockerTest(
  "a V8 heap out of memory on AWS Batch fails its item as OutOfMemoryError, though Batch reports no OOM",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-e2e-oom-" });
    try {
      const knot = await Knot.create({
        name: "heap",
        target: "aws",
        func: hog,
        baseImage: await ensureBaseImage(),
        repoName: "heap-images",
        memory: 512,
        session: await sessionFor(emu),
        state: new StateFile({ path: join(dir, "cloudknot") }),
        cloudknotDir: join(dir, "home"),
        pollInterval: 100,
      });
      // V8's heap limit, well below the container's 512 MiB.
      const run = await knot.map(["big", "small"], {
        env: { DENO_V8_FLAGS: "--max-old-space-size=32" },
        progress: false,
      });
      const [big, small] = await run.settled();
      assert.deepEqual(small, { index: 1, status: "fulfilled", value: 1 });
      assert.equal(big!.status, "rejected");
      const reason = (big as { reason: ItemError }).reason;
      assert.ok(reason instanceof ItemError);
      // What Batch said: the container exited 1, with no OutOfMemoryError reason.
      assert.equal(reason.exitCode, 1);
      assert.equal(reason.statusReason, "Essential container in task exited");
      assert.ok((await Array.fromAsync(run.logs(0))).some((l) => /out of memory/i.test(l)));
      // What the item says: out of memory, and what to raise.
      assert.equal(reason.remote.name, "OutOfMemoryError");
      assert.match(
        reason.message,
        /^Item 0 ran out of memory: V8 stopped the attempt .*"Fatal JavaScript out of memory" in its log.*give the item more (?:than \d+ MiB|memory) with the memory option of Knot\.create or run\.retry/,
      );
      await run.done;
      await knot.clobber();
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
