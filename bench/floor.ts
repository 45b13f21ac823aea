// deno run -A bench/floor.ts <lines|worker|batched> <items> <concurrency>
//
// The physical floors the local target is measured against, on this machine:
//
// - lines: child Deno processes, each sent one JSON line per item on its stdin
//   and answering one JSON line on its stdout, one item in flight per child
//   (the unbatched floor of process isolation);
// - worker: Worker threads in this process, one structured-clone message per
//   item each way, one item in flight per worker (no process isolation);
// - batched: the child processes of "lines", sent 1,000 items per line.
//
// Every item is its index; the answer is the index. Prints one JSON line:
// { mode, items, ms, usPerItem }.
const [mode = "lines", itemsArg = "10000", concurrencyArg = "2"] = Deno.args;
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

function workerLane(onAnswer: (count: number) => void): Lane {
  const worker = new Worker(new URL("./floor_worker.ts", import.meta.url).href, { type: "module" });
  worker.onmessage = (e) => onAnswer((e.data as number[]).length);
  return {
    send(first, count) {
      worker.postMessage(Array.from({ length: count }, (_, i) => first + i));
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
  const lane: Lane = (mode === "worker" ? workerLane : childLane)((count) => {
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
