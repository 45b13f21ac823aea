// findGarbage and deleteGarbage against the emulator: what is garbage, what
// never is (another config file's resources on the same account), what is
// left out unless asked (no owner tag), and deletion that tolerates pieces
// already gone.
import assert from "node:assert/strict";
import { Pars } from "../../mod.ts";
import {
  configOwner,
  deleteGarbage,
  findGarbage,
  type GarbageItem,
  OWNER_TAG_KEY,
} from "../../src/resources/mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { MANIFEST_METADATA_KEY } from "../../src/job/payload.ts";
import { ensureKnotRole, MANAGED_BY_TAG, PARS_TAG_KEY } from "../../src/resources/_iam_roles.ts";
import { Ledger } from "../../src/resources/_ledger.ts";
import { noLocalKnots, sessionFor, withEmulator } from "./helpers.ts";
import type { AwsSession } from "../../src/aws/mod.ts";

/** The kinds of garbage a Pars with a VPC of its own leaves, in the order they are deleted. */
const PARS_GARBAGE = [
  "instance-profile",
  "role",
  "role",
  "role",
  "role",
  "security-group",
  "route-table",
  "internet-gateway",
  "subnet",
  "subnet",
  "vpc",
];

Deno.test("findGarbage: only tagged resources nothing refers to, never the default VPC", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await state.set("aws", "s3-bucket", "lab-bucket");
    await session.s3.createBucket({ Bucket: "lab-bucket" });
    const pars = await Pars.create({ name: "lab", session, state, useDefaultVpc: false });
    assert.deepEqual(await findGarbage({ session, state, localDir: noLocalKnots(state) }), []);

    // Untagged look-alikes are never garbage.
    await session.iam.createRole({
      RoleName: "mine-job-role",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
    });
    await session.ec2.createVpc({ CidrBlock: "10.9.0.0/16" });
    // Every resource the record names is kept, even with the region changed.
    await state.set("pars lab", "region", "eu-west-1");
    assert.deepEqual(await findGarbage({ session, state, localDir: noLocalKnots(state) }), []);
    // A Pars of that name recorded in another region (with its own network) keeps the IAM
    // roles (IAM is global), not this region's network.
    await state.remove("pars lab");
    await state.setMany("pars lab", { region: "eu-west-1", vpc: "vpc-0elsewhere" });
    const found = await findGarbage({ session, state, localDir: noLocalKnots(state) });
    assert.deepEqual(
      found.map((g) => g.kind),
      ["security-group", "route-table", "internet-gateway", "subnet", "subnet", "vpc"],
    );
    assert.ok(found.every((g) => g.reason === "Pars lab is recorded in region eu-west-1"));
    assert.equal(found.at(-1)!.id, pars.vpc);
    assert.ok(!found.some((g) => g.id === emu.ec2.defaultVpcId));

    // A value anywhere in the config file keeps a resource, whatever its tags say.
    await state.set("knot other", "vpc-of-another-knot", pars.vpc);
    assert.ok(
      !(await findGarbage({ session, state, localDir: noLocalKnots(state) })).some((g) =>
        g.kind === "vpc"
      ),
    );
  });
});

Deno.test("deleteGarbage: dependency order, pieces already gone, failures reported", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await state.set("aws", "s3-bucket", "lab-bucket");
    await session.s3.createBucket({ Bucket: "lab-bucket" });
    const pars = await Pars.create({ name: "lab", session, state, useDefaultVpc: false });
    await state.remove("pars lab");
    const found = await findGarbage({ session, state, localDir: noLocalKnots(state) });
    assert.equal(found.length, 11);

    // Someone deleted a role and the security group already.
    await session.iam.deleteRolePolicy({
      RoleName: "lab-job-role",
      PolicyName: "cloudknot-job-data",
    });
    await session.iam.deleteRole({ RoleName: "lab-job-role" });
    await session.ec2.deleteSecurityGroup({ GroupId: pars.securityGroup });
    // And the VPC cannot be deleted right now.
    emu.faults.add({ service: "ec2", operation: "DeleteVpc", kind: "500", times: 100 });
    const failing = await sessionFor(emu, { retry: { maxAttempts: 1 } });
    const order: string[] = [];
    const { deleted, gone, failed } = await deleteGarbage(found, {
      session: failing,
      state,
      onDelete: (g) => order.push(g.kind),
    });
    assert.deepEqual(order, PARS_GARBAGE);
    // What was gone already is counted apart, not as deleted.
    assert.deepEqual(
      gone.map((g) => `${g.kind} ${g.id}`).sort(),
      ["role lab-job-role", `security-group ${pars.securityGroup}`],
    );
    assert.equal(deleted.length, 8);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.item.id, pars.vpc);
    assert.match(failed[0]!.error, /InternalError|500|internal/i);
    emu.faults.clear();
    // Run again: only the VPC is left.
    const rest = await findGarbage({ session, state, localDir: noLocalKnots(state) });
    assert.deepEqual(rest.map((g) => g.id), [pars.vpc]);
    assert.deepEqual((await deleteGarbage(rest, { session, state })).failed, []);
    assert.deepEqual(
      emu.listResources().map((r) => `${r.type} ${r.id}`),
      ["bucket lab-bucket"],
    );
  });
});

Deno.test("findGarbage: a knot's own job role lives while its knot's record does, and is garbage after", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await state.set("aws", "s3-bucket", "lab-bucket");
    await session.s3.createBucket({ Bucket: "lab-bucket" });
    const pars = await Pars.create({ name: "lab", session, state });
    const role = await ensureKnotRole(session.iam, {
      pars: "lab",
      knot: "sq",
      bucket: "lab-bucket",
      prefix: "cloudknot/sq/",
      partition: "aws",
      policyArns: [...pars.policies],
      tags: [
        MANAGED_BY_TAG,
        { Key: PARS_TAG_KEY, Value: "lab" },
        { Key: "cloudknot:knot", Value: "sq" },
        { Key: OWNER_TAG_KEY, Value: await configOwner(state) },
      ],
      ledger: new Ledger(),
    });
    assert.equal(role.value.RoleName, "lab.sq-job");
    await state.setMany("knot sq", { target: "aws", region: "us-east-1", pars: "lab" });
    assert.deepEqual(await findGarbage({ session, state, localDir: noLocalKnots(state) }), []);
    await state.remove("knot sq");
    const found = await findGarbage({ session, state, localDir: noLocalKnots(state) });
    assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner, g.reason]), [
      ["role", "lab.sq-job", "knot sq", "knot sq is gone"],
    ]);
    assert.deepEqual((await deleteGarbage(found, { session, state })).failed, []);
    assert.equal(emu.iam.roles.has("lab.sq-job"), false);
    assert.ok(emu.iam.roles.has("lab-job-role"));
  });
});

/** A run's manifest as the AWS target writes it: `run.json`, or only the index's metadata. */
async function putRun(
  session: AwsSession,
  key: string,
  owner: string | undefined,
  where: "run.json" | "index",
): Promise<void> {
  const manifest = JSON.stringify({ version: 1, runId: "r", knot: "k", count: 1, owner });
  await session.s3.putObject({ Bucket: "lab-bucket", Key: `${key}/inputs`, Body: "x" });
  await session.s3.putObject({
    Bucket: "lab-bucket",
    Key: `${key}/index`,
    Body: "y",
    ...(where === "index" ? { Metadata: { [MANIFEST_METADATA_KEY]: manifest } } : {}),
  });
  if (where === "run.json") {
    await session.s3.putObject({ Bucket: "lab-bucket", Key: `${key}/run.json`, Body: manifest });
  }
}

Deno.test("findGarbage judges only what its own config file made: another config file's Pars and job data on the same account are never garbage", async () => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    // Two users of one account, each with a config file of their own, sharing the bucket.
    const other = new StateFile({ path: `${dir}/other` });
    for (const s of [state, other]) await s.set("aws", "s3-bucket", "lab-bucket");
    await session.s3.createBucket({ Bucket: "lab-bucket" });
    await Pars.create({
      name: "lab",
      session,
      state: other,
      useDefaultVpc: false,
    });
    const them = await configOwner(other);
    // Everything on the account so far but the bucket is theirs.
    const theirIds = [
      ...emu.listResources().filter((r) => r.type !== "bucket").map((r) => r.id),
      "cloudknot/sq/",
    ];
    assert.ok(theirIds.length > 10, theirIds.join(" "));
    await putRun(session, "cloudknot/sq/runs/r1", them, "run.json");
    await putRun(session, "cloudknot/sq/runs/r2", them, "index");
    await other.setMany("knot sq", {
      target: "aws",
      region: "us-east-1",
      bucket: "lab-bucket",
      prefix: "cloudknot/sq",
    });
    // Ours: a Pars whose record was lost, and the job data of a knot no longer recorded.
    await Pars.create({ name: "mine", session, state, useDefaultVpc: false });
    await state.remove("pars mine");
    const us = await configOwner(state);
    assert.notEqual(us, them);
    await putRun(session, "cloudknot/lost/runs/r1", us, "run.json");
    await putRun(session, "cloudknot/lost/runs/r2", us, "index");

    const skipped: GarbageItem[] = [];
    const found = await findGarbage({
      session,
      state,
      localDir: noLocalKnots(state),
      onSkip: (g) => skipped.push(g),
    });
    assert.deepEqual(skipped, []);
    const names = (items: GarbageItem[]) => items.map((g) => `${g.kind} ${g.id}`).join("\n");
    assert.ok(!theirIds.some((id) => names(found).includes(id)), names(found));
    assert.deepEqual(found.map((g) => g.kind), [...PARS_GARBAGE, "job-data"]);
    assert.ok(found.every((g) => g.owner === "pars mine" || g.id.endsWith("/cloudknot/lost/")));

    const before = emu.mutatingRequests().length;
    assert.deepEqual((await deleteGarbage(found, { session, state })).failed, []);
    const mutations = emu.mutatingRequests().slice(before);
    assert.ok(mutations.length > 0);
    for (const r of mutations) {
      const said = JSON.stringify(r.params);
      assert.ok(!theirIds.some((id) => said.includes(id)), `${r.operation} ${said}`);
    }
    // Theirs is all there, and still theirs alone.
    assert.deepEqual(
      await findGarbage({ session, state: other, localDir: noLocalKnots(other) }),
      [],
    );
    assert.deepEqual(await findGarbage({ session, state, localDir: noLocalKnots(state) }), []);
    const keys = await Array.fromAsync(
      session.s3.listObjectsV2All({ Bucket: "lab-bucket", Prefix: "cloudknot/" }),
    );
    assert.ok(keys.every((k) => k.Key!.startsWith("cloudknot/sq/")));
    assert.equal(keys.length, 5);
    assert.ok(emu.iam.roles.has("lab-job-role"));
  });
});

Deno.test("findGarbage leaves out what has no owner tag, and job data whose runs name no owner, unless untagged", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await state.set("aws", "s3-bucket", "lab-bucket");
    await session.s3.createBucket({ Bucket: "lab-bucket" });
    await configOwner(state);
    // Made before owner tags (or by the Python cloudknot): no cloudknot:owner tag.
    await session.iam.createRole({
      RoleName: "old-job-role",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
      Tags: [MANAGED_BY_TAG, { Key: PARS_TAG_KEY, Value: "old" }],
    });
    await putRun(session, "cloudknot/old/runs/r1", undefined, "run.json");
    // Another config file's role is not even left out: it is kept.
    await session.iam.createRole({
      RoleName: "theirs-job-role",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
      Tags: [MANAGED_BY_TAG, { Key: PARS_TAG_KEY, Value: "theirs" }, {
        Key: OWNER_TAG_KEY,
        Value: "another-config-file",
      }],
    });

    const skipped: GarbageItem[] = [];
    const before = emu.mutatingRequests().length;
    assert.deepEqual(
      await findGarbage({
        session,
        state,
        localDir: noLocalKnots(state),
        onSkip: (g) => skipped.push(g),
      }),
      [],
    );
    assert.deepEqual(skipped.map((g) => [g.kind, g.id, g.reason]), [
      ["role", "old-job-role", "Pars old is gone"],
      ["job-data", "s3://lab-bucket/cloudknot/old/", "knot old is gone"],
    ]);
    assert.equal(emu.mutatingRequests().length, before);

    const found = await findGarbage({
      session,
      state,
      localDir: noLocalKnots(state),
      untagged: true,
    });
    assert.deepEqual(found.map((g) => `${g.kind} ${g.id}`), [
      "role old-job-role",
      "job-data s3://lab-bucket/cloudknot/old/",
    ]);
    assert.deepEqual((await deleteGarbage(found, { session, state })).failed, []);
    assert.equal(emu.iam.roles.has("old-job-role"), false);
    assert.ok(emu.iam.roles.has("theirs-job-role"));
    assert.deepEqual(
      await Array.fromAsync(
        session.s3.listObjectsV2All({ Bucket: "lab-bucket", Prefix: "cloudknot/" }),
      ),
      [],
    );
  });
});
