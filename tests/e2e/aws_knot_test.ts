// A knot's whole life on AWS, against the emulator with real Docker
// containers: create (image, ECR, Pars, bucket, Batch), map as an array job
// and as independent jobs, a throwing and a crashing item, logs, adoption and
// collection from a new process, faults on every service, and clobber.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ItemError, Knot, MapError } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { throwFrame } from "../fixtures/typed_func_frames.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

function job(x: number): number {
  if (x === 7) throw new RangeError(`seven is not allowed`);
  if (x === 11) Deno.exit(3);
  console.log(`squaring ${x}`);
  return x * x;
}

dockerTest(
  "a knot on AWS: create, map, logs, adopt from another process, faults, clobber",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-e2e-" });
    try {
      const baseImage = await ensureBaseImage();
      const session = await sessionFor(emu);
      const configFile = join(dir, "cloudknot");
      const state = new StateFile({ path: configFile });
      const before = emu.listResources();
      // The knot's options, given again below to adopt it.
      const options = {
        name: "e2e",
        target: "aws" as const,
        func: job,
        baseImage,
        repoName: "e2e-knot-images",
        retries: 1,
        session,
        state,
        cloudknotDir: join(dir, "home"),
      };
      const knot = await Knot.create({ ...options, memory: 512, pollInterval: 100 });
      assert.equal(knot.target, "aws");
      const aws = knot.aws!;
      assert.match(aws.imageUri, /@sha256:[0-9a-f]{64}$/);
      assert.match(aws.computeEnvironment, /compute-environment\/e2e-ck-ce$/);
      // Shown as a summary of its resources, in a terminal and in a notebook.
      const summary = Deno.inspect(knot);
      assert.ok(
        summary.startsWith(`Knot e2e\n  target:         aws\n  function:       job (func)\n`),
      );
      assert.ok(summary.includes(`\n  image:          ${aws.imageUri}\n`), summary);
      assert.ok(summary.includes(`\n  job queue:      ${aws.jobQueue}\n`), summary);
      assert.ok(summary.endsWith(`\n  results:        s3://${aws.bucket}/${aws.prefix}`), summary);
      // ECS on EC2 gives containers no region: the job definition names it.
      const definition = [...emu.batch.jobDefinitions.values()].flat().find((d) =>
        d.jobDefinitionArn === aws.jobDefinition
      );
      assert.deepEqual(
        (definition?.containerProperties as { environment?: unknown })?.environment,
        [
          { name: "CLOUDKNOT_KNOT", value: "e2e" },
          { name: "AWS_REGION", value: emu.region },
          { name: "AWS_DEFAULT_REGION", value: emu.region },
        ],
      );
      const section = await state.section("knot e2e");
      assert.equal(section?.get("job-queue"), aws.jobQueue);

      // 25 items as one array job, with a throw (7) and a crash (11).
      const inputs = Array.from({ length: 25 }, (_, i) => i);
      const run = await knot.map(inputs, { progress: false });
      const error = await run.results().then(() => undefined, (e) => e);
      assert.ok(error instanceof MapError, String(error));
      assert.deepEqual(error.failed, [7, 11]);
      inputs.forEach((x) => {
        if (x !== 7 && x !== 11) assert.equal(error.results[x], x * x, `item ${x}`);
      });
      const [thrown, crashed] = error.errors as ItemError[];
      assert.equal(thrown!.kind, "threw");
      assert.equal(thrown!.remote.name, "RangeError");
      // The artifact's map names this file and the throw's line, though the container has neither.
      assert.match(thrown!.remote.stack ?? "", throwFrame(new URL(import.meta.url)));
      assert.equal(crashed!.kind, "crashed");
      assert.equal(crashed!.exitCode, 3);
      assert.ok(crashed!.logStream);
      const submits = emu.requests.filter({ service: "batch", operation: "SubmitJob" });
      assert.equal(submits.length, 1, "25 items go in one array job");
      assert.deepEqual(await Array.fromAsync(run.logs(4)), ["squaring 4"]);

      // Three items as independent jobs.
      const three = await knot.map([2, 3, 4], { jobType: "independent", progress: false });
      assert.deepEqual(await three.results(), [4, 9, 16]);
      assert.equal(emu.requests.filter({ service: "batch", operation: "SubmitJob" }).length, 4);

      // Another process adopts the knot by name and collects the first run.
      const script = `
      import { Knot } from ${JSON.stringify(new URL("../../mod.ts", import.meta.url).href)};
      const knot = await Knot.create({ name: "e2e", target: "aws", cloudknotDir: ${
        JSON.stringify(join(dir, "home"))
      } });
      const run = await knot.collect(${JSON.stringify(run.runId)});
      const settled = await run.settled();
      console.log(JSON.stringify(settled.map((s) => s.status === "fulfilled" ? s.value : s.reason.kind)));
    `;
      const child = await new Deno.Command(Deno.execPath(), {
        args: ["eval", script],
        env: {
          ...emu.env,
          CLOUDKNOT_CONFIG_FILE: configFile,
          // Nothing from this machine's AWS files.
          AWS_CONFIG_FILE: join(dir, "aws-config"),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, "aws-credentials"),
          NO_COLOR: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const childErr = new TextDecoder().decode(child.stderr);
      assert.equal(child.code, 0, childErr);
      assert.deepEqual(
        JSON.parse(new TextDecoder().decode(child.stdout)),
        inputs.map((x) => x === 7 ? "threw" : x === 11 ? "crashed" : x * x),
      );

      // Throttling and server errors on every service: every result is still right,
      // and each array is submitted as exactly one job.
      for (const service of ["batch", "s3", "logs", "ecr", "sts"]) {
        emu.faults.add({ service, kind: "throttle", probability: 0.15 });
        emu.faults.add({ service, kind: "503", probability: 0.1 });
      }
      const faulty = await knot.map([1, 2, 3, 5, 6, 8, 9, 10], { progress: false });
      assert.deepEqual(await faulty.results(), [1, 4, 9, 25, 36, 64, 81, 100]);
      const hits = emu.faults.list().reduce((n, f) => n + f.hits, 0);
      assert.ok(hits > 0, "faults were injected");
      emu.faults.clear();
      const faultyJobs = [...emu.batch.jobs.values()].filter((j) =>
        j.jobName.startsWith(`e2e-${faulty.runId}-`) && !j.jobId.includes(":")
      );
      assert.equal(faultyJobs.length, 1);

      // Creating it again by name adopts it and says which options were ignored: those that
      // differ from the knot's own, not those given again as they were.
      assert.equal(aws.adopted, false);
      // (Another memory would update it: update_test.ts.)
      const again = async (maxVcpus: number) => {
        const warnings: string[] = [];
        const adopted = await Knot.create({
          ...options,
          memory: 512,
          maxVcpus,
          compute: "EC2",
          warn: (message) => warnings.push(message),
        });
        assert.equal(adopted.aws!.jobQueue, aws.jobQueue);
        assert.equal(adopted.aws!.adopted, true);
        return warnings;
      };
      assert.deepEqual(await again(256), []);
      assert.deepEqual(await again(16), [
        "cloudknot: knot e2e exists, so it was adopted as it is and these options were ignored: " +
        "maxVcpus; clobber the knot or choose another name to change them",
      ]);

      // The job view lists the knot's jobs with array children summarised.
      const view = (await knot.viewJobs()).toString();
      assert.match(view, /e2e-/);

      // Clobber everything: nothing of the project is left in the emulator.
      await knot.clobber({ pars: true, repo: true, image: true, bucket: true });
      assert.deepEqual(emu.listResources(), before);
      const left = await state.read();
      assert.deepEqual([...left.keys()].filter((s) => s !== "aws"), []);
      await assert.rejects(() => knot.map([1]), /clobbered/);
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
