/**
 * Pars against the emulator: what is made (roles, trust, policies, instance
 * profile, network, security group), adoption from the config file and from
 * tags, rollback on failure, clobber, throttling, and bad input refused
 * before any mutating call.
 */
import assert from "node:assert/strict";
import {
  CannotCreateResourceError,
  CannotDeleteResourceError,
  CloudknotError,
  CloudknotInputError,
  DockerRepo,
  Knot,
  NoDefaultVpcError,
  Pars,
  ProfileMismatchError,
  RegionMismatchError,
  ResourceConflictError,
  ResourceDoesNotExistError,
  ResourceExistsError,
  setS3Params,
  UnknownPolicyError,
} from "../../mod.ts";
import {
  deleteBatchEnvironment,
  ensureComputeEnvironment,
  validateComputeOptions,
} from "../../src/targets/aws/batch/mod.ts";
import { AwsError } from "../../src/aws/mod.ts";
import { deleteInstanceProfile, deleteRole } from "../../src/resources/_iam_roles.ts";
import { StateFile } from "../../src/state/mod.ts";
import { StateFileError } from "../../src/state/state_file.ts";
import type { Emulator } from "../emulator/mod.ts";
import { doc, rejects, resources, sessionFor, withEmulator } from "./helpers.ts";
import { endLagWhen, LONG_LAG_MS, releaseNetwork } from "../support/lag_ends.ts";
import { parsReads } from "../support/pars_reads.ts";
import { withAwsHome } from "../cli/aws_helpers.ts";
import { lines, spawnCli } from "../cli/helpers.ts";
import { MANAGED_BY_TAG, PARS_TAG_KEY } from "../../src/resources/_iam_roles.ts";
import { configOwner, OWNER_TAG_KEY } from "../../src/resources/owner.ts";
import { holdAnswer } from "../support/held_answer.ts";

const MANAGED = "arn:aws:iam::aws:policy/service-role/";

function role(emu: Emulator, name: string) {
  const r = emu.iam.roles.get(name);
  assert.ok(r, `role ${name} exists`);
  return r;
}

function tagsOf(list: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

function checkRoles(
  emu: Emulator,
  name: string,
  bucket: string,
  extra: string[] = [],
  customServiceRole = false,
) {
  assert.equal(emu.iam.roles.has(`${name}-batch-service-role`), customServiceRole);
  const expected: [string, string, string[]][] = [
    ...(customServiceRole
      ? [[
        "-batch-service-role",
        "batch.amazonaws.com",
        [`${MANAGED}AWSBatchServiceRole`],
      ] as [string, string, string[]]]
      : []),
    [
      "-ecs-instance-role",
      "ec2.amazonaws.com",
      [`${MANAGED}AmazonEC2ContainerServiceforEC2Role`],
    ],
    ["-spot-fleet-role", "spotfleet.amazonaws.com", [`${MANAGED}AmazonEC2SpotFleetTaggingRole`]],
    [
      "-task-exec-role",
      "ecs-tasks.amazonaws.com",
      [`${MANAGED}AmazonECSTaskExecutionRolePolicy`],
    ],
    ["-job-role", "ecs-tasks.amazonaws.com", extra],
  ];
  for (const [suffix, service, policies] of expected) {
    const r = role(emu, name + suffix);
    const trust = doc(r.AssumeRolePolicyDocument);
    assert.deepEqual(trust.Statement, [{
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sts:AssumeRole",
    }]);
    assert.deepEqual([...r.attached].sort(), [...policies].sort(), `policies of ${suffix}`);
    const tags = tagsOf(r.Tags);
    assert.equal(tags.ManagedBy, "cloudknot");
    assert.equal(tags["cloudknot:pars"], name);
    assert.equal(tags.Owner, "arn:aws:iam::123456789012:user/emulator");
    if (suffix !== "-job-role") assert.equal(r.inline.size, 0);
  }
  const job = role(emu, `${name}-job-role`);
  assert.deepEqual([...job.inline.keys()], ["cloudknot-job-data"]);
  const policy = doc(job.inline.get("cloudknot-job-data")!);
  assert.deepEqual(policy.Statement, [
    {
      Sid: "CloudknotJobData",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      Resource: `arn:aws:s3:::${bucket}/cloudknot/*`,
    },
    {
      Sid: "CloudknotListJobData",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: `arn:aws:s3:::${bucket}`,
      Condition: { StringLike: { "s3:prefix": ["cloudknot/*"] } },
    },
  ]);
  const profile = emu.iam.instanceProfiles.get(`${name}-ecs-instance-role`);
  assert.ok(profile);
  assert.deepEqual(profile.roles, [`${name}-ecs-instance-role`]);
  assert.equal(tagsOf(profile.Tags)["cloudknot:pars"], name);
}

function checkSecurityGroup(emu: Emulator, pars: Pars) {
  const sg = emu.ec2.securityGroups.get(pars.securityGroup);
  assert.ok(sg);
  assert.equal(sg.GroupName, `${pars.name}-sg`);
  assert.equal(sg.VpcId, pars.vpc);
  assert.deepEqual(sg.IpPermissions, [], "no inbound rules");
  assert.deepEqual(sg.IpPermissionsEgress, [{
    IpProtocol: "-1",
    IpRanges: [{ CidrIp: "0.0.0.0/0" }],
  }]);
  assert.equal(tagsOf(sg.Tags).ManagedBy, "cloudknot");
  assert.equal(tagsOf(sg.Tags)["cloudknot:pars"], pars.name);
}

Deno.test("Pars with the default VPC: roles, instance profile and a closed security group", async () => {
  await withEmulator(async ({ emu, session, state, path }) => {
    const before = resources(emu);
    const pars = await Pars.create({
      name: "lab",
      session,
      state,
      policies: ["AmazonS3ReadOnlyAccess"],
      bucket: "lab-data",
    });
    checkRoles(emu, "lab", "lab-data", ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]);
    checkSecurityGroup(emu, pars);

    assert.equal(pars.vpc, emu.ec2.defaultVpcId);
    const defaults = [...emu.ec2.subnets.values()].filter((s) => s.VpcId === emu.ec2.defaultVpcId)
      .map((s) => s.SubnetId).sort();
    assert.deepEqual([...pars.subnets].sort(), defaults);
    assert.equal(pars.jobRole, "arn:aws:iam::123456789012:role/lab-job-role");
    // A summary in a terminal and in a notebook.
    const summary = Deno.inspect(pars);
    assert.match(summary, /^Pars lab\n {2}region: +us-east-1\n/);
    assert.match(summary, new RegExp(`\n  VPC: +${pars.vpc} \\(default\\)\n`));
    assert.match(summary, /\n {2}bucket: +lab-data\n/);
    assert.match(summary, /\n {2}policies: +arn:aws:iam::aws:policy\/AmazonS3ReadOnlyAccess$/);
    const shown = (pars as unknown as Record<symbol, () => Record<string, string>>)[
      Symbol.for("Jupyter.display")
    ]!();
    assert.equal(shown["text/plain"], summary);
    assert.match(shown["text/html"]!, /<th[^>]*>bucket<\/th><td>lab-data<\/td>/);
    assert.equal(pars.taskExecutionRole, "arn:aws:iam::123456789012:role/lab-task-exec-role");
    assert.equal(
      pars.ecsInstanceProfile,
      "arn:aws:iam::123456789012:instance-profile/lab-ecs-instance-role",
    );
    assert.equal(pars.region, "us-east-1");
    assert.equal(pars.profile, "default");
    assert.deepEqual(pars.policies, ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]);

    // Exactly these were made, and the default VPC is not among what clobber deletes.
    const added = resources(emu).filter((r) => !before.includes(r));
    assert.deepEqual(added, [
      `ec2/security-group/${pars.securityGroup}`,
      "iam/instance-profile/lab-ecs-instance-role",
      "iam/role/lab-ecs-instance-role",
      "iam/role/lab-job-role",
      "iam/role/lab-spot-fleet-role",
      "iam/role/lab-task-exec-role",
    ]);
    assert.ok(!pars.created.some((c) => c.includes(pars.vpc)));
    // The default VPC was not changed.
    const vpcTags = emu.ec2.vpcs.get(emu.ec2.defaultVpcId)!.Tags;
    assert.deepEqual(vpcTags, []);

    // The record.
    const keys = (await new StateFile({ path }).section("pars lab"))!;
    assert.equal(keys.get("region"), "us-east-1");
    assert.equal(keys.get("profile"), "default");
    assert.equal(keys.get("job-role"), pars.jobRole);
    assert.equal(keys.get("task-execution-role"), pars.taskExecutionRole);
    // Compute environments use Batch's service-linked role.
    assert.equal(pars.batchServiceRole, "");
    assert.equal(keys.get("batch-service-role"), "");
    assert.equal(keys.get("subnets"), pars.subnets.join(","));
    assert.equal(keys.get("security-group"), pars.securityGroup);
    assert.equal(keys.get("bucket"), "lab-data");
    assert.equal(keys.get("policies"), "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess");
    assert.equal(keys.get("created"), pars.created.join(" "));

    // Clobber leaves nothing, and removes the record.
    await pars.clobber();
    assert.equal(pars.clobbered, true);
    assert.deepEqual(resources(emu), before);
    assert.equal(await state.section("pars lab"), undefined);
    assert.ok(emu.ec2.vpcs.has(emu.ec2.defaultVpcId));
    await pars.clobber(); // a second clobber does nothing
  });
});

Deno.test("Pars with a Batch service role of its own, when asked; adopting checks the choice", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    const pars = await Pars.create({ name: "own", session, state, customServiceRole: true });
    checkRoles(emu, "own", "cloudknot-123456789012-us-east-1", [], true);
    assert.equal(pars.batchServiceRole, "arn:aws:iam::123456789012:role/own-batch-service-role");
    assert.ok(pars.created.includes("role:own-batch-service-role"));
    // Adopted as it is; asking for the other choice is refused, with nothing changed.
    emu.requests.clear();
    assert.equal(
      (await Pars.create({ name: "own", session, state })).batchServiceRole,
      pars.batchServiceRole,
    );
    const e = await rejects(Pars.create({ name: "own", session, state, customServiceRole: false }));
    assert.ok(e instanceof CloudknotInputError);
    assert.match(e.message, /exists with customServiceRole true, but false was passed/);
    assert.deepEqual(emu.mutatingRequests(), []);
    await pars.clobber();
    assert.deepEqual(resources(emu), before);
  });
});

Deno.test("Pars with a new VPC: two public subnets in two zones, gateway, routes", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    const pars = await Pars.create({
      name: "net",
      session,
      state,
      useDefaultVpc: false,
      ipv4Cidr: "10.20.0.0/16",
      instanceTenancy: "dedicated",
    });
    checkRoles(emu, "net", "cloudknot-123456789012-us-east-1");
    checkSecurityGroup(emu, pars);
    const vpc = emu.ec2.vpcs.get(pars.vpc)!;
    assert.equal(vpc.CidrBlock, "10.20.0.0/16");
    assert.equal(vpc.IsDefault, false);
    assert.equal(tagsOf(vpc.Tags)["cloudknot:pars"], "net");
    assert.equal(pars.subnets.length, 2);
    const subnets = pars.subnets.map((id) => emu.ec2.subnets.get(id)!);
    assert.deepEqual(subnets.map((s) => s.CidrBlock), ["10.20.0.0/20", "10.20.16.0/20"]);
    assert.notEqual(subnets[0]!.AvailabilityZone, subnets[1]!.AvailabilityZone);
    assert.ok(subnets.every((s) => s.MapPublicIpOnLaunch === true && s.VpcId === pars.vpc));
    const igws = [...emu.ec2.internetGateways.values()].filter((g) =>
      (g.Attachments as { VpcId: string }[]).some((a) => a.VpcId === pars.vpc)
    );
    assert.equal(igws.length, 1);
    const igw = igws[0]!.InternetGatewayId;
    const tables = [...emu.ec2.routeTables.values()].filter((t) =>
      t.VpcId === pars.vpc && tagsOf(t.Tags)["cloudknot:pars"] === "net"
    );
    assert.equal(tables.length, 1);
    const routes = tables[0]!.Routes as { DestinationCidrBlock: string; GatewayId: string }[];
    assert.ok(routes.some((r) => r.DestinationCidrBlock === "0.0.0.0/0" && r.GatewayId === igw));
    const associated = (tables[0]!.Associations as { SubnetId?: string }[])
      .map((a) => a.SubnetId).sort();
    assert.deepEqual(associated, [...pars.subnets].sort());
    const keys = (await state.section("pars net"))!;
    assert.equal(keys.get("use-default-vpc"), "false");
    assert.equal(keys.get("ipv4-cidr"), "10.20.0.0/16");
    assert.equal(keys.get("instance-tenancy"), "dedicated");
    for (const id of [pars.vpc, igw, tables[0]!.RouteTableId, ...pars.subnets]) {
      assert.ok(keys.get("created")!.includes(String(id)), `created lists ${id}`);
    }

    await pars.clobber();
    assert.deepEqual(resources(emu), before);
  });
});

Deno.test("Pars adoption: from the config file (a new StateFile), and from tags", async () => {
  await withEmulator(async ({ emu, session, state, path }) => {
    const made = await Pars.create({ name: "keep", session, state, useDefaultVpc: false });
    const after = resources(emu);

    // A new StateFile instance reading the same file, and a new session: no mutating call.
    emu.requests.clear();
    const adopted = await Pars.create({
      name: "keep",
      session: await sessionFor(emu),
      state: new StateFile({ path }),
      useDefaultVpc: false, // explicit and equal to the stored value: fine
    });
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.deepEqual(adopted.toJSON(), made.toJSON());

    // Without a record, the tagged resources are found and adopted, none made twice.
    await state.remove("pars keep");
    emu.requests.clear();
    const again = await Pars.create({ name: "keep", session, state, useDefaultVpc: false });
    assert.deepEqual(resources(emu), after);
    const creates = emu.mutatingRequests().filter((r) => r.operation.startsWith("Create"));
    assert.deepEqual(creates, []);
    assert.equal(again.vpc, made.vpc);
    assert.deepEqual(again.subnets, made.subnets);
    assert.equal(again.securityGroup, made.securityGroup);
    assert.deepEqual(again.created, made.created);
    await again.clobber();
  });
});

Deno.test("Pars rolls back what it made when a step fails, and keeps what it adopted", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    // A server error on every try (a single one is followed by a look and a second create).
    emu.faults.add({ service: "ec2", operation: "CreateSecurityGroup", kind: "500", times: 3 });
    const e = await rejects(Pars.create({ name: "fail", session, state, useDefaultVpc: false }));
    assert.ok(e instanceof AwsError);
    assert.equal(e.operation, "CreateSecurityGroup");
    assert.deepEqual(resources(emu), before, "everything made was deleted again");
    assert.equal(await state.section("pars fail"), undefined);
    const deletes = emu.requests.filter({ mutating: true }).map((r) => r.operation)
      .filter((op) =>
        op.startsWith("Delete") || op.startsWith("Detach") || op === "DisassociateRouteTable"
      );
    // Newest first: associations, route table, subnets, gateway, VPC, profile, roles.
    assert.deepEqual(deletes.slice(0, 3), [
      "DisassociateRouteTable",
      "DisassociateRouteTable",
      "DeleteRouteTable",
    ]);
    assert.equal(deletes.at(-1), "DeleteRole");

    // Roles adopted from an earlier Pars survive a failed create.
    await Pars.create({ name: "half", session, state });
    await state.remove("pars half");
    const withRoles = resources(emu);
    // A server error on every try (a single one is followed by a look and a second create).
    emu.faults.add({ service: "ec2", operation: "CreateSecurityGroup", kind: "500", times: 3 });
    const sgId = [...emu.ec2.securityGroups.values()].find((g) => g.GroupName === "half-sg")!
      .GroupId as string;
    await session.ec2.deleteSecurityGroup({ GroupId: sgId });
    await rejects(Pars.create({ name: "half", session, state, useDefaultVpc: false }));
    const now = resources(emu);
    assert.deepEqual(now, withRoles.filter((r) => !r.endsWith(sgId)));
    assert.ok(now.includes("iam/role/half-job-role"));
  });
});

Deno.test("Pars survives throttling on IAM and EC2", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    emu.faults.add({ service: "iam", kind: "throttle", times: 6 });
    emu.faults.add({ service: "iam", operation: "CreateRole", kind: "throttle", times: 2 });
    emu.faults.add({ service: "ec2", kind: "throttle", times: 6 });
    emu.faults.add({ service: "ec2", operation: "CreateVpc", kind: "throttle", times: 2 });
    const pars = await Pars.create({ name: "slow", session, state, useDefaultVpc: false });
    const hits = emu.faults.list().reduce((n, f) => n + f.hits, 0);
    assert.equal(hits, 16);
    assert.equal(emu.count("iam", "CreateRole") - 2, 4, "each role made once");
    assert.equal(emu.iam.roles.size, 4);
    await pars.clobber();
    assert.deepEqual(resources(emu), before);
  });
});

Deno.test("Pars bad input: a typed error and no mutating call", async (t) => {
  await withEmulator(async ({ emu, session, state }) => {
    const cases: [string, () => Promise<unknown>, (e: Error) => boolean][] = [
      ["underscore", () => Pars.create({ name: "my_pars", session, state }), isInput("name")],
      ["leading digit", () => Pars.create({ name: "1pars", session, state }), isInput("name")],
      [
        "46 characters",
        () => Pars.create({ name: "a".repeat(46), session, state }),
        isInput("name"),
      ],
      [
        "ipv4Cidr with the default VPC",
        () => Pars.create({ name: "p", session, state, ipv4Cidr: "10.0.0.0/16" }),
        isInput("ipv4Cidr"),
      ],
      [
        "malformed ipv4Cidr",
        () =>
          Pars.create({ name: "p", session, state, useDefaultVpc: false, ipv4Cidr: "10.0.0/16" }),
        isInput("ipv4Cidr"),
      ],
      [
        "ipv4Cidr with host bits",
        () =>
          Pars.create({ name: "p", session, state, useDefaultVpc: false, ipv4Cidr: "10.0.0.1/16" }),
        isInput("ipv4Cidr"),
      ],
      [
        "ipv4Cidr too big",
        () =>
          Pars.create({ name: "p", session, state, useDefaultVpc: false, ipv4Cidr: "10.0.0.0/8" }),
        isInput("ipv4Cidr"),
      ],
      [
        "tenancy invalid",
        () =>
          Pars.create({
            name: "p",
            session,
            state,
            useDefaultVpc: false,
            instanceTenancy: "host" as "default",
          }),
        isInput("instanceTenancy"),
      ],
      [
        "tenancy with the default VPC",
        () => Pars.create({ name: "p", session, state, instanceTenancy: "dedicated" }),
        isInput("instanceTenancy"),
      ],
      [
        "unknown policy name",
        () => Pars.create({ name: "p", session, state, policies: ["NoSuchPolicy"] }),
        (e) => e instanceof UnknownPolicyError && e.policy === "NoSuchPolicy",
      ],
      [
        "unknown policy ARN",
        () =>
          Pars.create({
            name: "p",
            session,
            state,
            policies: "arn:aws:iam::123456789012:policy/missing",
          }),
        (e) => e instanceof UnknownPolicyError,
      ],
      [
        "malformed policy",
        () => Pars.create({ name: "p", session, state, policies: ["not a policy!"] }),
        (e) => e instanceof UnknownPolicyError,
      ],
      [
        "reserved tag",
        () => Pars.create({ name: "p", session, state, tags: { ManagedBy: "me" } }),
        isInput("tags"),
      ],
      [
        "bad bucket",
        () => Pars.create({ name: "p", session, state, bucket: "Bad_Bucket" }),
        (e) =>
          isInput("bucket")(e) &&
          e.message ===
            'Invalid S3 bucket name "Bad_Bucket" from the bucket option of Pars.create: use ' +
              "lowercase letters, digits, dots and hyphens, starting and ending with a letter or " +
              "digit; pass another",
      ],
    ];
    for (const [label, run, check] of cases) {
      await t.step(label, async () => {
        emu.requests.clear();
        const e = await rejects(run());
        assert.ok(check(e), `${label}: got ${e.name}: ${e.message}`);
        assert.match(e.message, /^[A-Z]/);
        assert.doesNotMatch(e.message, /\.$/);
        assert.deepEqual(emu.mutatingRequests(), []);
      });
    }
    assert.equal(emu.iam.roles.size, 0);
  });
});

function isInput(field: string): (e: Error) => boolean {
  return (e) => e instanceof CloudknotInputError && e.field === field;
}

Deno.test("Pars with more policies than a role may have is refused before anything is made, and a raised quota lets them through", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    // The account's own policies, made before cloudknot runs.
    const policies = Array.from({ length: 11 }, (_, i) => `team-policy-${i + 1}`);
    for (const name of policies) {
      emu.iam.operations.CreatePolicy!({
        PolicyName: name,
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
        }),
      }, {} as never);
    }
    emu.requests.clear();
    const e = await rejects(Pars.create({ name: "p", session, state, policies }));
    assert.ok(isInput("policies")(e), `got ${e.name}: ${e.message}`);
    assert.match(
      e.message,
      /^policies has 11 IAM policies, but IAM lets a role in this account have at most 10 managed policies/,
    );
    assert.match(e.message, /Service Quotas/);
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(emu.iam.roles.size, 0);

    // An account whose quota AWS raised takes them all.
    emu.iam.policiesPerRole = 12;
    const pars = await Pars.create({ name: "p", session, state, policies });
    assert.equal(pars.policies.length, 11);
    assert.equal(role(emu, "p-job-role").attached.size, 11);
  });
});

Deno.test("a Pars whose record has no region is refused with what to add to the config file, before any request", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await Pars.create({ name: "hand", session, state });
    // A record cut by hand: every key but the region.
    await state.update((d) => void d.get("pars hand")!.delete("region"));
    emu.requests.clear();
    const e = await rejects(Pars.create({ name: "hand", session, state }), CloudknotError);
    assert.equal(
      e.message,
      `The config file's [pars hand] (${state.path}) has no "region": add the region the Pars ` +
        `was made in to it, such as region = us-east-1 for the current region`,
    );
    assert.ok(!(e instanceof RegionMismatchError));
    assert.deepEqual(emu.requests.entries, [], "not even a read");
  });
});

Deno.test("Pars adoption refuses another region, profile, or different options", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const pars = await Pars.create({
      name: "mine",
      session,
      state,
      policies: "AmazonS3ReadOnlyAccess",
    });
    const record = (await state.section("pars mine"))!;

    await state.setMany("pars mine", { region: "eu-west-1" });
    emu.requests.clear();
    const region = await rejects(Pars.create({ name: "mine", session, state }));
    assert.ok(region instanceof RegionMismatchError);
    assert.equal(region.resourceRegion, "eu-west-1");
    assert.equal(region.currentRegion, "us-east-1");
    assert.match(region.message, /eu-west-1.*us-east-1/);
    assert.deepEqual(emu.requests.entries, [], "not even a read");

    await state.setMany("pars mine", { region: "us-east-1", profile: "work" });
    const profile = await rejects(Pars.create({ name: "mine", session, state }));
    assert.ok(profile instanceof ProfileMismatchError);
    assert.equal(profile.resourceProfile, "work");
    assert.equal(profile.currentProfile, "default");
    assert.deepEqual(emu.requests.entries, []);

    await state.update((d) => void d.set("pars mine", record));
    for (
      const [label, options] of [
        ["useDefaultVpc", { useDefaultVpc: false }],
        ["bucket", { bucket: "other-bucket" }],
        ["policies", { policies: ["AmazonS3FullAccess"] }],
        ["policies", { policies: [] }],
      ] as const
    ) {
      const e = await rejects(Pars.create({ name: "mine", session, state, ...options }));
      assert.ok(e instanceof CloudknotInputError && e.field === label, `${label}: ${e.message}`);
    }
    assert.deepEqual(emu.mutatingRequests(), []);
    // The same policy by name or by ARN adopts.
    await Pars.create({ name: "mine", session, state, policies: ["AmazonS3ReadOnlyAccess"] });
    await Pars.create({
      name: "mine",
      session,
      state,
      policies: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
    });
    await pars.clobber();
  });
});

Deno.test("Pars.create of a Pars partly gone makes what is missing as its record says, keeps the record, and checks the options first", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    const policies = ["AmazonS3ReadOnlyAccess"];
    const pars = await Pars.create({ name: "gone", session, state, policies });
    const record = Object.fromEntries((await state.section("pars gone"))!);
    // A role and the security group deleted outside cloudknot.
    await deleteRole(session.iam, "gone-spot-fleet-role");
    await session.ec2.deleteSecurityGroup({ GroupId: pars.securityGroup });
    emu.requests.clear();
    // Options that differ from the record are refused before anything is made or removed.
    const differs = await rejects(Pars.create({ name: "gone", session, state, policies: [] }));
    assert.ok(differs instanceof CloudknotInputError, String(differs));
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.deepEqual(Object.fromEntries((await state.section("pars gone"))!), record);
    // The same options, or none, make it whole again in one call, keeping the record.
    const again = await Pars.create({ name: "gone", session, state });
    assert.deepEqual(
      emu.mutatingRequests().filter((r) => r.operation.startsWith("Create")).map((r) =>
        `${r.operation} ${r.params.RoleName ?? r.params.GroupName}`
      ),
      ["CreateRole gone-spot-fleet-role", "CreateSecurityGroup gone-sg"],
    );
    assert.ok(await Pars.find({ name: "gone", session, state }) instanceof Pars, "whole again");
    const kept = Object.fromEntries((await state.section("pars gone"))!);
    assert.notEqual(again.securityGroup, pars.securityGroup);
    assert.deepEqual(
      { ...kept, "security-group": "", created: "" },
      { ...record, "security-group": "", created: "" },
    );
    assert.deepEqual([...again.policies], ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]);
    assert.equal(again.spotFleetRole, pars.spotFleetRole);
    await again.clobber();
    assert.deepEqual(resources(emu), before);
  });
});

Deno.test("Pars.clobber({ name }) finishes a Pars partly gone from its record, saying what was gone, and makes nothing", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    const { created } = await Pars.create({ name: "half", session, state, useDefaultVpc: false });
    // What a clobber killed after the roles and the security group leaves.
    const gone = created.filter((c) => /^(role|instance-profile|security-group):/.test(c));
    for (const c of gone) {
      const id = c.slice(c.indexOf(":") + 1);
      if (c.startsWith("role:")) await deleteRole(session.iam, id);
      else if (c.startsWith("instance-profile:")) await deleteInstanceProfile(session.iam, id);
      else await session.ec2.deleteSecurityGroup({ GroupId: id });
    }
    emu.requests.clear();
    const warnings: string[] = [];
    const done = await Pars.clobber({
      name: "half",
      session,
      state,
      warn: (m) => warnings.push(m),
    });
    assert.deepEqual(done, {
      deleted: created.filter((c) => !gone.includes(c)),
      gone,
      kept: [],
    });
    assert.match(warnings.join("\n"), /Pars half was partly gone already \(role:half-/);
    assert.deepEqual(
      emu.mutatingRequests().filter((r) => !/^(Delete|Detach|Disassociate)/.test(r.operation)),
      [],
      "nothing is made",
    );
    assert.equal(await state.section("pars half"), undefined);
    assert.deepEqual(resources(emu), before);
    // With no record, there is nothing to clobber.
    const none = await rejects(Pars.clobber({ name: "half", session, state }));
    assert.ok(none instanceof ResourceDoesNotExistError);
    assert.match(none.message, /has no record of Pars "half"/);
  });
});

Deno.test("Pars clobber refuses while a knot uses it, unless forced, and tolerates gone pieces", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    const pars = await Pars.create({ name: "shared", session, state, useDefaultVpc: false });
    await state.setMany("knot k1", { pars: "shared", region: "us-east-1" });
    await state.setMany("knot other", { pars: "else" });
    const e = await rejects(pars.clobber());
    assert.ok(e instanceof CannotDeleteResourceError);
    assert.deepEqual(e.users, ["knot k1"]);
    assert.equal(pars.clobbered, false);
    assert.ok(emu.iam.roles.has("shared-job-role"));

    // Some pieces already gone: clobber goes on.
    await session.ec2.deleteSecurityGroup({ GroupId: pars.securityGroup });
    await session.iam.removeRoleFromInstanceProfile({
      InstanceProfileName: "shared-ecs-instance-role",
      RoleName: "shared-ecs-instance-role",
    });
    await session.iam.deleteInstanceProfile({ InstanceProfileName: "shared-ecs-instance-role" });
    await pars.clobber({ force: true });
    assert.deepEqual(resources(emu), before);
    assert.equal(await state.section("pars shared"), undefined);
    assert.ok(await state.section("knot k1"), "knot sections are not touched");
  });
});

Deno.test("Pars clobber waits while a compute environment deleted a moment ago still holds its network", async () => {
  await withEmulator(
    async ({ emu, session, state }) => {
      const before = resources(emu);
      const pars = await Pars.create({ name: "held", session, state, useDefaultVpc: false });
      const fast = { pollMs: 10, timeoutMs: 10_000 };
      // A compute environment whose instances run from the start, then deleted.
      const ce = await ensureComputeEnvironment(session, {
        name: "held-ce",
        compute: validateComputeOptions({ minVcpus: 2 }),
        placement: { ...pars, subnets: [...pars.subnets] },
        tags: {},
      }, fast);
      await deleteBatchEnvironment(session, { computeEnvironment: ce }, fast);
      const refusals = () =>
        emu.requests.filter({ service: "ec2" }).filter((e) =>
          e.errorCode === "DependencyViolation"
        );
      // The network is held until EC2 has refused the clobber once, however long its steps
      // take on a loaded machine (a timed hold of 300 ms passed by at load average 10).
      using held = endLagWhen(() => refusals().length > 0, () => releaseNetwork(emu));
      const warnings: string[] = [];
      await pars.clobber({ pollMs: 20, warn: (m) => warnings.push(m) });
      assert.ok(held.ended);
      assert.deepEqual(resources(emu), before);
      const refused = refusals();
      assert.ok(refused.length > 0, "EC2 refused while the network was held");
      assert.ok(warnings.length > 0 && warnings.length <= refused.length);
      assert.match(warnings[0]!, /is still in use .* trying again for up to 15 minutes/);
    },
    { networkReleaseMs: LONG_LAG_MS, iamPropagationMs: 0 },
  );
});

Deno.test("Pars clobber gives up on a network that stays in use, saying what holds it", async () => {
  await withEmulator(async ({ session, state }) => {
    const pars = await Pars.create({ name: "stuck", session, state, useDefaultVpc: false });
    const ce = await ensureComputeEnvironment(session, {
      name: "stuck-ce",
      compute: validateComputeOptions({ minVcpus: 2 }),
      placement: { ...pars, subnets: [...pars.subnets] },
      tags: {},
    }, { pollMs: 10 });
    await deleteBatchEnvironment(session, { computeEnvironment: ce }, { pollMs: 10 });
    const e = await rejects(pars.clobber({ pollMs: 10, timeoutMs: 100, warn: () => {} }));
    assert.ok(e instanceof CannotDeleteResourceError, String(e));
    assert.match(e.message, /security group sg-\w+ is still in use after 0 minutes/);
    assert.match(e.message, /look at it in the EC2 console, then clobber again/);
    assert.equal(pars.clobbered, false);
  }, { networkReleaseMs: 60_000, iamPropagationMs: 0 });
});

Deno.test("Pars refuses resources of its name that cloudknot did not make", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await session.iam.createRole({
      RoleName: "taken-job-role",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
    });
    emu.requests.clear();
    const e = await rejects(Pars.create({ name: "taken", session, state }));
    assert.ok(e instanceof ResourceConflictError);
    assert.ok(e instanceof ResourceExistsError, "the original's ResourceExistsException");
    assert.equal(e.resource, "taken-job-role");
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("Pars default name comes from the caller, and a missing default VPC is an error", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const pars = await Pars.create({ session, state });
    assert.equal(pars.name, "emulator-default");
    await pars.clobber();

    emu.ec2.vpcs.get(emu.ec2.defaultVpcId)!.IsDefault = false;
    emu.requests.clear();
    const e = await rejects(Pars.create({ name: "novpc", session, state }));
    assert.ok(e instanceof NoDefaultVpcError);
    assert.ok(
      e instanceof CannotCreateResourceError,
      "the original's CannotCreateResourceException",
    );
    assert.match(e.message, /useDefaultVpc: false/);
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("Pars in another region: subnets in that region's zones", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const pars = await Pars.create({ name: "eu", session, state, useDefaultVpc: false });
    const zones = pars.subnets.map((id) => emu.ec2.subnets.get(id)!.AvailabilityZone);
    assert.deepEqual(zones, ["eu-west-1a", "eu-west-1b"]);
    assert.equal(pars.region, "eu-west-1");
    assert.equal((await state.section("pars eu"))!.get("region"), "eu-west-1");
    await pars.clobber();
  }, { region: "eu-west-1" });
});

Deno.test("Pars: a create whose answer was lost is looked up, not made twice", async () => {
  await withEmulator(async ({ emu, state }) => {
    const before = resources(emu);
    for (
      const operation of [
        "CreateRole",
        "CreateInstanceProfile",
        "AddRoleToInstanceProfile",
        "CreateVpc",
        "CreateInternetGateway",
        "CreateSubnet",
        "AssociateRouteTable",
        "CreateSecurityGroup",
      ]
    ) {
      emu.faults.add({ operation, kind: "lost-response", times: 1 });
    }
    // Without pooled connections: on a reused keep-alive connection that closes after the
    // request, Deno's fetch sends the request again by itself, so the loss never shows.
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    const fresh = await sessionFor(emu, { fetch: (i, init) => fetch(i, { ...init, client }) });
    const pars = await Pars.create({ name: "lossy", session: fresh, state, useDefaultVpc: false })
      .catch((e) => {
        client.close();
        throw e;
      });
    assert.deepEqual(
      emu.requests.entries.filter((r) => r.fault).map((r) => r.operation).sort(),
      [
        "AddRoleToInstanceProfile",
        "AssociateRouteTable",
        "CreateInstanceProfile",
        "CreateInternetGateway",
        "CreateRole",
        "CreateSecurityGroup",
        "CreateSubnet",
        "CreateVpc",
      ],
    );
    assert.ok(emu.faults.list().every((f) => f.hits === 1), "every fault hit once");
    assert.equal(emu.iam.roles.size, 4);
    assert.equal(emu.iam.instanceProfiles.size, 1);
    const ours = [...emu.ec2.vpcs.values()].filter((v) => tagsOf(v.Tags)["cloudknot:pars"]);
    assert.equal(ours.length, 1);
    assert.equal(
      [...emu.ec2.subnets.values()].filter((s) => s.VpcId === pars.vpc).length,
      2,
    );
    assert.equal(
      [...emu.ec2.internetGateways.values()].filter((g) => tagsOf(g.Tags)["cloudknot:pars"])
        .length,
      1,
    );
    await pars.clobber();
    client.close();
    assert.deepEqual(resources(emu), before);
  });
});

Deno.test("Pars: a create that gets a server error is looked up and made again", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    const operations = [
      "AddRoleToInstanceProfile",
      "CreateInstanceProfile",
      "CreateRole",
      "CreateSecurityGroup",
    ];
    // A 503 leaves a non-idempotent call's outcome unknown; nothing was made, and each of these
    // has a unique name, so making it again cannot make two.
    for (const operation of operations) emu.faults.add({ operation, kind: "503", times: 1 });
    const pars = await Pars.create({ name: "unavailable", session, state });
    assert.deepEqual(
      emu.requests.entries.filter((r) => r.fault).map((r) => r.operation).sort(),
      operations,
    );
    assert.equal(emu.iam.roles.size, 4);
    assert.equal(emu.iam.instanceProfiles.size, 1);
    assert.deepEqual(
      emu.iam.instanceProfiles.get("unavailable-ecs-instance-role")?.roles,
      ["unavailable-ecs-instance-role"],
    );
    await pars.clobber();
    assert.deepEqual(resources(emu), before);
  });
});

Deno.test("a read-only config file is refused before Pars.create, setS3Params, DockerRepo.create or an AWS Knot.create makes anything", async () => {
  await withEmulator(async ({ emu, session, state, path }) => {
    await state.set("aws", "region", "us-east-1");
    await Deno.chmod(path, 0o444);
    const before = await Deno.readTextFile(path);
    emu.requests.clear();
    const readOnly = (e: unknown) =>
      e instanceof StateFileError &&
      e.message.startsWith(`The cloudknot config file ${path} is read-only (mode 0444)`);
    await assert.rejects(() => Pars.create({ name: "lab", session, state }), readOnly);
    await assert.rejects(() => setS3Params({ bucket: "lab-data" }, { session, state }), readOnly);
    await assert.rejects(() => DockerRepo.create({ name: "knots", session, state }), readOnly);
    await assert.rejects(
      () => Knot.create({ name: "sq", func: (x: number) => x, target: "aws", session, state }),
      readOnly,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await Deno.readTextFile(path), before);
  });
});

Deno.test("a Pars create that waited for another process making the same Pars reads it again, and makes what that process undid instead of adopting what it read before", async () => {
  await withAwsHome(async (home) => {
    const session = await sessionFor(home.emu);
    const state = new StateFile({ path: home.configFile });
    const role = "lab-ecs-instance-role";
    // Another process makes Pars lab with this config file: it holds the mark and made a role.
    const waiting = await state.whileMaking("pars lab", async () => {
      await session.iam.createRole({
        RoleName: role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{
            Effect: "Allow",
            Principal: { Service: "ec2.amazonaws.com" },
            Action: "sts:AssumeRole",
          }],
        }),
        Tags: [
          MANAGED_BY_TAG,
          { Key: PARS_TAG_KEY, Value: "lab" },
          { Key: OWNER_TAG_KEY, Value: await configOwner(state) },
        ],
      });
      home.emu.requests.clear();
      const child = spawnCli(home, ["pars", "create", "lab"]);
      const stdout = new Response(child.stdout).text();
      const stderr = lines(child.stderr);
      // It reads the Pars (the role too), then says it waits for the mark.
      let said = "";
      for (let line = await stderr.read(); !line.done; line = await stderr.read()) {
        said += `${line.value}\n`;
        if (line.value.includes("is being made by another process")) break;
      }
      assert.match(said, /Pars lab is being made by another process with this config file/);
      assert.equal(parsReads(home.emu, "lab")[`GetRole ${role}`], 1);
      // That process fails and undoes what it made, then lets go of the mark.
      await deleteRole(session.iam, role);
      return { child, stdout, stderr, said };
    });
    const { child, stdout, stderr } = waiting;
    let said = waiting.said;
    for (let line = await stderr.read(); !line.done; line = await stderr.read()) {
      said += `${line.value}\n`;
    }
    const { code } = await child.status;
    await stdout;
    // Read again after the wait: the role is made, not adopted as it was before it was undone.
    assert.equal(code, 0, said);
    assert.ok(home.emu.iam.roles.has(role));
    assert.ok((await state.get("pars lab", "created"))?.split(" ").includes(`role:${role}`));
    assert.equal(parsReads(home.emu, "lab")[`GetRole ${role}`], 2);
  });
});

Deno.test("two heals of one Pars whose resources are gone, at once with one config file, take turns: the second waits, then adopts what the first made, and no VPC or role is made twice", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    const pars = await Pars.create({ name: "twice", session, state, useDefaultVpc: false });
    // A forced clobber killed before it removed the record: every resource gone, the record kept.
    const record = (await state.section("pars twice"))!;
    await pars.clobber();
    await state.update((d) => {
      d.set("pars twice", record);
    });
    emu.requests.clear();
    // The first heal (a knot healing, say) is held once it asks for its VPC.
    const first = await holdAnswer(
      emu,
      { service: "ec2", operation: "CreateVpc" },
      () => Pars.remake({ name: "twice", session, state, warn: () => {} }),
    );
    let second: Promise<Pars> | undefined;
    try {
      // The second (another knot using the Pars) read it gone too: it waits for the first.
      const waits = Promise.withResolvers<string>();
      second = Pars.remake({ name: "twice", session, state, warn: waits.resolve });
      second.catch(() => {});
      const said = await Promise.race([
        waits.promise,
        second.then(() => {
          throw new Error("the second heal ended without waiting for the first");
        }),
      ]);
      assert.match(said, /Pars twice is being made again by another process with this config file/);
      const healed = await first.answer();
      const adopted = await second;
      assert.equal(adopted.vpc, healed.vpc);
      assert.deepEqual([...adopted.subnets], [...healed.subnets]);
      assert.equal(adopted.securityGroup, healed.securityGroup);
      assert.ok(await Pars.find({ name: "twice", session, state }) instanceof Pars, "whole again");
      // Each resource made once: the second made nothing, and no VPC is left behind.
      const creates = emu.mutatingRequests().filter((r) => r.operation.startsWith("Create"))
        .map((r) => {
          const { RoleName, InstanceProfileName, CidrBlock, GroupName } = r.params;
          return `${r.operation} ${
            RoleName ?? InstanceProfileName ?? CidrBlock ?? GroupName ?? ""
          }`;
        });
      assert.deepEqual(creates, [...new Set(creates)], "nothing is made twice");
      assert.equal(creates.filter((c) => c.startsWith("CreateVpc")).length, 1);
      await adopted.clobber();
      assert.deepEqual(resources(emu), before, "nothing is left behind");
    } finally {
      await first.answer().catch(() => {});
      await second?.catch(() => {});
    }
  });
});
