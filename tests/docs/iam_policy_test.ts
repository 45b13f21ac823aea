// The IAM policy of docs/iam.md: valid policy grammar, and enough for everything
// the project calls.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerImage, DockerRepo, Knot, Pars, setRegion, setS3Params } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { Docker } from "../../src/docker/mod.ts";
import { findGarbage } from "../../src/resources/mod.ts";
import { BATCH_SERVICE } from "../../src/aws/services/batch.ts";
import { CLOUDFORMATION_SERVICE } from "../../src/aws/services/cloudformation.ts";
import { EC2_SERVICE } from "../../src/aws/services/ec2.ts";
import { ECR_SERVICE } from "../../src/aws/services/ecr.ts";
import { IAM_SERVICE } from "../../src/aws/services/iam.ts";
import { LOGS_SERVICE } from "../../src/aws/services/logs.ts";
import { S3_SERVICE } from "../../src/aws/services/s3.ts";
import { STS_SERVICE } from "../../src/aws/services/sts.ts";
import {
  actionFor,
  allows,
  deniedCalls,
  docsPolicyText,
  type Policy,
  policyProblems,
} from "./iam_policy.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

const policy: Policy = JSON.parse(await docsPolicyText());

Deno.test("the IAM policy of the docs is valid policy JSON", () => {
  assert.deepEqual(policyProblems(policy), []);
  // The check can fail: each of these breaks one rule.
  const broken: [unknown, RegExp][] = [
    [{ ...policy, Version: "2008-10-17" }, /Version must be/],
    [{ Version: "2012-10-17", Statement: [] }, /No Statement/],
    [
      {
        Version: "2012-10-17",
        Statement: [{ Effect: "Permit", Action: "s3:GetObject", Resource: "*" }],
      },
      /Effect must be Allow or Deny/,
    ],
    [
      {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "GetObject", Resource: "*" }],
      },
      /bad action "GetObject"/,
    ],
    [
      {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }],
      },
      /has Principal, not allowed here/,
    ],
    [
      { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject" }] },
      /exactly one of Resource and NotResource/,
    ],
    [
      {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "bucket/*" }],
      },
      /bad resource "bucket\/\*"/,
    ],
    [
      {
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "*",
          Condition: { StringIs: { "aws:SourceIp": "1" } },
        }],
      },
      /unknown condition StringIs/,
    ],
    [
      {
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Action: Array.from({ length: 400 }, (_, i) => `s3:GetObjectNumber${i}`),
          Resource: "*",
        }],
      },
      /the limit is 6144/,
    ],
  ];
  for (const [doc, problem] of broken) assert.match(policyProblems(doc).join("\n"), problem);
});

/** Operations the policy leaves out on purpose. */
const NOT_GRANTED: Record<string, string> = {
  "sts:AssumeRole": "only for role_arn profiles, granted with that role",
  "s3:DeleteBucket":
    "only for knot.clobber({ bucket: true }), which without it keeps the bucket and says to grant it",
  "sts:AssumeRoleWithWebIdentity": "unsigned: the role's trust policy decides, not the caller's",
  // Only to remove the Python cloudknot's stacks, with the permissions the
  // original needed (docs/iam.md says so).
  ...Object.fromEntries(
    Object.keys(CLOUDFORMATION_SERVICE.operations).map((operation) => [
      actionFor("cloudformation", operation),
      "only to remove the Python cloudknot's stacks",
    ]),
  ),
};

Deno.test("the policy covers every operation the AWS client layer can send", () => {
  const services: Record<string, { operations: object }> = {
    batch: BATCH_SERVICE,
    cloudformation: CLOUDFORMATION_SERVICE,
    ec2: EC2_SERVICE,
    ecr: ECR_SERVICE,
    iam: IAM_SERVICE,
    logs: LOGS_SERVICE,
    s3: S3_SERVICE,
    sts: STS_SERVICE,
  };
  const missing: string[] = [];
  for (const [service, { operations }] of Object.entries(services)) {
    for (const operation of Object.keys(operations)) {
      const action = actionFor(service, operation);
      if (action in NOT_GRANTED) continue;
      // The resource cloudknot's own names would give: a Pars role, the default bucket.
      const resource = service === "iam"
        ? (/InstanceProfile/.test(operation)
          ? "arn:aws:iam::123456789012:instance-profile/lab-ecs-instance-role"
          : /Role/.test(operation)
          ? "arn:aws:iam::123456789012:role/lab-job-role"
          : "*")
        : service === "s3"
        ? (/Object|Upload|Part/.test(operation)
          ? "arn:aws:s3:::cloudknot-123456789012-us-east-1/cloudknot/k/runs/r/inputs"
          : "arn:aws:s3:::cloudknot-123456789012-us-east-1")
        : "*";
      if (!allows(policy, action, resource)) missing.push(`${action} on ${resource}`);
    }
  }
  assert.deepEqual(missing, []);
  // Scoped: another role, or another bucket, is not covered.
  assert.equal(allows(policy, "iam:DeleteRole", "arn:aws:iam::123456789012:role/Admin"), false);
  assert.equal(allows(policy, "iam:PassRole", "arn:aws:iam::123456789012:role/Admin"), false);
  assert.equal(allows(policy, "s3:GetObject", "arn:aws:s3:::payroll/2026.csv"), false);
});

dockerTest("the policy allows every AWS call of a knot's whole life on the emulator", async () => {
  const baseImage = await ensureBaseImage();
  // IAM shows a role at once here: the knot's jobs assume its new job role within a moment of its
  // creation (an emulated Fargate job starts in milliseconds, a real one in tens of seconds), and
  // with one attempt a job that came before IAM's propagation would fail (docs/aws.md), a matter of
  // timing, not of the policy this test checks.
  const emu = await startEmulator({
    runner: "docker",
    ceValidDelayMs: 10,
    tickMs: 10,
    iamPropagationMs: 0,
  });
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-iam-" });
  try {
    const session = await sessionFor(emu);
    const state = new StateFile({ path: join(dir, "cloudknot") });
    const settings = { session, state, env: () => undefined };
    // configure: region, bucket; a Pars; an image pushed to a repository of its own.
    await setRegion(emu.region, settings);
    await setS3Params({}, settings);
    const pars = await Pars.create({ ...settings, name: "iam-lab" });
    const image = await DockerImage.create({
      name: "iam-square",
      func: (x: number) => {
        console.log(`squaring ${x}`);
        return x * x;
      },
      baseImage,
      state,
      session,
      cloudknotDir: join(dir, "ck"),
      docker: new Docker({ logger: () => {} }),
    });
    await image.build({ tags: ["v1"] });
    const repo = await DockerRepo.create({ name: "iam-images", session, state });
    await image.push({ repo });
    // A knot on that image: create, map, logs, the job view, collect, clobber.
    const knot = await Knot.create({
      name: "iam-knot",
      target: "aws",
      dockerImage: image,
      pars,
      repoName: "iam-images",
      compute: "FARGATE",
      vcpus: 0.25,
      memory: 512,
      retries: 1,
      session,
      state,
      cloudknotDir: join(dir, "ck"),
      docker: new Docker({ logger: () => {} }),
      pollInterval: 50,
    });
    const run = await knot.map([1, 2, 3], { progress: false });
    assert.deepEqual(await run.results(), [1, 4, 9]);
    assert.deepEqual(await Array.fromAsync(run.logs(1)), ["squaring 2"]);
    await knot.viewJobs();
    await (await knot.collect(run.runId)).results();
    assert.deepEqual(await findGarbage({ ...settings, localDir: join(dir, "local-knots") }), []);
    await knot.clobber({ pars: true, repo: true, image: true });

    const { denied, seen } = deniedCalls(policy, emu.requests.entries, emu.accountId);
    assert.deepEqual(denied, []);
    // The lifecycle did reach every service, and passed roles to Batch.
    for (
      const action of [
        "batch:SubmitJob",
        "batch:CreateComputeEnvironment",
        "ecr:GetAuthorizationToken",
        "s3:PutObject",
        "s3:CreateBucket",
        "iam:CreateRole",
        "iam:PassRole",
        "iam:CreateServiceLinkedRole",
        "ec2:DescribeSubnets",
        "logs:GetLogEvents",
        "sts:GetCallerIdentity",
      ]
    ) {
      assert.ok(seen.has(action), `the lifecycle never called ${action}`);
    }
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
});
