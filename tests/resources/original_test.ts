/**
 * The Python cloudknot's Pars and knots (CloudFormation stacks, seeded in the
 * emulator with their resources, and records written by the original's own
 * configparser code) are recognised: adopting one says what it is and how
 * to remove it, with no mutating request; clobberOriginal removes them
 * through CloudFormation and waits for the deletion; prune drops a record
 * whose stack is gone; and a Pars that another stack still imports is
 * refused before anything is deleted.
 */
import assert from "node:assert/strict";
import {
  CannotDeleteResourceError,
  clobberOriginal,
  CloudknotInputError,
  DockerImage,
  Knot,
  OriginalResourceError,
  Pars,
  StackDeletionError,
} from "../../mod.ts";
import { prune, readOriginalRecords } from "../../src/resources/mod.ts";
import * as sdk from "../emulator/sdk_deps.ts";
import { sdkConfig } from "../emulator/test_helpers.ts";
import { readWithConfigParser, writeAsOriginal } from "../support/original_config.ts";
import { seedOriginalKnot, seedOriginalPars } from "../support/original_stacks.ts";
import { endLagWhen, LONG_LAG_MS, releaseNetwork } from "../support/lag_ends.ts";
import { resources, withEmulator } from "./helpers.ts";

const SETTINGS = [
  { op: "set_profile" as const, profile: "from-env" },
  { op: "set_region" as const, region: "us-east-1" },
  { op: "configure" as const },
];

Deno.test("the original's knot and Pars are recognised, and adopting either says what it is and what to do, with no mutating request", async () => {
  await withEmulator(async ({ emu, session, state, path }) => {
    const pars = await seedOriginalPars(emu, session, "py-knot");
    const knot = await seedOriginalKnot(emu, session, "py-knot", pars);
    await writeAsOriginal(path, [...SETTINGS, pars.step, ...knot.steps]);
    const records = await readOriginalRecords(state);
    assert.deepEqual(records.map((r) => [r.kind, r.name, r.stackName]), [
      ["knot", "py-knot", "py-knot-knot"],
      ["pars", "py-knot", "py-knot-pars"],
    ]);
    assert.equal(records[0]!.pars, "py-knot");
    emu.requests.clear();
    const before = await Deno.readTextFile(path);
    const p = await Pars.create({ name: "py-knot", session, state }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(p instanceof OriginalResourceError, String(p));
    assert.match(
      p.message,
      /Pars "py-knot" was made by the Python cloudknot: it is the CloudFormation stack py-knot-pars/,
    );
    assert.match(p.message, /clobberOriginal\("pars", "py-knot"\)/);
    const k = await Knot.create({
      name: "py-knot",
      target: "aws",
      func: (x: number) => x,
      session,
      state,
    }).then(() => undefined, (e) => e);
    assert.ok(k instanceof OriginalResourceError, String(k));
    assert.equal(k.stackName, "py-knot-knot");
    // A dry run says the same: it plans nothing over the original's knot.
    const plan = await Knot.create({
      name: "py-knot",
      target: "aws",
      func: (x: number) => x,
      session,
      state,
      dryRun: true,
    }).then(() => undefined, (e) => e);
    assert.ok(plan instanceof OriginalResourceError, String(plan));
    assert.equal(plan.stackName, "py-knot-knot");
    // Its image record (and build directory) are the Python tool's too.
    const image = await DockerImage.create({ name: "square", func: (x: number) => x, state })
      .then(() => undefined, (e) => e);
    assert.ok(image instanceof CloudknotInputError, String(image));
    assert.match(
      image.message,
      /Image "square" .* was made by the Python cloudknot .*pass another name/,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await Deno.readTextFile(path), before, "the records are left as they were");
  });
});

Deno.test("clobberOriginal deletes a knot's stack and then its Pars's (again while AWS releases the knot's network), waits for CloudFormation, and removes their records and jobs", async () => {
  await withEmulator(async ({ emu, session, state, path }) => {
    const start = resources(emu);
    const pars = await seedOriginalPars(emu, session, "py-knot");
    const knot = await seedOriginalKnot(emu, session, "py-knot", pars);
    await writeAsOriginal(path, [
      ...SETTINGS,
      pars.step,
      ...knot.steps,
      {
        op: "batch_job",
        profile: "from-env",
        region: "us-east-1",
        job_id: "0d9c2a6e-1111-4c5e-9a8b-2f6f0e1d2c3b",
        job_name: "py-knot-0",
      },
      {
        op: "batch_job",
        profile: "from-env",
        region: "us-east-1",
        job_id: "77aa2a6e-2222-4c5e-9a8b-2f6f0e1d2c3b",
        job_name: "other-0",
      },
      { op: "knot_job_ids", knot: "py-knot", job_ids: ["0d9c2a6e-1111-4c5e-9a8b-2f6f0e1d2c3b"] },
    ]);
    // A Pars another knot's stack imports is refused before anything goes.
    emu.requests.clear();
    const refused = await clobberOriginal("pars", "py-knot", { session, state, pollIntervalMs: 10 })
      .then(() => undefined, (e) => e);
    assert.ok(refused instanceof CannotDeleteResourceError, String(refused));
    assert.deepEqual(refused.users, ["knot py-knot", "stack py-knot-knot"]);
    assert.deepEqual(emu.mutatingRequests(), []);

    const steps: string[] = [];
    const waits: string[] = [];
    // AWS holds the Pars's network for the knot's deleted compute environment until the Pars
    // stack's first delete has failed, however long the knot stack's deletion takes on a loaded
    // machine (a timed hold of 300 ms could end before it).
    using held = endLagWhen(
      () => [...emu.cloudformation.stacks.values()].some((s) => s.StackStatus === "DELETE_FAILED"),
      () => releaseNetwork(emu),
    );
    const result = await clobberOriginal("knot", "py-knot", {
      session,
      state,
      pars: true,
      pollIntervalMs: 10,
      onProgress: (m) => steps.push(m),
      onWait: (m) => waits.push(m),
    });
    assert.deepEqual(result, {
      stacks: ["py-knot-knot", "py-knot-pars"],
      records: ["knot py-knot", "pars py-knot"],
    });
    // AWS holds the Pars's network a while for the knot's deleted compute environment: the
    // Pars stack goes DELETE_FAILED and is deleted again, with a warning each time.
    const deletes = emu.mutatingRequests().map((r) => `${r.operation} ${r.params.StackName}`);
    assert.deepEqual(deletes.slice(0, 2), [
      `DeleteStack ${knot.stackId}`,
      `DeleteStack ${pars.stackId}`,
    ]);
    assert.ok(deletes.length > 2, deletes.join("\n"));
    assert.deepEqual(new Set(deletes.slice(1)), new Set([`DeleteStack ${pars.stackId}`]));
    assert.equal(waits.length, deletes.length - 2);
    assert.match(
      waits[0] ?? "",
      /stack py-knot-pars is DELETE_FAILED because its network is still in use \(.*DependencyViolation/,
    );
    assert.ok(steps.includes("Stack py-knot-knot is deleted"), steps.join("\n"));
    assert.deepEqual(resources(emu), start, "every resource of both stacks is gone");
    const left = await readWithConfigParser(path);
    assert.equal(left["knot py-knot"], undefined);
    assert.equal(left["pars py-knot"], undefined);
    assert.deepEqual(left["batch-jobs from-env us-east-1"], {
      "77aa2a6e-2222-4c5e-9a8b-2f6f0e1d2c3b": "other-0",
    });
    assert.ok(left["docker-image square"], "the image record is left, as the original leaves it");
    assert.equal(left.aws?.configured, "True");
    assert.ok(held.ended);
  }, { networkReleaseMs: LONG_LAG_MS });
});

Deno.test("a stack CloudFormation cannot delete is an error that names the resource and why, and its record is kept", async () => {
  await withEmulator(async ({ emu, session, state, path }) => {
    const pars = await seedOriginalPars(emu, session, "py-lab");
    await writeAsOriginal(path, [...SETTINGS, pars.step]);
    const ec2 = new sdk.ec2.EC2Client(sdkConfig(emu));
    try {
      const mine = await ec2.send(
        new sdk.ec2.CreateSecurityGroupCommand({
          GroupName: "mine",
          Description: "mine",
          VpcId: emu.ec2.defaultVpcId,
        }),
      );
      await ec2.send(
        new sdk.ec2.AuthorizeSecurityGroupIngressCommand({
          GroupId: mine.GroupId,
          IpPermissions: [{
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            UserIdGroupPairs: [{ GroupId: pars.securityGroup }],
          }],
        }),
      );
    } finally {
      ec2.destroy();
    }
    const e = await clobberOriginal("pars", "py-lab", { session, state, pollIntervalMs: 10 })
      .then(() => undefined, (e) => e);
    assert.ok(e instanceof StackDeletionError, String(e));
    assert.equal(e.status, "DELETE_FAILED");
    assert.deepEqual(e.failed.map((f) => [f.logicalId, f.physicalId, f.type]), [
      ["SecurityGroup", pars.securityGroup, "AWS::EC2::SecurityGroup"],
    ]);
    assert.match(e.message, /has a dependent object/);
    assert.match(e.message, /--retain-resources SecurityGroup/);
    assert.ok((await readWithConfigParser(path))["pars py-lab"], "the record is kept");
  });
});

Deno.test("prune drops the original's records whose stack is gone and keeps the others", async () => {
  await withEmulator(async ({ emu, session, state, path }) => {
    const gone = await seedOriginalPars(emu, session, "py-gone");
    const kept = await seedOriginalPars(emu, session, "py-kept");
    await writeAsOriginal(path, [...SETTINGS, gone.step, kept.step]);
    await clobberOriginal("pars", "py-gone", { session, state, pollIntervalMs: 10 });
    await writeAsOriginal(path, [gone.step]); // written back, as a stale record
    const { dropped } = await prune({
      session,
      state,
      imageExists: () => Promise.resolve(undefined),
    });
    assert.deepEqual(dropped, [{ section: "pars py-gone", reason: "gone: stack py-gone-pars" }]);
    const left = await readWithConfigParser(path);
    assert.ok(left["pars py-kept"]);
    assert.equal(left["pars py-gone"], undefined);
  });
});
