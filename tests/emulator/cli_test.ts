import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { type Emulator, startEmulator } from "./mod.ts";

const AWS = existsSync("/usr/bin/aws") ? "/usr/bin/aws" : "aws";
const available = await new Deno.Command(AWS, {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success).catch(() => false);
const ci = Deno.env.get("CI") === "true";
if (!available && !ci) {
  console.log("cli_test: the AWS CLI is not installed; skipping (CI installs Debian's awscli)");
}

async function aws(emu: Emulator, home: string, args: string[], stdin?: string) {
  const child = new Deno.Command(AWS, {
    args: [...args, "--endpoint-url", emu.endpoint, "--output", "json"],
    env: {
      ...emu.env,
      HOME: home,
      AWS_PAGER: "",
      AWS_CONFIG_FILE: `${home}/config`,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/credentials`,
    },
    clearEnv: true,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test({
  name: "aws cli: STS, S3 (s3api and s3 cp/ls), IAM, Batch, EC2, Logs against the emulator",
  ignore: !available && !ci,
  async fn() {
    const emu = await startEmulator();
    const home = await Deno.makeTempDir({ prefix: "ckemu-cli-" });
    try {
      const me = await aws(emu, home, ["sts", "get-caller-identity"]);
      assert.equal(me.code, 0, me.stderr);
      assert.equal(JSON.parse(me.stdout).Arn, "arn:aws:iam::123456789012:user/emulator");

      const mb = await aws(emu, home, ["s3api", "create-bucket", "--bucket", "cli-bucket"]);
      assert.equal(mb.code, 0, mb.stderr);
      await Deno.writeTextFile(`${home}/file.txt`, "hello from the cli\n");
      const cp = await aws(emu, home, [
        "s3",
        "cp",
        `${home}/file.txt`,
        "s3://cli-bucket/dir/file.txt",
      ]);
      assert.equal(cp.code, 0, cp.stderr);
      assert.equal(
        new TextDecoder().decode(
          emu.s3.buckets.get("cli-bucket")!.objects.get("dir/file.txt")!.body,
        ),
        "hello from the cli\n",
      );
      const ls = await aws(emu, home, ["s3", "ls", "s3://cli-bucket/dir/"]);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /file\.txt/);
      const back = await aws(emu, home, ["s3", "cp", "s3://cli-bucket/dir/file.txt", "-"]);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(back.stdout, "hello from the cli\n");

      const trust = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Principal: { Service: "batch.amazonaws.com" },
          Action: "sts:AssumeRole",
        }],
      });
      const role = await aws(emu, home, [
        "iam",
        "create-role",
        "--role-name",
        "cli-role",
        "--assume-role-policy-document",
        trust,
      ]);
      assert.equal(role.code, 0, role.stderr);
      const got = await aws(emu, home, ["iam", "get-role", "--role-name", "cli-role"]);
      assert.deepEqual(JSON.parse(got.stdout).Role.AssumeRolePolicyDocument, JSON.parse(trust));
      const missing = await aws(emu, home, ["iam", "get-role", "--role-name", "nope"]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /NoSuchEntity/);

      const ces = await aws(emu, home, ["batch", "describe-compute-environments"]);
      assert.equal(ces.code, 0, ces.stderr);
      assert.deepEqual(JSON.parse(ces.stdout).computeEnvironments, []);
      const vpcs = await aws(emu, home, [
        "ec2",
        "describe-vpcs",
        "--filters",
        "Name=is-default,Values=true",
      ]);
      assert.equal(vpcs.code, 0, vpcs.stderr);
      assert.equal(JSON.parse(vpcs.stdout).Vpcs[0].CidrBlock, "172.31.0.0/16");
      const groups = await aws(emu, home, ["logs", "describe-log-groups"]);
      assert.equal(groups.code, 0, groups.stderr);
      assert.equal(JSON.parse(groups.stdout).logGroups[0].logGroupName, "/aws/batch/job");
      const repos = await aws(emu, home, [
        "ecr",
        "create-repository",
        "--repository-name",
        "cli-repo",
      ]);
      assert.equal(repos.code, 0, repos.stderr);
      assert.equal(JSON.parse(repos.stdout).repository.repositoryName, "cli-repo");
    } finally {
      await emu.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});
