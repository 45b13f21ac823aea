// Waiting for a job's result for long (`BatchJob.result()`) on a laptop that loses its network
// for a while: the wait rides it out, says so once and once more when AWS answers, and gives the
// job's value, which it ended with meanwhile.
import assert from "node:assert/strict";
import { join } from "node:path";
import { BatchJob } from "../../../src/targets/aws/batch/mod.ts";
import type { OutageNotice } from "../../../src/targets/aws/batch/mod.ts";
import { roleKeys, sessionFor } from "../../support/aws_session.ts";
import type { AwsSessionOptions } from "../../../src/aws/mod.ts";
import { mapWaiting, releaseFile, startTestBed, type TestBed, waitsForFile } from "./helpers.ts";
import { FrontProxy } from "../../support/front_proxy.ts";

/** The job, read by a session of its own that polls often and retries little. */
async function watcher(
  bed: TestBed,
  jobId: string,
  options: AwsSessionOptions,
): Promise<BatchJob> {
  const session = await sessionFor(bed.emu, {
    ...options,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });
  return await BatchJob.fromId(jobId, { session, pollIntervalMs: 10, maxPollIntervalMs: 40 });
}

/**
 * Waits until a wait signing with `accessKeyId` has ended a round that read the job and its
 * records, and begun another (a state, looked for until it is there).
 */
async function roundDone(bed: TestBed, accessKeyId: string): Promise<void> {
  while (true) {
    const its = bed.emu.requests.filter({}).filter((r) => r.accessKeyId === accessKeyId);
    const read = its.findIndex((r) => r.service === "s3");
    if (read >= 0 && its.slice(read).some((r) => r.operation === "DescribeJobs")) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("BatchJob: waiting for a job's result rides out an AWS it cannot reach for a while, tells onOutage once it begins and once it is over, and gives the value the job ended with meanwhile", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  const front = new FrontProxy(Number(new URL(bed.emu.endpoint).port));
  try {
    const file = join(bed.dir, "go");
    const { run, jobId } = await mapWaiting(bed, file);
    // The wait signs with keys of its own, so that its requests are told from the map's handle's.
    const keys = await roleKeys(bed.session, bed.emu.accountId, {
      role: "result-watcher",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
      }),
      session: "result",
    });
    const job = await watcher(bed, jobId, { endpoint: front.endpoint, credentials: keys });
    const notices: OutageNotice[] = [];
    let told = Promise.withResolvers<void>();
    const result = job.result({
      onOutage: (notice) => {
        notices.push(notice);
        told.resolve();
      },
    });
    // A round of the wait has read the job and its records, and the next one has begun: AWS
    // answered the wait, so what follows is an outage. Then the laptop loses its network.
    await roundDone(bed, keys.accessKeyId);
    front.unplug();
    await told.promise;
    told = Promise.withResolvers<void>();
    assert.deepEqual(notices.map((n) => n.kind), ["unreachable"]);
    assert.match((notices[0] as { message: string }).message, /\S/);
    // The job ends while the wait cannot reach AWS.
    await releaseFile(file, "done");
    await bed.emu.waitForJobs(60_000);
    front.plug();
    assert.equal(await result, "done");
    assert.deepEqual(notices.map((n) => n.kind), ["unreachable", "back"]);
    assert.equal(
      notices[1]!.since,
      notices[0]!.since,
      "the notice that it is over names when it began",
    );
    await run.results();
  } finally {
    await front.close();
    await bed.close();
  }
});

Deno.test("BatchJob: waiting for a job's result with keys given in code that expire ends at once, saying to read the result again with BatchJob.fromId and new keys, and the job's result is read then", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  try {
    const file = join(bed.dir, "go");
    const { run, jobId } = await mapWaiting(bed, file);
    const { Credentials: c } = await bed.session.sts.assumeRole({
      RoleArn: bed.resources.jobRoleArn,
      RoleSessionName: "result-in-code",
      DurationSeconds: 900,
    });
    const keys = {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };
    const job = await watcher(bed, jobId, { credentials: keys });
    const notices: OutageNotice[] = [];
    const result = job.result({ onOutage: (n) => notices.push(n) });
    // Once the wait has read the job and its records and begun another round, the keys expire.
    await roundDone(bed, keys.accessKeyId);
    bed.emu.sts.expire(keys.accessKeyId);
    const error = await result.then(() => undefined, (e: Error) => e);
    assert.ok(error instanceof Error, "the wait ends, though the job still waits for its file");
    assert.match(
      error.message,
      new RegExp(
        "Stopped waiting at once: AWS refused the credentials, and this program cannot get " +
          "others while it runs \\(.*\\)\\. The jobs go on in AWS Batch and what they record " +
          `is kept: with new credentials, read the job's result again \\(result\\(\\) of ` +
          `BatchJob\\.fromId\\("${jobId}"\\)\\)`,
      ),
    );
    assert.deepEqual(notices, [], "no notice that the wait goes on");
    await releaseFile(file, "done");
    await bed.emu.waitForJobs(60_000);
    const again = await BatchJob.fromId(jobId, { session: bed.session });
    assert.equal(await again.result(), "done");
    await run.results();
  } finally {
    await bed.close();
  }
});
