// What a worker's watcher costs where there is no setpriv (src/job/parent_watch.ts):
//   deno run -A bench/worker_watcher.ts [rounds]
// Per round: the time this thread is blocked starting one (`watchWorker`),
// the time to stop and reap it, and its resident memory (Linux /proc); then
// the pid's `sh` is gone. Medians (min–max) of the rounds.
import { watchWorker } from "../src/job/parent_watch.ts";

const rounds = Number(Deno.args[0] ?? 50);
const start: number[] = [];
const stop: number[] = [];
const rssKiB: number[] = [];
// A process to watch that nothing kills: this one's own sleep.
const target = new Deno.Command("sleep", { args: ["600"] }).spawn();
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  const watcher = watchWorker("/bin/sh", target.pid, { group: false });
  start.push(performance.now() - t0);
  // Its memory once it is asleep in `read`.
  const pid = watcherPid(target.pid);
  await new Promise((resolve) => setTimeout(resolve, 20));
  if (pid !== undefined) {
    const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    if (rss) rssKiB.push(Number(rss[1]));
  }
  const t1 = performance.now();
  await watcher.stop();
  stop.push(performance.now() - t1);
}
target.kill("SIGKILL");
await target.status;

function watcherPid(target: number): number | undefined {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (cmdline.includes("cloudknot-watcher") && cmdline.includes(String(target))) {
        return Number(entry.name);
      }
    } catch {
      // Gone while we looked.
    }
  }
  return undefined;
}

const summary = (values: number[], digits: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(digits);
  return `${f(sorted[Math.floor(sorted.length / 2)]!)} (${f(sorted[0]!)}–${f(sorted.at(-1)!)})`;
};
console.log(`rounds: ${rounds}`);
console.log(`start (this thread blocked), ms: ${summary(start, 2)}`);
console.log(`stop and reap, ms: ${summary(stop, 2)}`);
console.log(`watcher's resident memory, KiB: ${summary(rssKiB, 0)}`);
