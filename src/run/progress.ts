/**
 * Progress of a run on stderr: on a terminal, one line redrawn in place;
 * elsewhere (pipes, CI logs, notebooks), plain lines at an interval through
 * `console.error`, which notebooks capture.
 *
 * @module
 */
import type { MapRun } from "./map_run.ts";

/** Options for {@linkcode showProgress}. */
export interface ProgressOptions {
  /** Whether stderr is a terminal (default: `Deno.stderr.isTerminal()`). */
  isTerminal?: boolean;
  /** Writes a redrawn line to the terminal (default: a sync write to stderr). */
  write?: (text: string) => void;
  /** Writes a plain line (default: `console.error`). */
  log?: (line: string) => void;
  /** Milliseconds between plain lines when not on a terminal. @default {5000} */
  intervalMs?: number;
  /** Milliseconds between redraws on a terminal. @default {100} */
  redrawMs?: number;
}

/**
 * Formats a progress line: done, failed, running, rate and ETA.
 *
 * @example Usage
 * ```ts
 * import { MapRun } from "@cloudknot/cloudknot";
 * import { formatProgress } from "@cloudknot/cloudknot/run";
 *
 * const { run } = MapRun.create({ knot: "k", runId: "r", target: "local", total: 4, attempts: 1 });
 * console.log(formatProgress(run, Date.now())); // "k: 0/4 done · 0 running"
 * ```
 *
 * @param run The run.
 * @param now The current time in epoch milliseconds.
 * @returns One line.
 */
export function formatProgress(run: MapRun<unknown>, now: number): string {
  const c = run.counts;
  const done = c.succeeded + c.failed;
  const parts = [`${run.knot}: ${done}/${c.total} done`];
  if (c.failed > 0) parts.push(`${c.failed} failed`);
  parts.push(`${c.running} running`);
  const seconds = ((run.endedAt ?? now) - run.startedAt) / 1000;
  if (done > 0 && seconds > 0) {
    const rate = done / seconds;
    parts.push(`${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)}/s`);
    if (done < c.total) parts.push(`ETA ${formatSeconds((c.total - done) / rate)}`);
    else parts.push(`took ${formatSeconds(seconds)}`);
  }
  return parts.join(" · ");
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * Shows a run's progress until it finishes. Returns a function that stops
 * early; it is also stopped when the run finishes.
 *
 * @example Usage
 * ```ts
 * import { MapRun } from "@cloudknot/cloudknot";
 * import { showProgress } from "@cloudknot/cloudknot/run";
 *
 * const { run, control } = MapRun.create({ knot: "k", runId: "r", target: "local", total: 1, attempts: 1 });
 * const lines: string[] = [];
 * showProgress(run, { isTerminal: false, log: (l) => lines.push(l) });
 * control.settle({ version: 1, status: "ok", index: 0, attempt: 1, jobId: "j", endedAt: Date.now(), value: 1 });
 * await run.done;
 * console.log(lines.at(-1)?.startsWith("k: 1/1 done")); // true
 * ```
 *
 * @param run The run.
 * @param options Where and how often to write.
 * @returns Stops showing progress.
 */
export function showProgress(run: MapRun<unknown>, options: ProgressOptions = {}): () => void {
  const tty = options.isTerminal ?? Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const write = options.write ?? ((text: string) => {
    Deno.stderr.writeSync(encoder.encode(text));
  });
  const log = options.log ?? ((line: string) => console.error(line));
  let stopped = false;
  const tick = () => {
    const line = formatProgress(run, Date.now());
    if (tty) write(`\r\u001b[K${line}`);
    else log(line);
  };
  const timer = run.finished
    ? undefined
    : setInterval(tick, tty ? options.redrawMs ?? 100 : options.intervalMs ?? 5000);
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    tick();
    if (tty) write("\n");
  };
  if (timer === undefined) {
    stop();
    return stop;
  }
  if (tty) tick();
  run.done.then(stop);
  return stop;
}
