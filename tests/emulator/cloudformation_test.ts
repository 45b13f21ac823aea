/**
 * The emulated CloudFormation, driven by the AWS SDK's own client: stacks
 * the Python cloudknot made are described and listed; DeleteStack starts a
 * deletion that removes their resources (DELETE_IN_PROGRESS, then
 * DELETE_COMPLETE); an export still imported stops it; a resource that
 * cannot be deleted leaves the stack DELETE_FAILED with the reason, and
 * deleting again with RetainResources finishes it.
 */
import assert from "node:assert/strict";
import { startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { rejects, sdkConfig } from "./test_helpers.ts";
import { sessionFor } from "../support/aws_session.ts";
import { seedOriginalKnot, seedOriginalPars } from "../support/original_stacks.ts";

const { CloudFormationClient } = sdk.cloudformation;
const cfn = sdk.cloudformation;

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("timed out");
}

Deno.test("the original's stacks are described, listed, and deleted with their resources", async () => {
  // About CloudFormation's answers: the Pars stack is deleted right after the knot's, which
  // the network-release lag would make DELETE_FAILED (the next test covers DELETE_FAILED).
  const emu = await startEmulator({ ceValidDelayMs: 20, networkReleaseMs: 0 });
  const client = new CloudFormationClient(sdkConfig(emu));
  try {
    const session = await sessionFor(emu);
    const before = emu.listResources().length;
    const pars = await seedOriginalPars(emu, session, "py-knot");
    const knot = await seedOriginalKnot(emu, session, "py-knot", pars);
    assert.ok(emu.listResources().length > before);

    const { Stacks } = await client.send(
      new cfn.DescribeStacksCommand({ StackName: "py-knot-knot" }),
    );
    assert.equal(Stacks?.[0]?.StackId, knot.stackId);
    assert.equal(Stacks?.[0]?.StackStatus, "CREATE_COMPLETE");
    const parsOut = (await client.send(new cfn.DescribeStacksCommand({ StackName: pars.stackId })))
      .Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === "SecurityGroupId");
    assert.deepEqual(parsOut?.ExportName, "py-knot-pars-SecurityGroupId");
    assert.equal(parsOut?.OutputValue, pars.securityGroup);
    const imports = await client.send(
      new cfn.ListImportsCommand({ ExportName: "py-knot-pars-SecurityGroupId" }),
    );
    assert.deepEqual(imports.Imports, ["py-knot-knot"]);

    // The Pars stack cannot go while the knot imports its exports.
    await client.send(new cfn.DeleteStackCommand({ StackName: "py-knot-pars" }));
    const kept = await until(
      async () =>
        (await client.send(new cfn.DescribeStacksCommand({ StackName: pars.stackId }))).Stacks![0]!,
      (s) => s.StackStatus !== "DELETE_IN_PROGRESS",
    );
    assert.equal(kept.StackStatus, "UPDATE_COMPLETE");
    assert.match(
      kept.StackStatusReason ?? "",
      /^Export py-knot-pars-\w+ cannot be deleted as it is in use by py-knot-knot$/,
    );
    assert.ok(emu.iam.roles.has("py-knot-batch-service-role"));

    // The knot first, then the Pars: everything goes.
    await client.send(new cfn.DeleteStackCommand({ StackName: "py-knot-knot" }));
    const deleting = (await client.send(new cfn.DescribeStacksCommand({ StackName: knot.stackId })))
      .Stacks![0]!;
    assert.equal(deleting.StackStatus, "DELETE_IN_PROGRESS");
    await until(
      async () =>
        (await client.send(new cfn.DescribeStacksCommand({ StackName: knot.stackId }))).Stacks![0]!,
      (s) => s.StackStatus === "DELETE_COMPLETE",
    );
    // By name, a deleted stack does not exist; by id it is DELETE_COMPLETE.
    const gone = await rejects(
      client.send(new cfn.DescribeStacksCommand({ StackName: "py-knot-knot" })),
    );
    assert.equal(gone.name, "ValidationError");
    assert.equal(gone.message, "Stack with id py-knot-knot does not exist");
    await client.send(new cfn.DeleteStackCommand({ StackName: "py-knot-knot" })); // nothing to do
    await client.send(new cfn.DeleteStackCommand({ StackName: pars.stackId }));
    await until(
      async () =>
        (await client.send(new cfn.DescribeStacksCommand({ StackName: pars.stackId }))).Stacks![0]!,
      (s) => s.StackStatus === "DELETE_COMPLETE",
    );
    assert.equal(emu.listResources().length, before);
    const listed = await client.send(
      new cfn.ListStacksCommand({ StackStatusFilter: ["DELETE_COMPLETE"] }),
    );
    assert.deepEqual(listed.StackSummaries?.map((s) => s.StackName).sort(), [
      "py-knot-knot",
      "py-knot-pars",
    ]);
    const events = await client.send(
      new cfn.DescribeStackEventsCommand({ StackName: pars.stackId }),
    );
    assert.equal(events.StackEvents?.[0]?.ResourceStatus, "DELETE_COMPLETE");
    assert.ok(events.StackEvents?.some((e) => e.ResourceStatusReason === "User Initiated"));
  } finally {
    client.destroy();
    await emu.close();
  }
});

Deno.test("a resource that cannot be deleted leaves the stack DELETE_FAILED with the reason, and RetainResources finishes it", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 20 });
  const client = new CloudFormationClient(sdkConfig(emu));
  const ec2 = new sdk.ec2.EC2Client(sdkConfig(emu));
  try {
    const session = await sessionFor(emu);
    const pars = await seedOriginalPars(emu, session, "py-lab");
    // Someone's own security group allows traffic from the Pars's group.
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
    const retained = await rejects(
      client.send(
        new cfn.DeleteStackCommand({
          StackName: "py-lab-pars",
          RetainResources: ["SecurityGroup"],
        }),
      ),
    );
    assert.equal(retained.name, "ValidationError");
    await client.send(new cfn.DeleteStackCommand({ StackName: "py-lab-pars" }));
    const failed = await until(
      async () =>
        (await client.send(new cfn.DescribeStacksCommand({ StackName: pars.stackId }))).Stacks![0]!,
      (s) => s.StackStatus !== "DELETE_IN_PROGRESS",
    );
    assert.equal(failed.StackStatus, "DELETE_FAILED");
    assert.equal(
      failed.StackStatusReason,
      "The following resource(s) failed to delete: [SecurityGroup]. ",
    );
    const { StackResourceSummaries } = await client.send(
      new cfn.ListStackResourcesCommand({ StackName: "py-lab-pars" }),
    );
    const sg = StackResourceSummaries?.find((r) => r.LogicalResourceId === "SecurityGroup");
    assert.equal(sg?.ResourceStatus, "DELETE_FAILED");
    assert.match(sg?.ResourceStatusReason ?? "", /resource sg-\w+ has a dependent object/);
    // The roles went; the group stays.
    assert.ok(!emu.iam.roles.has("py-lab-batch-service-role"));
    assert.ok(emu.ec2.securityGroups.has(pars.securityGroup));

    await client.send(
      new cfn.DeleteStackCommand({ StackName: "py-lab-pars", RetainResources: ["SecurityGroup"] }),
    );
    await until(
      async () =>
        (await client.send(new cfn.DescribeStacksCommand({ StackName: pars.stackId }))).Stacks![0]!,
      (s) => s.StackStatus === "DELETE_COMPLETE",
    );
    assert.ok(emu.ec2.securityGroups.has(pars.securityGroup));
  } finally {
    client.destroy();
    ec2.destroy();
    await emu.close();
  }
});
