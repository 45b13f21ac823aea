// Dry runs change nothing: against the emulator, a knot's plan on AWS, a Pars'
// plan, a map's plan and an estimate send no mutating request, need no Docker
// engine, and say what would be created or adopted.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot, Pars, Plan } from "../../mod.ts";
import { Docker } from "../../src/docker/mod.ts";
import { encodeItems } from "../../src/job/codec.ts";
import { withEmulator } from "../resources/helpers.ts";
import { job, startTestBed } from "../targets/aws/helpers.ts";

Deno.test("Knot.create with dryRun plans a knot on AWS with read-only requests and no Docker", async () => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    const plan = await Knot.create({
      name: "planned",
      target: "aws",
      func: (x: number) => x * 2,
      compute: "FARGATE",
      vcpus: 1,
      memory: 2048,
      session,
      state,
      cloudknotDir: join(dir, "home"),
      // A docker binary that does not exist: the dry run must not need one.
      docker: new Docker({ binary: join(dir, "no-docker") }),
      dryRun: true,
    });
    assert.ok(plan instanceof Plan);
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.deepEqual(await state.read(), new Map());
    assert.equal(await Deno.stat(join(dir, "home")).catch(() => undefined), undefined);
    assert.equal(plan.find("image")?.action, "build");
    assert.equal(plan.find("S3 bucket")?.action, "create");
    assert.match(plan.find("S3 bucket")!.name, /^cloudknot-123456789012-us-east-1$/);
    assert.equal(plan.find("ECR repository", "cloudknot")?.action, "create");
    assert.deepEqual(plan.find("compute environment")?.details, { type: "FARGATE", maxvCpus: 256 });
    assert.equal(plan.find("compute environment")?.name, "planned-ck-ce");
    assert.equal(plan.find("job queue")?.name, "planned-ck-jq");
    assert.deepEqual(plan.find("job definition")?.details, {
      platform: "FARGATE",
      vcpus: 1,
      memory: 2048,
      attempts: 3,
    });
    // Batch's service-linked role, not one of the Pars's own; and the knot's job role.
    assert.equal(plan.steps.filter((s) => s.kind === "IAM role").length, 5);
    const role = plan.find("IAM role", "emulator-default.planned-job");
    assert.equal(role?.action, "create");
    assert.equal(
      role?.details?.data,
      "s3://cloudknot-123456789012-us-east-1/cloudknot/planned/",
    );
    assert.equal(plan.find("VPC")?.action, "adopt"); // the default VPC
    // One Fargate job of 1 vCPU and 2 GB for an hour: $0.04048 + 2 × $0.004445.
    assert.ok(Math.abs(plan.estimate!.computeCost!.low - (0.04048 + 2 * 0.004445)) < 1e-12);
    const text = Deno.inspect(plan);
    assert.match(text, /Knot planned on AWS Batch \(us-east-1\) \(dry run: nothing was changed\)/);
    assert.match(text, /create job queue planned-ck-jq \(priority: 1\)/);
    assert.match(plan.toHtml(), /<table>/);
  });
});

Deno.test("a dry run checks every option first, as a real create does", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const scale = 3;
    for (
      const [extra, pattern] of [
        [{ memory: 0 }, /memory must be an integer from 4 to 33,554,432/],
        [{ compute: "FARGATE", vcpus: 1, memory: 1000 }, /On Fargate, 1 vCPU takes memory/],
        [{ func: (x: number) => x * scale }, /func uses "scale"/],
        [{ func: undefined }, /no AWS knot named "k" to adopt/],
      ] as [Record<string, unknown>, RegExp][]
    ) {
      await assert.rejects(
        () =>
          Knot.create({
            name: "k",
            target: "aws",
            func: (x: number) => x,
            session,
            state,
            dryRun: true,
            ...extra,
          } as never),
        (e) => e instanceof CloudknotInputError && pattern.test(e.message),
        String(pattern),
      );
    }
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("Pars.plan says which roles and network it would create (a Batch service role only with customServiceRole), and adopts a recorded Pars", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const plan = await Pars.plan({ name: "lab", session, state });
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.deepEqual(
      plan.steps.filter((s) => s.kind === "IAM role").map((s) => [s.action, s.name]),
      [
        ["create", "lab-ecs-instance-role"],
        ["create", "lab-spot-fleet-role"],
        ["create", "lab-task-exec-role"],
        ["create", "lab-job-role"],
      ],
    );
    // A Batch service role of its own only when asked, as Pars.create makes it.
    const custom = await Pars.plan({ name: "lab", customServiceRole: true, session, state });
    assert.deepEqual(
      custom.steps.filter((s) => s.kind === "IAM role").map((s) => s.name).slice(0, 2),
      ["lab-batch-service-role", "lab-ecs-instance-role"],
    );
    assert.equal(plan.find("security group")?.name, "lab-sg");
    const pars = await Pars.create({ name: "lab", session, state });
    emu.requests.clear();
    const again = await Pars.plan({ name: "lab", session, state });
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.deepEqual(again.steps.map((s) => [s.action, s.kind, s.name]), [[
      "adopt",
      "Pars",
      "lab",
    ]]);
    assert.equal(again.steps[0]!.details?.["job role"], pars.jobRole);
  });
});

Deno.test("AWS target: a map's plan lists its objects and jobs and sends nothing; an estimate reads the knot's compute", async () => {
  const bed = await startTestBed(job);
  try {
    const { emu } = bed;
    const target = bed.target({ maxArraySize: 4 });
    emu.requests.clear();
    const items = encodeItems([1, 2, 3, 4, 5, 6]);
    const plan = await target.plan({ items, starmap: false, env: {} }, { itemSeconds: 60 });
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.deepEqual(
      plan.steps.filter((s) => s.action === "run").map((
        s,
      ) => [s.kind, s.details?.["array size"], s.details?.items]),
      [["array job", 4, "0 to 3"], ["array job", 2, "4 to 5"]],
    );
    assert.equal(
      plan.find("S3 object")?.details?.bytes,
      items.reduce((n, b) => n + b.byteLength, 0),
    );
    // The test bed's knot: an EC2 environment of optimal types, jobs of 1 vCPU and 512 MiB.
    const estimate = plan.estimate!;
    assert.equal(estimate.compute, "EC2");
    assert.ok(Math.abs(estimate.computeCost!.low - 6 * 60 * 0.0425 / 3600) < 1e-12);
    assert.equal(emu.count("s3"), 0);
  } finally {
    await bed.close();
  }
});

Deno.test("a local knot's dry run and map plan write nothing, and its estimate counts CPU-hours", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plan = await Knot.create({ name: "plain", func: (x: number) => x, dir, dryRun: true });
    assert.equal(plan.steps[0]!.kind, "local knot");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    const knot = await Knot.create({ name: "plain", func: (x: number) => x, dir, concurrency: 2 });
    const mapPlan = await knot.map([1, 2, 3], { dryRun: true, itemSeconds: 2 });
    assert.equal(mapPlan.find("worker processes")?.details?.items, 3);
    assert.equal(mapPlan.estimate?.durationSeconds, 4);
    assert.deepEqual(await knot.runs(), []);
    const estimate = await knot.estimate(10, { itemSeconds: 3 });
    assert.equal(estimate.durationSeconds, 15);
    assert.equal((await knot.estimate([1, 2], { itemSeconds: 1 })).count, 2);
    const typo = await knot.estimate(10, { itemSecond: 3 } as never).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(
      typo?.message,
      'estimate() has no option "itemSecond": did you mean "itemSeconds"?',
    );
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a docker knot's dry run names an image of its knots directory's own, or the one an existing knot's record names, and needs no Docker", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    const plans = await Promise.all(dirs.map((dir) =>
      Knot.create({
        name: "Twin",
        target: "docker",
        func: (x: number) => x,
        dir,
        docker: new Docker({ binary: join(dir, "no-docker") }),
        dryRun: true,
      })
    ));
    const [first, second] = plans.map((plan) => plan.find("image")!.name);
    assert.match(first!, /^cloudknot\/twin-docker-[0-9a-f]{16}:local$/);
    assert.notEqual(first, second, "each knots directory's knot has an image of its own");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dirs[0]!)), []);
    // A knot made before images were named after their directory keeps the image its record names.
    await Deno.mkdir(join(dirs[0]!, "Twin"));
    await Deno.writeTextFile(
      join(dirs[0]!, "Twin", "knot.json"),
      JSON.stringify({ name: "Twin", target: "docker", image: "cloudknot/twin-docker:local" }),
    );
    const adopted = await Knot.create({
      name: "Twin",
      target: "docker",
      dir: dirs[0]!,
      dryRun: true,
    });
    assert.equal(adopted.find("image"), undefined, "adopting builds nothing");
    const again = await Knot.create({
      name: "Twin",
      target: "docker",
      func: (x: number) => x + 1,
      dir: dirs[0]!,
      dryRun: true,
    });
    assert.equal(again.find("image")?.name, "cloudknot/twin-docker:local");
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});
