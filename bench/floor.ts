// deno run -A bench/floor.ts <lines|worker|batched|bytes> <items> <concurrency> [bytes]
//
// The physical floors the local target is measured against, on this machine:
//
// - lines: child Deno processes, each sent one JSON line per item on its stdin
//   and answering one JSON line on its stdout, one item in flight per child
//   (the unbatched floor of process isolation);
// - worker: Worker threads in this process, one structured-clone message per
//   item each way, one item in flight per worker (no process isolation);
// - batched: the child processes of "lines", sent 1,000 items per line;
// - bytes: the Worker threads of "worker", each item a Uint8Array of `bytes`
//   bytes (structured clone copies it), answered with its length: the floor
//   of the local target's 1 MiB items, without process isolation or a disk.
//
// Every item is its index (in "bytes", a Uint8Array made before the clock
// starts, as the caller's data); the answer is the index (its length).
// Prints one JSON line: { mode, items, ms, usPerItem }.
const [mode = "lines", itemsArg = "10000", concurrencyArg = "2", bytesArg = "1048576"] = Deno.args;
const items = Number(itemsArg);
const concurrency = Number(concurrencyArg);
const BATCH = 1000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Runs items on one endpoint: `send` posts a message, answers come to `onAnswer`. */
interface Lane {
  send(first: number, count: number): void;
  close(): Promise<void>;
}

function childLane(onAnswer: (count: number) => void): Lane {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", new URL("./floor_child.ts", import.meta.url).href],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reading = (async () => {
    let carry = "";
    for await (const chunk of child.stdout) {
      const text = carry + decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      carry = lines.pop()!;
      for (const line of lines) onAnswer((JSON.parse(line) as number[]).length);
    }
  })();
  return {
    send(first, count) {
      const batch = Array.from({ length: count }, (_, i) => first + i);
      writer.write(encoder.encode(JSON.stringify(batch) + "\n"));
    },
    async close() {
      await writer.close();
      await reading;
      await child.status;
    },
  };
}

const payload = mode === "bytes"
  ? Array.from({ length: items }, (_, i) => new Uint8Array(Number(bytesArg)).fill(i % 256))
  : [];

function workerLane(onAnswer: (count: number) => void): Lane {
  const worker = new Worker(new URL("./floor_worker.ts", import.meta.url).href, { type: "module" });
  worker.onmessage = (e) => onAnswer((e.data as number[]).length);
  return {
    send(first, count) {
      if (mode === "bytes") worker.postMessage(payload[first]);
      else worker.postMessage(Array.from({ length: count }, (_, i) => first + i));
    },
    close() {
      worker.terminate();
      return Promise.resolve();
    },
  };
}

const per = mode === "batched" ? BATCH : 1;
let next = 0;
let answered = 0;
const finished = Promise.withResolvers<void>();
const lanes: Lane[] = [];
const start = performance.now();
for (let i = 0; i < concurrency; i++) {
  const lane: Lane = (mode === "worker" || mode === "bytes" ? workerLane : childLane)((count) => {
    answered += count;
    if (answered === items) finished.resolve();
    else feed(lane);
  });
  lanes.push(lane);
}
function feed(lane: Lane): void {
  if (next >= items) return;
  const count = Math.min(per, items - next);
  lane.send(next, count);
  next += count;
}
const ready = performance.now();
for (const lane of lanes) feed(lane);
await finished.promise;
const ms = performance.now() - ready;
await Promise.all(lanes.map((l) => l.close()));
console.log(JSON.stringify({
  mode,
  items,
  concurrency,
  startMs: Math.round(ready - start),
  ms: Math.round(ms),
  usPerItem: Number((ms * 1000 / items).toFixed(2)),
}));
