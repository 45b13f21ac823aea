// An AWS map() uploads its inputs to S3 as it reads them, a chunk at a time
// (a multipart upload past 16 MiB, four parts at a time), so a map of many
// or large items holds about four parts in memory, not every encoded item twice; inputs that fail
// midway submit nothing and leave nothing in the bucket; a map without items
// asks AWS nothing (not even what slicing needs).
import assert from "node:assert/strict";
import { encodeItems } from "../../../src/job/codec.ts";
import { encodeInputs } from "../../../src/job/inputs.ts";
import { inlineJobRunner, job, jobsNamed, startTestBed } from "./helpers.ts";

/** Items of 1 MiB: 17 fill the first 16 MiB the upload reads before its first part. */
const ITEM = 1024 * 1024;

Deno.test("AWS target: map uploads its inputs as it reads them, and inputs that fail midway submit and keep nothing", async (t) => {
  const bed = await startTestBed(job);
  const target = bed.target();
  const { emu } = bed;
  const bucket = () => emu.s3.buckets.get(bed.resources.bucket)!;
  const runKeys = () => [...bucket().objects.keys()].filter((k) => k.includes("/runs/"));
  // Seven parts of 8 MiB: four go up at once, so when item 48 (in part 7) is
  // read, three of parts 1 to 6 are done.
  const items = Array.from({ length: 56 }, (_, i) => ({ i, pad: `${i % 10}`.repeat(ITEM) }));
  try {
    await t.step("parts of the inputs are in S3 before the last items are read", async () => {
      let parts = -1;
      async function* chunks() {
        for (const [i, item] of items.entries()) {
          if (i === 48) {
            parts = emu.requests.filter({ service: "s3", operation: "UploadPart" })
              .filter((e) => String(e.params.Key).endsWith("/inputs")).length;
          }
          yield encodeItems([item]);
        }
      }
      const run = await target.map<typeof items[number]>({
        items: chunks(),
        starmap: false,
        env: {},
        itemsPerJob: 56,
      });
      assert.ok(parts >= 3, `${parts} parts of inputs were uploaded when item 48 was read`);
      assert.deepEqual(await run.results(), items);
    });

    await t.step(
      "inputs that throw midway reject the map, submit nothing and keep nothing",
      async () => {
        const keys = runKeys();
        const state = await bed.state.read();
        const runs = state.get("knot squares")?.get("runs");
        emu.requests.clear();
        async function* chunks() {
          for (const item of items.slice(0, 20)) yield encodeItems([item]);
          throw new Error("the input file is truncated");
        }
        await assert.rejects(
          target.map({ items: chunks(), starmap: false, env: {} }),
          /truncated/,
        );
        // The upload had begun (the failure came after its first parts) and was aborted.
        const s3 = (operation: string) =>
          emu.requests.filter({ service: "s3", operation }).map((e) => e.params.Key);
        assert.equal(s3("UploadPart").length, 2);
        assert.deepEqual(s3("AbortMultipartUpload"), s3("CreateMultipartUpload"));
        assert.deepEqual(emu.requests.filter({ service: "batch", operation: "SubmitJob" }), []);
        assert.deepEqual(runKeys(), keys);
        const after = await bed.state.read();
        assert.equal(after.get("knot squares")?.get("runs"), runs);
        assert.equal(jobsNamed(emu, "squares-").length, 1);
      },
    );
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: an empty map asks AWS nothing and returns a settled handle of no items", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    const empties = {
      "an empty list": () => [],
      "inputs read lazily that end at once": () => encodeInputs([]),
      "chunks that hold no items": () =>
        (async function* () {
          yield [];
          yield [];
        })(),
    };
    for (const [what, items] of Object.entries(empties)) {
      // A fresh target: the facts slicing reads are kept by the target that read them.
      const target = bed.target();
      emu.requests.clear();
      const run = await target.map({ items: items(), starmap: false, env: {} });
      assert.deepEqual(
        emu.requests.entries.map((e) => `${e.service} ${e.operation}`),
        [],
        `${what}: the requests sent`,
      );
      assert.equal(run.total, 0, what);
      assert.deepEqual(await run.results(), [], what);
      await run.done;
      // Nothing failed, so nothing to run again: its retry is the run itself.
      assert.equal(await run.retry(), run, what);
      assert.deepEqual(emu.requests.entries, [], `${what}: the retry's requests`);
      assert.equal(await target.runs().then((runs) => runs.length), 0, what);
    }
  } finally {
    await bed.close();
  }
});

/**
 * A never-ending input, encoded as `Knot.map` encodes one; `read` counts the
 * items it gave. A tripwire past 1,000 items fails a map that reads on,
 * instead of leaving it reading for ever.
 */
function endless(read: { items: number }, onItem: (n: number) => void = () => {}) {
  return encodeInputs(
    (async function* () {
      for (let i = 0;; i++) {
        if (++read.items > 1000) {
          throw new Error("map() read past 1,000 items of a never-ending input");
        }
        onItem(read.items);
        yield i;
      }
    })(),
    { starmap: false },
  );
}

Deno.test("AWS target: a map whose signal was aborted before it rejects with its reason at once, reading no input, even a never-ending one, and sending AWS nothing", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    const target = bed.target();
    const read = { items: 0 };
    const reason = new Error("stopped before");
    emu.requests.clear();
    await assert.rejects(
      target.map({
        items: endless(read),
        starmap: false,
        env: {},
        signal: AbortSignal.abort(reason),
      }),
      (e) => e === reason,
    );
    assert.equal(read.items, 0);
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.deepEqual(emu.requests.entries.map((e) => `${e.service} ${e.operation}`), []);
    assert.deepEqual(await target.runs(), []);
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: aborting the map's signal while it reads a never-ending input stops the reading: map() resolves with the items read, each cancelled, and nothing submitted or kept", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    const target = bed.target();
    const bucket = () => emu.s3.buckets.get(bed.resources.bucket)!;
    const read = { items: 0 };
    const controller = new AbortController();
    emu.requests.clear();
    const run = await target.map({
      items: endless(read, (n) => {
        if (n === 30) controller.abort(new Error("enough read"));
      }),
      starmap: false,
      env: {},
      signal: controller.signal,
    });
    assert.ok(run.total > 0 && run.total <= 30, `${run.total} items in the run`);
    assert.ok(read.items <= 31, `${read.items} items read`);
    const settled = await run.settled();
    assert.equal(settled.length, run.total);
    for (const s of settled) {
      assert.equal(s.status, "rejected");
      assert.match(String((s as PromiseRejectedResult).reason), /enough read/);
    }
    assert.deepEqual(emu.requests.filter({ service: "batch", operation: "SubmitJob" }), []);
    assert.deepEqual([...bucket().objects.keys()].filter((k) => k.includes("/runs/")), []);
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: a map of one item, and a dry run with a number of items per job, read nothing slicing needs; a second item in a later chunk is still sliced", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  const slicingReads = () =>
    emu.requests.entries.filter((e) =>
      ["DescribeJobDefinitions", "DescribeJobQueues", "DescribeComputeEnvironments"]
        .includes(e.operation)
    ).map((e) => e.operation);
  // One item to a chunk, as inputs read lazily come, the buffers of each gone once the next is asked for.
  const oneByOne = (n: number) => fleetingChunks(n, 1);
  try {
    // A fresh target each time: the facts slicing reads are kept by the target that read them.
    emu.requests.clear();
    const one = await bed.target().map<number>({ items: oneByOne(1), starmap: false, env: {} });
    assert.deepEqual(await one.results(), [0]);
    assert.deepEqual(slicingReads(), [], "one item");

    emu.requests.clear();
    const plan = await bed.target().plan({
      items: encodeItems(Array.from({ length: 10 }, (_, i) => i)),
      starmap: false,
      env: {},
      itemsPerJob: 5,
    });
    assert.equal(plan.find("array job")?.details?.["items per job"], 5);
    assert.deepEqual(slicingReads(), [], "a dry run with itemsPerJob: 5");

    // Two items, the second in a later chunk: read, and sliced into one child.
    emu.requests.clear();
    const two = await bed.target().map<number>({ items: oneByOne(2), starmap: false, env: {} });
    assert.deepEqual(await two.results(), [0, 1]);
    assert.deepEqual(slicingReads().toSorted(), [
      "DescribeComputeEnvironments",
      "DescribeJobDefinitions",
      "DescribeJobQueues",
    ]);
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: a map whose slicing facts cannot be read lets go of its inputs and writes nothing", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    const target = bed.target();
    emu.faults.add({ service: "batch", operation: "DescribeJobDefinitions", kind: "500" });
    let read = 0;
    let closed = false;
    const chunks = async function* () {
      try {
        for (let i = 0; i < 5; i++) {
          read++;
          yield encodeItems([i]);
        }
      } finally {
        closed = true;
      }
    };
    emu.requests.clear();
    await assert.rejects(target.map({ items: chunks(), starmap: false, env: {} }), /500|Internal/);
    // Read up to the second item (one item needs no slicing), then let go.
    assert.equal(read, 2);
    assert.ok(closed, "the inputs' generator was closed");
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(emu.count("s3"), 0);
  } finally {
    await bed.close();
  }
});

/**
 * Chunks of encoded items that are gone once the next chunk is asked for (the
 * buffers of a chunk are detached then), so a reader that keeps earlier chunks
 * to use later finds them empty. `read` counts the items handed out.
 */
function fleetingChunks(chunks: number, perChunk: number, read = { items: 0 }) {
  return (async function* () {
    for (let c = 0; c < chunks; c++) {
      const chunk = encodeItems(Array.from({ length: perChunk }, (_, i) => c * perChunk + i));
      read.items += chunk.length;
      yield chunk;
      for (const buffer of new Set(chunk.map((b) => b.buffer as ArrayBuffer))) buffer.transfer();
    }
  })();
}

Deno.test("AWS target: a map's dry run reads its inputs a chunk at a time, keeping none, and plans the bytes the run writes", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  const target = bed.target();
  // 40 chunks of 1,000 items: what every item weighs, chunk by chunk, as the run reads it.
  const chunks = 40;
  const perChunk = 1000;
  let bytes = 0;
  for (let c = 0; c < chunks; c++) {
    bytes += encodeItems(Array.from({ length: perChunk }, (_, i) => c * perChunk + i))
      .reduce((n, b) => n + b.byteLength, 0);
  }
  try {
    emu.requests.clear();
    const read = { items: 0 };
    const plan = await target.plan({
      items: fleetingChunks(chunks, perChunk, read),
      starmap: false,
      env: {},
    });
    assert.equal(read.items, chunks * perChunk);
    assert.ok(plan.title.startsWith(`Map ${chunks * perChunk} items`), plan.title);
    const objects = plan.steps.filter((s) => s.kind === "S3 object");
    assert.deepEqual(objects.map((s) => s.details?.bytes), [bytes, chunks * perChunk * 16]);
    // Where they go, as S3 locations: the store URL's settings (?region=…) are no part of them.
    assert.deepEqual(
      objects.map((s) => s.name),
      ["inputs", "index"].map((key) =>
        `s3://${bed.resources.bucket}/cloudknot/${bed.knot}/runs/<run id>/${key}`
      ),
    );
    assert.deepEqual(emu.mutatingRequests(), []);

    // The run of the same inputs writes objects of the sizes planned.
    const controller = new AbortController();
    const run = await target.map({
      items: fleetingChunks(chunks, perChunk),
      starmap: false,
      env: {},
      signal: controller.signal,
    });
    controller.abort();
    await run.done.catch(() => {});
    const sizes = [...emu.s3.buckets.get(bed.resources.bucket)!.objects.entries()]
      .filter(([key]) => key.includes(`/runs/${run.runId}/`))
      .map(([key, object]) => [key.split("/").at(-1), object.body.byteLength]);
    assert.deepEqual(
      Object.fromEntries(sizes.filter(([key]) => key === "inputs" || key === "index")),
      { inputs: bytes, index: chunks * perChunk * 16 },
    );
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: chunks that hold no items midway are skipped and every item is uploaded", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    const target = bed.target();
    const chunks = async function* () {
      yield encodeItems([1]);
      yield [];
      yield [];
      yield encodeItems([2, 3]);
      yield [];
    };
    const run = await target.map<number>({ items: chunks(), starmap: false, env: {} });
    assert.equal(run.total, 3);
    const index = [...emu.s3.buckets.get(bed.resources.bucket)!.objects.entries()]
      .find(([key]) => key.endsWith(`/runs/${run.runId}/index`))?.[1];
    assert.equal(index?.body.byteLength, 3 * 16);
    assert.deepEqual(await run.results(), [1, 4, 9]);
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: a run whose manifest passes S3's 2 KB of object metadata (a large or non-ASCII env, a retry of many items) is recorded in run.json before any job is submitted", async (t) => {
  // The children run in this process: the test is about what map() writes.
  const bed = await startTestBed(job, { emulator: { runner: inlineJobRunner(job) } });
  const { emu } = bed;
  const object = (key: string) => emu.s3.buckets.get(bed.resources.bucket)!.objects.get(key);
  /** The first write of a run's run.json, and its first SubmitJob, in the emulator's log. */
  const order = (runId: string) => {
    const put = emu.requests.filter({ service: "s3", operation: "PutObject" })
      .find((e) => e.params.Key === `cloudknot/squares/runs/${runId}/run.json`);
    const submit = emu.requests.filter({ service: "batch", operation: "SubmitJob" })
      .find((e) => String(e.params.jobName).includes(runId));
    return { put: put?.seq ?? Infinity, submit: submit?.seq ?? -Infinity };
  };
  try {
    await t.step("an env of 3 KB with accented and CJK values", async () => {
      const env = { NOTE: "x".repeat(3000), GREETING: "grüße, 日本" };
      const run = await bed.target().map<number>({
        items: encodeItems([1, 2, 3]),
        starmap: false,
        env,
      });
      const { put, submit } = order(run.runId);
      assert.ok(put < submit, "run.json was written before the first SubmitJob");
      assert.deepEqual(await run.results(), [1, 4, 9]);
      // Another process finds the run, and what a retry of it needs.
      const runs = await bed.target().runs();
      assert.deepEqual(runs.find((m) => m.runId === run.runId)?.env, env);
      assert.deepEqual(await (await bed.target().collect<number>(run.runId)).results(), [1, 4, 9]);
      const index = object(`cloudknot/squares/runs/${run.runId}/index`)!;
      assert.deepEqual(index.metadata, {});
    });

    await t.step(
      "a small env with accented and CJK values rides on the index, escaped",
      async () => {
        const env = { GREETING: "grüße, 日本" };
        const run = await bed.target().map<number>({
          items: encodeItems([4, 5]),
          starmap: false,
          env,
        });
        assert.deepEqual(await run.results(), [16, 25]);
        const index = object(`cloudknot/squares/runs/${run.runId}/index`)!;
        assert.match(index.metadata["cloudknot-run"]!, /gr\\u00fc\\u00dfe, \\u65e5\\u672c/);
        const runs = await bed.target().runs();
        assert.deepEqual(runs.find((m) => m.runId === run.runId)?.env, env);
      },
    );

    await t.step("a retry of 500 failed items of 1,000", async () => {
      const items = Array.from({ length: 1000 }, (_, i) => (i % 2 ? { throw: i } : i));
      const run = await bed.target().map<unknown>({
        items: encodeItems(items),
        starmap: false,
        env: {},
      });
      assert.equal((await run.settled()).filter((s) => s.status === "rejected").length, 500);
      const retried = await run.retry({ progress: false });
      const settled = await retried.settled();
      // Every item ran again and failed as before: the retry was submitted.
      assert.deepEqual(
        settled.flatMap((s) => s.status === "rejected" ? [s.reason.kind] : []),
        Array(500).fill("threw"),
      );
      const retry = (await bed.target().runs()).find((m) => m.retryOf?.runId === run.runId)!;
      assert.equal(retry.retryOf!.items.length, 500);
      const { put, submit } = order(retry.runId);
      assert.ok(put < submit, "the retry's run.json was written before its first SubmitJob");
    });
  } finally {
    await bed.close();
  }
});
