// Updating a knot on AWS from the command line, against the emulator:
// `knot create` with another export says it updated the knot, with its new
// job definition revision, and how a run made before is retried; `map` with
// another export updates it too; and `retry` of a run made before runs the
// function that run ran.
import assert from "node:assert/strict";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { withAwsHome } from "./aws_helpers.ts";
import { cli, JOBS, ndjson } from "./helpers.ts";

const FARGATE = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];

function runIdOf(stderr: string): string {
  const m = /^knot \S+ · run (\S+) · \d+ items \(aws\)$/m.exec(stderr);
  assert.ok(m, stderr);
  return m[1]!;
}

dockerTest(
  "knot create and map with another export update an AWS knot, and retry of a run made before runs its own function",
  async () => {
    await withAwsHome(async (home) => {
      const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
      assert.equal((await cli(home, ["configure", "--region", "us-east-1"], { env })).code, 0);
      const made = await cli(home, [
        "knot",
        "create",
        "up",
        JOBS,
        "failOdd",
        ...FARGATE,
        "--retries",
        "1",
        "-q",
      ], { env });
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /^Created knot up on AWS Batch/m);
      const first = await cli(home, ["map", "--name", "up"], { stdin: "[1, 2]", env });
      assert.equal(first.code, 1, first.stderr);
      assert.equal(ndjson(first.stdout)[1]!.value, 2);
      const run1 = runIdOf(first.stderr);

      // Another export: the knot is updated, and says so in a command-line user's words.
      const updated = await cli(
        home,
        ["knot", "create", "up", JOBS, "square", "--target", "aws", "-q"],
        { env },
      );
      assert.equal(updated.code, 0, updated.stderr);
      assert.match(
        updated.stdout,
        /^Updated knot up on AWS Batch \(us-east-1\): image up \(module, [0-9a-f]{8}\), FARGATE, job definition revision 2; runs made before keep their own function \(cloudknot retry up RUN retries one with it\)$/m,
      );
      assert.match(
        updated.stderr,
        /cloudknot: knot up now runs module square \([0-9a-f]{12}\) \(job definition revision 2\)/,
      );
      const square = await cli(home, ["map", "--name", "up", "-q"], { stdin: "[3]", env });
      assert.equal(square.code, 0, square.stderr);
      assert.equal(square.stdout, '{"index":0,"value":9}\n');

      // The run made before retries with failOdd, the function it ran: item 0 (1) fails again.
      const retried = await cli(home, ["retry", "up", run1, "-q"], { env });
      assert.equal(retried.code, 1, retried.stderr);
      const lines = ndjson(retried.stdout);
      assert.equal((lines[0]!.error as { name: string }).name, "RangeError");
      assert.equal(lines[1]!.value, 2);
      // The run retried names its retry, whose results have every item.
      const earlier = await cli(home, ["results", "up", run1, "-q"], { env });
      assert.equal(earlier.code, 1, earlier.stderr);
      assert.match(
        earlier.stderr,
        /^1 of 2 items failed in run \S+, which was retried: `cloudknot results up \S+` gives every item, with the retry's results$/m,
      );

      // map with another export updates the knot before it runs it.
      const mapped = await cli(
        home,
        ["map", JOBS, "failOdd", "--name", "up", "--target", "aws", "-q"],
        { stdin: "[4]", env },
      );
      assert.equal(mapped.code, 0, mapped.stderr);
      assert.equal(mapped.stdout, '{"index":0,"value":4}\n');
      assert.match(mapped.stderr, /knot up now runs module failOdd .*revision 3/);
    }, { runner: "docker" });
  },
);
