/**
 * DescribeJobs in batches: 100 ids per call and a bounded number of calls in
 * flight, since DescribeJobs shares the account's Batch rate with SubmitJob.
 */
import assert from "node:assert/strict";
import { AwsSession } from "../../../../src/aws/mod.ts";
import { DESCRIBE_JOBS_CONCURRENCY, describeJobs } from "../../../../src/targets/aws/batch/jobs.ts";
import { withServer } from "../../../aws/loopback.ts";

Deno.test("describeJobs sends 100 ids per call and keeps at most a few calls in flight", async () => {
  let inFlight = 0;
  let most = 0;
  const sizes: number[] = [];
  const handler = async (req: Request) => {
    const { jobs } = await req.json() as { jobs: string[] };
    sizes.push(jobs.length);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 20));
    inFlight--;
    return Response.json({
      jobs: jobs.map((jobId) => ({
        jobId,
        jobName: jobId,
        jobQueue: "q",
        jobDefinition: "d",
        status: "RUNNABLE",
        startedAt: 0,
      })),
    });
  };
  await withServer(handler, async (url) => {
    const session = await AwsSession.create({
      region: "us-east-1",
      endpoint: url,
      credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
      batchRequestsPerSecond: 0,
    });
    const ids = Array.from({ length: 1_050 }, (_, i) => `job-${i}`);
    const described = await describeJobs(session.batch, ids);
    assert.equal(described.size, 1_050);
  });
  assert.equal(sizes.length, 11);
  assert.ok(sizes.every((n) => n <= 100));
  assert.equal(most, DESCRIBE_JOBS_CONCURRENCY);
});
