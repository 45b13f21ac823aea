// A command-line process killed (SIGKILL) part-way through its AWS requests,
// then the command a user runs next: what was finished stays readable, what
// was half done is finished, and nothing is left that no command finds. The
// killed command runs in a process of its own; the others run in the test's
// process (cliHere), as what they do and say is the point.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Pars } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { OWNER_TAG_KEY } from "../../src/resources/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { killAt } from "../support/kill_at.ts";
import { type AwsHome, type AwsHomeStep, runAwsHomeSteps, withAwsHome } from "./aws_helpers.ts";
import { cliHere, JOBS, spawnCli } from "./helpers.ts";

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
      const again = await cliHere(home, ["configure", "--region", "us-east-1"]);
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

Deno.test("pars clobber interrupted (Ctrl-C) part-way says so with the command that finishes it, which does; pars list says the Pars is being clobbered, then that its clobber is unfinished", async () => {
  await withAwsHome(async (home) => {
    const state = new StateFile({ path: home.configFile });
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    const session = await sessionFor(home.emu);
    await Pars.create({ name: "lab", session, state });
    const list = async (...more: string[]) => {
      const r = await cliHere(home, ["pars", "list", ...more]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    assert.match(await list(), /^lab +us-east-1 +\S/m);
    assert.deepEqual(
      JSON.parse(await list("--json")).map((p: Record<string, unknown>) => [
        p.clobberStarted,
        p.clobberRunning,
      ]),
      [[null, null]],
    );
    const interrupted = await killAt(
      home.emu,
      { service: "iam", operation: "DeleteRole", signal: "SIGINT" },
      () => spawnCli(home, ["pars", "clobber", "lab", "--yes"]),
      async () => {
        assert.match(await list(), /^lab +us-east-1 \(being clobbered\) /m);
        assert.equal(JSON.parse(await list("--json"))[0].clobberRunning, true);
      },
    );
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.match(
      interrupted.stderr,
      /^interrupted: the clobber of Pars lab stopped part-way: run cloudknot pars clobber lab again to finish it$/m,
    );
    assert.match(await list(), /^lab +us-east-1 \(clobber unfinished\) /m);
    const [listed] = JSON.parse(await list("--json"));
    assert.match(listed.clobberStarted, /^\d{4}-\d\d-\d\dT/);
    assert.equal(listed.clobberRunning, false);
    const again = await cliHere(home, ["pars", "clobber", "lab", "--yes"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await state.section("pars lab"), undefined);
  });
});

/** What the emulator holds, as `service/type/id`, sorted. */
function resources(home: AwsHome): string[] {
  return home.emu.listResources().map((r) => `${r.service}/${r.type}/${r.id}`).sort();
}

Deno.test("pars clobber killed part-way: the next pars clobber deletes what is left of it, and only that", async () => {
  await withAwsHome(async (home) => {
    const state = new StateFile({ path: home.configFile });
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
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
      const again = await cliHere(home, ["pars", "clobber", "lab", "--yes"]);
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
  assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"], { env })).code, 0);
  const made = await cliHere(home, ["map", JOBS, "square", "--name", name, ...FARGATE, "-q"], {
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

/**
 * The tests below, each a step of one test (at the end), in this order: their commands share one
 * emulator and config file, so the base image is pushed into its registry once (runAwsHomeSteps).
 * The first lists every knot of the config file, so it runs first; the knots of the others stay.
 */
const steps: AwsHomeStep[] = [];

steps.push([
  "retry killed once it submitted: knot show, once its jobs are done, shows it finished over the whole input, and knot clobber counts it; a clobber killed deleting the data leaves knot show and knot list agreeing, and saying how to finish",
  async (home) => {
    const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"], { env })).code, 0);
    const args = ["map", JOBS, "failOdd", "--name", "kodd", ...FARGATE, "--retries", "1", "-q"];
    const first = await cliHere(home, args, { stdin: "[1, 2, 3, 4]", env });
    assert.equal(first.code, 1, first.stderr);
    await killAt(
      home.emu,
      { service: "batch", operation: "SubmitJob" },
      () => spawnCli(home, ["retry", "kodd"], { env }),
    );
    await home.emu.waitForJobs();
    const shown = await cliHere(home, ["knot", "show", "kodd", "--json"], { env });
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
    const results = await cliHere(home, ["results", "kodd"], { env });
    assert.deepEqual(results.stdout.split("\n").filter((l) => l.includes('"value"')), [
      '{"index":1,"value":2}',
      '{"index":3,"value":4}',
    ]);

    // A map killed while it uploaded its inputs leaves the data of a run that never started.
    const inputs = join(home.dir, "inputs.json");
    await Deno.writeTextFile(inputs, "[5]");
    await killAt(
      home.emu,
      { service: "s3", operation: "PutObject" },
      () => spawnCli(home, ["map", "--name", "kodd", "--inputs", inputs], { env }),
    );
    // knot clobber counts what it deletes: the retry's run, which the knot's record lacks, too.
    const asked = await cliHere(home, ["knot", "clobber", "kodd"], { env });
    assert.equal(asked.code, 2, asked.stderr);
    assert.match(
      asked.stderr,
      /Clobbering deletes AWS knot kodd \(its compute environment, job queue and job definitions, 2 runs and their job data, the data of 1 unfinished run\)/,
    );

    // A clobber killed while it deletes the job data: the runs are gone, and both say so.
    await killAt(
      home.emu,
      { service: "s3", operation: "DeleteObjects" },
      () => spawnCli(home, ["knot", "clobber", "kodd", "--yes"], { env }),
    );
    const half = await cliHere(home, ["knot", "show", "kodd"], { env });
    assert.equal(half.code, 0, half.stderr);
    assert.match(half.stdout, /^No runs$/m);
    assert.match(
      half.stdout,
      /^A clobber of knot kodd stopped part-way .*: run `cloudknot knot clobber kodd` again to finish it\.$/m,
    );
    const halfJson = JSON.parse(
      (await cliHere(home, ["knot", "show", "kodd", "--json"], { env })).stdout,
    );
    assert.deepEqual(halfJson.runs, []);
    assert.match(halfJson.clobberStarted, /^\d{4}-\d\d-\d\dT/);
    const listed = JSON.parse((await cliHere(home, ["knot", "list", "--json"], { env })).stdout);
    assert.deepEqual(
      listed.map((k: Record<string, unknown>) => [k.name, k.runs, k.lastRun]),
      [["kodd", 0, null]],
    );
    assert.match(
      (await cliHere(home, ["knot", "list"], { env })).stdout,
      /^kodd +aws us-east-1 \(clobber unfinished\) .* 0 +-$/m,
    );
    const finished = await cliHere(home, ["knot", "clobber", "kodd", "--yes"], { env });
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(finished.stdout, /^Clobbered AWS knot kodd \(.*, 0 runs and their job data\)$/m);
    assert.deepEqual(
      JSON.parse((await cliHere(home, ["knot", "list", "--json"], { env })).stdout),
      [],
    );
  },
]);

steps.push([
  "knot clobber killed once it disabled the queue: while it runs, knot show and knot list say another process is clobbering it, and a second knot clobber, a knot create and a map of it refuse; once killed, they say it stopped part-way; map says how to go on, knot create enables it and the knot no longer reads as half clobbered",
  async (home) => {
    const env = await knotWithRun(home, "dq");
    // The run's one job (a step before made jobs on this emulator too).
    const submitted = home.emu.count("batch", "SubmitJob");
    const show = async (...args: string[]) => {
      const r = await cliHere(home, ["knot", ...args], { env });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    await killAt(
      home.emu,
      { service: "batch", operation: "UpdateJobQueue" },
      () => spawnCli(home, ["knot", "clobber", "dq", "--yes"], { env }),
      // The clobber is alive, held at its request to disable the queue.
      async () => {
        const text = await show("show", "dq");
        assert.match(
          text,
          /^Knot dq is being clobbered by another process \(began at [^)]+\)\.$/m,
        );
        assert.doesNotMatch(text, /stopped part-way|again to finish/);
        const json = JSON.parse(await show("show", "dq", "--json"));
        assert.match(json.clobberStarted, /^\d{4}-\d\d-\d\dT/);
        assert.equal(json.clobberRunning, true);
        assert.match(await show("list"), /^dq +aws us-east-1 \(being clobbered\) /m);
        assert.equal(JSON.parse(await show("list", "--json"))[0].clobberRunning, true);
        // A second clobber refuses before it changes anything, and says what to do.
        const before = home.emu.mutatingRequests().length;
        const second = await cliHere(home, ["knot", "clobber", "dq", "--yes"], { env });
        assert.equal(second.code, 1, second.stderr);
        assert.equal(
          second.stderr,
          `error: Knot dq is being clobbered by another process with this config file ` +
            `(${home.configFile}), so this clobber changed nothing. Wait for that one to end: ` +
            "`cloudknot knot show dq` says while it runs, and once it has stopped part-way, " +
            "clobbering the knot again finishes it\n",
        );
        // Neither a knot create nor a map opens it meanwhile: each would adopt or make again
        // what the clobber is deleting.
        for (
          const args of [["knot", "create", "dq", JOBS, "square", ...FARGATE], [
            "map",
            "--name",
            "dq",
          ]]
        ) {
          const opened = await cliHere(home, args, { stdin: "[2]", env });
          assert.equal(opened.code, 1, opened.stderr);
          assert.ok(
            opened.stderr.endsWith(
              `error: Knot dq is being clobbered by another process with this config file ` +
                `(${home.configFile}), so it was not opened, and nothing was changed. Once that ` +
                "clobber ends, create the knot with cloudknot knot create dq MODULE EXPORT --target aws\n",
            ),
            opened.stderr,
          );
        }
        assert.deepEqual(home.emu.mutatingRequests().slice(before), []);
      },
    );
    assert.deepEqual(states(home, "dq"), ["ENABLED", "DISABLED"]);
    // Killed, its clobber stopped part-way: both say so, and how to finish it.
    assert.match(
      await show("show", "dq"),
      /^A clobber of knot dq stopped part-way .*: run `cloudknot knot clobber dq` again to finish it\.$/m,
    );
    assert.match(await show("list"), /^dq +aws us-east-1 \(clobber unfinished\) /m);
    const clobberStarted = async () =>
      JSON.parse((await cliHere(home, ["knot", "show", "dq", "--json"], { env })).stdout)
        .clobberStarted;
    assert.match(await clobberStarted(), /^\d{4}-\d\d-\d\dT/);
    assert.equal(JSON.parse(await show("show", "dq", "--json")).clobberRunning, false);
    const refused = await cliHere(home, ["map", "--name", "dq"], { stdin: "[2]", env });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /job queue \S+ is DISABLED \(by a clobber that stopped part-way/,
    );
    assert.match(refused.stderr, /cloudknot knot create dq MODULE EXPORT --target aws/);
    assert.match(refused.stderr, /cloudknot knot clobber dq --target aws/);
    assert.equal(home.emu.count("batch", "SubmitJob"), submitted, "nothing was submitted");
    home.emu.requests.clear();
    const plan = await cliHere(home, [
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
    const healed = await cliHere(home, ["knot", "create", "dq", JOBS, "square", ...FARGATE], {
      env,
    });
    assert.equal(healed.code, 0, healed.stderr);
    assert.deepEqual(states(home, "dq"), ["ENABLED", "ENABLED"]);
    // Made whole again, it is no longer a knot whose clobber stopped part-way.
    assert.equal(await clobberStarted(), null);
    const again = await cliHere(home, ["map", "--name", "dq", "-q"], { stdin: "[2]", env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '{"index":0,"value":4}\n');
    assert.equal((await cliHere(home, ["results", "dq"], { env })).stdout, again.stdout);
  },
]);

steps.push([
  "knot clobber killed after the queue went and the environment was disabled: knot create makes a knot that runs",
  async (home) => {
    const env = await knotWithRun(home, "dce");
    await killAt(
      home.emu,
      { service: "batch", operation: "UpdateComputeEnvironment" },
      () => spawnCli(home, ["knot", "clobber", "dce", "--yes"], { env }),
    );
    assert.deepEqual(states(home, "dce"), ["DISABLED", "gone"]);
    const healed = await cliHere(home, ["knot", "create", "dce", JOBS, "square", ...FARGATE], {
      env,
    });
    assert.equal(healed.code, 0, healed.stderr);
    // A DISABLED environment would leave every job RUNNABLE for ever.
    assert.deepEqual(states(home, "dce"), ["ENABLED", "ENABLED"]);
    const again = await cliHere(home, ["map", "--name", "dce", "-q"], { stdin: "[3]", env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '{"index":0,"value":9}\n');
  },
]);

dockerTest(
  "a command killed part-way on a knot: the next commands say what was finished and what to do, and finish the rest",
  (t) => runAwsHomeSteps(t, steps, { runner: "docker" }),
);
