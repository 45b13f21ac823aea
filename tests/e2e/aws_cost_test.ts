// Plan, cost and retry of a knot on AWS, against the emulator with real
// Docker containers: the dry run sends no mutating request and plans what the
// real create then makes (same names, same options); a run where Batch kills
// one item for memory and another throws is retried with twice the memory,
// and its merged results are complete; the report page has it all.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, MapError, Plan } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

/**
 * `"big"` fills 160 MiB (more than a 128 MiB container holds, less than 256);
 * `"alone"` throws when it runs as an array child, so it fails in the first
 * run and succeeds when its retry runs it as a job of its own: the one thing
 * a container sees that differs between the two, with no network.
 */
async function work(x: number | string): Promise<unknown> {
  if (x === "big") return new Uint8Array(160 * 2 ** 20).fill(7).length;
  if (x === "alone") {
    // An array child's job id is the array's id, a colon and its index.
    if (Deno.env.get("AWS_BATCH_JOB_ID")?.includes(":")) {
      throw new Error("this item runs only as a job of its own");
    }
    return "alone";
  }
  await Promise.resolve();
  return (x as number) * 10;
}

dockerTest(
  "a knot on AWS: its dry run plans what create makes, and a retry with twice the memory completes the run",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-e2e-cost-" });
    try {
      const baseImage = await ensureBaseImage();
      const session = await sessionFor(emu);
      const state = new StateFile({ path: join(dir, "cloudknot") });
      const options = {
        name: "costly",
        target: "aws" as const,
        func: work,
        baseImage,
        repoName: "costly-images",
        retries: 1,
        memory: 128,
        maxVcpus: 16,
        session,
        state,
        cloudknotDir: join(dir, "home"),
        pollInterval: 100,
      };

      const plan = await Knot.create({ ...options, dryRun: true });
      assert.ok(plan instanceof Plan);
      assert.deepEqual(emu.mutatingRequests(), []);
      assert.deepEqual(emu.listResources().filter((r) => r.type !== "log-group"), []);

      const knot = await Knot.create(options);
      const aws = knot.aws!;
      // Same names, same options.
      const [ce] = [...emu.batch.computeEnvironments.values()];
      assert.equal(aws.computeEnvironment, ce!.computeEnvironmentArn);
      assert.equal(plan.find("compute environment")!.name, ce!.computeEnvironmentName);
      const planned = plan.find("compute environment")!.details!;
      assert.equal(planned.type, ce!.computeResources!.type);
      assert.equal(planned.maxvCpus, ce!.computeResources!.maxvCpus);
      assert.deepEqual(planned.instanceTypes, ce!.computeResources!.instanceTypes);
      const [queue] = [...emu.batch.jobQueues.values()];
      assert.equal(plan.find("job queue")!.name, queue!.jobQueueName);
      assert.equal(plan.find("job queue")!.details!.priority, queue!.priority);
      const definition = [...emu.batch.jobDefinitions.values()].flat()
        .find((d) => d.jobDefinitionArn === aws.jobDefinition)!;
      assert.equal(plan.find("job definition")!.name, definition.jobDefinitionName);
      const requirement = (type: string) =>
        Number(
          (definition.containerProperties.resourceRequirements as { type: string; value: string }[])
            .find((r) => r.type === type)!.value,
        );
      assert.equal(plan.find("job definition")!.details!.vcpus, requirement("VCPU"));
      assert.equal(plan.find("job definition")!.details!.memory, requirement("MEMORY"));
      assert.equal(
        plan.find("job definition")!.details!.attempts,
        definition.retryStrategy?.attempts,
      );
      assert.equal(plan.find("S3 bucket")!.name, aws.bucket);
      assert.equal(plan.find("ECR repository")!.name, aws.repo.name);
      const made = new Set(emu.listResources().map((r) => r.id));
      for (const step of plan.steps.filter((s) => s.action === "create")) {
        if (
          ["IAM role", "IAM instance profile", "S3 bucket", "ECR repository"].includes(step.kind)
        ) {
          assert.ok(made.has(step.name), `${step.kind} ${step.name} was planned and made`);
        }
      }
      assert.ok(
        plan.steps.filter((s) => s.kind === "IAM role").every((s) =>
          aws.pars!.jobRole.endsWith(s.name) || made.has(s.name)
        ),
      );

      // One item killed for memory (128 MiB), one that throws: the rest succeed.
      const run = await knot.map([1, "big", "alone", 4], { progress: false });
      const error = await run.results().then(() => undefined, (e) => e);
      assert.ok(error instanceof MapError, String(error));
      assert.deepEqual(error.failed, [1, 2]);
      assert.equal(error.errors[0]!.remote.name, "OutOfMemoryError");

      emu.requests.clear();
      const retried = await run.retry({ memory: "double", progress: false });
      assert.deepEqual(await retried.results(), [10, 160 * 2 ** 20, "alone", 40]);
      const submits = emu.requests.filter({ service: "batch", operation: "SubmitJob" })
        .map((r) =>
          (r.params as { containerOverrides: { resourceRequirements?: unknown } })
            .containerOverrides.resourceRequirements
        );
      // Submitted side by side, in either order.
      assert.deepEqual(submits.map((r) => JSON.stringify(r ?? null)).sort(), [
        '[{"type":"MEMORY","value":"256"}]',
        "null",
      ]);

      // What both runs used, at 128 and 256 MiB, once Batch has seen the containers exit.
      await emu.waitForJobs();
      const usage = await retried.usage();
      assert.deepEqual(
        usage.attempts.map((a) => [a.index, a.outcome, a.memoryMiB]),
        [[0, "succeeded", 128], [1, "failed", 128], [2, "failed", 128], [3, "succeeded", 128], [
          1,
          "succeeded",
          256,
        ], [2, "succeeded", 128]],
      );
      const cost = await retried.cost();
      assert.equal(cost.attempts, 6);
      assert.equal(cost.compute, "EC2");
      assert.ok(cost.cost!.low > 0);
      const page = await run.report();
      assert.match(page, /OutOfMemoryError/);

      await knot.clobber({ pars: true, repo: true, image: true, bucket: true });
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
