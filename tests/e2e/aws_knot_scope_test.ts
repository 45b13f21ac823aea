// One knot's jobs cannot touch another knot's data: against the emulator
// with real Docker containers and AWS's behaviours on (IAM's propagation
// delay included), each knot's jobs run with the knot's own job role, and S3
// evaluates the role's policy. A job of knot A that reads knot B's input or
// writes into knot B's prefix is denied (the item's error says AccessDenied),
// while its own items, in its own prefix, succeed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ItemError, Knot, MapError } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import type { BucketAccess } from "../fixtures/bucket_job.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

function shout(x: string): string {
  return x.toUpperCase();
}

dockerTest(
  "a job of knot A is denied knot B's input and prefix, and its own items succeed",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-e2e-scope-" });
    try {
      const common = {
        target: "aws" as const,
        baseImage: await ensureBaseImage(),
        repoName: "e2e-scope-images",
        session: await sessionFor(emu),
        state: new StateFile({ path: join(dir, "cloudknot") }),
        cloudknotDir: join(dir, "home"),
        pollInterval: 100,
        retries: 1,
      };
      const b = await Knot.create({ ...common, name: "scope-b", func: shout });
      const a = await Knot.create({
        ...common,
        name: "scope-a",
        module: new URL("../fixtures/bucket_job.ts", import.meta.url),
        exportName: "access",
        // The function opens S3 itself with its container's credentials, found through the
        // environment and the AWS files: by default a function may only use the network.
        permissions: { net: true, env: true, read: true, sys: true },
      });
      const [awsA, awsB] = [a.aws!, b.aws!];
      // Each knot's jobs have a role of their own, allowed only their knot's prefix.
      const pars = awsA.pars!.name;
      assert.equal(awsA.jobRole, `arn:aws:iam::${emu.accountId}:role/${pars}.scope-a-job`);
      assert.equal(awsB.jobRole, `arn:aws:iam::${emu.accountId}:role/${pars}.scope-b-job`);
      assert.notEqual(awsA.jobRole, awsA.pars!.jobRole);
      const policy = JSON.parse(
        emu.iam.roles.get(`${pars}.scope-a-job`)!.inline.get("cloudknot-job-data")!,
      );
      assert.equal(
        policy.Statement[0].Resource,
        `arn:aws:s3:::${awsA.bucket}/cloudknot/scope-a/*`,
      );

      // Adopted, in another Knot object, the knot keeps its role.
      const adopted = await Knot.create({ ...common, name: "scope-a" });
      assert.equal(adopted.aws!.jobRole, awsA.jobRole);
      // A create that fails after its role was made deletes the role again.
      const fault = emu.faults.add({
        service: "batch",
        operation: "RegisterJobDefinition",
        kind: "500",
        times: 1000,
      });
      const failed = await Knot.create({ ...common, name: "scope-c", func: shout })
        .then(() => undefined, (e) => e);
      emu.faults.clear(fault);
      assert.ok(failed instanceof Error, String(failed));
      assert.equal(emu.iam.roles.has(`${pars}.scope-c-job`), false);

      const runB = await b.map(["b's secret"], { progress: false });
      assert.deepEqual(await runB.results(), ["B'S SECRET"]);
      const bucket = emu.s3.buckets.get(awsB.bucket)!;
      const inputKey = `${awsB.prefix}/runs/${runB.runId}/inputs`;
      const inputBefore = bucket.objects.get(inputKey)!.body;

      const items: BucketAccess[] = [
        { op: "read", bucket: awsB.bucket, key: inputKey },
        { op: "write", bucket: awsB.bucket, key: inputKey },
        { op: "write", bucket: awsB.bucket, key: `${awsB.prefix}/planted` },
        { op: "write", bucket: awsA.bucket, key: `${awsA.prefix}/scratch` },
      ];
      const error = await (await a.map(items, { progress: false })).results()
        .then(() => undefined, (e) => e);
      assert.ok(error instanceof MapError, String(error));
      assert.deepEqual(error.failed, [0, 1, 2]);
      assert.equal(error.results[3], "written");
      const roleArn = `arn:aws:sts::${emu.accountId}:assumed-role/${pars}.scope-a-job/`;
      const [read, overwrite, plant] = error.errors as ItemError[];
      for (
        const [e, action, key] of [
          [read, "GetObject", inputKey],
          [overwrite, "PutObject", inputKey],
          [plant, "PutObject", `${awsB.prefix}/planted`],
        ] as const
      ) {
        assert.ok(e instanceof ItemError, String(e));
        assert.ok(
          e.remote.message.includes(
            `AccessDenied: User: ${roleArn}`,
          ),
          e.remote.message,
        );
        assert.ok(
          e.remote.message.includes(
            `not authorized to perform: s3:${action} on resource: "arn:aws:s3:::${awsB.bucket}/${key}"`,
          ),
          e.remote.message,
        );
      }
      // Knot B's data is as it was; knot A wrote into its own prefix.
      assert.deepEqual(bucket.objects.get(inputKey)!.body, inputBefore);
      assert.equal(bucket.objects.has(`${awsB.prefix}/planted`), false);
      const own = await a.map(
        [{ op: "read", bucket: awsA.bucket, key: `${awsA.prefix}/scratch` }],
        {
          progress: false,
        },
      );
      assert.deepEqual(await own.results(), ["overwritten"]);

      // Clobber deletes each knot's role; the Pars' shared one goes with the Pars.
      await a.clobber({ image: true });
      assert.equal(emu.iam.roles.has(`${pars}.scope-a-job`), false);
      assert.equal(emu.iam.roles.has(`${pars}.scope-b-job`), true);
      await b.clobber({ pars: true, repo: true, image: true, bucket: true });
      assert.deepEqual([...emu.iam.roles.keys()].filter((r) => r.includes("scope")), []);
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
