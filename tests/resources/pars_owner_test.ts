// Two config files on one AWS account (two users, or one user's laptop and
// CI) against the emulator: a Pars' name names its roles and network, so a
// Pars of the same name made with another config file would adopt them, and
// either file's clobber would delete them under the other's knots.
// Pars.create, its dry run and an AWS Knot.create refuse it before they
// change anything; what has no owner tag, and a copy of the same config file,
// are adopted as before.
import assert from "node:assert/strict";
import { CloudknotInputError, Knot, Pars, ResourceConflictError } from "../../mod.ts";
import { ownerTag, readOwner } from "../../src/resources/owner.ts";
import { deleteRole } from "../../src/resources/_iam_roles.ts";
import { StateFile } from "../../src/state/mod.ts";
import { withEmulator } from "./helpers.ts";
import { parsReads } from "../support/pars_reads.ts";
import { writeAwsKnot } from "../../src/targets/aws/catalog.ts";
import { inCliWords } from "../../src/cli/common/cli_words.ts";

function square(x: number): number {
  return x * x;
}

Deno.test("Pars.create, Pars.plan and an AWS Knot.create refuse a Pars another config file made, before changing anything; a copy of that file, and a Pars without owner tags, are adopted", async () => {
  await withEmulator(async ({ emu, session, state: mine, dir }) => {
    await Pars.create({ name: "lab", session, state: mine });
    await Pars.create({ session, state: mine }); // the default Pars, emulator-default
    await Pars.create({ name: "sq-pars", session, state: mine }); // as knot sq's own Pars
    const owner = (await readOwner(mine))!;
    const theirs = new StateFile({ path: `${dir}/theirs/cloudknot` });

    const refused = async (call: () => Promise<unknown>, field: string, ...why: RegExp[]) => {
      const before = emu.mutatingRequests().length;
      const e = await call().then(() => undefined, (e) => e);
      assert.ok(e instanceof CloudknotInputError, String(e));
      assert.equal(e.field, field);
      assert.match(
        e.message,
        /^Pars [\w-]+ exists on this AWS account, made with another cloudknot config file \(owner [0-9a-f-]{36}, not this file, which has none yet; /,
      );
      assert.match(
        e.message,
        /its IAM roles [\w-]+-ecs-instance-role, [\w-]+-spot-fleet-role, [\w-]+-task-exec-role, [\w-]+-job-role, its IAM instance profile [\w-]+-ecs-instance-role and /,
      );
      assert.match(e.message, / and its security group sg-\w+ \([\w-]+-sg\)\./);
      for (const re of why) assert.match(e.message, re);
      assert.ok(
        e.message.endsWith(
          `If that file is lost and the Pars was yours, make this file its owner: set owner = ` +
            `${owner} in [aws] of ${theirs.path}`,
        ),
        e.message,
      );
      assert.deepEqual(
        emu.mutatingRequests().slice(before).map((r) => `${r.service} ${r.operation}`),
        [],
      );
      return e.message;
    };
    const named =
      /: choose another Pars name, as Pars\.create\(\{ name: "NAME" \}\), or use that Pars with the config file that made it/;
    const plan = await refused(
      () => Pars.plan({ name: "lab", session, state: theirs }),
      "name",
      named,
    );
    assert.equal(
      await refused(() => Pars.create({ name: "lab", session, state: theirs }), "name", named),
      plan,
    );
    const knot = { name: "sq", target: "aws" as const, session, state: theirs, func: square };
    const byPars = /: choose another Pars name, as Knot\.create\(\{ pars: "NAME" \}\), or use/;
    await refused(() => Knot.create({ ...knot, pars: "lab", dryRun: true }), "pars", byPars);
    await refused(() => Knot.create({ ...knot, pars: "lab" }), "pars", byPars);
    // The default Pars' name is one user's on every config file: the message says to pass one.
    const byDefault =
      /: pass a Pars name of this file's own, as (Pars|Knot)\.create\(\{ (name|pars): "NAME" \}\) \(emulator-default is the default Pars name, made from your IAM identity, so every config file of yours shares it\)/;
    await refused(() => Pars.create({ session, state: theirs }), "name", byDefault, /Pars\.create/);
    await refused(() => Knot.create(knot), "pars", byDefault, /Knot\.create/);
    // A knot's own Pars (parsPolicies) is named after the knot: the message says to rename it.
    const own = { ...knot, parsPolicies: ["AmazonS3ReadOnlyAccess"] };
    const byKnot = /: choose another knot name \(its Pars, sq-pars, is named after it\), or use/;
    await refused(() => Knot.create({ ...own, dryRun: true }), "name", byKnot);
    await refused(() => Knot.create(own), "name", byKnot);
    // Nothing of it was written to the refused file: no owner id, no record.
    assert.equal(await readOwner(theirs), undefined);
    assert.equal(await theirs.section("pars lab"), undefined);
    assert.equal(await theirs.section("knot sq"), undefined);

    // A copy of the first file (its owner id, not its records) adopts the Pars from its tags.
    const copy = new StateFile({ path: `${dir}/copy/cloudknot` });
    await copy.set("aws", "owner", owner);
    const made = emu.mutatingRequests().length;
    const adopted = await Pars.create({ name: "lab", session, state: copy });
    assert.deepEqual(
      emu.mutatingRequests().slice(made).filter((r) => r.operation.startsWith("Create")),
      [],
    );
    assert.equal(
      adopted.jobRole,
      (await Pars.find({ name: "lab", session, state: mine }) as Pars).jobRole,
    );

    // What has no owner tag (made before owner tags) is adopted by any config file.
    const old = await Pars.create({ name: "old", session, state: mine, useDefaultVpc: false });
    const untag = (tags: { Key?: string; Value?: string }[]) =>
      tags.splice(tags.findIndex((t) => t.Key === "cloudknot:owner"), 1);
    const ofOld = (tags: { Key?: string; Value?: string }[]) =>
      tags.some((t) => t.Key === "cloudknot:pars" && t.Value === "old");
    for (
      const map of [
        emu.iam.roles,
        emu.iam.instanceProfiles,
        emu.ec2.vpcs,
        emu.ec2.subnets,
        emu.ec2.securityGroups,
        emu.ec2.internetGateways,
        emu.ec2.routeTables,
      ]
    ) {
      for (const r of map.values()) if (ofOld(r.Tags)) untag(r.Tags);
    }
    const before = emu.mutatingRequests().length;
    const kept = await Pars.create({ name: "old", session, state: theirs, useDefaultVpc: false });
    assert.deepEqual(
      emu.mutatingRequests().slice(before).filter((r) => r.operation.startsWith("Create")),
      [],
    );
    assert.equal(kept.vpc, old.vpc);
    assert.equal(kept.securityGroup, old.securityGroup);
  });
});

Deno.test("two config files making one Pars name at the same moment: one Pars is made whole, the other call is refused and undoes what it made", async () => {
  await withEmulator(async ({ session, dir }) => {
    const files = ["a", "b"].map((f) => new StateFile({ path: `${dir}/${f}/cloudknot` }));
    const settled = await Promise.allSettled(
      files.map((state) => Pars.create({ name: "race", session, state })),
    );
    const made = settled.flatMap((s, i) => s.status === "fulfilled" ? [i] : []);
    assert.equal(made.length, 1, JSON.stringify(settled.map((s) => s.status)));
    const [winner, loser] = made[0] === 0 ? files : [...files].reverse();
    const refusal = (settled.find((s) => s.status === "rejected") as PromiseRejectedResult).reason;
    // Refused by the owner check before anything was made, or, when both passed it, by the
    // owner tag of the first resource the other call made.
    assert.ok(
      refusal instanceof CloudknotInputError || refusal instanceof ResourceConflictError,
      String(refusal),
    );
    assert.match(refusal.message, /another cloudknot config file/);
    assert.equal(await loser!.section("pars race"), undefined);
    // The winner's Pars is whole, and every piece of it is the winner's.
    const record = (await winner!.section("pars race"))!;
    // Adopting it again finds every resource its record names (or removes the record and throws).
    await Pars.create({ name: "race", session, state: winner! });
    const owner = await readOwner(winner!);
    for (const role of record.get("created")!.split(" ").filter((c) => c.startsWith("role:"))) {
      const { Role } = await session.iam.getRole({ RoleName: role.slice("role:".length) });
      assert.equal(ownerTag(Role?.Tags), owner, role);
    }
  });
});

Deno.test("Pars.create that makes a Pars, or heals one partly gone, reads each of its roles, its instance profile and its security group once, judging their owners and what to adopt from one read", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    emu.requests.clear();
    await Pars.create({ name: "once", session, state, customServiceRole: true });
    // Another Pars made meanwhile reads its own, which are not counted as these.
    await Pars.create({ name: "other", session, state });
    const roles = ["batch-service-role", "ecs-instance-role", "spot-fleet-role", "task-exec-role"];
    const once = {
      ...Object.fromEntries([...roles, "job-role"].map((r) => [`GetRole once-${r}`, 1])),
      GetInstanceProfile: 1,
      DescribeSecurityGroups: 1,
      DescribeVpcs: 1,
    };
    assert.deepEqual(parsReads(emu, "once"), once);

    // A role deleted outside cloudknot: the read that finds it gone is the one the heal
    // judges the owners from and makes it again from.
    await deleteRole(session.iam, "once-task-exec-role");
    emu.requests.clear();
    await Pars.create({ name: "once", session, state });
    assert.ok(emu.iam.roles.has("once-task-exec-role"));
    assert.deepEqual(parsReads(emu, "once"), once);
  });
});

Deno.test("Pars.create of a Pars with a VPC of its own reads the VPCs tagged with its name once, and adopts its VPC from that read when its record is gone", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    emu.requests.clear();
    const made = await Pars.create({ name: "own", session, state, useDefaultVpc: false });
    assert.equal(parsReads(emu, "own").DescribeVpcs, 1);
    await state.remove("pars own");
    emu.requests.clear();
    const again = await Pars.create({ name: "own", session, state, useDefaultVpc: false });
    assert.equal(again.vpc, made.vpc);
    assert.deepEqual(emu.requests.filter({ operation: "CreateVpc" }), []);
    assert.equal(parsReads(emu, "own").DescribeVpcs, 1);
  });
});

Deno.test("a heal of a Pars another config file made again is refused before changing anything, saying to clobber the knot and create it with another Pars (in the CLI's words too), and Pars.remake says to clobber the record", async () => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    // This file's Pars lab is gone, its record kept; another file made a Pars lab since.
    await Pars.create({ name: "lab", session, state });
    const record = Object.fromEntries((await state.section("pars lab"))!);
    await Pars.clobber({ name: "lab", session, state });
    await state.setMany("pars lab", record);
    await Pars.create({ name: "lab", session, state: new StateFile({ path: `${dir}/b/ck` }) });
    const account = "123456789012";
    await writeAwsKnot(state, {
      name: "sq",
      region: session.region,
      profile: session.profile,
      pars: "lab",
      dockerImage: "sq",
      dockerRepo: "cloudknot",
      imageUri: `${account}.dkr.ecr.${session.region}.amazonaws.com/cloudknot@sha256:ab`,
      computeEnvironment: `arn:aws:batch:${session.region}:${account}:compute-environment/sq-ck-ce`,
      jobQueue: `arn:aws:batch:${session.region}:${account}:job-queue/sq-ck-jq`,
      jobDefinition: `arn:aws:batch:${session.region}:${account}:job-definition/sq-ck-jd:1`,
      jobDefinitionName: "sq-ck-jd",
      bucket: "ck-bucket",
      sse: "AES256",
      prefix: "cloudknot/sq",
      retries: 1,
      compute: "FARGATE",
      imageTags: ["sq"],
      runs: [],
    });
    const before = emu.mutatingRequests().length;
    const refusal = async (call: () => Promise<unknown>) => {
      const e = await call().then(() => undefined, (e) => e);
      assert.ok(e instanceof CloudknotInputError, String(e));
      assert.match(e.message, /^Pars lab exists on this AWS account, made with another cloudknot/);
      return e;
    };
    const healed = await refusal(() =>
      Knot.create({ name: "sq", target: "aws", session, state, func: square })
    );
    assert.equal(healed.field, "pars");
    assert.match(
      healed.message,
      /: knot sq heals only with its Pars lab, as its record says: clobber the knot with \(await Knot\.create\(\{ name: "sq", target: "aws" \}\)\)\.clobber\(\) \(its runs go with it\) and create it again with a Pars of another name, as Knot\.create\(\{ name: "sq", func, pars: "NAME" \}\), or use that Pars with the config file that made it/,
    );
    assert.doesNotMatch(healed.message, /choose another Pars name/);
    assert.match(
      inCliWords(healed),
      /: knot sq heals only with its Pars lab, as its record says: clobber the knot with cloudknot knot clobber sq --target aws \(its runs go with it\) and create it again with a Pars of another name, as cloudknot knot create sq MODULE EXPORT --target aws --pars NAME, or use/,
    );
    const remade = await refusal(() => Pars.remake({ name: "lab", session, state }));
    assert.match(
      remade.message,
      new RegExp(
        `: Pars lab is made again only under its name, as its record in ${state.path} says: ` +
          `clobber this file's record of it with Pars\\.clobber\\(\\{ name: "lab" \\}\\) \\(what ` +
          `the other file made is kept; clobber the knots that use it first\\) and make a Pars ` +
          `of another name, as Pars\\.create\\(\\{ name: "NAME" \\}\\), or use that Pars`,
      ),
    );
    // Pars.create of the Pars partly gone heals it as remake does, so it is refused the same way.
    const created = await refusal(() => Pars.create({ name: "lab", session, state }));
    assert.equal(created.message, remade.message);
    // `cloudknot pars create lab` reaches it too: in its words, the commands to run.
    assert.match(
      inCliWords(created),
      /clobber this file's record of it with cloudknot pars clobber lab \(what the other file made is kept; clobber the knots that use it first\) and make a Pars of another name, as cloudknot pars create NAME, or use/,
    );
    assert.deepEqual(emu.mutatingRequests().slice(before), []);
    assert.deepEqual(Object.fromEntries((await state.section("pars lab"))!), record);
  });
});
