// gc with two config files on one AWS account (two users, or one user's two
// machines), through the command line against the emulator with real
// containers: each config file's gc judges only what it made itself. The
// commands run in the test's process (cliHere), as what they do and say is
// the point.
import assert from "node:assert/strict";
import { join } from "node:path";
import { StateFile } from "../../src/state/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { withAwsHome } from "./aws_helpers.ts";
import { cliHere, JOBS } from "./helpers.ts";

const FARGATE = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];

dockerTest(
  "gc with another config file on the same account lists and deletes nothing of the first one's, and still finds its own leaked knot",
  async () => {
    await withAwsHome(async (home) => {
      const base = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
      const otherFile = join(home.dir, "other", "cloudknot");
      const other = { ...base, CLOUDKNOT_CONFIG_FILE: otherFile };
      for (const env of [base, other]) {
        const r = await cliHere(home, ["configure", "--region", "us-east-1"], { env });
        assert.equal(r.code, 0, r.stderr);
      }
      // User 1: a knot with a run, its Pars, its job data in the account's default bucket.
      const first = await cliHere(
        home,
        ["map", JOBS, "square", "--name", "sq", "--tag", "team=lab", ...FARGATE],
        { stdin: "[1, 2]", env: base },
      );
      assert.equal(first.code, 0, first.stderr);
      // User 2: a knot of their own (with a Pars of their own: the default one is user 1's),
      // whose record they lose.
      const second = await cliHere(
        home,
        ["map", JOBS, "square", "--name", "mine", "--pars", "theirs", ...FARGATE],
        { stdin: "[3]", env: other },
      );
      assert.equal(second.code, 0, second.stderr);
      await new StateFile({ path: otherFile }).remove("knot mine");
      // And a leftover made before owner tags: no cloudknot:owner tag.
      const session = await sessionFor(home.emu);
      await session.iam.createRole({
        RoleName: "old-job-role",
        AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
        Tags: [{ Key: "ManagedBy", Value: "cloudknot" }, { Key: "cloudknot:pars", Value: "old" }],
      });
      // The default repository is the config file's that made it; the other one's knot adopted it
      // as it was.
      const owner = await new StateFile({ path: home.configFile }).get("aws", "owner");
      assert.match(owner ?? "", /^[0-9a-f-]{36}$/);
      const repo = (await session.ecr.describeRepositories({ repositoryNames: ["cloudknot"] }))
        .repositories![0]!;
      const repoTags = (await session.ecr.listTagsForResource({ resourceArn: repo.repositoryArn! }))
        .tags ?? [];
      assert.deepEqual(repoTags.filter((t) => t.Key === "cloudknot:owner"), [
        { Key: "cloudknot:owner", Value: owner },
      ]);
      // With the knot's tags, in the request that made it: no kill can leave it without them.
      assert.deepEqual(repoTags.filter((t) => t.Key === "team"), [{ Key: "team", Value: "lab" }]);
      assert.deepEqual(
        home.emu.mutatingRequests().filter((r) =>
          r.service === "ecr" && r.operation === "TagResource"
        ),
        [],
      );
      const theirs = home.emu.listResources()
        .map((r) => r.id)
        .filter((id) => /^sq-|\.sq-job$/.test(id));
      assert.equal(theirs.length, 4, theirs.join(" "));

      const bucket = "cloudknot-123456789012-us-east-1";
      const mine = [
        /^job-queue mine-ck-jq$/,
        /^compute-environment mine-ck-ce$/,
        /^job-definition mine-ck-jd$/,
        /^role .+\.mine-job$/,
        new RegExp(`^job-data s3://${bucket}/cloudknot/mine/$`),
      ];
      const before = home.emu.mutatingRequests().length;
      const dry = await cliHere(home, ["gc", "--json"], { env: other });
      assert.equal(dry.code, 0, dry.stderr);
      const report = JSON.parse(dry.stdout);
      const listed = report.items.map((i: { kind: string; id: string }) => `${i.kind} ${i.id}`);
      assert.equal(listed.length, mine.length, listed.join("\n"));
      mine.forEach((re, i) => assert.match(listed[i], re));
      assert.deepEqual(
        report.skipped.map((i: { kind: string; id: string }) => `${i.kind} ${i.id}`),
        ["role old-job-role"],
      );
      const text = await cliHere(home, ["gc"], { env: other });
      assert.match(
        text.stderr,
        /^Left out 1 resource with no cloudknot:owner tag .*; run `cloudknot gc --untagged` to list it too$/m,
      );
      assert.equal(home.emu.mutatingRequests().length, before, "a dry run changed something");

      const wet = await cliHere(home, ["gc", "--yes", "--json"], { env: other });
      assert.equal(wet.code, 0, wet.stderr);
      assert.equal(JSON.parse(wet.stdout).deleted.length, mine.length);
      // Not one mutating request named user 1's knot, its resources or its job data.
      const mutations = home.emu.mutatingRequests().slice(before);
      assert.ok(mutations.length > 0);
      for (const r of mutations) {
        const said = JSON.stringify(r.params);
        assert.ok(
          !/cloudknot\/sq\/|"sq-|\.sq-job|knot\/sq"/.test(said) &&
            !theirs.some((id) => said.includes(id)),
          `${r.operation} ${said}`,
        );
      }
      const left = home.emu.listResources().map((r) => r.id);
      for (const id of theirs) assert.ok(left.includes(id), id);
      assert.ok(left.includes("old-job-role"));
      assert.ok(!left.some((id) => /^mine-|\.mine-job$/.test(id)), left.join(" "));
      // User 1's results are all there, and their gc has nothing to collect.
      const results = await cliHere(home, ["results", "sq"], { env: base });
      assert.equal(results.code, 0, results.stderr);
      assert.equal(results.stdout, '{"index":0,"value":1}\n{"index":1,"value":4}\n');
      const theirGc = await cliHere(home, ["gc", "--json"], { env: base });
      assert.deepEqual(JSON.parse(theirGc.stdout).items, []);

      // The old role goes only when asked for.
      const untagged = await cliHere(home, ["gc", "--untagged", "--yes", "--json"], { env: other });
      assert.equal(untagged.code, 0, untagged.stderr);
      assert.deepEqual(
        JSON.parse(untagged.stdout).deleted.map((i: { id: string }) => i.id),
        ["old-job-role"],
      );
      for (const id of theirs) assert.ok(home.emu.listResources().some((r) => r.id === id), id);
    }, { runner: "docker" });
  },
);
