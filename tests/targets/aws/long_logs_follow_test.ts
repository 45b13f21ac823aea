// Following a running job's output for long (`cloudknot logs --follow`,
// `BatchJob.logs({ follow: true })`) on a laptop that loses its network for
// a while: the follow rides it out, says so, and goes on from where the
// stream was once AWS answers, with every line once.
import assert from "node:assert/strict";
import { join } from "node:path";
import { BatchJob } from "../../../src/targets/aws/batch/mod.ts";
import type { OutageNotice } from "../../../src/targets/aws/batch/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { mapWaiting, printsAround, startTestBed } from "./helpers.ts";
import { FrontProxy } from "../../support/front_proxy.ts";

Deno.test("BatchJob: following a job's output rides out an AWS it cannot reach for a while, says so, and reads on from where the stream was, every line once", async () => {
  const bed = await startTestBed(printsAround, { permissions: { read: true } });
  const front = new FrontProxy(Number(new URL(bed.emu.endpoint).port));
  try {
    const file = join(bed.dir, "go");
    const { run, jobId } = await mapWaiting(bed, file);
    const session = await sessionFor(bed.emu, {
      endpoint: front.endpoint,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const job = await BatchJob.fromId(jobId, {
      session,
      pollIntervalMs: 10,
      maxPollIntervalMs: 40,
    });
    const notices: OutageNotice[] = [];
    const lines: string[] = [];
    let told = Promise.withResolvers<void>();
    const following = (async () => {
      for await (
        const line of job.logs({
          follow: true,
          onOutage: (notice) => {
            notices.push(notice);
            told.resolve();
          },
        })
      ) {
        lines.push(line);
        if (line === "before the wait") {
          // The laptop loses its network while the job runs.
          front.unplug();
        }
      }
    })();
    await told.promise;
    told = Promise.withResolvers<void>();
    assert.equal(notices[0]!.kind, "unreachable");
    // The job goes on and ends while the follow cannot reach AWS.
    await Deno.writeTextFile(file, "done");
    await bed.emu.waitForJobs(60_000);
    front.plug();
    await following;
    assert.deepEqual(lines, ["before the wait", "after the wait"]);
    assert.deepEqual(notices.map((n) => n.kind), ["unreachable", "back"]);
    assert.equal(await run.results().then((r) => r[0]), "done");
  } finally {
    await front.close();
    await bed.close();
  }
});
