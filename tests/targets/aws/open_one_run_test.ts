// A command that opens one run of an AWS knot (`cloudknot results`, `logs`,
// `jobs`, `retry`) reads the manifest of that run, not of every run the knot
// has: by id or prefix, the runs whose id it names; without one, the newest
// runs, down only as far as the first that has a manifest; and each once, the
// manifests read to pick the run being those its handle opens with (a retry of a
// run made in the same second included).
import assert from "node:assert/strict";
import { encodeItems } from "../../../src/job/codec.ts";
import { RUN_KEYS, type RunManifest, writeManifest } from "../../../src/job/mod.ts";
import type { MapRun } from "../../../src/run/map_run.ts";
import type { RetryOf } from "../../../src/run/retry.ts";
import { newRunId } from "../../../src/targets/target.ts";
import type { LoggedRequest } from "../../emulator/mod.ts";
import { cli, job, recordKnot, startTestBed, type TestBed } from "./helpers.ts";

/** How many times these requests read each run's manifest (`run.json`, or the index that carries it). */
function manifestReads(bed: TestBed, entries: readonly LoggedRequest[]): Record<string, number> {
  const reads: Record<string, number> = {};
  for (const { operation, params } of entries) {
    if (operation !== "GetObject" && operation !== "HeadObject") continue;
    const key = String(params.Key);
    const [id, name] = key.slice(`${bed.prefix}/runs/`.length).split("/");
    if (name === RUN_KEYS.manifest || name === RUN_KEYS.index) reads[id!] = (reads[id!] ?? 0) + 1;
  }
  return reads;
}

/** The runs whose manifest (`run.json`, or the index that carries it) these requests read. */
function manifestsRead(bed: TestBed, entries: readonly LoggedRequest[]): string[] {
  return Object.keys(manifestReads(bed, entries)).sort();
}

/** Maps items on the test bed's knot (a retry, with `retryOf`) and waits for the run to end. */
async function mapToEnd(
  bed: TestBed,
  items: number[],
  retryOf?: RetryOf,
): Promise<MapRun<unknown>> {
  const run = await bed.target().map({
    items: encodeItems(items),
    starmap: false,
    env: {},
    itemsPerJob: 1,
    ...(retryOf !== undefined ? { retryOf } : {}),
  });
  await run.done;
  return run;
}

/**
 * Maps 1 and 2 on the test bed's knot (then `unrelated`, a run of its own,
 * when given), a retry of the first run's item 1, and a retry of that
 * retry's item: their items square to 1 and 4.
 */
async function retriedTwice(
  bed: TestBed,
  unrelated?: number[],
): Promise<{ first: string; unrelated?: string; retry: string; again: string }> {
  const map = async (items: number[], retryOf?: RetryOf) =>
    (await mapToEnd(bed, items, retryOf)).runId;
  const first = await map([1, 2]);
  const other = unrelated === undefined ? {} : { unrelated: await map(unrelated) };
  const retry = await map([2], { runId: first, items: [1] });
  return { first, ...other, retry, again: await map([1], { runId: retry, items: [0] }) };
}

/**
 * Maps one item per run on the test bed's knot, each run in a second of its
 * own (a run id names its second), and gives the runs' ids, oldest first.
 */
async function runsInSecondsOfTheirOwn(bed: TestBed, items: number[]): Promise<string[]> {
  const ids: string[] = [];
  let last = 0;
  for (const item of items) {
    while (Math.floor(Date.now() / 1000) <= Math.floor(last / 1000)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const run = await mapToEnd(bed, [item]);
    // The run's id is made before its manifest's createdAt: no later second than it.
    last = run.startedAt;
    ids.push(run.runId);
  }
  return ids;
}

Deno.test("cloudknot results of an AWS run named by its id, by a prefix of it, or of the latest run reads that run's manifest and no other of the knot's five", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    const ids = await runsInSecondsOfTheirOwn(bed, [1, 2, 3, 4, 5]);
    const cases: [args: string[], value: number, read: string][] = [
      [[ids[1]!], 4, ids[1]!],
      // The second it was made in names one run.
      [[ids[2]!.slice(0, "20261126T120102Z".length)], 9, ids[2]!],
      [[], 25, ids[4]!],
    ];
    for (const [args, value, read] of cases) {
      bed.emu.requests.clear();
      const results = await cli(bed, ["results", bed.knot, ...args]).ended;
      assert.equal(results.code, 0, results.stderr);
      assert.deepEqual(JSON.parse(results.stdout), { index: 0, value });
      assert.deepEqual(
        manifestsRead(bed, bed.emu.requests.entries),
        [read],
        `results ${args.join(" ")} reads only the manifest of run ${read}`,
      );
      // A whole id is read where it is: the knot's runs are not listed for it.
      const listed = bed.emu.requests.entries.some(({ operation, params }) =>
        operation === "ListObjectsV2" && params.prefix === `${bed.prefix}/runs/`
      );
      assert.equal(listed, args[0] !== ids[1], `results ${args.join(" ")} lists the runs`);
    }
    // The errors of a run id that names no run, or several, are the same.
    const none = await cli(bed, ["results", bed.knot, "20000101T000000Z-000000"]).ended;
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      new RegExp(
        `^error: Knot ${bed.knot} has no run "20000101T000000Z-000000": ` +
          `list its runs with \`cloudknot knot show ${bed.knot}\`$`,
        "m",
      ),
    );
    const several = await cli(bed, ["results", bed.knot, "2"]).ended;
    assert.equal(several.code, 1);
    assert.match(
      several.stderr,
      new RegExp(`^error: Run id "2" matches 5 runs of knot ${bed.knot}: give more of the id`, "m"),
    );
  } finally {
    await bed.close();
  }
});

Deno.test("the latest AWS run is the newest second's run made last, passing over newer run folders without a manifest, as among all the knot's runs, with no older run's manifest read", async () => {
  const bed = await startTestBed(job);
  try {
    const [older, newest] = await runsInSecondsOfTheirOwn(bed, [1, 2]);
    const target = bed.target();
    const [, made] = await target.runs() as [RunManifest, RunManifest];
    assert.equal(made.runId, newest);
    // A run of the same second whose id sorts after the newest's: createdAt tells them apart.
    const second = newest!.slice(0, "20261126T120102Z".length);
    const sibling = `${second}-ffffff`;
    assert.notEqual(sibling, newest);
    const write = (manifest: RunManifest) =>
      writeManifest(target.store.at(`runs/${manifest.runId}`), manifest);
    // A map killed while it uploaded its inputs, a minute later: a folder without a manifest.
    const killed = newRunId(made.createdAt + 60_000);
    await target.store.at(`runs/${killed}`).put(RUN_KEYS.inputs, new Uint8Array([1]));
    // A run folder of another name, which says nothing of when its run was made.
    const other = "hand-made";

    const latest = async (expected: string, reads: string[]) => {
      bed.emu.requests.clear();
      const named = await target.runsNamed();
      assert.equal(named.at(-1)?.runId, expected);
      assert.deepEqual(manifestsRead(bed, bed.emu.requests.entries), [...reads].sort());
      // Every manifest read to find it comes with it, so that a handle of a retry of one of them
      // opens without reading it again.
      assert.deepEqual(
        named.map((m) => m.runId).sort(),
        reads.filter((id) => id !== killed).sort(),
        "the manifests read",
      );
      assert.deepEqual(named.at(-1), (await target.runs()).at(-1), "the run all the runs end with");
    };
    await write({ ...made, runId: sibling, createdAt: made.createdAt - 1 });
    await write({ ...made, runId: other, createdAt: made.createdAt - 2 });
    await latest(newest!, [killed, newest!, sibling, other]);
    await write({ ...made, runId: sibling, createdAt: made.createdAt + 1 });
    await latest(sibling, [killed, newest!, sibling, other]);
    await write({ ...made, runId: other, createdAt: made.createdAt + 2 });
    await latest(other, [killed, newest!, sibling, other]);

    // By id, or a prefix: the manifests of the runs whose id it is or starts with.
    const by = async (runId: string, expected: string[], reads: string[]) => {
      bed.emu.requests.clear();
      assert.deepEqual((await target.runsNamed(runId)).map((m) => m.runId), expected);
      assert.deepEqual(manifestsRead(bed, bed.emu.requests.entries), [...reads].sort());
    };
    await by(older!, [older!], [older!]);
    await by(second, [newest!, sibling], [newest!, sibling]);
    await by(killed, [], [killed]);
    await by("20000101T", [], []);
  } finally {
    await bed.close();
  }
});

Deno.test("cloudknot results of an AWS retry of a retry reads the manifests of the runs it retries and no other run's", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    const { first, unrelated, retry, again } = await retriedTwice(bed, [3]);
    bed.emu.requests.clear();
    const results = await cli(bed, ["results", bed.knot, again]).ended;
    assert.equal(results.code, 0, results.stderr);
    assert.deepEqual(
      results.stdout.trim().split("\n").map((line) => JSON.parse(line)),
      [{ index: 0, value: 1 }, { index: 1, value: 4 }],
    );
    const read = manifestsRead(bed, bed.emu.requests.entries);
    assert.deepEqual(read, [again, retry, first].sort(), `not run ${unrelated}'s`);
  } finally {
    await bed.close();
  }
});

Deno.test("cloudknot results and knot show of an AWS knot read each run's manifest once: the one read to pick the run is the one its handle opens with", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    const { first, retry, again } = await retriedTwice(bed);
    const once = { [first]: 1, [retry]: 1, [again]: 1 };
    for (const args of [[again], []]) {
      bed.emu.requests.clear();
      const results = await cli(bed, ["results", bed.knot, ...args]).ended;
      assert.equal(results.code, 0, results.stderr);
      assert.deepEqual(
        results.stdout.trim().split("\n").map((line) => JSON.parse(line)),
        [{ index: 0, value: 1 }, { index: 1, value: 4 }],
      );
      assert.deepEqual(manifestReads(bed, bed.emu.requests.entries), once, `results ${args}`);
    }
    bed.emu.requests.clear();
    const show = await cli(bed, ["knot", "show", bed.knot, "--json"]).ended;
    assert.equal(show.code, 0, show.stderr);
    assert.deepEqual(
      JSON.parse(show.stdout).runs.map((r: { runId: string }) => r.runId),
      [first, retry, again],
    );
    assert.deepEqual(manifestReads(bed, bed.emu.requests.entries), once, "knot show");
  } finally {
    await bed.close();
  }
});

Deno.test("an AWS run handed to collect() with a manifest read before its map wrote its jobs is read again, and opens with the jobs written since, found by no listing", async () => {
  const bed = await startTestBed(job);
  try {
    const made = await mapToEnd(bed, [3]);
    const target = bed.target();
    const [read] = await target.runsNamed(made.runId);
    assert.ok(read?.jobs !== undefined);
    // As the index carried it while its map still submitted: no jobs yet.
    const { jobs: _, ...early } = read;
    for (const [manifest, reads] of [[early, 1], [read, 0]] as const) {
      bed.emu.requests.clear();
      const manifests = new Map([[made.runId, manifest]]);
      const run = await target.collect<number>(made.runId, { manifests });
      assert.deepEqual(await run.results(), [9]);
      assert.deepEqual(
        manifestReads(bed, bed.emu.requests.entries),
        reads ? { [made.runId]: 1 } : {},
      );
      assert.equal(bed.emu.count("batch", "ListJobs"), 0, "its jobs are not looked for by name");
      assert.deepEqual(manifests.get(made.runId), read);
    }
  } finally {
    await bed.close();
  }
});
