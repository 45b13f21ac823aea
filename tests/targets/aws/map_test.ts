// map on AWS Batch, end to end against the emulator: every job runs the real
// job entry point (src/job/main.ts) as a local process with the environment a
// Batch container gets, reading its item from S3 and writing its record there.
import assert from "node:assert/strict";
import { ItemError, MapError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { INDEX_ENTRY_BYTES, writePayload } from "../../../src/job/mod.ts";
import { jobCommand } from "../../../src/targets/aws/batch/command.ts";
import { readRecord } from "../../support/records.ts";
import { throwFrame } from "../../fixtures/typed_func_frames.ts";
import type { Emulator } from "../../emulator/mod.ts";
import { job, jobsNamed, registerDefinition, startTestBed } from "./helpers.ts";

/** The GETs of a run's inputs object in the emulator's log: with a range, and whole. */
function inputReads(emu: Emulator, prefix: string): { ranged: number; whole: number } {
  const gets = emu.requests.filter({ service: "s3", operation: "GetObject" })
    .filter((e) => e.params.Key === `${prefix}/inputs`);
  const ranged = gets.filter((e) => e.params.Range !== undefined).length;
  return { ranged, whole: gets.length - ranged };
}

/** Whether a job's current (or last) attempt has printed `line` to CloudWatch Logs. */
function printed(emu: Emulator, jobId: string, line: string): boolean {
  const stream = emu.batch.jobs.get(jobId)?.container.logStreamName as string | undefined;
  if (stream === undefined) return false;
  const events = emu.logs.groups.get("/aws/batch/job")?.streams.get(stream)?.events ?? [];
  return events.some((e) => e.message === line);
}

/** A job's container environment, as Batch resolved it. */
function jobEnv(emu: Emulator, jobId: string): Record<string, string> {
  const env = (emu.batch.jobs.get(jobId)!.container.environment ?? []) as {
    name: string;
    value: string;
  }[];
  return Object.fromEntries(env.map((v) => [v.name, v.value]));
}

Deno.test("AWS target: map runs array jobs and independent jobs on Batch and collects every result", async (t) => {
  const bed = await startTestBed(job, { attempts: 2, emulator: { minTimeoutSeconds: 1 } });
  const target = bed.target();
  const { emu } = bed;
  try {
    await t.step(
      "25 items as one array job, every result checked; each child reads the small inputs whole beside its index entry",
      async () => {
        const items = Array.from({ length: 25 }, (_, i) => i + 1);
        const encoded = encodeItems(items);
        const run = await target.map<number>({ items: encoded, starmap: false, env: {} });
        // Recorded before map returned: the state file and one array job.
        const state = await bed.state.read();
        assert.equal(state.get("knot squares")?.get("runs"), run.runId);
        const jobs = jobsNamed(emu, `squares-${run.runId}-`);
        assert.equal(jobs.length, 1);
        assert.equal(jobs[0]!.arraySize, 25);
        assert.equal(
          state.get("batch-jobs default us-east-1")?.get(jobs[0]!.jobId),
          `squares-${run.runId}-0`,
        );
        assert.deepEqual(await run.results(), items.map((x) => x * x));
        await run.done;
        assert.equal(run.counts.succeeded, 25);
        // The manifest with its job is in S3.
        const manifest = JSON.parse(
          new TextDecoder().decode(
            emu.s3.buckets.get(bed.resources.bucket)!.objects.get(
              `cloudknot/squares/runs/${run.runId}/run.json`,
            )!.body,
          ),
        );
        assert.deepEqual(manifest.jobs, [{
          jobId: jobs[0]!.jobId,
          jobName: `squares-${run.runId}-0`,
          offset: 0,
          size: 25,
          array: true,
        }]);
        // The job was told the inputs' size, so each child read the whole
        // (small) object in one GET with no range, and its own index entry.
        const prefix = `cloudknot/squares/runs/${run.runId}`;
        const itemBytes = encoded.reduce((n, b) => n + b.byteLength, 0);
        assert.equal(jobEnv(emu, jobs[0]!.jobId).CLOUDKNOT_INPUTS_BYTES, String(itemBytes));
        // What Deno prints itself in the container reaches CloudWatch without colour codes.
        assert.equal(jobEnv(emu, jobs[0]!.jobId).NO_COLOR, "1");
        assert.deepEqual(inputReads(emu, prefix), { ranged: 0, whole: 25 });
        assert.equal(emu.s3.bytesServed(bed.resources.bucket, `${prefix}/inputs`), 25 * itemBytes);
        assert.equal(
          emu.s3.bytesServed(bed.resources.bucket, `${prefix}/index`),
          25 * INDEX_ENTRY_BYTES,
        );
      },
    );

    await t.step(
      "inputs above 64 KiB: each child reads only its own item's range after its index entry",
      async () => {
        const items = Array.from({ length: 3 }, (_, v) => ({ v, pad: "x".repeat(30_000) }));
        const encoded = encodeItems(items);
        const run = await target.map<unknown>({ items: encoded, starmap: false, env: {} });
        assert.deepEqual(await run.results(), items);
        await run.done;
        const [parent] = jobsNamed(emu, `squares-${run.runId}-`);
        assert.equal(jobEnv(emu, parent!.jobId).CLOUDKNOT_INPUTS_BYTES, undefined);
        const prefix = `cloudknot/squares/runs/${run.runId}`;
        assert.deepEqual(inputReads(emu, prefix), { ranged: 3, whole: 0 });
        assert.equal(
          emu.s3.bytesServed(bed.resources.bucket, `${prefix}/inputs`),
          encoded.reduce((n, b) => n + b.byteLength, 0),
        );
      },
    );

    await t.step(
      "a small run submitted without the inputs' size (an older client): its job reads its ranges",
      async () => {
        const store = target.store.at("runs/older-client");
        await writePayload(store, encodeItems([5, 6]), {
          version: 1,
          runId: "older-client",
          knot: "squares",
          count: 2,
          starmap: false,
          createdAt: 0,
          attempts: 1,
        });
        const { jobId } = await bed.session.batch.submitJob({
          jobName: "squares-older-client-0",
          jobQueue: bed.resources.jobQueue,
          jobDefinition: bed.resources.jobDefinition,
          containerOverrides: { command: jobCommand({ run: store.url, index: 1, starmap: false }) },
        });
        assert.equal((await emu.batch.waitForJob(jobId)).status, "SUCCEEDED");
        const record = await readRecord(store, 1, 1);
        assert.equal(record?.status === "ok" && record.value, 36);
        assert.deepEqual(inputReads(emu, "cloudknot/squares/runs/older-client"), {
          ranged: 1,
          whole: 0,
        });
      },
    );

    await t.step("3 items as independent jobs; a single item is an independent job", async () => {
      const run = await target.map<number>({
        items: encodeItems([4, 5, 6]),
        starmap: false,
        env: {},
        jobType: "independent",
      });
      const jobs = jobsNamed(emu, `squares-${run.runId}-`);
      assert.equal(jobs.length, 3);
      assert.ok(jobs.every((j) => j.arraySize === undefined));
      assert.deepEqual(await run.results(), [16, 25, 36]);
      const one = await target.map<number>({ items: encodeItems([7]), starmap: false, env: {} });
      assert.deepEqual(jobsNamed(emu, `squares-${one.runId}-`).map((j) => j.arraySize), [
        undefined,
      ]);
      assert.deepEqual(await one.results(), [49]);
      await Promise.all([run.done, one.done]);
    });

    await t.step("starmap, env, a function returning undefined, and a retried item", async () => {
      const star = await target.map<number>({
        items: encodeItems([[1, 2], [30, 40]]),
        starmap: true,
        env: {},
      });
      const env = await target.map<string>({
        items: encodeItems([{ env: "CK_GREETING" }, { env: "CK_OTHER" }]),
        starmap: false,
        env: { CK_GREETING: "hello", CK_OTHER: "there" },
      });
      const misc = await target.map<unknown>({
        items: encodeItems([{ nothing: true }, { flaky: true }]),
        starmap: false,
        env: {},
      });
      assert.deepEqual(await star.results(), [3, 70]);
      assert.deepEqual(await env.results(), ["hello", "there"]);
      const settled = await misc.settled();
      assert.deepEqual(settled[0], { index: 0, status: "fulfilled", value: undefined });
      assert.deepEqual(settled[1], { index: 1, status: "fulfilled", value: "second time lucky" });
      assert.equal(misc.counts.retried, 1);
      assert.equal(misc.items[1]!.attempts, 2);
      await Promise.all([star.done, env.done, misc.done]);
    });

    await t.step(
      "an item that throws and one that crashes: partial results and full errors",
      async () => {
        const run = await target.map<number>({
          items: encodeItems([2, { throw: "x" }, { exit: 3 }, 5]),
          starmap: false,
          env: {},
        });
        const error = await run.results().then(() => undefined, (e) => e);
        assert.ok(error instanceof MapError);
        assert.deepEqual(error.results, [4, undefined, undefined, 25]);
        assert.deepEqual(error.failed, [1, 2]);
        const [threw, crashed] = error.errors as ItemError[];
        assert.ok(threw instanceof ItemError);
        assert.equal(threw.kind, "threw");
        assert.equal(threw.attempt, 2);
        assert.equal(threw.remote.name, "TypeError");
        assert.match(threw.message, /Item 1 threw TypeError: bad item x \(attempt 2 of 2\)/);
        // Batch's view of the attempt comes with it.
        assert.equal(threw.exitCode, 1);
        assert.equal(threw.statusReason, "Essential container in task exited");
        assert.match(threw.logStream ?? "", /^ck-def\/default\/[0-9a-f]+$/);
        // The artifact's map names the file the function was written in, and its throw's line.
        assert.match(
          (threw.cause as Error).stack ?? "",
          throwFrame(new URL("./helpers.ts", import.meta.url), "throw new TypeError(`bad item"),
        );
        assert.ok(crashed instanceof ItemError);
        assert.equal(crashed.kind, "crashed");
        assert.equal(crashed.exitCode, 3);
        assert.equal(crashed.attempt, 2);
        assert.equal(crashed.statusReason, "Essential container in task exited");
        assert.match(crashed.logStream ?? "", /^ck-def\/default\/[0-9a-f]+$/);
        assert.match(crashed.message, /Item 2 crashed: its process exited with code 3/);
        // The crashed attempt's output, from CloudWatch.
        const lines = await Array.fromAsync(run.logs(2));
        assert.ok(lines.includes("exiting with 3"), lines.join("\n"));
        const first = await Array.fromAsync(run.logs(2, { attempt: 1 }));
        assert.ok(first.includes("exiting with 3"));
        // The array parent FAILED, and the run ended all the same. A child whose item succeeded
        // may still be RUNNING when the run settles (its record comes before its exit, as on AWS),
        // so the parent ends only once every child has.
        await emu.batch.waitForJobs();
        const [parent] = jobsNamed(emu, `squares-${run.runId}-`);
        assert.equal(emu.batch.jobs.get(parent!.jobId)!.status, "FAILED");
        await run.done;
      },
    );

    await t.step(
      "children that die without a record: out of memory, reclaimed Spot host (said once, with what to do)",
      async () => {
        // Both attempts of child 0 are killed for memory; child 1's host goes away twice.
        emu.batch.injectExit({
          arrayIndex: 0,
          exitCode: 137,
          reason: "OutOfMemoryError: Container killed due to memory usage",
          times: 2,
        });
        emu.batch.injectSpotReclaim({ arrayIndex: 1, times: 2 });
        const run = await target.map<number>({
          items: encodeItems([1, 2, 3]),
          starmap: false,
          env: {},
        });
        const settled = await run.settled();
        assert.equal(settled[2]!.status, "fulfilled");
        const oom = settled[0]!.status === "rejected" ? settled[0]!.reason : undefined;
        assert.ok(oom instanceof ItemError);
        assert.equal(oom.kind, "crashed");
        assert.equal(oom.exitCode, 137);
        assert.equal(oom.remote.name, "OutOfMemoryError");
        assert.match(oom.remote.message, /Container killed due to memory usage/);
        assert.match(
          oom.message,
          /^Item 0 ran out of memory: .*the job's memory limit is \d+ MiB: give the item more than \d+ MiB with the memory option of Knot\.create or run\.retry/,
        );
        const spot = settled[1]!.status === "rejected" ? settled[1]!.reason : undefined;
        assert.ok(spot instanceof ItemError);
        assert.equal(spot.kind, "infrastructure");
        assert.match(spot.statusReason ?? "", /Host EC2 .* terminated/);
        // Batch's reason once, and what to do: the item is not at fault.
        assert.equal(spot.message.split(spot.statusReason!).length, 2, spot.message);
        assert.match(
          spot.message,
          /terminated\.; the instance that ran it went away \(a Spot instance reclaimed, or one stopped\), not the item: run it again with run\.retry\(\) on the run's handle; a knot made with more retries \(the retries option of Knot\.create, up to 10\)/,
        );
        await run.done;
      },
    );

    await t.step("an attempt that runs past the job's timeout", async () => {
      // Batch's own timeout (1 s, the emulator's least) stops the sleeping item's job, and the
      // other job of the same definition ends on its own. The timeouts are held back until the
      // test saw both (the sleeping item's line printed, the other item's result), so neither
      // races the clock however loaded the machine is.
      const def = await registerDefinition(bed, "ck-def-timeout", { timeoutSeconds: 1 });
      const timed = bed.target({ jobDefinition: def, attempts: 1 });
      const seen = Promise.withResolvers<void>();
      emu.batch.holdTimeouts(seen.promise);
      let run;
      try {
        run = await timed.map<string>({
          items: encodeItems([{ sleep: 30_000 }, 3]),
          starmap: false,
          env: {},
          jobType: "independent",
        });
        assert.equal(await run.item(1), 9);
        const sleeper = jobsNamed(emu, `squares-${run.runId}-0`)[0]!.jobId;
        while (!printed(emu, sleeper, "sleeping 30000 ms") && run.settledItem(0) === undefined) {
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        seen.resolve();
      }
      const settled = await run.settled();
      const slow = settled[0]!;
      assert.deepEqual(settled[1], { index: 1, status: "fulfilled", value: 9 });
      assert.ok(slow.status === "rejected");
      assert.equal(slow.reason.kind, "timeout");
      assert.equal(slow.reason.statusReason, "Job attempt duration exceeded timeout");
      assert.match(slow.reason.message, /Item 0 timed out/);
      assert.ok((await Array.fromAsync(run.logs(0))).includes("sleeping 30000 ms"));
      await run.done;
    });

    await t.step(
      "a knot's timeout is kept by the job, so a timed-out attempt is retried as locally",
      async () => {
        // Both attempts of an item that never ends run past the knot's timeout (1 s), whatever
        // the machine's load: the job kills the first and exits 124, and Batch runs the second,
        // as it would not after its own timeout.
        const jobDefinition = await registerDefinition(bed, "ck-def-own-timeout", {
          attempts: 2,
          environment: { CLOUDKNOT_TIMEOUT: "1" },
          timeoutSeconds: 61,
        });
        const run = await bed.target({ jobDefinition, attempts: 2 }).map<string>({
          items: encodeItems([{ sleep: 30_000 }]),
          starmap: false,
          env: {},
          jobType: "independent",
        });
        const slow = (await run.settled())[0]!;
        assert.ok(slow.status === "rejected");
        assert.equal(slow.reason.kind, "timeout");
        assert.equal(slow.reason.attempt, 2);
        assert.equal(slow.reason.exitCode, 124);
        assert.equal(run.counts.retried, 1);
        const [job] = jobsNamed(emu, `squares-${run.runId}-`);
        assert.deepEqual(
          emu.batch.jobs.get(job!.jobId)!.attempts.map((
            a,
          ) => [a.container.exitCode, a.statusReason]),
          [[124, "Essential container in task exited"], [
            124,
            "Essential container in task exited",
          ]],
        );
        assert.match(
          slow.reason.message,
          /^Item 0 timed out: The attempt ran longer than its timeout of 1s and was killed\. Make the item faster, or give it more time with the timeout option of Knot\.create or run\.retry: /,
        );
        // The job is told its knot and run: the advice names them.
        assert.ok(
          slow.reason.message.includes(
            `run.retry({ timeout: 2 }) on the run's handle (knot.collect("${run.runId}") of ` +
              `knot squares) maps the run's failed items again`,
          ),
          slow.reason.message,
        );
        await run.done;
      },
    );

    await t.step("more items than the array size limit are split into several jobs", async () => {
      const split = bed.target({ maxArraySize: 4 });
      const items = Array.from({ length: 9 }, (_, i) => i);
      const run = await split.map<number>({ items: encodeItems(items), starmap: false, env: {} });
      const jobs = jobsNamed(emu, `squares-${run.runId}-`).map((j) => j.arraySize);
      assert.deepEqual(jobs.sort(), [4, 4, undefined]);
      assert.deepEqual(await run.results(), items.map((x) => x * x));
      await run.done;
    });

    await t.step("an empty map submits nothing", async () => {
      const before = emu.count("batch", "SubmitJob");
      const run = await target.map({ items: [], starmap: false, env: {} });
      assert.deepEqual(await run.results(), []);
      assert.equal(emu.count("batch", "SubmitJob"), before);
    });
  } finally {
    await bed.close();
  }
});
