/**
 * prune() against the emulator: a config file with live and stale records
 * of every kind; exactly the stale ones are dropped, records of another
 * region or profile are skipped, AWS is only read, and dryRun writes nothing.
 */
import assert from "node:assert/strict";
import { Pars } from "../../mod.ts";
import type { AwsSession } from "../../src/aws/mod.ts";
import type { StateFile } from "../../src/state/mod.ts";
import { Docker } from "../../src/docker/mod.ts";
import { prune } from "../../src/resources/mod.ts";
import {
  ensureComputeEnvironment,
  ensureJobQueue,
  validateComputeOptions,
} from "../../src/targets/aws/batch/mod.ts";
import { dockerTest } from "../support/docker_available.ts";
import type { Emulator } from "../emulator/mod.ts";
import { sessionFor, withEmulator } from "./helpers.ts";

const ACCOUNT = "arn:aws:iam::123456789012";
const BATCH = "arn:aws:batch:us-east-1:123456789012";

/** A compute environment and queue on a Pars, as a knot makes them; and one job. */
async function batchOn(emu: Emulator, session: AwsSession, pars: Pars) {
  const wait = { pollMs: 20, timeoutMs: 10_000 };
  const computeEnvironmentArn = await ensureComputeEnvironment(session, {
    name: "live-ce",
    compute: validateComputeOptions({ maxVcpus: 4 }),
    placement: { ...pars, subnets: [...pars.subnets] },
    tags: {},
  }, wait);
  const jobQueueArn = await ensureJobQueue(session, {
    name: "live-queue",
    priority: 1,
    computeEnvironment: computeEnvironmentArn,
    tags: {},
  }, wait);
  const def = await session.batch.registerJobDefinition({
    jobDefinitionName: "live-def",
    type: "container",
    containerProperties: {
      image: "emulator/none:1",
      command: ["true"],
      resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "512" }],
    },
  });
  const { jobId } = await session.batch.submitJob({
    jobName: "live-job",
    jobQueue: "live-queue",
    jobDefinition: def.jobDefinitionArn!,
  });
  await emu.waitForJobs(30_000);
  return { ce: computeEnvironmentArn, queue: jobQueueArn, jobId };
}

async function writeState(state: StateFile, sections: Record<string, Record<string, string>>) {
  await state.update((doc) => {
    for (const [name, keys] of Object.entries(sections)) {
      doc.set(name, new Map(Object.entries(keys)));
    }
  });
}

Deno.test("prune drops exactly the stale records", async () => {
  await withEmulator(async ({ emu, session, state, path, dir }) => {
    const pars = await Pars.create({ name: "live", session, state });
    const { ce, queue, jobId } = await batchOn(emu, session, pars);
    const { repository: kept } = await session.ecr.createRepository({ repositoryName: "kept" });
    await session.ecr.createRepository({ repositoryName: "moved" });
    const buildPath = `${dir}/build`;
    await Deno.mkdir(buildPath);

    await writeState(state, {
      "pars dead": {
        region: "us-east-1",
        profile: "default",
        "batch-service-role": `${ACCOUNT}:role/dead-batch-service-role`,
        "job-role": `${ACCOUNT}:role/dead-job-role`,
        vpc: "vpc-0000000000000dead",
      },
      "pars far": {
        region: "eu-west-1",
        profile: "default",
        "job-role": `${ACCOUNT}:role/far-job-role`,
      },
      "knot alive": {
        region: "us-east-1",
        profile: "default",
        pars: "live",
        "compute-environment": ce,
        "job-queue": queue,
        "job-role": pars.jobRole,
      },
      "knot half": {
        region: "us-east-1",
        profile: "default",
        "compute-environment": ce,
        "job-queue": `${BATCH}:job-queue/deleted-queue`,
      },
      "knot healable": {
        region: "us-east-1",
        profile: "default",
        "compute-environment": ce,
        "job-queue": `${BATCH}:job-queue/deleted-queue`,
        runs: "20260101T000000Z-aaaaaa 20260102T000000Z-bbbbbb",
      },
      "knot roleless": {
        region: "us-east-1",
        profile: "default",
        pars: "live",
        "compute-environment": ce,
        "job-queue": queue,
        "job-role": `${ACCOUNT}:role/live.roleless-job`,
      },
      "knot local": { target: "local" },
      "docker-repos default us-east-1": {
        kept: kept!.repositoryUri!,
        moved: "999999999999.dkr.ecr.us-east-1.amazonaws.com/moved",
        deleted: "123456789012.dkr.ecr.us-east-1.amazonaws.com/deleted",
      },
      "docker-repos other us-east-1": { x: "y" },
      "batch-jobs default us-east-1": { [jobId]: "live-job", "0b9e5bde-dead": "old-job" },
      "batch-jobs default eu-west-1": { "1": "x" },
      "docker-image with-path": { "build-path": buildPath, images: "", "image-uri": "" },
      "docker-image with-local": {
        region: "us-east-1",
        profile: "default",
        "build-path": `${dir}/gone`,
        images: "cloudknot/with-local:1 cloudknot/with-local:2",
      },
      "docker-image all-gone": {
        region: "us-east-1",
        profile: "default",
        "build-path": `${dir}/gone`,
        images: "cloudknot/all-gone:1",
        "image-uri": "127.0.0.1:5000/never-made:v1",
      },
    });
    const asked: string[] = [];
    const options = {
      session,
      state,
      env: () => undefined,
      homeDir: "/nowhere",
      imageExists: (ref: string) => {
        asked.push(ref);
        return Promise.resolve(ref === "cloudknot/with-local:2");
      },
    };

    // Dry run: the same answer, nothing written, nothing mutated in AWS.
    const text = await Deno.readTextFile(path);
    emu.requests.clear();
    const dry = await prune({ ...options, dryRun: true });
    assert.equal(await Deno.readTextFile(path), text);
    assert.deepEqual(emu.mutatingRequests(), []);
    const expected = [
      "pars dead",
      "knot half",
      "knot roleless",
      "docker-repos default us-east-1/moved",
      "docker-repos default us-east-1/deleted",
      "batch-jobs default us-east-1/0b9e5bde-dead",
      "docker-image all-gone",
    ];
    const named = (entries: { section: string; key?: string }[]) =>
      entries.map((d) => d.key ? `${d.section}/${d.key}` : d.section);
    assert.deepEqual(named(dry.dropped), expected);
    assert.deepEqual(named(dry.skipped), [
      "pars far",
      "knot healable",
      "docker-repos other us-east-1",
      "batch-jobs default eu-west-1",
    ]);
    assert.match(
      dry.dropped[0]!.reason,
      /dead-batch-service-role.*dead-job-role.*vpc-0000000000000dead/,
    );
    assert.match(dry.dropped[1]!.reason, /deleted-queue/);
    assert.doesNotMatch(dry.dropped[1]!.reason, /live-ce/);
    // A knot whose runs are still readable is kept, and the reason says how to heal it.
    assert.match(
      dry.skipped[1]!.reason,
      /^gone: .*deleted-queue; kept for its 2 runs, whose results stay readable: create the knot again with its function to heal it/,
    );
    // A knot whose own job role is gone cannot run a job.
    assert.equal(dry.dropped[2]!.reason, `gone: ${ACCOUNT}:role/live.roleless-job`);
    assert.match(dry.dropped[3]!.reason, /URI is now/);

    const done = await prune(options);
    assert.deepEqual(named(done.dropped), expected);
    assert.deepEqual(emu.mutatingRequests(), []);
    const doc = await state.read();
    assert.deepEqual([...doc.keys()], [
      "aws", // the config file's owner id, written when the Pars was made
      "pars live",
      "pars far",
      "knot alive",
      "knot healable",
      "knot local",
      "docker-repos default us-east-1",
      "docker-repos other us-east-1",
      "batch-jobs default us-east-1",
      "batch-jobs default eu-west-1",
      "docker-image with-path",
      "docker-image with-local",
    ]);
    assert.deepEqual([...doc.get("docker-repos default us-east-1")!.keys()], ["kept"]);
    assert.deepEqual([...doc.get("batch-jobs default us-east-1")!.keys()], [jobId]);
    assert.ok(asked.includes("cloudknot/with-local:2") && asked.includes("cloudknot/all-gone:1"));

    // Nothing stale is left: a second prune drops nothing.
    assert.deepEqual((await prune(options)).dropped, []);
  });
});

Deno.test("prune keeps an image whose remote image exists, and drops a Pars whose VPC is gone", async () => {
  await withEmulator(async ({ emu, state, dir }) => {
    // ECR's answers about repository "app" are canned: the emulator's ECR holds images only
    // with a real registry behind it.
    const session = await sessionFor(emu, {
      fetch: async (input, init) => {
        const req = new Request(input, init);
        if (req.headers.get("x-amz-target")?.endsWith(".DescribeImages")) {
          const body = await req.clone().json();
          const headers = { "content-type": "application/x-amz-json-1.1" };
          if (body.repositoryName === "app" && body.imageIds?.[0]?.imageTag === "v2") {
            return Response.json({
              imageDetails: [{ repositoryName: "app", imageTags: ["v2"], imageDigest: "sha256:1" }],
            }, { headers });
          }
          if (body.repositoryName === "app") {
            return Response.json({
              __type: "ImageNotFoundException",
              message: "The image with imageId {imageTag:'v1'} does not exist",
            }, { status: 400, headers });
          }
        }
        return fetch(req);
      },
    });
    await session.ecr.createRepository({ repositoryName: "app" });
    const pars = await Pars.create({ name: "net", session, state, useDefaultVpc: false });
    await writeState(state, {
      "docker-image remote": {
        region: "us-east-1",
        profile: "default",
        "build-path": `${dir}/gone`,
        images: "",
        "image-uri": "127.0.0.1:5000/app:v2",
      },
      "docker-image remote-gone": {
        region: "us-east-1",
        profile: "default",
        "build-path": `${dir}/gone`,
        "image-uri": "127.0.0.1:5000/app:v1",
      },
      "docker-image no-repo": {
        region: "us-east-1",
        profile: "default",
        "image-uri": "127.0.0.1:5000/nothing@sha256:abc",
      },
    });
    // The VPC vanishes behind the Pars' back (its pieces are deleted, then it).
    await session.ec2.deleteSecurityGroup({ GroupId: pars.securityGroup });
    for (const t of [...emu.ec2.routeTables.values()].filter((t) => t.VpcId === pars.vpc)) {
      for (const a of t.Associations as { RouteTableAssociationId: string; Main: boolean }[]) {
        if (!a.Main) {
          await session.ec2.disassociateRouteTable({ AssociationId: a.RouteTableAssociationId });
        }
      }
      if (!(t.Associations as { Main: boolean }[]).some((a) => a.Main)) {
        await session.ec2.deleteRouteTable({ RouteTableId: t.RouteTableId as string });
      }
    }
    for (const id of pars.subnets) await session.ec2.deleteSubnet({ SubnetId: id });
    for (const g of [...emu.ec2.internetGateways.values()]) {
      if ((g.Attachments as { VpcId: string }[]).some((a) => a.VpcId === pars.vpc)) {
        await session.ec2.detachInternetGateway({
          InternetGatewayId: g.InternetGatewayId as string,
          VpcId: pars.vpc,
        });
      }
    }
    await session.ec2.deleteVpc({ VpcId: pars.vpc });

    const { dropped } = await prune({
      session,
      state,
      env: () => undefined,
      homeDir: "/nowhere",
      imageExists: () => Promise.resolve(false),
    });
    assert.deepEqual(dropped.map((d) => d.section), [
      "pars net",
      "docker-image remote-gone",
      "docker-image no-repo",
    ]);
    assert.match(dropped[0]!.reason, new RegExp(pars.vpc));
    assert.ok(await state.section("docker-image remote"));
  });
});

Deno.test("prune keeps images it cannot check without Docker", async () => {
  await withEmulator(async ({ session, state, dir }) => {
    await writeState(state, {
      "docker-image unknown": { "build-path": `${dir}/gone`, images: "cloudknot/x:1" },
    });
    const result = await prune({
      session,
      state,
      env: () => undefined,
      homeDir: "/nowhere",
      imageExists: () => Promise.resolve(undefined),
    });
    assert.deepEqual(result.dropped, []);
    assert.deepEqual(result.skipped.map((s) => s.section), ["docker-image unknown"]);
    assert.ok(await state.section("docker-image unknown"));
  });
});

dockerTest("prune asks Docker about local images", async () => {
  const tag = `cloudknot-prune-test-${crypto.randomUUID().slice(0, 8)}:1`;
  const docker = new Docker({ logger: () => {} });
  const empty = await Deno.makeTempDir();
  const made = await new Deno.Command("sh", {
    args: ["-c", `tar -C "${empty}" -c . | docker import - ${tag}`],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  try {
    await withEmulator(async ({ session, state, dir }) => {
      await writeState(state, {
        "docker-image present": { "build-path": `${dir}/gone`, images: tag },
        "docker-image absent": { "build-path": `${dir}/gone`, images: `${tag}-absent` },
      });
      const base = { session, state, env: () => undefined, homeDir: "/nowhere" };
      const noDocker = await prune({
        ...base,
        dryRun: true,
        docker: new Docker({ binary: `${dir}/no-such-docker`, logger: () => {} }),
      });
      assert.deepEqual(noDocker.dropped, []);
      assert.deepEqual(noDocker.skipped.map((s) => s.section), [
        "docker-image present",
        "docker-image absent",
      ]);
      const { dropped } = await prune({ ...base, docker });
      assert.deepEqual(dropped.map((d) => d.section), ["docker-image absent"]);
    });
  } finally {
    await docker.removeImage(tag).catch(() => {});
    await Deno.remove(empty, { recursive: true });
  }
});
