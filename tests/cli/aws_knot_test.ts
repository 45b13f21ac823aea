// Knots on AWS through the command line, against the emulator with real
// containers: map --target aws, results, jobs, logs (--follow, job ids),
// knot list|show|clobber, and the narrower permission flags. The commands run
// in the test's process (cliHere), but where the process is the point: a map
// and a logs --follow read as they run, and the permission flags.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { type AwsHome, type AwsHomeStep, runAwsHomeSteps } from "./aws_helpers.ts";
import { cli, cliHere, JOBS, lines, ndjson, spawnCli } from "./helpers.ts";

const FARGATE = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];

async function setUp(home: AwsHome): Promise<Record<string, string>> {
  const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
  const r = await cliHere(home, ["configure", "--region", "us-east-1"], { env });
  assert.equal(r.code, 0, r.stderr);
  return env;
}

function runIdOf(stderr: string): string {
  const m = /^knot \S+ · run (\S+) · \d+ items \(aws\)$/m.exec(stderr);
  assert.ok(m, stderr);
  return m[1]!;
}

/**
 * The tests of this file, each a step of its one test (at the end), in this order: their commands
 * share one emulator and config file, so the base image is pushed into its registry once
 * (runAwsHomeSteps). The first looks at everything the emulator holds, so it runs first.
 */
const steps: AwsHomeStep[] = [];

steps.push(["map, results, jobs, logs and knot commands on AWS", async (home) => {
  const env = await setUp(home);
  const first = await cliHere(home, [
    "map",
    JOBS,
    "square",
    "--name",
    "sq",
    ...FARGATE,
    "--retries",
    "1",
    "--stuck-timeout",
    "900",
    "--capacity-timeout",
    "3600",
  ], {
    stdin: "[1, 2, 3]",
    env,
  });
  assert.equal(first.code, 0, first.stderr);
  // The queue cancels jobs stuck in RUNNABLE after the times asked for.
  const limits = home.emu.batch.jobQueues.get("sq-ck-jq")!.jobStateTimeLimitActions;
  assert.ok(limits.length > 1, JSON.stringify(limits));
  assert.deepEqual(
    limits.map((a) => [a.reason === "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", a.maxTimeSeconds]),
    limits.map((a) => [
      a.reason === "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
      a.reason === "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY" ? 3600 : 900,
    ]),
  );
  assert.ok(limits.some((a) => a.reason === "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"));
  assert.equal(
    first.stdout,
    '{"index":0,"value":1}\n{"index":1,"value":4}\n{"index":2,"value":9}\n',
    "stdout holds only results (Docker's output goes to stderr)",
  );
  assert.match(first.stderr, /Successfully tagged cloudknot\/sq:sq/);
  assert.match(first.stderr, /^sq: 3\/3 done/m);
  // Run in this process, the command line builds the image under the HOME of its own
  // environment, as a process of its own does, never under this process's.
  const built = join(home.env.HOME!, ".cloudknot", "images", "sq", "function.js");
  assert.ok(await Deno.stat(built).then((s) => s.isFile), built);
  const run1 = runIdOf(first.stderr);

  // An existing AWS knot is found by its name, and adopted without complaint.
  const second = await cliHere(home, ["map", "--name", "sq"], { stdin: "[4]", env });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, '{"index":0,"value":16}\n');
  assert.doesNotMatch(second.stderr, /ignored/);
  const run2 = runIdOf(second.stderr);
  // knot create of the knot with its own function adopts it and warns of no option (another
  // function updates it: aws_update_test.ts).
  const same = await cliHere(home, ["knot", "create", "sq", JOBS, "square", "--target", "aws"], {
    env,
  });
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /^Adopted knot sq on AWS Batch/m);
  assert.doesNotMatch(same.stderr, /ignored/);

  // A failing item: every line, then exit 1.
  const oddk = await cliHere(home, [
    "map",
    JOBS,
    "failOdd",
    "--name",
    "oddk",
    ...FARGATE,
    "--retries",
    "1",
    "-q",
  ], {
    stdin: "[1, 2]",
    env,
  });
  assert.equal(oddk.code, 1, oddk.stderr);
  const oddLines = ndjson(oddk.stdout);
  assert.equal((oddLines[0]!.error as { name: string }).name, "RangeError");
  assert.equal(oddLines[1]!.value, 2);
  assert.match(oddk.stderr, /^1 of 2 items failed: 0$/m);

  // results, from another process.
  const again = await cliHere(home, ["results", "sq", run1]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, first.stdout);
  const latest = JSON.parse((await cliHere(home, ["results", "sq", "--json"])).stdout);
  assert.equal(latest.runId, run2);
  assert.equal(latest.target, "aws");
  assert.deepEqual(latest.items, [{ index: 0, value: 16 }]);
  assert.equal((await cliHere(home, ["results", "oddk"])).code, 1);

  // jobs: the Batch jobs with their children, then the items.
  const jobs = await cliHere(home, ["jobs", "sq", run1, "--json"]);
  assert.equal(jobs.code, 0, jobs.stderr);
  const view = JSON.parse(jobs.stdout);
  assert.equal(view.jobs.length, 1);
  assert.equal(view.jobs[0].arraySize, 3);
  assert.deepEqual(view.jobs[0].children, { SUCCEEDED: 3 });
  assert.equal(view.jobs[0].jobName, `sq-${run1}-0`);
  assert.deepEqual(view.counts.succeeded, 3);
  const parent = view.jobs[0].jobId as string;
  const jobsText = await cliHere(home, ["jobs", "sq", run1]);
  assert.match(jobsText.stdout, /^1 jobs: 1 SUCCEEDED$/m);
  assert.match(
    jobsText.stdout,
    new RegExp(`^${parent} +sq-${run1}-0 +SUCCEEDED +3: 3 SUCCEEDED`, "m"),
  );
  assert.match(jobsText.stdout, new RegExp(`^sq run ${run1} \\(aws\\): 3/3 done`, "m"));

  // logs: by item, for every item, by job id.
  const one = await cliHere(home, ["logs", "sq", run1, "--item", "1"]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, "squaring 2\n");
  const all = await cliHere(home, ["logs", "sq", run1]);
  assert.match(all.stdout, /^--- item 2 \(attempt 1\) ---\nsquaring 3$/m);
  const child = await cliHere(home, ["logs", `${parent}:1`]);
  assert.equal(child.code, 0, child.stderr);
  assert.equal(child.stdout, "squaring 2\n");
  const childJson = JSON.parse((await cliHere(home, ["logs", `${parent}:2`, "--json"])).stdout);
  assert.deepEqual(childJson, [{ jobId: `${parent}:2`, attempt: 1, lines: ["squaring 3"] }]);
  const ofParent = await cliHere(home, ["logs", parent]);
  assert.equal(ofParent.code, 1);
  assert.equal(
    ofParent.stderr,
    `error: Job ${parent} is an array parent, which has no output of its own: read a child's, ` +
      `such as cloudknot logs ${parent}:0\n`,
  );
  const noItem = await cliHere(home, ["logs", "sq", "--follow"]);
  assert.equal(noItem.code, 2);
  assert.match(noItem.stderr, /^error: --follow needs --item N \(or a job id\)$/m);

  // knot list and show, for both targets.
  assert.equal((await cliHere(home, ["knot", "create", "here", JOBS, "square"])).code, 0);
  const listed = JSON.parse((await cliHere(home, ["knot", "list", "--json"])).stdout);
  assert.deepEqual(
    listed.map((k: { name: string; target: string }) => `${k.name} ${k.target}`),
    ["here local", "oddk aws", "sq aws"],
  );
  const sq = listed.find((k: { name: string }) => k.name === "sq");
  assert.equal(sq.runs, 2);
  assert.equal(sq.lastRun.runId, run2);
  assert.equal(sq.compute, "FARGATE");
  assert.match(sq.computeEnvironment, /compute-environment\/sq-ck-ce$/);
  const table = await cliHere(home, ["knot", "list"]);
  assert.match(table.stdout, /^sq +aws us-east-1 +image sq \(module, [0-9a-f]{8}\) +2 /m);
  const shown = JSON.parse((await cliHere(home, ["knot", "show", "sq", "--json"])).stdout);
  assert.deepEqual(
    shown.runs.map((r: { runId: string; status: string; succeeded: number }) => [
      r.runId,
      r.status,
      r.succeeded,
    ]),
    [[run1, "finished", 3], [run2, "finished", 1]],
  );
  assert.match(shown.jobRole, /^arn:aws:iam::\d{12}:role\/.*\.sq-job$/);
  const showText = await cliHere(home, ["knot", "show", "oddk"]);
  assert.match(
    showText.stdout,
    /^data +s3:\/\/cloudknot-123456789012-us-east-1\/cloudknot\/oddk\/$/m,
  );
  assert.match(showText.stdout, /^\S+ +\S+ \S+ +2 +1 +1 +finished$/m);
  assert.match(showText.stdout, /^job role +arn:aws:iam::\d{12}:role\/.*\.oddk-job$/m);

  // Clobber: --keep-data, and --pars once no other knot uses it.
  const noYes = await cliHere(home, ["knot", "clobber", "sq"]);
  assert.equal(noYes.code, 2);
  // --repo on the shared default repository takes only the knot's tags, and says so; --pars
  // keeps the Pars knot oddk still uses, says so, and the clobber succeeds.
  const gone = await cliHere(home, [
    "knot",
    "clobber",
    "sq",
    "--yes",
    "--image",
    "--repo",
    "--pars",
  ]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(
    gone.stdout,
    /^Clobbered AWS knot sq \(.*2 runs and their job data, its image tags in repository cloudknot, image sq\)$/m,
  );
  assert.match(
    gone.stderr,
    /^cloudknot: Pars (\S+) was kept: knot oddk still uses it; clobber that knot first, then cloudknot pars clobber \1$/m,
  );
  assert.equal(home.emu.iam.roles.has("emulator-default-job-role"), true);
  const last = await cliHere(home, [
    "knot",
    "clobber",
    "oddk",
    "--yes",
    "--image",
    "--pars",
    "--keep-data",
  ]);
  assert.equal(last.code, 0, last.stderr);
  assert.equal(
    JSON.parse((await cliHere(home, ["knot", "list", "--target", "aws", "--json"])).stdout)
      .length,
    0,
  );
  const left = home.emu.listResources().map((r) => `${r.type} ${r.id}`).sort();
  assert.deepEqual(left, ["bucket cloudknot-123456789012-us-east-1", "repository cloudknot"]);
  // oddk's data was kept, and its image tag in the default repository (clobbered without
  // --repo): gc finds both, now that no record refers to them.
  const gc = JSON.parse((await cliHere(home, ["gc", "--json"])).stdout);
  assert.deepEqual(gc.items.map((i: { id: string }) => i.id).sort(), [
    "cloudknot:oddk",
    "s3://cloudknot-123456789012-us-east-1/cloudknot/oddk/",
  ]);
}]);

steps.push(["logs --follow prints a running job's lines as they come", async (home) => {
  let released = false;
  const gate = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(released ? "go" : "wait", { status: released ? 200 : 503 }),
  );
  try {
    const env = await setUp(home);
    const url = `http://127.0.0.1:${gate.addr.port}/`;
    const mapping = spawnCli(
      home,
      ["map", JOBS, "waitForUrl", "--name", "gated", ...FARGATE, "--retries", "1", "--pars", "gp"],
      { stdin: true, env },
    );
    const writer = mapping.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify([url])));
    await writer.close();
    const mapped = new Response(mapping.stdout).text();
    const err = lines(mapping.stderr);
    let runId: string | undefined;
    while (runId === undefined) {
      const line = await err.read();
      assert.ok(!line.done, "map ended before its run started");
      runId = /^knot gated · run (\S+) ·/.exec(line.value)?.[1];
    }
    const following = spawnCli(home, ["logs", "gated", runId, "--item", "0", "--follow"]);
    const out = lines(following.stdout);
    const first = await out.read();
    if (first.value !== "started") {
      // What the follower and the map said of the job.
      let map = "";
      for (let l = await err.read(); !l.done; l = await err.read()) map += `${l.value}\n`;
      const said = await new Response(following.stderr).text();
      assert.fail(`logs --follow printed ${JSON.stringify(first.value)}: ${said}\nmap: ${map}`);
    }
    released = true;
    assert.equal((await out.read()).value, "released");
    assert.ok((await out.read()).done);
    assert.equal((await following.status).code, 0);
    await following.stderr.cancel();
    while (!(await err.read()).done) { /* drain */ }
    assert.equal((await mapping.status).code, 0);
    assert.equal(await mapped, '{"index":0,"value":"done"}\n');
    // Its Pars, which no other knot uses, stays without --pars, and the clobber says how it goes.
    const clobbered = await cliHere(home, ["knot", "clobber", "gated", "--yes", "--image"]);
    assert.equal(clobbered.code, 0, clobbered.stderr);
    assert.match(
      clobbered.stderr,
      /^Its Pars gp stays \(IAM roles, a security group; no knot uses it now\): `cloudknot pars clobber gp --yes` deletes it, as --pars would have$/m,
    );
    const pars = await cliHere(home, ["pars", "clobber", "gp", "--yes"]);
    assert.equal(pars.code, 0, pars.stderr);
  } finally {
    await gate.shutdown();
  }
}]);

steps.push(["the AWS commands run with the documented narrower permission flags", async (home) => {
  const env = await setUp(home);
  const host = new URL(home.emu.endpoint).host;
  const flags = [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys=homedir",
    `--allow-net=${host}`,
    `--allow-run=docker,sh,${Deno.execPath()}`,
    "--no-prompt",
  ];
  const mapped = await cli(home, ["map", JOBS, "square", "--name", "narrow", ...FARGATE, "-q"], {
    stdin: "[5]",
    env,
    flags,
  });
  if (mapped.code !== 0) {
    // What each item's job said, as the item's error.
    const jobs = await cli(home, ["jobs", "narrow", "--json"]);
    assert.fail(`${mapped.stderr}\n${jobs.stdout}${jobs.stderr}`);
  }
  assert.equal(mapped.stdout, '{"index":0,"value":25}\n');
  for (
    const args of [
      ["results", "narrow"],
      ["jobs", "narrow"],
      ["logs", "narrow", "--item", "0"],
      ["gc"],
      ["pars", "list"],
      ["repo", "list"],
    ]
  ) {
    const r = await cli(home, args, { flags });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
  const clobbered = await cli(home, ["knot", "clobber", "narrow", "--yes", "--image"], { flags });
  assert.equal(clobbered.code, 0, clobbered.stderr);
  // And nothing more: without --allow-net for the endpoint, a clear permission error.
  const denied = await cli(home, ["gc"], {
    flags: flags.map((f) => f.startsWith("--allow-net") ? "--allow-net=127.0.0.2" : f),
  });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^error: .*Requires net access to "127\.0\.0\.1:\d+"/m);
}]);

steps.push([
  "knot create of a knot that exists warns that other stuck and capacity timeouts are ignored, and a refused update names the knot's own permissions as --allow",
  async (home) => {
    const env = await setUp(home);
    const create = (...more: string[]) =>
      cliHere(home, ["knot", "create", "kb", JOBS, "square", "--target", "aws", ...more], { env });
    const made = await create(
      "--allow",
      "read=/tmp",
      "--max-vcpus",
      "8",
      "--stuck-timeout",
      "900",
      "--capacity-timeout",
      "1200",
    );
    assert.equal(made.code, 0, made.stderr);
    const limits = () =>
      home.emu.batch.jobQueues.get("kb-ck-jq")!.jobStateTimeLimitActions
        .map((a) => `${a.reason} ${a.maxTimeSeconds}`).sort();
    const before = limits();
    assert.deepEqual(before, [
      "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY 1200",
      "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE 900",
      "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT 900",
    ]);

    const same = await create("--stuck-timeout", "900", "--capacity-timeout", "1200");
    assert.equal(same.code, 0, same.stderr);
    assert.doesNotMatch(same.stderr, /ignored/);
    const other = await create("--stuck-timeout", "5000", "--capacity-timeout", "never");
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stdout, /^Adopted knot kb on AWS Batch/m);
    assert.match(
      other.stderr,
      /^cloudknot: knot kb exists, so it was adopted as it is and these options were ignored: --stuck-timeout, --capacity-timeout; clobber the knot or choose another name to change them$/m,
    );
    assert.deepEqual(limits(), before);

    const mutating = home.emu.mutatingRequests().length;
    const refused = await create("--vcpus", "100");
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      / \(knot kb keeps its own --retries 3, --memory 8000, --allow read=\/tmp where they are not given: give them with the update too; and it keeps its own --compute EC2, --instance-types optimal, --max-vcpus 8 where they are not given, which no update changes: clobber the knot, or choose another name, to change them\); nothing was changed$/m,
    );
    assert.doesNotMatch(refused.stderr, /permissions/);
    assert.equal(home.emu.mutatingRequests().length, mutating);
  },
]);

dockerTest(
  "the AWS commands of the command line: map, results, jobs, logs (--follow too) and knot commands, with the documented narrower permission flags",
  (t) => runAwsHomeSteps(t, steps, { runner: "docker" }),
);
