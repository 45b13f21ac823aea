// deno task bench:aws [items...] — map 10,000 and 25,000 items of ~50 ms on
// the AWS target, against the emulator (tests/emulator), on a compute
// environment of 64 vCPUs, with itemsPerJob "auto" and 1. The Batch children
// run the job entry's logic in this process (an InlineRunner calling
// runAttempt on an S3Store per child, or reading a child's slice with two
// ranged reads and running its items; at most 64 children at once), so every
// S3 request is real while no process starts per child. A child of a slice
// writes its records in segments, as the job entry does (RecordWriter).
//
// Reported per size: containers started (attempts Batch ran), requests per
// operation (the client's, split into submission and polling, and the
// children's), the time to submit, the time until every result is in beside
// the physical floor (items × 50 ms ÷ 64 slots), DescribeJobs and
// ListObjectsV2 per poll round, the rate at which a finished run is collected
// (collect() in this process), and the bytes the children read.
import { encodeItems } from "../src/job/codec.ts";
import { INDEX_ENTRY_BYTES } from "../src/job/mod.ts";
import type { PollRound } from "../src/targets/aws/batch/run_poller.ts";
import { AwsTarget } from "../src/targets/aws/aws_target.ts";
import { StateFile } from "../src/state/state_file.ts";
import { S3Store } from "../src/store/mod.ts";
import { forEachPooled } from "../src/util/pooled.ts";
import { startEmulator } from "../tests/emulator/mod.ts";
import { inlineJobRunner, setupBatchResources } from "../tests/targets/aws/helpers.ts";
import { sessionFor } from "../tests/support/aws_session.ts";

const SIZES = Deno.args.length > 0 ? Deno.args.map(Number) : [10_000, 25_000];
const VCPUS = 64;
const ITEM_MS = 50;
const fn = async (x: number) => {
  await new Promise((r) => setTimeout(r, 50));
  return x + 1;
};

type Entries = readonly { operation: string; accessKeyId?: string }[];
const count = (entries: Entries) => {
  const out: Record<string, number> = {};
  for (const e of entries) out[e.operation] = (out[e.operation] ?? 0) + 1;
  return out;
};
const fmt = (o: Record<string, number>) =>
  Object.entries(o).sort().map(([k, v]) => `${k} ${v.toLocaleString("en")}`).join(", ");

async function bench(N: number, itemsPerJob: number | "auto"): Promise<void> {
  // The client's own work: without AWS's lags (IAM, S3 visibility, network
  // release) and without Batch's rate, which the bench would only wait on.
  const emu = await startEmulator({
    realism: false,
    runner: inlineJobRunner(fn, { capacity: VCPUS }),
    ceValidDelayMs: 10,
    tickMs: 10,
  });
  const dir = await Deno.makeTempDir({ prefix: "ck-aws-bench-" });
  try {
    const session = await sessionFor(emu);
    const resources = await setupBatchResources(session, { name: "bench", maxvCpus: VCPUS });
    const rounds: PollRound[] = [];
    const options = {
      session,
      state: new StateFile({ path: `${dir}/cloudknot` }),
      knot: "bench",
      bucket: resources.bucket,
      prefix: "cloudknot/bench",
      jobQueue: resources.jobQueue,
      jobDefinition: resources.jobDefinition,
      attempts: 1,
      profile: "default",
      region: emu.region,
      pollIntervalMs: 250,
      maxPollIntervalMs: 2000,
    };
    const target = new AwsTarget({ ...options, onPoll: (_, round) => rounds.push(round) });
    const items = Array.from({ length: N }, (_, i) => i);
    const encoded = encodeItems(items);
    const itemBytes = encoded.reduce((n, b) => n + b.byteLength, 0);

    emu.requests.clear();
    const t0 = performance.now();
    const run = await target.map<number>({ items: encoded, starmap: false, env: {}, itemsPerJob });
    const submitMs = performance.now() - t0;
    const submitted = emu.requests.entries.length;
    const results = await run.results();
    const allMs = performance.now() - t0;
    await run.done;
    if (!results.every((v, i) => v === i + 1)) throw new Error("Wrong results");

    // Containers: the attempts Batch ran (array parents run none themselves).
    const containers = [...emu.batch.jobs.values()]
      .reduce((n, j) => n + j.attempts.length, 0);
    const client = emu.credentials.accessKeyId;
    const submitOps = count(
      emu.requests.entries.slice(0, submitted).filter((e) => e.accessKeyId === client),
    );
    const clientAfter = emu.requests.entries.slice(submitted).filter((e) =>
      e.accessKeyId === client
    );
    const children = emu.requests.entries.filter((e) => e.accessKeyId !== client);
    const lists = clientAfter.filter((e) => e.operation === "ListObjectsV2").length;

    // Collecting the finished run again, from its records.
    const collector = new AwsTarget(options);
    emu.requests.clear();
    const t1 = performance.now();
    const again = await collector.collect<number>(run.runId);
    const collected = await again.results();
    const collectMs = performance.now() - t1;
    await again.done;
    if (!collected.every((v, i) => v === i + 1)) throw new Error("Collect lost results");
    const collectOps = count(emu.requests.entries);

    // The floor for collect(), in the same process and load: one listing of
    // the record objects (records and segments) and a plain GET of each, 32
    // at a time, nothing decoded.
    const prefix = `cloudknot/bench/runs/${run.runId}`;
    const store = new S3Store({ session, bucket: resources.bucket, prefix });
    const t2 = performance.now();
    const keys: string[] = [];
    for await (const k of store.list("out/")) keys.push(k.key);
    await forEachPooled(keys, 32, async (k) => void await store.get(k));
    const floorCollectMs = performance.now() - t2;

    const inputsRead = emu.s3.bytesServed(resources.bucket, `${prefix}/inputs`);
    const indexRead = emu.s3.bytesServed(resources.bucket, `${prefix}/index`);
    const maxDescribe = Math.max(...rounds.map((r) => r.describeCalls));
    const floorMs = N * ITEM_MS / VCPUS;

    console.log(
      `## AWS target (emulator): ${
        N.toLocaleString("en")
      } items of ${ITEM_MS} ms, ${VCPUS} vCPUs, itemsPerJob ${JSON.stringify(itemsPerJob)}\n`,
    );
    console.log(`| measure | value |`);
    console.log(`| --- | --- |`);
    console.log(
      `| load average (1 min) at the end, on ${navigator.hardwareConcurrency} cores | ${
        Deno.loadavg()[0]!.toFixed(1)
      } |`,
    );
    console.log(`| containers started | ${containers.toLocaleString("en")} |`);
    console.log(
      `| client requests before map() returned | ${
        Object.values(submitOps).reduce((a, b) => a + b, 0)
      } (${fmt(submitOps)}) |`,
    );
    console.log(`| time to submit (map() call) | ${submitMs.toFixed(0)} ms |`);
    console.log(`| client requests after map() returned | ${fmt(count(clientAfter))} |`);
    console.log(
      `| poll rounds | ${rounds.length}, at most ${maxDescribe} DescribeJobs per round, ${
        (lists / Math.max(1, rounds.length)).toFixed(1)
      } ListObjectsV2 per round |`,
    );
    console.log(
      `| time until every result was in | ${(allMs / 1000).toFixed(1)} s = ${
        Math.round(N / (allMs / 1000))
      } results/s (floor: ${N} × ${ITEM_MS} ms ÷ ${VCPUS} = ${(floorMs / 1000).toFixed(1)} s) |`,
    );
    console.log(`| children's requests | ${fmt(count(children))} |`);
    console.log(
      `| collect() of the finished run | ${(collectMs / 1000).toFixed(2)} s = ${
        Math.round(N / (collectMs / 1000))
      } results/s (${fmt(collectOps)}) |`,
    );
    console.log(
      `| floor: list the ${
        keys.length.toLocaleString("en")
      } record objects and GET each, 32 at a time | ${(floorCollectMs / 1000).toFixed(2)} s = ${
        Math.round(keys.length / (floorCollectMs / 1000))
      } GETs/s |`,
    );
    console.log(
      `| bytes the children read | inputs ${inputsRead} + index ${indexRead} = ${
        inputsRead + indexRead
      }; items ${itemBytes} + index entries ${N * INDEX_ENTRY_BYTES} = ${
        itemBytes + N * INDEX_ENTRY_BYTES
      } |\n`,
    );
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const n of SIZES) {
  for (const itemsPerJob of ["auto", 1] as const) await bench(n, itemsPerJob);
}
