// findGarbage and deleteGarbage against the emulator: what is garbage, what
// never is, and deletion that tolerates pieces already gone.
import assert from "node:assert/strict";
import { Pars } from "../../mod.ts";
import { deleteGarbage, findGarbage } from "../../src/resources/mod.ts";
import { ensureKnotRole, MANAGED_BY_TAG, PARS_TAG_KEY } from "../../src/resources/_iam_roles.ts";
import { Ledger } from "../../src/resources/_ledger.ts";
import { sessionFor, withEmulator } from "./helpers.ts";

Deno.test("findGarbage: only tagged resources nothing refers to, never the default VPC", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await state.set("aws", "s3-bucket", "lab-bucket");
    await session.s3.createBucket({ Bucket: "lab-bucket" });
    const pars = await Pars.create({ name: "lab", session, state, useDefaultVpc: false });
    assert.deepEqual(await findGarbage({ session, state }), []);

    // Untagged look-alikes are never garbage.
    await session.iam.createRole({
      RoleName: "mine-job-role",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
    });
    await session.ec2.createVpc({ CidrBlock: "10.9.0.0/16" });
    // Every resource the record names is kept, even with the region changed.
    await state.set("pars lab", "region", "eu-west-1");
    assert.deepEqual(await findGarbage({ session, state }), []);
    // A Pars of that name recorded in another region (with its own network) keeps the IAM
    // roles (IAM is global), not this region's network.
    await state.remove("pars lab");
    await state.setMany("pars lab", { region: "eu-west-1", vpc: "vpc-0elsewhere" });
    const found = await findGarbage({ session, state });
    assert.deepEqual(
      found.map((g) => g.kind),
      ["security-group", "route-table", "internet-gateway", "subnet", "subnet", "vpc"],
    );
    assert.ok(found.every((g) => g.reason === "Pars lab is recorded in region eu-west-1"));
    assert.equal(found.at(-1)!.id, pars.vpc);
    assert.ok(!found.some((g) => g.id === emu.ec2.defaultVpcId));

    // A value anywhere in the config file keeps a resource, whatever its tags say.
    await state.set("knot other", "vpc-of-another-knot", pars.vpc);
    assert.ok(!(await findGarbage({ session, state })).some((g) => g.kind === "vpc"));
  });
});

Deno.test("deleteGarbage: dependency order, pieces already gone, failures reported", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await state.set("aws", "s3-bucket", "lab-bucket");
    await session.s3.createBucket({ Bucket: "lab-bucket" });
    const pars = await Pars.create({ name: "lab", session, state, useDefaultVpc: false });
    await state.remove("pars lab");
    const found = await findGarbage({ session, state });
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
    const { deleted, failed } = await deleteGarbage(found, {
      session: failing,
      state,
      onDelete: (g) => order.push(g.kind),
    });
    assert.deepEqual(order, [
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
    ]);
    assert.equal(deleted.length, 10);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.item.id, pars.vpc);
    assert.match(failed[0]!.error, /InternalError|500|internal/i);
    emu.faults.clear();
    // Run again: only the VPC is left.
    const rest = await findGarbage({ session, state });
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
      ],
      ledger: new Ledger(),
    });
    assert.equal(role.value.RoleName, "lab.sq-job");
    await state.setMany("knot sq", { target: "aws", region: "us-east-1", pars: "lab" });
    assert.deepEqual(await findGarbage({ session, state }), []);
    await state.remove("knot sq");
    const found = await findGarbage({ session, state });
    assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner, g.reason]), [
      ["role", "lab.sq-job", "knot sq", "knot sq is gone"],
    ]);
    assert.deepEqual((await deleteGarbage(found, { session, state })).failed, []);
    assert.equal(emu.iam.roles.has("lab.sq-job"), false);
    assert.ok(emu.iam.roles.has("lab-job-role"));
  });
});
