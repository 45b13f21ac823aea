// `cloudknot retry` of an AWS run reads the run once, against the emulator:
// the run it opens (followed until it ends) is the retry's reading of it, so
// its manifest, its jobs and its records are not read from AWS a second time.
import assert from "node:assert/strict";
import type { LoggedRequest } from "../emulator/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { withAwsHome } from "./aws_helpers.ts";
import { cli, JOBS, ndjson } from "./helpers.ts";

const FARGATE = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];

/** Whether a request reads something of this run: its data in S3, or its jobs in Batch. */
function readsRun(entry: LoggedRequest, runId: string, jobIds: readonly string[]): boolean {
  const { Key, Prefix, jobs } = entry.params as {
    Key?: unknown;
    Prefix?: unknown;
    jobs?: unknown;
  };
  if (String(Key ?? Prefix ?? "").includes(`/runs/${runId}/`)) return true;
  return Array.isArray(jobs) && jobs.some((id) => jobIds.some((j) => String(id).startsWith(j)));
}

dockerTest(
  "cloudknot retry of an AWS run reads the run once: its manifest, jobs and records are not read again for the retry",
  async () => {
    await withAwsHome(async (home) => {
      const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
      assert.equal((await cli(home, ["configure", "--region", "us-east-1"], { env })).code, 0);
      const args = ["map", JOBS, "failOdd", "--name", "odd", ...FARGATE, "--retries", "1", "-q"];
      const first = await cli(home, args, { stdin: "[1, 2]", env });
      assert.equal(first.code, 1, first.stderr);
      const shown = JSON.parse((await cli(home, ["knot", "show", "odd", "--json"])).stdout);
      const runId: string = shown.runs[0].runId;
      const jobs = [...home.emu.batch.jobs.values()]
        .filter((j) => j.jobName.startsWith(`odd-${runId}-`) && !j.jobId.includes(":"))
        .map((j) => j.jobId);
      assert.equal(jobs.length, 1, "the run is one array job");

      home.emu.requests.clear();
      const retried = await cli(home, ["retry", "odd", runId, "-q"], { env });
      assert.equal(retried.code, 1, retried.stderr);
      assert.deepEqual(ndjson(retried.stdout).map((l) => "value" in l), [false, true]);
      const reads = home.emu.requests.entries.filter((e) => readsRun(e, runId, jobs));
      const keys = (pattern: RegExp) =>
        reads.filter((e) => e.operation === "GetObject" && pattern.test(String(e.params.Key)));
      // Once: the reading that picks it is the one the retry opens it with.
      assert.equal(keys(/\/run\.json$/).length, 1, "the run's manifest is read once to retry it");
      assert.deepEqual(
        reads.filter((e) => e.operation === "DescribeJobs").map((e) => e.params.jobs),
        [[jobs[0]], [`${jobs[0]}:0`]],
        "its job and its child are described once",
      );
      assert.equal(keys(/\/out\//).length, 2, "each of its two records is read once");
    }, { runner: "docker" });
  },
);
