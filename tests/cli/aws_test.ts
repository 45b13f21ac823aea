// The AWS commands against the emulator: configure, pars, repo and gc. They
// run in the test's process (cliHere): what is checked is what each command
// does and says, and its exit code; the process of a command line is tested
// where it is the point (killed_test.ts, the interrupt tests, aws_knot_test.ts'
// permission flags), and a terminal's prompts through a real one.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerRepo, Pars } from "../../mod.ts";
import type { AwsSession } from "../../src/aws/mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { recordSection } from "../../src/state/sections.ts";
import {
  type AwsKnotRecord,
  markAwsKnotClobbering,
  writeAwsKnot,
} from "../../src/targets/aws/catalog.ts";
import { configOwner, OWNER_TAG_KEY } from "../../src/resources/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { dockerTest } from "../support/docker_available.ts";
import { pushImage } from "../support/ecr_images.ts";
import { type AwsHome, withAwsHome } from "./aws_helpers.ts";
import { cli, cliHere, cliInTerminal, hasScript, JOBS } from "./helpers.ts";

function state(home: AwsHome): StateFile {
  return new StateFile({ path: home.configFile });
}

Deno.test("configure with options: region checked with EC2, bucket made, [aws] written", async () => {
  await withAwsHome(async (home) => {
    const r = await cliHere(home, [
      "configure",
      "--profile",
      "from-env",
      "--region",
      "us-east-1",
      "--sse",
      "aws:kms",
      "--ecr-repo",
      "lab-images",
      "--expire-days",
      "7",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      configFile: home.configFile,
      profile: "from-env",
      region: "us-east-1",
      bucket: "cloudknot-123456789012-us-east-1",
      sse: "aws:kms",
      ecrRepo: "lab-images",
    });
    const aws = await state(home).section("aws");
    assert.equal(aws?.get("configured"), "True");
    assert.equal(aws?.get("region"), "us-east-1");
    assert.equal(aws?.get("profile"), "from-env");
    assert.equal(aws?.get("ecr-repo"), "lab-images");
    assert.equal(aws?.get("s3-bucket"), "cloudknot-123456789012-us-east-1");
    assert.equal(home.emu.count("ec2", "DescribeRegions"), 1);
    assert.ok(home.emu.s3.buckets.has("cloudknot-123456789012-us-east-1"));
    const rules = home.emu.s3.buckets.get("cloudknot-123456789012-us-east-1")!;
    assert.match(rules.config.lifecycle ?? "", /<Days>7<\/Days>/);

    // Again, with nothing given and no terminal: the same settings, nothing asked or changed.
    const changes = home.emu.mutatingRequests().length;
    const again = await cliHere(home, ["configure"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Configured cloudknot in /);
    assert.match(again.stdout, /^ {2}bucket +cloudknot-123456789012-us-east-1 \(aws:kms\)$/m);
    assert.equal(home.emu.count("ec2", "DescribeRegions"), 1, "an unchanged region is not checked");
    assert.doesNotMatch(again.stderr, /\?|\]: /);
    assert.equal(home.emu.mutatingRequests().length, changes);
  });
});

Deno.test("configure refuses bad values before any AWS call", async () => {
  await withAwsHome(async (home) => {
    const cases: [string[], RegExp][] = [
      [["--ecr-repo", "Bad_Name"], /^error: Invalid ECR repository name "Bad_Name"/m],
      [["--region", "mars"], /^error: "mars" is not an AWS region name/m],
      [["--profile", "nope"], /^error: AWS profile "nope" is not in /m],
    ];
    for (const [args, message] of cases) {
      const r = await cliHere(home, ["configure", ...args]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    }
    assert.equal(home.emu.requests.entries.length, 0);
    // A value the option never takes is bad usage.
    const usages: [string[], RegExp][] = [
      [
        ["--expire-days", "0"],
        /^error: --expire-days takes a positive integer, or never, not "0"$/m,
      ],
      [["--sse", "des"], /^error: --sse must be "AES256" or "aws:kms", not "des"$/m],
    ];
    for (const [args, message] of usages) {
      const usage = await cliHere(home, ["configure", ...args]);
      assert.equal(usage.code, 2, `${args.join(" ")}: ${usage.stderr}`);
      assert.match(usage.stderr, message);
      assert.match(usage.stderr, /^Usage: cloudknot configure /m);
    }
    assert.equal(home.emu.requests.entries.length, 0);
    // A region the account does not have is refused by EC2's answer.
    const far = await cliHere(home, ["configure", "--region", "xx-nowhere-9"]);
    assert.equal(far.code, 1);
    assert.match(far.stderr, /^error: Region "xx-nowhere-9" is not available to this account/m);
    assert.equal(await state(home).get("aws", "configured"), undefined);
  });
});

Deno.test("knot create refuses an ECR repository name from CLOUDKNOT_ECR_REPO or the config file before any request that changes AWS, saying where it came from", async () => {
  await withAwsHome(async (home) => {
    const create = ["knot", "create", "k", JOBS, "square", "--target", "aws"];
    // In a process of its own: the library reads CLOUDKNOT_ECR_REPO from the process's variables.
    const fromEnv = await cli(home, create, { env: { CLOUDKNOT_ECR_REPO: "Bad_Repo" } });
    assert.equal(fromEnv.code, 1, fromEnv.stderr);
    assert.match(
      fromEnv.stderr,
      /^error: Invalid ECR repository name "Bad_Repo": .* \(from CLOUDKNOT_ECR_REPO\): set it to a valid name, or unset it$/m,
    );
    assert.deepEqual(home.emu.mutatingRequests(), []);
    // The config file's [aws] section, which configure writes (and with it the bucket).
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    home.emu.requests.clear();
    const config = home.env.CLOUDKNOT_CONFIG_FILE!;
    const text = await Deno.readTextFile(config);
    await Deno.writeTextFile(config, text.replace("[aws]\n", "[aws]\necr-repo = Bad_Repo\n"));
    const fromFile = await cliHere(home, create);
    assert.equal(fromFile.code, 1, fromFile.stderr);
    assert.match(
      fromFile.stderr,
      /^error: Invalid ECR repository name "Bad_Repo": .* \(from ecr-repo in .*\): replace it with cloudknot configure --ecr-repo cloudknot \(for example\)$/m,
    );
    assert.deepEqual(home.emu.mutatingRequests(), []);
  });
});

Deno.test({
  name: "configure asks on a terminal, with the current values as defaults",
  ignore: !hasScript,
  async fn() {
    await withAwsHome(async (home) => {
      // Enter keeps the profile and region; then a bucket, an encryption and a repository.
      const r = await cliInTerminal(home, ["configure"], {
        env: home.env,
        input: "\n\nmy-lab-bucket\naws:kms\nmy-images\n",
      });
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /AWS profile \[from-env\]: /);
      assert.match(r.stdout, /AWS region \[us-east-1\]: /);
      assert.match(r.stdout, /S3 bucket for job data \[cloudknot-123456789012-us-east-1\]: /);
      assert.match(r.stdout, /Bucket encryption \(AES256 or aws:kms\) \[AES256\]: /);
      assert.match(r.stdout, /ECR repository for images \[cloudknot\]: /);
      const aws = await state(home).section("aws");
      assert.deepEqual(Object.fromEntries(aws!), {
        profile: "from-env",
        region: "us-east-1",
        "s3-bucket": "my-lab-bucket",
        "s3-sse": "aws:kms",
        "ecr-repo": "my-images",
        configured: "True",
      });
      assert.ok(home.emu.s3.buckets.has("my-lab-bucket"));
      // Only what is not given is asked.
      const some = await cliInTerminal(home, ["configure", "--bucket", "my-lab-bucket"], {
        env: home.env,
        input: "\n\n\n\n",
      });
      assert.equal(some.code, 0, some.stdout);
      assert.doesNotMatch(some.stdout, /S3 bucket for job data/);
      assert.match(some.stdout, /Bucket encryption \(AES256 or aws:kms\) \[aws:kms\]: /);
      assert.match(some.stdout, /ECR repository for images \[my-images\]: /);
    });
  },
});

Deno.test("pars create, list and clobber; a Pars that exists in the default VPC is adopted without --new-vpc", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    const empty = await cliHere(home, ["pars", "list", "--json"]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), []);

    const made = await cliHere(home, ["pars", "create", "lab", "--tag", "Team=imaging", "--json"]);
    assert.equal(made.code, 0, made.stderr);
    const pars = JSON.parse(made.stdout);
    assert.equal(pars.name, "lab");
    assert.equal(pars.jobRole, "arn:aws:iam::123456789012:role/lab-job-role");
    assert.equal(pars.useDefaultVpc, true);
    assert.equal(pars.bucket, "cloudknot-123456789012-us-east-1");
    const role = home.emu.iam.roles.get("lab-job-role")!;
    assert.ok(role.Tags.some((t) => t.Key === "Team" && t.Value === "imaging"));

    const adopted = await cliHere(home, ["pars", "create", "lab"]);
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.match(adopted.stdout, /^Adopted Pars lab$/m);
    assert.match(adopted.stdout, /^ {2}vpc +vpc-\w+ \(default VPC\)$/m);
    const conflict = await cliHere(home, ["pars", "create", "lab", "--ipv4-cidr", "10.1.0.0/16"]);
    assert.equal(conflict.code, 1);
    assert.ok(
      conflict.stderr.endsWith(
        'error: Pars "lab" exists in the default VPC, but a VPC of its own was asked for ' +
          "(--new-vpc, --ipv4-cidr or --tenancy); leave those out to adopt it, or clobber it " +
          "first to change it\n",
      ),
      conflict.stderr,
    );

    // Another config file on the account is refused it, in command-line words, changing nothing.
    const otherFile = join(home.dir, "other", "cloudknot");
    await new StateFile({ path: otherFile }).set("aws", "region", "us-east-1");
    const other = { env: { CLOUDKNOT_CONFIG_FILE: otherFile } };
    const before = home.emu.mutatingRequests().length;
    for (
      const [args, choose] of [
        [["pars", "create", "lab"], "choose another Pars name, as cloudknot pars create NAME"],
        [
          ["pars", "create", "lab", "--dry-run"],
          "choose another Pars name, as cloudknot pars create NAME",
        ],
        [
          ["knot", "create", "sq", JOBS, "square", "--target", "aws", "--pars", "lab", "--dry-run"],
          "choose another Pars name, as --pars NAME",
        ],
      ]
    ) {
      const theirs = await cliHere(home, args as string[], other);
      assert.equal(theirs.code, 1, theirs.stderr);
      assert.match(
        theirs.stderr,
        /^error: Pars lab exists on this AWS account, made with another cloudknot config file /m,
      );
      assert.ok(theirs.stderr.includes(`: ${choose}, or use that Pars`), theirs.stderr);
    }
    assert.deepEqual(home.emu.mutatingRequests().slice(before), []);

    const list = await cliHere(home, ["pars", "list", "--json"]);
    const [info] = JSON.parse(list.stdout);
    assert.equal(info.name, "lab");
    assert.equal(info.vpc, pars.vpc);
    assert.deepEqual(info.subnets, pars.subnets);
    assert.equal(info.roles["job-role"], pars.jobRole);
    assert.deepEqual(info.knots, []);
    const table = await cliHere(home, ["pars", "list"]);
    assert.match(table.stdout, /^NAME +REGION +PROFILE +VPC +KNOTS +MADE BY$/m);
    // No profile is named anywhere: recorded as from-env, as the Python original records it.
    assert.match(table.stdout, /^lab +us-east-1 +from-env +vpc-\w+ \(default\) +- +cloudknot$/m);

    // A knot that uses it keeps it, unless --force.
    await state(home).set("knot squares", "pars", "lab");
    assert.deepEqual(
      JSON.parse((await cliHere(home, ["pars", "list", "--json"])).stdout)[0].knots,
      ["squares"],
    );
    const noYes = await cliHere(home, ["pars", "clobber", "lab"]);
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /pass --yes to confirm \(stdin is not a terminal\)/);
    const used = await cliHere(home, ["pars", "clobber", "lab", "--yes"]);
    assert.equal(used.code, 1);
    assert.match(
      used.stderr,
      /^error: Pars "lab" is used by knot\(s\) squares; clobber them first, or pass --force to delete it anyway$/m,
    );
    const forced = await cliHere(home, ["pars", "clobber", "lab", "--yes", "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^Clobbered Pars lab: 6 resources deleted$/m);
    assert.deepEqual(
      home.emu.listResources().filter((r) => r.service !== "s3").map((r) => r.id),
      [],
    );
    assert.equal(await state(home).section("pars lab"), undefined);
    const missing = await cliHere(home, ["pars", "clobber", "lab", "--yes"]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error: There is no Pars named "lab" in \S+: see `cloudknot pars list`\. A `cloudknot pars create lab` that stopped part-way writes no record: run it again to finish it, or `cloudknot gc` to list what it left$/m,
    );
  });
});

Deno.test("without a default VPC, pars create, knot create and map say to make a Pars with --new-vpc and pass it with --pars, and a new VPC in a region of one zone says to leave --new-vpc out", async () => {
  await withAwsHome(async (home) => {
    home.emu.ec2.vpcs.get(home.emu.ec2.defaultVpcId)!.IsDefault = false;
    const advice = "; make a Pars with a VPC of its own, cloudknot pars create NAME --new-vpc " +
      "(optionally with --ipv4-cidr), and pass it with --pars NAME, or create a default VPC " +
      "yourself\n";
    const cases = [
      ["pars", "create", "lab"],
      ["knot", "create", "sq", JOBS, "square", "--target", "aws", "--dry-run"],
      ["map", JOBS, "square", "--name", "sq", "--target", "aws", "--dry-run"],
    ];
    for (const args of cases) {
      const r = await cliHere(home, args, { stdin: "[1]" });
      assert.equal(r.code, 1, r.stderr);
      assert.ok(
        r.stderr.endsWith(`error: The account has no default VPC in us-east-1${advice}`),
        r.stderr,
      );
    }
    assert.deepEqual(home.emu.mutatingRequests(), []);
    // A VPC of its own needs two zones (found once the Pars' roles are made).
    home.emu.ec2.zones.splice(1);
    const solo = await cliHere(home, ["pars", "create", "lab", "--new-vpc"]);
    assert.equal(solo.code, 1, solo.stderr);
    assert.ok(
      solo.stderr.endsWith(
        "error: Region us-east-1 has 1 available availability zone(s) and a new VPC needs two; " +
          "use the default VPC (without --new-vpc, --ipv4-cidr or --tenancy) or another region\n",
      ),
      solo.stderr,
    );
  });
});

Deno.test("pars list and Pars.create read a [pars] record without use-default-vpc alike: default VPC unless the Pars made its own", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    assert.equal((await cliHere(home, ["pars", "create", "own", "--new-vpc"])).code, 0);
    assert.equal((await cliHere(home, ["pars", "create", "shared"])).code, 0);
    // An older or hand-edited record: the key is left out.
    const st = state(home);
    await st.update((doc) => {
      for (const name of ["own", "shared"]) doc.get(`pars ${name}`)!.delete("use-default-vpc");
    });
    const listed = await cliHere(home, ["pars", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const cliSays = Object.fromEntries(
      JSON.parse(listed.stdout).map((p: { name: string; useDefaultVpc: boolean }) => [
        p.name,
        p.useDefaultVpc,
      ]),
    );
    const session = await sessionFor(home.emu);
    for (const name of ["own", "shared"]) {
      const pars = await Pars.create({ name, session, state: st });
      const isDefault = home.emu.ec2.vpcs.get(pars.vpc)!.IsDefault;
      assert.equal(pars.useDefaultVpc, isDefault, `the library on ${name}`);
      assert.equal(cliSays[name], isDefault, `pars list on ${name}`);
    }
    assert.deepEqual(cliSays, { own: false, shared: true });
    const table = await cliHere(home, ["pars", "list"]);
    assert.match(table.stdout, /^own +us-east-1 +from-env +vpc-\w+ +- +cloudknot$/m);
    assert.match(table.stdout, /^shared +us-east-1 +from-env +vpc-\w+ \(default\) +- +cloudknot$/m);
  });
});

Deno.test("pars clobber of a Pars whose resources are partly gone deletes the rest and says what was gone", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    assert.equal((await cliHere(home, ["pars", "create", "lab"])).code, 0);
    const session = await sessionFor(home.emu);
    const sg = (await state(home).get("pars lab", "security-group"))!;
    await session.ec2.deleteSecurityGroup({ GroupId: sg });
    const r = await cliHere(home, ["pars", "clobber", "lab", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^cloudknot: Pars lab was partly gone already \\(security-group:${sg}\\)`, "m"),
    );
    assert.match(r.stdout, /^Clobbered Pars lab: 5 resources deleted, 1 resource gone already$/m);
    assert.equal(await state(home).section("pars lab"), undefined);
    // Nothing is left for gc.
    const gc = await cliHere(home, ["gc", "--json"]);
    assert.equal(gc.code, 0, gc.stderr);
    assert.deepEqual(JSON.parse(gc.stdout).items, []);
  });
});

dockerTest("repo list and clobber: what cloudknot knows, never the default", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    const session = await sessionFor(home.emu);
    const st = state(home);
    await DockerRepo.create({ name: "cloudknot", session, state: st });
    await DockerRepo.create({ name: "my-knots", session, state: st });
    await session.ecr.createRepository({ repositoryName: "someone-else" });
    const list = await cliHere(home, ["repo", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout);
    assert.deepEqual(rows.map((r: { name: string }) => r.name), ["cloudknot", "my-knots"]);
    assert.deepEqual(rows[0], {
      name: "cloudknot",
      uri: home.emu.ecr.repositories.get("cloudknot")!.repositoryUri,
      default: true,
      recorded: true,
      managed: true,
      exists: true,
      images: 0,
      garbageTags: 0,
      unownedTags: 0,
      garbageImages: 0,
      unownedImages: 0,
    });
    const table = await cliHere(home, ["repo", "list"]);
    assert.match(table.stdout, /^NAME +IMAGES +URI +NOTE$/m);
    assert.match(table.stdout, /^cloudknot +0 +\S+\/cloudknot +default$/m);

    const refused = await cliHere(home, ["repo", "clobber", "cloudknot", "--yes"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: Refusing to delete cloudknot: it is the default ECR/m);
    // In the command line's words: the gc that removes the tags of gone knots.
    assert.match(refused.stderr, /knots no longer recorded are listed by `cloudknot gc`/);
    assert.doesNotMatch(refused.stderr, /removeImage/);
    const foreign = await cliHere(home, ["repo", "clobber", "someone-else", "--yes"]);
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr, /^error: Repository someone-else was not made by cloudknot/m);
    const noYes = await cliHere(home, ["repo", "clobber", "my-knots"]);
    assert.equal(noYes.code, 2);
    const gone = await cliHere(home, ["repo", "clobber", "my-knots", "--yes"]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(gone.stdout, "Clobbered repository my-knots\n");
    assert.deepEqual([...home.emu.ecr.repositories.keys()].sort(), ["cloudknot", "someone-else"]);

    // A recorded repository that ECR no longer has shows as gone, and clobber forgets it.
    await st.set(`docker-repos default us-east-1`, "old-knots", "127.0.0.1:1/old-knots");
    const stale = JSON.parse((await cliHere(home, ["repo", "list", "--json"])).stdout);
    assert.deepEqual(stale.find((r: { name: string }) => r.name === "old-knots"), {
      name: "old-knots",
      uri: "127.0.0.1:1/old-knots",
      default: false,
      recorded: true,
      managed: false,
      exists: false,
      images: null,
      garbageTags: null,
      unownedTags: null,
      garbageImages: null,
      unownedImages: null,
    });
    const forgot = await cliHere(home, ["repo", "clobber", "old-knots", "--yes"]);
    assert.equal(forgot.code, 0, forgot.stderr);
    assert.match(forgot.stdout, /^Forgot repository old-knots: it was already gone$/m);
    assert.equal(await st.get("docker-repos default us-east-1", "old-knots"), undefined);
  }, { registry: true });
});

Deno.test("knot create refuses a compute environment, job queue or job role of its names that cloudknot did not make, before any request that changes AWS", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    const session = await sessionFor(home.emu);
    // Made by someone else, untagged: a compute environment, a queue on another one, a role.
    // An unmanaged one needs a service role (Batch's service-linked role is for managed ones).
    const serviceRole = "arn:aws:iam::123456789012:role/theirs";
    const ce = await session.batch.createComputeEnvironment({
      computeEnvironmentName: "theirs-ce",
      type: "UNMANAGED",
      serviceRole,
    });
    await session.batch.createComputeEnvironment({
      computeEnvironmentName: "kce-ck-ce",
      type: "UNMANAGED",
      serviceRole,
    });
    await session.batch.createJobQueue({
      jobQueueName: "kjq-ck-jq",
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce.computeEnvironmentArn! }],
    });
    await session.iam.createRole({
      RoleName: "pr.krole-job",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
    });
    const cases: [string, string, RegExp][] = [
      [
        "kce",
        "pce",
        /^error: The compute environment kce-ck-ce exists and was not made for knot kce \(its tag ManagedBy is null, not "cloudknot"\): choose another knot name, so that it is left alone$/m,
      ],
      [
        "kjq",
        "pjq",
        /^error: The job queue kjq-ck-jq exists and was not made for knot kjq \(its tag ManagedBy is null, not "cloudknot"\): choose another knot name, so that it is left alone$/m,
      ],
      [
        "krole",
        "pr",
        /^error: The IAM role pr\.krole-job, the job role knot krole of Pars pr would make, exists and was not made by cloudknot .*: choose another knot name, or delete or rename the role$/m,
      ],
    ];
    for (const [knot, pars, message] of cases) {
      home.emu.requests.clear();
      const r = await cliHere(home, [
        "knot",
        "create",
        knot,
        JOBS,
        "square",
        "--target",
        "aws",
        "--pars",
        pars,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.deepEqual(home.emu.mutatingRequests(), [], `${knot}: no mutating request`);
    }
  });
});

Deno.test("knot create refuses an immutable repository that already holds its image's tag, before any request that changes AWS", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    const session = await sessionFor(home.emu);
    await session.ecr.createRepository({
      repositoryName: "frozen",
      imageTagMutability: "IMMUTABLE",
    });
    await pushImage(home.emu, "frozen", ["kimm"], "theirs");
    home.emu.requests.clear();
    const r = await cliHere(home, [
      "knot",
      "create",
      "kimm",
      JOBS,
      "square",
      "--target",
      "aws",
      "--repo",
      "frozen",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: The ECR repository frozen has immutable tags and already holds frozen:kimm, which this knot's image would be pushed under, and ECR refuses to overwrite it: choose another --repo, or choose another knot name \(its image's tag\), or delete that image from frozen if nothing uses it$/m,
    );
    assert.deepEqual(home.emu.mutatingRequests(), []);
  }, { registry: true });
});

/** The record of AWS knot `name` in us-east-1, whose resources are named for it. */
function recordOf(name: string): AwsKnotRecord {
  const arn = (kind: string, id: string) => `arn:aws:batch:us-east-1:123456789012:${kind}/${id}`;
  return {
    name,
    region: "us-east-1",
    profile: "default",
    pars: "default",
    dockerImage: name,
    dockerRepo: "cloudknot",
    imageUri: "",
    computeEnvironment: arn("compute-environment", `${name}-ck-ce`),
    jobQueue: arn("job-queue", `${name}-ck-jq`),
    jobDefinition: arn("job-definition", `${name}-ck-jd:1`),
    jobDefinitionName: `${name}-ck-jd`,
    jobRole: `arn:aws:iam::123456789012:role/default.${name}-job`,
    bucket: "cloudknot-bucket",
    sse: undefined,
    prefix: `cloudknot/${name}`,
    retries: 3,
    compute: "EC2",
    imageTags: [name],
    runs: [],
  };
}

Deno.test("results of an AWS knot whose clobber stopped part-way after it deleted the runs' data says so, and how to finish the clobber", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    const session = await sessionFor(home.emu);
    await session.s3.createBucket({ Bucket: "cloudknot-bucket" });
    const st = state(home);
    await writeAwsKnot(st, recordOf("kg"));
    await markAwsKnotClobbering(st, "kg");
    for (const args of [["results", "kg"], ["results", "kg", "20261207T101010Z-abcdef"]]) {
      const r = await cliHere(home, args);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^error: Knot kg has no (runs|run 20261207T101010Z-abcdef) left: its clobber stopped part-way \(it began at \S+\) after it deleted their data\. Run `cloudknot knot clobber kg` again to finish it$/m,
      );
    }
  });
});

Deno.test("image clobber and repo clobber refuse the image and the repository an AWS knot's record names, and say to clobber the knot with them", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    const session = await sessionFor(home.emu);
    const st = state(home);
    await DockerRepo.create({ name: "knot-repo", session, state: st });
    await st.setMany(recordSection("docker-image", "ki"), { "build-path": home.dir });
    await writeAwsKnot(st, { ...recordOf("ki"), dockerRepo: "knot-repo" });
    home.emu.requests.clear();
    const image = await cliHere(home, ["image", "clobber", "ki", "--yes"]);
    assert.equal(image.code, 1, image.stderr);
    assert.match(
      image.stderr,
      /^error: Image ki is knot ki's, which opens through its record to map, update and clobber: clobber the knot with it \(`cloudknot knot clobber ki --image`\), or leave it$/m,
    );
    assert.notEqual(await st.section(recordSection("docker-image", "ki")), undefined);
    const repo = await cliHere(home, ["repo", "clobber", "knot-repo", "--yes"]);
    assert.equal(repo.code, 1, repo.stderr);
    assert.match(
      repo.stderr,
      /^error: Repository knot-repo holds the image of knot ki, whose jobs pull it: clobber the knot with it \(`cloudknot knot clobber ki --repo`\), or leave it$/m,
    );
    assert.deepEqual(home.emu.mutatingRequests(), []);
  });
});

/** Makes Batch resources of a knot directly, tagged the way cloudknot tags them. */
async function knotBatchResources(
  session: AwsSession,
  emu: AwsHome["emu"],
  knot: string,
  owner: string,
): Promise<{ queue: string; ce: string; def: string }> {
  const tags = { ManagedBy: "cloudknot", "cloudknot:knot": knot, [OWNER_TAG_KEY]: owner };
  const subnets = (await session.ec2.describeSubnets({
    Filters: [{ Name: "vpc-id", Values: [emu.ec2.defaultVpcId] }],
  })).Subnets!.map((s) => s.SubnetId!);
  const groups = await session.ec2.describeSecurityGroups({
    Filters: [{ Name: "group-name", Values: ["default"] }],
  });
  const ce = await session.batch.createComputeEnvironment({
    computeEnvironmentName: `${knot}-ck-ce`,
    type: "MANAGED",
    computeResources: {
      type: "FARGATE",
      maxvCpus: 4,
      subnets,
      securityGroupIds: [groups.SecurityGroups![0]!.GroupId!],
    },
    tags,
  });
  const ceArn = ce.computeEnvironmentArn!;
  for (let i = 0; i < 200; i++) {
    const { computeEnvironments } = await session.batch.describeComputeEnvironments({
      computeEnvironments: [ceArn],
    });
    if (computeEnvironments?.[0]?.status === "VALID") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const queue = await session.batch.createJobQueue({
    jobQueueName: `${knot}-ck-jq`,
    priority: 1,
    computeEnvironmentOrder: [{ order: 1, computeEnvironment: ceArn }],
    tags,
  });
  const def = await session.batch.registerJobDefinition({
    jobDefinitionName: `${knot}-ck-jd`,
    type: "container",
    platformCapabilities: ["FARGATE"],
    containerProperties: {
      image: "cloudknot/x:1",
      resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "2048" }],
      executionRoleArn: "arn:aws:iam::123456789012:role/none",
    },
    tags,
  });
  return { queue: queue.jobQueueArn, ce: ceArn, def: def.jobDefinitionArn };
}

Deno.test("gc: a dry run changes nothing; --yes deletes what this config file made that no record refers to, and --untagged what has no owner tag too", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
    const session = await sessionFor(home.emu);
    const st = state(home);
    const bucket = "cloudknot-123456789012-us-east-1";
    // A knot that is recorded, and one whose record is lost, both made with this config file.
    const owner = await configOwner(st);
    const kept = await knotBatchResources(session, home.emu, "kept", owner);
    await knotBatchResources(session, home.emu, "lost", owner);
    await st.setMany("knot kept", {
      target: "aws",
      region: "us-east-1",
      "compute-environment": kept.ce,
      "job-queue": kept.queue,
      "job-definition": kept.def,
      bucket,
      prefix: "cloudknot/kept",
    });
    for (const knot of ["kept", "lost"]) {
      await session.s3.putObject({
        Bucket: bucket,
        Key: `cloudknot/${knot}/runs/r1/inputs`,
        Body: "x",
      });
      await session.s3.putObject({
        Bucket: bucket,
        Key: `cloudknot/${knot}/runs/r1/index`,
        Body: "y",
      });
      await session.s3.putObject({
        Bucket: bucket,
        Key: `cloudknot/${knot}/runs/r1/run.json`,
        Body: JSON.stringify({ version: 1, runId: "r1", knot, count: 1, owner }),
      });
    }
    // A Pars whose record is lost, a repository nobody records (with no owner tag, as
    // DockerRepo.create makes it outside a knot), one that is recorded.
    assert.equal((await cliHere(home, ["pars", "create", "old", "--new-vpc"])).code, 0);
    await st.remove("pars old");
    await DockerRepo.create({ name: "orphan-images", session, state: st });
    await st.remove("docker-repos default us-east-1", "orphan-images");
    await DockerRepo.create({ name: "my-images", session, state: st });

    const before = home.emu.mutatingRequests().length;
    const dry = await cliHere(home, ["gc", "--json"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(home.emu.mutatingRequests().length, before, "a dry run changed something");
    const report = JSON.parse(dry.stdout);
    assert.equal(report.dryRun, true);
    // Without --untagged, what has no owner tag is left out, and counted.
    assert.deepEqual(
      report.skipped.map((i: { kind: string; id: string }) => `${i.kind} ${i.id}`),
      ["repository orphan-images"],
    );
    const found = report.items.map((i: { kind: string; id: string }) => `${i.kind} ${i.id}`);
    const vpcPieces = found.filter((f: string) =>
      /^(security-group|route-table|internet-gateway|subnet|vpc) /.test(f)
    );
    assert.deepEqual(found.filter((f: string) => !vpcPieces.includes(f)), [
      "job-queue lost-ck-jq",
      "compute-environment lost-ck-ce",
      "job-definition lost-ck-jd",
      "instance-profile old-ecs-instance-role",
      "role old-ecs-instance-role",
      "role old-spot-fleet-role",
      "role old-task-exec-role",
      "role old-job-role",
      `job-data s3://${bucket}/cloudknot/lost/`,
    ]);
    assert.deepEqual(
      vpcPieces.map((f: string) => f.split(" ")[0]),
      ["security-group", "route-table", "internet-gateway", "subnet", "subnet", "vpc"],
    );
    const queue = report.items[0];
    assert.equal(queue.owner, "knot lost");
    assert.equal(queue.reason, "knot lost is gone");
    const text = await cliHere(home, ["gc"]);
    assert.match(text.stdout, /^KIND +ID +OWNER +WHY$/m);
    assert.match(text.stdout, /^role +old-job-role +pars old +Pars old is gone$/m);
    assert.match(text.stderr, /^Dry run: 15 resources would be deleted; run `cloudknot gc --yes`/m);
    assert.match(
      text.stderr,
      /^Left out 1 resource with no cloudknot:owner tag .*; run `cloudknot gc --untagged` to list it too$/m,
    );
    const all = await cliHere(home, ["gc", "--untagged"]);
    assert.match(
      all.stdout,
      /^repository +orphan-images +- +no record in the config file names it$/m,
    );
    assert.match(
      all.stderr,
      /^Dry run: 16 resources would be deleted; run `cloudknot gc --untagged --yes`/m,
    );
    assert.doesNotMatch(all.stderr, /Left out/);
    assert.equal(home.emu.mutatingRequests().length, before, "a dry run changed something");

    const wet = await cliHere(home, ["gc", "--untagged", "--yes", "--json"]);
    assert.equal(wet.code, 0, wet.stderr);
    const result = JSON.parse(wet.stdout);
    assert.equal(result.deleted.length, 16);
    assert.deepEqual(result.failed, []);
    const left = home.emu.listResources().map((r) => `${r.type} ${r.id}`).sort();
    assert.deepEqual(left, [
      `bucket ${bucket}`,
      "compute-environment kept-ck-ce",
      "job-definition kept-ck-jd:1",
      "job-queue kept-ck-jq",
      "repository my-images",
    ]);
    const keys = await Array.fromAsync(
      session.s3.listObjectsV2All({ Bucket: bucket, Prefix: "cloudknot/" }),
    );
    assert.deepEqual(keys.map((k) => k.Key).sort(), [
      "cloudknot/kept/runs/r1/index",
      "cloudknot/kept/runs/r1/inputs",
      "cloudknot/kept/runs/r1/run.json",
    ]);
    const again = await cliHere(home, ["gc"]);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, "Nothing to collect\n");
  });
});

Deno.test("the AWS commands need settings: a clear error without a region", async () => {
  await withAwsHome(async (home) => {
    const env = { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined };
    for (const args of [["gc"], ["repo", "list"], ["pars", "create", "lab"]]) {
      const r = await cliHere(home, args, { env });
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /^error: No AWS region is set; run cloudknot configure --region us-east-1 \(for example\) to keep one in .*, set AWS_REGION/m,
        args.join(" "),
      );
    }
    assert.equal(home.emu.requests.entries.length, 0);
    // Reading commands of the config file work without AWS.
    const list = await cliHere(home, ["pars", "list"], { env });
    assert.equal(list.code, 0);
    assert.equal(join(home.configFile), home.configFile);
  });
});

Deno.test("a malformed region is reported as malformed, naming where it came from: AWS_REGION, or the config file and configure --region", async () => {
  await withAwsHome(async (home) => {
    const fromEnv = await cliHere(home, ["pars", "create", "lab"], {
      env: { AWS_REGION: "Not A Region" },
    });
    assert.equal(fromEnv.code, 1, fromEnv.stderr);
    assert.match(
      fromEnv.stderr,
      /^error: The AWS region "Not A Region" from AWS_REGION is not a region name such as us-east-1/m,
    );
    await state(home).set("aws", "region", "Bad Region");
    const fromFile = await cliHere(home, ["pars", "create", "lab"]);
    assert.equal(fromFile.code, 1, fromFile.stderr);
    assert.equal(
      fromFile.stderr,
      `error: The AWS region "Bad Region" from [aws] region in the cloudknot config file ` +
        `${home.configFile} is not a region name such as us-east-1; run cloudknot configure ` +
        "--region us-east-1 (for example) to replace it\n",
    );
    assert.equal(home.emu.requests.entries.length, 0);
  });
});

Deno.test("a bad bucket, encryption or name length is reported with the flag or the setting that gave it, before any change", async () => {
  await withAwsHome(async (home) => {
    const rule = "use lowercase letters, digits, dots and hyphens, starting and ending with a " +
      "letter or digit";
    const flag = await cliHere(home, ["pars", "create", "pz2", "--bucket", "Bad_Bucket"]);
    assert.equal(flag.code, 1, flag.stderr);
    assert.equal(
      flag.stderr,
      `error: Invalid S3 bucket name "Bad_Bucket" from --bucket: ${rule}; pass another\n`,
    );
    const env = await cliHere(home, ["configure"], { env: { CLOUDKNOT_S3_BUCKET: "Bad_Bucket" } });
    assert.equal(env.code, 1, env.stderr);
    assert.equal(
      env.stderr,
      `error: Invalid S3 bucket name "Bad_Bucket" from CLOUDKNOT_S3_BUCKET: ${rule}; set ` +
        "CLOUDKNOT_S3_BUCKET to another, or run cloudknot configure --bucket BUCKET\n",
    );
    await state(home).set("aws", "s3-bucket", "Bad_Bucket");
    const stored = await cliHere(home, ["pars", "create", "pz3"]);
    assert.equal(stored.code, 1, stored.stderr);
    assert.match(
      stored.stderr,
      new RegExp(
        `^error: Invalid S3 bucket name "Bad_Bucket" from \\[aws\\] s3-bucket in the cloudknot ` +
          `config file ${home.configFile}: ${rule}; run cloudknot configure --bucket BUCKET$`,
        "m",
      ),
    );
    await state(home).remove("aws", "s3-bucket");
    await state(home).set("aws", "s3-sse", "weird");
    const sse = await cliHere(home, ["pars", "create", "pz4"]);
    assert.equal(sse.code, 1, sse.stderr);
    assert.match(
      sse.stderr,
      new RegExp(
        `^error: Invalid S3 encryption "weird" from \\[aws\\] s3-sse in the cloudknot config ` +
          `file ${home.configFile}: use "AES256" or "aws:kms"; set another with cloudknot ` +
          "configure --sse AES256$",
        "m",
      ),
    );
    await state(home).remove("aws", "s3-sse");
    const long = await cliHere(home, [
      "knot",
      "create",
      `k${"x".repeat(40)}`,
      JOBS,
      "square",
      "--target",
      "aws",
      "--pars",
      `p${"y".repeat(30)}`,
    ]);
    assert.equal(long.code, 1, long.stderr);
    assert.match(
      long.stderr,
      /^error: Knot "kx+" of Pars "py+" would get the job role .*: the knot's and the Pars' names together may have at most 59 characters \(they have 72\); choose a shorter knot name, or a shorter Pars name with --pars$/m,
    );
    assert.deepEqual(home.emu.mutatingRequests(), []);
  });
});

Deno.test("a knot whose record has no region: jobs, results and knot clobber say what to add to the config file, and change nothing", async () => {
  await withAwsHome(async (home) => {
    // A record made by hand: every key but the region.
    await state(home).setMany("knot hand", {
      target: "aws",
      profile: "default",
      pars: "default",
      "compute-environment": "arn:aws:batch:us-east-1:123456789012:compute-environment/hand-ck-ce",
      "job-queue": "arn:aws:batch:us-east-1:123456789012:job-queue/hand-ck-jq",
    });
    for (
      const args of [["jobs", "hand"], ["results", "hand"], ["knot", "clobber", "hand", "--yes"]]
    ) {
      const r = await cliHere(home, args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(
        r.stderr.split("\n")[0],
        `error: The config file's [knot hand] (${home.configFile}) has no "region": add the ` +
          `region the knot was made in to it, such as region = us-east-1 for the current region`,
        args.join(" "),
      );
    }
    assert.deepEqual(home.emu.mutatingRequests(), []);
    assert.equal(
      await state(home).get("knot hand", "job-queue"),
      "arn:aws:batch:us-east-1:123456789012:job-queue/hand-ck-jq",
    );
  });
});

Deno.test("knot clobber of a knot whose record lacks a resource's name forgets the record, deletes nothing and says to run gc", async () => {
  await withAwsHome(async (home) => {
    // A record edited by hand: its job-queue line removed.
    await state(home).setMany("knot hand", {
      target: "aws",
      region: "us-east-1",
      profile: "from-env",
      pars: "default",
      "docker-image": "hand",
      "docker-repo": "cloudknot",
      "image-uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/cloudknot:hand",
      "compute-environment": "arn:aws:batch:us-east-1:123456789012:compute-environment/hand-ck-ce",
      "job-definition": "arn:aws:batch:us-east-1:123456789012:job-definition/hand-ck-jd:1",
      bucket: "cloudknot-123456789012-us-east-1",
      prefix: "cloudknot/hand",
    });
    await state(home).setMany("batch-jobs from-env us-east-1", {
      "0f0e2c1a-0000-4000-8000-000000000001": "hand-20260101T000000Z-abc123-0",
      "0f0e2c1a-0000-4000-8000-000000000002": "other-20260101T000000Z-abc123-0",
    });
    const asked = await cliHere(home, ["knot", "clobber", "hand"]);
    assert.equal(asked.code, 2, asked.stderr);
    assert.match(
      asked.stderr,
      /^error: Clobbering deletes the record of AWS knot hand, which has no "job-queue" /m,
    );
    assert.equal(await state(home).get("knot hand", "target"), "aws");
    const r = await cliHere(home, ["knot", "clobber", "hand", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Forgot AWS knot hand\n");
    assert.match(
      r.stderr,
      /^Knot hand's record had no "job-queue": its AWS resources and job data were left\. Run `cloudknot gc` to list them and `cloudknot gc --yes` to delete them$/m,
    );
    assert.equal(await state(home).get("knot hand", "target"), undefined);
    // Its jobs are forgotten with it; another knot's are kept.
    assert.deepEqual(
      [...(await state(home).section("batch-jobs from-env us-east-1"))!.keys()],
      ["0f0e2c1a-0000-4000-8000-000000000002"],
    );
    assert.deepEqual(home.emu.mutatingRequests(), []);
  });
});

Deno.test("a read-only config file is refused before anything is made, pushed or deleted on AWS, in command-line words", async () => {
  await withAwsHome(async (home) => {
    const setUp = await cliHere(home, ["configure", "--region", "us-east-1"]);
    assert.equal(setUp.code, 0, setUp.stderr);
    const made = await cliHere(home, ["pars", "create", "lab"]);
    assert.equal(made.code, 0, made.stderr);
    await Deno.chmod(home.configFile, 0o444);
    const before = await Deno.readTextFile(home.configFile);
    home.emu.requests.clear();
    for (
      const args of [
        ["configure", "--bucket", "another-lab-bucket"],
        ["pars", "create", "lab2"],
        ["knot", "create", "sq", JOBS, "square", "--target", "aws", "--dry-run"],
        // Its dry run says the create would refuse it.
        ["knot", "create", "sq", JOBS, "square", "--target", "aws", "--dry-run"],
        ["map", JOBS, "square", "--name", "sq", "--target", "aws", "--inputs", "-"],
        ["image", "push", "square"],
        ["pars", "clobber", "lab", "--yes"],
      ]
    ) {
      const r = await cliHere(home, args, { stdin: "[1]" });
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `error: The cloudknot config file ${home.configFile} is read-only (mode 0444); cloudknot ` +
          `did not change it. Make it writable (chmod u+w ${home.configFile}) or point ` +
          "CLOUDKNOT_CONFIG_FILE at another file\n",
        args.join(" "),
      );
    }
    assert.deepEqual(home.emu.mutatingRequests().map((r) => `${r.service} ${r.operation}`), []);
    assert.equal(await Deno.readTextFile(home.configFile), before);
    // Commands that only read work as before.
    const list = await cliHere(home, ["pars", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^lab /m);
  });
});

Deno.test("configure is all or nothing: a value refused after others were written leaves [aws] as it was", async () => {
  await withAwsHome(async (home) => {
    await Deno.mkdir(join(home.env.HOME!, ".aws"), { recursive: true });
    await Deno.writeTextFile(
      join(home.env.HOME!, ".aws", "config"),
      "[profile lab]\nregion = us-east-1\n",
    );
    await Deno.writeTextFile(
      join(home.env.HOME!, ".aws", "credentials"),
      `[lab]\naws_access_key_id = ${home.emu.credentials.accessKeyId}\n` +
        `aws_secret_access_key = ${home.emu.credentials.secretAccessKey}\n`,
    );
    // Nothing configured yet: a refused region leaves no [aws] behind.
    const first = await cliHere(home, [
      "configure",
      "--profile",
      "lab",
      "--region",
      "xx-nowhere-9",
    ]);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, /^error: Region "xx-nowhere-9" is not available to this account/m);
    assert.equal(await state(home).section("aws"), undefined);
    // Configured: a refused region keeps the profile it had.
    const ok = await cliHere(home, ["configure", "--region", "us-east-1"]);
    assert.equal(ok.code, 0, ok.stderr);
    const before = await Deno.readTextFile(home.configFile);
    const again = await cliHere(home, [
      "configure",
      "--profile",
      "lab",
      "--region",
      "xx-nowhere-9",
    ]);
    assert.equal(again.code, 1, again.stderr);
    assert.equal(await Deno.readTextFile(home.configFile), before);
  });
});

/** The environment of a machine with no AWS credentials (nor a region) set up yet. */
const NO_CREDENTIALS = {
  AWS_REGION: undefined,
  AWS_DEFAULT_REGION: undefined,
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
};

Deno.test("configure --region needs no AWS credentials: the region is kept, the bucket left for later, and a later configure with credentials makes it", async () => {
  await withAwsHome(async (home) => {
    // The first step the region error recommends works on a machine with no credentials yet.
    const needs = await cliHere(home, ["pars", "create", "lab"], { env: NO_CREDENTIALS });
    assert.match(
      needs.stderr,
      /^error: No AWS region is set; run cloudknot configure --region us-east-1 /m,
    );
    const r = await cliHere(home, ["configure", "--region", "eu-west-1"], { env: NO_CREDENTIALS });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}region +eu-west-1$/m);
    assert.match(r.stdout, /^ {2}bucket +not set up yet$/m);
    assert.match(
      r.stderr,
      /^No AWS credentials were found, so region eu-west-1 was kept without asking EC2 whether the account has it, and the S3 bucket is not set up yet: set up credentials \(aws configure, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\), then run cloudknot configure again to make the bucket/m,
    );
    assert.deepEqual(Object.fromEntries((await state(home).section("aws"))!), {
      region: "eu-west-1",
      configured: "True",
    });
    const json = await cliHere(home, ["configure", "--region", "us-east-1", "--json"], {
      env: NO_CREDENTIALS,
    });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      configFile: home.configFile,
      profile: "from-env",
      region: "us-east-1",
      bucket: null,
      sse: "AES256",
      ecrRepo: "cloudknot",
    });
    // A bucket asked for by name needs credentials: refused, and [aws] left as it was.
    const named = await cliHere(home, ["configure", "--bucket", "my-lab-bucket"], {
      env: NO_CREDENTIALS,
    });
    assert.equal(named.code, 1, named.stderr);
    assert.match(named.stderr, /^error: No AWS credentials found/m);
    assert.equal(await state(home).get("aws", "s3-bucket"), undefined);
    assert.equal(home.emu.requests.entries.length, 0);

    // With credentials, configure makes the region's default bucket.
    const later = await cliHere(home, ["configure", "--json"]);
    assert.equal(later.code, 0, later.stderr);
    assert.equal(JSON.parse(later.stdout).bucket, "cloudknot-123456789012-us-east-1");
    assert.equal(later.stderr, "");
    assert.ok(home.emu.s3.buckets.has("cloudknot-123456789012-us-east-1"));
    assert.equal(await state(home).get("aws", "s3-bucket"), "cloudknot-123456789012-us-east-1");
  });
});

Deno.test({
  name:
    "configure on a terminal with no AWS credentials asks for the region, not for a bucket it cannot make",
  ignore: !hasScript,
  async fn() {
    await withAwsHome(async (home) => {
      const env = { ...home.env, ...NO_CREDENTIALS };
      const r = await cliInTerminal(home, ["configure"], {
        env,
        input: "\neu-west-1\nmy-images\n",
      });
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /AWS region: /);
      assert.doesNotMatch(r.stdout, /S3 bucket for job data|Bucket encryption/);
      assert.match(r.stdout, /ECR repository for images \[cloudknot\]: /);
      assert.match(r.stdout, /the S3 bucket is not set up yet/);
      assert.deepEqual(Object.fromEntries((await state(home).section("aws"))!), {
        profile: "from-env",
        region: "eu-west-1",
        "ecr-repo": "my-images",
        configured: "True",
      });
      assert.equal(home.emu.requests.entries.length, 0);
    });
  },
});

Deno.test("configure --region of another region drops the old region's default bucket, shows none, and a later configure makes the new region's", async () => {
  await withAwsHome(async (home) => {
    const first = await cliHere(home, ["configure", "--region", "us-east-1", "--json"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).bucket, "cloudknot-123456789012-us-east-1");
    // Moved to eu-west-1 on a machine without credentials at hand: the old region's bucket is
    // not eu-west-1's, so it is neither kept nor shown.
    const moved = await cliHere(home, ["configure", "--region", "eu-west-1", "--json"], {
      env: NO_CREDENTIALS,
    });
    assert.equal(moved.code, 0, moved.stderr);
    assert.deepEqual(
      [JSON.parse(moved.stdout).region, JSON.parse(moved.stdout).bucket],
      ["eu-west-1", null],
    );
    assert.match(moved.stderr, /the S3 bucket is not set up yet/);
    assert.equal(await state(home).get("aws", "s3-bucket"), undefined);
    // With credentials, against eu-west-1's endpoint (AWS has one per region, of the same
    // account): the new region's default bucket is made.
    const west = await startEmulator({ region: "eu-west-1", ceValidDelayMs: 10, tickMs: 10 });
    try {
      const later = await cliHere(home, ["configure", "--json"], { env: west.env });
      assert.equal(later.code, 0, later.stderr);
      assert.equal(JSON.parse(later.stdout).bucket, "cloudknot-123456789012-eu-west-1");
      assert.ok(west.s3.buckets.has("cloudknot-123456789012-eu-west-1"));
      assert.equal(
        await state(home).get("aws", "s3-bucket"),
        "cloudknot-123456789012-eu-west-1",
      );
    } finally {
      await west.close();
    }
  });
});
