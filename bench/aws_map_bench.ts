// deno task bench:aws — map 10,000 items on the AWS target, against the
// emulator (tests/emulator). The Batch children run the job entry's logic in
// this process (an InlineRunner calling runAttempt on an S3Store per child),
// so every S3 request is real while no process starts per child.
//
// Reported: requests per operation (the client's, split into submission and
// polling, and the children's), the time to submit, the time until every
// result is in, DescribeJobs per poll round, the rate at which a finished run
// is collected (collect() in this process), and the bytes the children read.
import { encodeItems } from "../src/job/codec.ts";
import { INDEX_ENTRY_BYTES } from "../src/job/mod.ts";
import type { PollRound } from "../src/targets/aws/batch/run_poller.ts";
import { AwsTarget } from "../src/targets/aws/aws_target.ts";
import { StateFile } from "../src/state/state_file.ts";
import { startEmulator } from "../tests/emulator/mod.ts";
import { inlineJobRunner, setupBatchResources } from "../tests/targets/aws/helpers.ts";
import { sessionFor } from "../tests/support/aws_session.ts";

const N = Number(Deno.args[0] ?? 10_000);
const fn = (x: number) => x + 1;
// The client's own work, as BENCHMARKS.md measured it: without AWS's lags, scaled
// to the emulator's clock, and without Batch's rate, which the bench would only wait on.
const emu = await startEmulator({
  realism: false,
  runner: inlineJobRunner(fn, { capacity: 64 }),
  ceValidDelayMs: 10,
  tickMs: 10,
});
const dir = await Deno.makeTempDir({ prefix: "ck-aws-bench-" });
try {
  const session = await sessionFor(emu);
  const resources = await setupBatchResources(session, { name: "bench" });
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
  const run = await target.map<number>({ items: encoded, starmap: false, env: {} });
  const submitMs = performance.now() - t0;
  const submitted = emu.requests.entries.length;
  const results = await run.results();
  const allMs = performance.now() - t0;
  await run.done;
  if (!results.every((v, i) => v === i + 1)) throw new Error("Wrong results");

  const client = emu.credentials.accessKeyId;
  const count = (entries: typeof emu.requests.entries) => {
    const out: Record<string, number> = {};
    for (const e of entries) out[e.operation] = (out[e.operation] ?? 0) + 1;
    return out;
  };
  const submitOps = count(emu.requests.entries.slice(0, submitted));
  const clientAfter = emu.requests.entries.slice(submitted).filter((e) => e.accessKeyId === client);
  const children = emu.requests.entries.filter((e) => e.accessKeyId !== client);

  // Collecting the finished run again, from its records.
  const collector = new AwsTarget(options);
  emu.requests.clear();
  const t1 = performance.now();
  const again = await collector.collect<number>(run.runId);
  const collected = await again.results();
  const collectMs = performance.now() - t1;
  await again.done;
  if (collected.length !== N) throw new Error("Collect lost results");
  const collectOps = count(emu.requests.entries);

  const prefix = `cloudknot/bench/runs/${run.runId}`;
  const inputsRead = emu.s3.bytesServed(resources.bucket, `${prefix}/inputs`);
  const indexRead = emu.s3.bytesServed(resources.bucket, `${prefix}/index`);
  const maxDescribe = Math.max(...rounds.map((r) => r.describeCalls));

  const fmt = (o: Record<string, number>) =>
    Object.entries(o).sort().map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`## AWS target (emulator): ${N.toLocaleString("en")} items\n`);
  console.log(`| measure | value |`);
  console.log(`| --- | --- |`);
  console.log(
    `| requests before map() returned | ${submitted} (${fmt(submitOps)}) |`,
  );
  console.log(`| time to submit (map() call) | ${submitMs.toFixed(0)} ms |`);
  console.log(`| client requests after map() returned | ${fmt(count(clientAfter))} |`);
  console.log(`| poll rounds | ${rounds.length}, at most ${maxDescribe} DescribeJobs per round |`);
  console.log(`| time until every result was in | ${(allMs / 1000).toFixed(1)} s |`);
  console.log(`| children's requests | ${fmt(count(children))} |`);
  console.log(
    `| collect() of the finished run | ${(collectMs / 1000).toFixed(2)} s = ${
      Math.round(N / (collectMs / 1000))
    } results/s (${fmt(collectOps)}) |`,
  );
  console.log(
    `| bytes the children read | inputs ${inputsRead} + index ${indexRead} = ${
      inputsRead + indexRead
    }; items ${itemBytes} + index entries ${N * INDEX_ENTRY_BYTES} = ${
      itemBytes + N * INDEX_ENTRY_BYTES
    } |`,
  );
  console.log(
    `| the original's transfer (each child reads the whole input) | ${N} × ${itemBytes} = ${
      (N * itemBytes).toLocaleString("en")
    } bytes |`,
  );
} finally {
  await emu.close();
  await Deno.remove(dir, { recursive: true });
}
