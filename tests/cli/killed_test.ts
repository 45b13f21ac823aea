// A command-line process killed (SIGKILL) part-way through its AWS requests,
// then the command a user runs next: what was finished stays readable, what
// was half done is finished, and nothing is left that no command finds.
import assert from "node:assert/strict";
import { Pars } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { OWNER_TAG_KEY } from "../../src/resources/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { killAt } from "../support/kill_at.ts";
import { type AwsHome, withAwsHome } from "./aws_helpers.ts";
import { cli, JOBS, spawnCli } from "./helpers.ts";

const BUCKET = "cloudknot-123456789012-us-east-1";

for (const operation of ["CreateBucket", "PutPublicAccessBlock", "PutBucketPolicy"]) {
  Deno.test(`configure killed at ${operation} of a new bucket: the next configure finishes the bucket`, async () => {
    await withAwsHome(async (home) => {
      await killAt(
        home.emu,
        { service: "s3", operation },
        () => spawnCli(home, ["configure", "--region", "us-east-1"]),
      );
      assert.ok(home.emu.s3.buckets.has(BUCKET));
      // Killed before the bucket's first tag, the config file says it was creating it.
      const state = new StateFile({ path: home.configFile });
      assert.equal(await state.get("aws", "s3-bucket-creating"), BUCKET);
      const again = await cli(home, ["configure", "--region", "us-east-1"]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(await state.get("aws", "s3-bucket-creating"), undefined);
      const bucket = home.emu.s3.buckets.get(BUCKET)!;
      // The lifecycle rule expires job data and aborts unfinished uploads.
      assert.match(bucket.config.lifecycle ?? "", /AbortIncompleteMultipartUpload/);
      assert.match(bucket.config.policy ?? "", /aws:SecureTransport/);
      assert.match(bucket.config.publicAccessBlock ?? "", /<BlockPublicAcls>true/);
      assert.match(bucket.config.encryption ?? "", /AES256/);
      assert.equal(bucket.tags?.ManagedBy, "cloudknot");
    });
  });
}

/** What the emulator holds, as `service/type/id`, sorted. */
function resources(home: AwsHome): string[] {
  return home.emu.listResources().map((r) => `${r.service}/${r.type}/${r.id}`).sort();
}

Deno.test("pars clobber killed part-way: the next pars clobber deletes what is left of it, and only that", async () => {
  await withAwsHome(async (home) => {
    const state = new StateFile({ path: home.configFile });
    assert.equal((await cli(home, ["configure", "--region", "us-east-1"])).code, 0);
    // Another Pars of this config file is never touched.
    const session = await sessionFor(home.emu);
    await Pars.create({ name: "other", session, state });
    const before = resources(home);
    for (
      const [at, left] of [
        // After the first role: 3 roles, the instance profile, the security group, the network.
        [{ service: "iam", operation: "DeleteRole" }, 10],
        // After the roles and the security group: route table, gateway, subnets, VPC.
        [{ service: "ec2", operation: "DeleteSecurityGroup" }, 5],
        // In the VPC's pieces: a subnet and the VPC.
        [{ service: "ec2", operation: "DeleteSubnet" }, 2],
      ] as const
    ) {
      const { created } = await Pars.create({ name: "lab", useDefaultVpc: false, session, state });
      assert.equal(created.length, 11);
      await killAt(home.emu, at, () => spawnCli(home, ["pars", "clobber", "lab", "--yes"]));
      assert.ok(await state.section("pars lab"), "the killed clobber left the record");
      // A role the killed clobber deleted is made again by another config file's Pars lab.
      let theirs: string | undefined;
      if (at.operation === "DeleteRole") {
        theirs = created.map((c) => c.slice("role:".length)).find((r) =>
          created.includes(`role:${r}`) && !home.emu.iam.roles.has(r)
        );
        assert.ok(theirs);
        await session.iam.createRole({
          RoleName: theirs,
          AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
          Tags: [
            { Key: "ManagedBy", Value: "cloudknot" },
            { Key: "cloudknot:pars", Value: "lab" },
            { Key: OWNER_TAG_KEY, Value: "another-config-file" },
          ],
        });
      }
      const again = await cli(home, ["pars", "clobber", "lab", "--yes"]);
      assert.equal(again.code, 0, again.stderr);
      const gone = created.length - left;
      const kept = theirs === undefined ? "" : ", 1 resource kept";
      assert.match(
        again.stdout,
        new RegExp(
          `^Clobbered Pars lab: ${left - (theirs ? 1 : 0)} resources? deleted, ${gone} ` +
            `resources? gone already${kept}$`,
          "m",
        ),
      );
      assert.match(
        again.stderr,
        /Pars lab was partly gone already \((instance-profile|role):lab-[^)]*\): a clobber that stopped part-way/,
      );
      assert.doesNotMatch(again.stderr, /cloudknot gc|Forgot/);
      assert.equal(await state.section("pars lab"), undefined);
      if (theirs !== undefined) {
        assert.match(again.stderr, new RegExp(`role:${theirs}, which now belongs to another`));
        assert.deepEqual(resources(home), [...before, `iam/role/${theirs}`].sort());
        await session.iam.deleteRole({ RoleName: theirs });
      }
      assert.deepEqual(resources(home), before);
    }
  });
});

const FARGATE = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];

/** Configures the home and makes knot `name` on AWS with one run of `[1]`. */
async function knotWithRun(home: AwsHome, name: string): Promise<Record<string, string>> {
  const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
  assert.equal((await cli(home, ["configure", "--region", "us-east-1"], { env })).code, 0);
  const made = await cli(home, ["map", JOBS, "square", "--name", name, ...FARGATE, "-q"], {
    stdin: "[1]",
    env,
  });
  assert.equal(made.code, 0, made.stderr);
  return env;
}

function states(home: AwsHome, name: string): string[] {
  const { computeEnvironments, jobQueues } = home.emu.batch;
  return [
    computeEnvironments.get(`${name}-ck-ce`)?.state ?? "gone",
    jobQueues.get(`${name}-ck-jq`)?.state ?? "gone",
  ];
}

dockerTest(
  "knot clobber killed once it disabled the queue: map says how to go on, knot create enables it",
  async () => {
    await withAwsHome(async (home) => {
      const env = await knotWithRun(home, "dq");
      await killAt(
        home.emu,
        { service: "batch", operation: "UpdateJobQueue" },
        () => spawnCli(home, ["knot", "clobber", "dq", "--yes"], { env }),
      );
      assert.deepEqual(states(home, "dq"), ["ENABLED", "DISABLED"]);
      const refused = await cli(home, ["map", "--name", "dq"], { stdin: "[2]", env });
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /job queue \S+ is DISABLED \(by a clobber that stopped part-way/,
      );
      assert.match(refused.stderr, /cloudknot knot create dq MODULE EXPORT --target aws/);
      assert.match(refused.stderr, /cloudknot knot clobber dq --target aws/);
      assert.equal(home.emu.count("batch", "SubmitJob"), 1, "nothing was submitted");
      home.emu.requests.clear();
      const plan = await cli(home, [
        "knot",
        "create",
        "dq",
        JOBS,
        "square",
        ...FARGATE,
        "--dry-run",
        "--json",
      ], { env });
      assert.equal(plan.code, 0, plan.stderr);
      const { steps, notes } = JSON.parse(plan.stdout);
      assert.deepEqual(
        steps.filter((s: { details?: { state?: string } }) => s.details?.state !== undefined),
        [{
          action: "adopt",
          kind: "job queue",
          name: "dq-ck-jq",
          details: { state: "DISABLED, enabled again" },
        }],
      );
      assert.match(notes.join("\n"), /dq-ck-jq is DISABLED \(it would be enabled again\)/);
      assert.deepEqual(home.emu.mutatingRequests(), []);
      const healed = await cli(home, ["knot", "create", "dq", JOBS, "square", ...FARGATE], { env });
      assert.equal(healed.code, 0, healed.stderr);
      assert.deepEqual(states(home, "dq"), ["ENABLED", "ENABLED"]);
      const again = await cli(home, ["map", "--name", "dq", "-q"], { stdin: "[2]", env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, '{"index":0,"value":4}\n');
      assert.equal((await cli(home, ["results", "dq"], { env })).stdout, again.stdout);
    }, { runner: "docker" });
  },
);

dockerTest(
  "knot clobber killed after the queue went and the environment was disabled: knot create makes a knot that runs",
  async () => {
    await withAwsHome(async (home) => {
      const env = await knotWithRun(home, "dce");
      await killAt(
        home.emu,
        { service: "batch", operation: "UpdateComputeEnvironment" },
        () => spawnCli(home, ["knot", "clobber", "dce", "--yes"], { env }),
      );
      assert.deepEqual(states(home, "dce"), ["DISABLED", "gone"]);
      const healed = await cli(home, ["knot", "create", "dce", JOBS, "square", ...FARGATE], {
        env,
      });
      assert.equal(healed.code, 0, healed.stderr);
      // A DISABLED environment would leave every job RUNNABLE for ever.
      assert.deepEqual(states(home, "dce"), ["ENABLED", "ENABLED"]);
      const again = await cli(home, ["map", "--name", "dce", "-q"], { stdin: "[3]", env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, '{"index":0,"value":9}\n');
    }, { runner: "docker" });
  },
);

dockerTest(
  "retry killed once it submitted: knot show, once its jobs are done, shows it finished over the whole input",
  async () => {
    await withAwsHome(async (home) => {
      const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
      assert.equal((await cli(home, ["configure", "--region", "us-east-1"], { env })).code, 0);
      const args = ["map", JOBS, "failOdd", "--name", "odd", ...FARGATE, "--retries", "1", "-q"];
      const first = await cli(home, args, { stdin: "[1, 2, 3, 4]", env });
      assert.equal(first.code, 1, first.stderr);
      await killAt(
        home.emu,
        { service: "batch", operation: "SubmitJob" },
        () => spawnCli(home, ["retry", "odd"], { env }),
      );
      await home.emu.waitForJobs();
      const shown = await cli(home, ["knot", "show", "odd", "--json"], { env });
      assert.equal(shown.code, 0, shown.stderr);
      const runs = JSON.parse(shown.stdout).runs;
      assert.equal(runs.length, 2);
      const pick = ({ items, succeeded, failed, status }: Record<string, unknown>) => ({
        items,
        succeeded,
        failed,
        status,
      });
      const whole = { items: 4, succeeded: 2, failed: 2, status: "finished" };
      assert.deepEqual(runs.map(pick), [whole, whole]);
      // results reads the same whole input, from any process.
      const results = await cli(home, ["results", "odd"], { env });
      assert.deepEqual(results.stdout.split("\n").filter((l) => l.includes('"value"')), [
        '{"index":1,"value":2}',
        '{"index":3,"value":4}',
      ]);
    }, { runner: "docker" });
  },
);
