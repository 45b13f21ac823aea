// The command line reading a run on AWS whose map was killed before it wrote
// the run's jobs: `cloudknot logs --item N [--follow]` finds the item's job by
// name, waits for one still on its way (without --follow, says it has none yet
// and how to wait), and, for an item that never got one, says how to run it
// (`cloudknot retry`), as `results` does; `cloudknot retry` then runs it, and
// the retry's run reads whole.
import assert from "node:assert/strict";
import { encodeItems } from "../../../src/job/codec.ts";
import { Pars } from "../../../mod.ts";
import { killAt } from "../../support/kill_at.ts";
import { cli, job, mapInChild, recordKnot, startTestBed, type TestBed } from "./helpers.ts";

/** Three items, one line of output each: item 0 and 1 in an array job, item 2 in a job of its own. */
const ITEMS = [{ log: ["zero"] }, { log: ["one"] }, { log: ["two"] }];

/** Maps ITEMS on the test bed's knot and removes the run's run.json, as a map killed before it wrote it leaves the run. */
async function runWithoutManifest(bed: TestBed): Promise<string> {
  const run = await bed.target({ maxArraySize: 2 }).map<number>({
    items: encodeItems(ITEMS),
    starmap: false,
    env: {},
    itemsPerJob: 1,
  });
  await run.done;
  const objects = bed.emu.s3.buckets.get(bed.resources.bucket)!.objects;
  assert.ok(objects.delete(`${bed.prefix}/runs/${run.runId}/run.json`));
  return run.runId;
}

/**
 * Maps ITEMS on the test bed's knot in another process, killed with its
 * SubmitJob of item 2's job sent, and runs `body` on the run while that
 * request has not reached Batch yet (the run has no run.json); it lands after.
 */
async function whileItem2InFlight(
  bed: TestBed,
  body: (runId: string) => Promise<void>,
): Promise<void> {
  await killAt(
    bed.emu,
    { service: "batch", operation: "SubmitJob", nth: 2 },
    () => mapInChild(bed, ITEMS),
    undefined,
    async () => {
      const [manifest] = await bed.target().runs();
      assert.ok(manifest !== undefined && manifest.jobs === undefined);
      await body(manifest.runId);
    },
  );
}

Deno.test("cloudknot logs --item N --follow of a run whose map never wrote its jobs follows the item's job, found by name", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    const runId = await runWithoutManifest(bed);
    // An array child and a job of its own.
    for (const [item, line] of [[1, "one"], [2, "two"]] as const) {
      const followed = await cli(bed, ["logs", bed.knot, runId, "--item", `${item}`, "--follow"])
        .ended;
      assert.equal(followed.code, 0, followed.stderr);
      assert.equal(followed.stdout, `${line}\n`);
      const read = await cli(bed, ["logs", bed.knot, runId, "--item", `${item}`]).ended;
      assert.equal(read.code, 0, read.stderr);
      assert.equal(read.stdout, `${line}\n`);
    }
    // The library's handle reads them too: its jobs are those found by name.
    const stop = new AbortController();
    const collected = await bed.target().collect(runId, { signal: stop.signal });
    await collected.done;
    assert.deepEqual(await Array.fromAsync(collected.logs(2)), ["two"]);
  } finally {
    await bed.close();
  }
});

Deno.test("cloudknot logs --item N --follow of a run whose map was killed with the item's SubmitJob in flight waits for the job, says so, then prints its output", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    let following: ReturnType<typeof cli> | undefined;
    await whileItem2InFlight(bed, async (runId) => {
      following = cli(bed, ["logs", bed.knot, runId, "--item", "2", "--follow"]);
      await following.printed(
        new RegExp(
          `^Item 2 of run ${runId} of knot ${bed.knot} has no AWS Batch job yet: .* ` +
            `Waiting for its job until \\S+; do not map it again meanwhile$`,
          "m",
        ),
      );
    });
    // The job landed: the command follows it to its end.
    const { code, stdout, stderr } = await following!.ended;
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "two\n");
  } finally {
    await bed.close();
  }
});

Deno.test("cloudknot logs --item N without --follow and cloudknot jobs, of an item whose job is still on its way, say it has no job yet and give the --follow command that waits for it; jobs lists the jobs found by name", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    let runId = "";
    const reads: Awaited<ReturnType<typeof cli>["ended"]>[] = [];
    await whileItem2InFlight(bed, async (id) => {
      runId = id;
      for (
        const args of [
          ["logs", "--item", "2"],
          ["logs", "--item", "2", "--json"],
          ["logs"],
          ["jobs"],
          ["jobs", "--json"],
        ]
      ) {
        reads.push(await cli(bed, [args[0]!, bed.knot, runId, ...args.slice(1)]).ended);
      }
    });
    const [text, json, every, jobsText, jobsJson] = reads;
    // No output is not a failure (as for an item that has not started yet), but it is said.
    assert.equal(text!.code, 0, text!.stderr);
    assert.equal(text!.stdout, "");
    assert.match(
      text!.stderr,
      new RegExp(
        `^Item 2 of run ${runId} has no output yet: its AWS Batch job has not been submitted ` +
          `or found yet \\(.*\\)\\. To wait for it and print its lines as they come, run ` +
          `cloudknot logs ${bed.knot} ${runId} --item 2 --follow$`,
        "m",
      ),
    );
    assert.doesNotMatch(text!.stderr, /Waiting for/, "this command does not wait");
    assert.equal(json!.code, 0, json!.stderr);
    assert.deepEqual(JSON.parse(json!.stdout), []);
    assert.match(json!.stderr, /^Item 2 of run \S+ has no output yet: /m);
    // Without --item too: what the others printed so far, and the same words of item 2.
    assert.equal(every!.code, 0, every!.stderr);
    assert.match(every!.stderr, /^Item 2 of run \S+ has no output yet: .* --item 2 --follow$/m);
    // cloudknot jobs reads once too: the same words, of a job.
    assert.equal(jobsText!.code, 0, jobsText!.stderr);
    assert.match(
      jobsText!.stderr,
      new RegExp(
        `^Item 2 of run ${runId} has no AWS Batch job yet: it has not been submitted or found ` +
          `yet \\(.*\\)\\. To wait .* --item 2 --follow$`,
        "m",
      ),
    );
    assert.doesNotMatch(jobsText!.stderr, /Waiting for/, "this command does not wait");
    // The array job of items 0 and 1, found by name although run.json does not name it.
    assert.equal(jobsJson!.code, 0, jobsJson!.stderr);
    const jobs = JSON.parse(jobsJson!.stdout).jobs as { jobName: string }[];
    assert.deepEqual(jobs.map((j) => j.jobName), [`${bed.knot}-${runId}-0`]);
  } finally {
    await bed.close();
  }
});

/**
 * Maps ITEMS on the test bed's knot as a map killed before it wrote run.json
 * and before it submitted item 2's job leaves the run, its submission over an
 * hour ago: item 2's job is not listed by the run's name (nor its record
 * kept), so no job can still come for it.
 */
async function runMissingItem2(bed: TestBed): Promise<string> {
  const runId = await runWithoutManifest(bed);
  const objects = bed.emu.s3.buckets.get(bed.resources.bucket)!.objects;
  const record = new RegExp(`^${bed.prefix}/runs/${runId}/out/(\\d+-)?(2-1|s2-2-1-\\d+)$`);
  for (const key of [...objects.keys()].filter((key) => record.test(key))) objects.delete(key);
  const hourAgo = Date.now() - 3_600_000;
  objects.get(`${bed.prefix}/runs/${runId}/index`)!.lastModified = new Date(hourAgo);
  for (const j of bed.emu.batch.jobs.values()) {
    if (j.jobName.startsWith(`${bed.knot}-${runId}-`)) j.createdAt = hourAgo;
    if (j.jobName === `${bed.knot}-${runId}-1`) j.jobName = "renamed";
  }
  return runId;
}

Deno.test("cloudknot logs and results of an item whose job was never submitted say to run cloudknot retry", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    const runId = await runMissingItem2(bed);
    const advice = new RegExp(
      `No AWS Batch job of run ${runId} runs item 2, .* before it submitted this item's job, ` +
        `so it never ran; map it again with cloudknot retry ${bed.knot} ${runId}$`,
      "m",
    );
    for (const follow of [["--follow"], []]) {
      const r = await cli(bed, ["logs", bed.knot, runId, "--item", "2", ...follow]).ended;
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^error: Item 2 has no output: No AWS Batch job/m);
      assert.match(r.stderr, advice);
    }
    const results = await cli(bed, ["results", bed.knot, runId]).ended;
    assert.equal(results.code, 1);
    const lines = results.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.slice(0, 2), [{ index: 0, value: 1 }, { index: 1, value: 1 }]);
    assert.equal(lines[2].error.name, "MissingJobError");
    assert.match(lines[2].error.message, advice);
  } finally {
    await bed.close();
  }
});

Deno.test("cloudknot retry of a run with an item whose job was never submitted runs that item, logs --item N --follow of the retry follows the retry's job for it and the earlier run's job for the others, and results gives every result", async () => {
  // The retry's attempts wait until the test lets them go, so that logs --follow meets one running.
  let hold = false;
  const held = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const bed = await startTestBed(job, {
    wrapRunner: (inner) => ({
      ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
      run: async (req) => {
        if (hold) {
          held.resolve();
          await release.promise;
        }
        return await inner.run(req);
      },
    }),
  });
  try {
    await recordKnot(bed);
    // The knot's Pars, which cloudknot retry checks is whole before it submits anything.
    await Pars.create({ name: "ck", session: bed.session, state: bed.state });
    const runId = await runMissingItem2(bed);
    hold = true;
    const retrying = cli(bed, ["retry", bed.knot, runId]);
    await retrying.printed(
      new RegExp(`^knot ${bed.knot} · run \\S+ retries 1 items of run ${runId}$`, "m"),
    );
    const retryId = new RegExp(`^knot ${bed.knot} · run (\\S+) retries`, "m").exec(
      retrying.stderr,
    )![1]!;
    await held.promise;
    // An item the retry did not run: the earlier run's job, found by its name.
    for (const [item, line] of [[0, "zero"], [1, "one"]] as const) {
      const earlier = await cli(bed, ["logs", bed.knot, retryId, "--item", `${item}`, "--follow"])
        .ended;
      assert.equal(earlier.code, 0, earlier.stderr);
      assert.equal(earlier.stdout, `${line}\n`);
    }
    // The retried item: the retry's job, running and silent until the test lets it go once the
    // command reads its log stream.
    const retryJob = [...bed.emu.batch.jobs.values()].find((j) =>
      j.jobName === `${bed.knot}-${retryId}-0`
    )!;
    const stream = retryJob.container.logStreamName as string;
    assert.ok(stream !== undefined, "the retry's job is running");
    const following = cli(bed, ["logs", bed.knot, retryId, "--item", "2", "--follow"]);
    const reads = () =>
      bed.emu.requests.filter({ service: "logs" }).some((r) => r.params.logStreamName === stream);
    let over = false;
    following.ended.then(() => over = true);
    while (!reads() && !over) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(!over, `logs --follow ended before it read the retry's job: ${following.stderr}`);
    assert.equal(following.stdout, "");
    release.resolve();
    const followed = await following.ended;
    assert.equal(followed.code, 0, followed.stderr);
    assert.equal(followed.stdout, "two\n");
    const retried = await retrying.ended;
    assert.equal(retried.code, 0, retried.stderr);
    const every = [0, 1, 2].map((index) => ({ index, value: 1 }));
    const lines = (text: string) => text.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines(retried.stdout), every);
    for (const run of [[retryId], []]) {
      const results = await cli(bed, ["results", bed.knot, ...run]).ended;
      assert.equal(results.code, 0, results.stderr);
      assert.deepEqual(lines(results.stdout), every);
    }
  } finally {
    release.resolve();
    await bed.close();
  }
});
