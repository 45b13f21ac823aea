/**
 * Progress of a run: on a terminal, one line on stderr redrawn in place; in a
 * Jupyter notebook, one display in the cell that started it, updated in
 * place; elsewhere (pipes, CI logs, a terminal whose `TERM` is `dumb`),
 * plain lines at an interval through `console.error`.
 *
 * @module
 */
import type { MapRun } from "./map_run.ts";
import { inJupyterKernel, showInNotebook } from "../util/jupyter.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { describeValue, validateOptionKeys, validateOptionType } from "../util/validate.ts";

/** Options for {@linkcode showProgress}. */
export interface ProgressOptions {
  /**
   * Whether to redraw one line in place with cursor codes, as on a terminal
   * (default: whether stderr is a terminal whose `TERM` is not `dumb`, as in
   * Emacs' shell, which shows such codes as they are; see `env`).
   */
  isTerminal?: boolean;
  /**
   * Reads an environment variable: `TERM`, when `isTerminal` is not given
   * (default: `Deno.env.get`, only for a variable the program may already
   * read, so that it never prompts for the permission; `undefined` for
   * another).
   */
  env?: (name: string) => string | undefined;
  /** Writes a redrawn line to the terminal (default: a sync write to stderr). */
  write?: (text: string) => void;
  /** Writes a plain line (default: `console.error`). */
  log?: (line: string) => void;
  /**
   * Shows the line in a notebook, `update` replacing the one shown before
   * (default in a Deno Jupyter kernel, without `log`: one display of the
   * cell, updated in place with `Deno.jupyter.display`).
   */
  display?: (line: string, update: boolean) => void;
  /**
   * The terminal's width in columns, read at each redraw: a longer line is
   * cut to fit (default: `Deno.consoleSize().columns`).
   */
  columns?: () => number;
  /** Milliseconds between plain lines when not on a terminal. @default {5000} */
  intervalMs?: number;
  /** Milliseconds between redraws on a terminal (default 100) or in a notebook (default 1000). */
  redrawMs?: number;
  /**
   * Whether the progress of a run not yet ended starts by naming the run and
   * how to pick it up if the program stops first (`knot.collect("<run>")`):
   * a line of its own on a terminal or in plain lines, kept above the
   * progress line when Ctrl-C stops the program; the first line of the
   * display in a notebook. The command line names the run itself.
   *
   * @default {true}
   */
  announce?: boolean;
}

let displays = 0;

const PROGRESS_OPTION_KEYS: Readonly<Record<keyof ProgressOptions, true>> = {
  isTerminal: true,
  env: true,
  write: true,
  log: true,
  display: true,
  columns: true,
  intervalMs: true,
  redrawMs: true,
  announce: true,
};

/**
 * Checks the `progress` option of `map()`, `collect()` or `retry()`
 * (`where`): `true`, `false` or progress options; a misspelt key or a bad
 * interval is an error, not ignored.
 *
 * @example Usage
 * ```ts
 * import { validateProgress } from "@cloudknot/cloudknot/run";
 *
 * validateProgress({ intervalMs: 1000 }, "map()"); // passes
 * try {
 *   validateProgress({ interval: 1000 }, "map()");
 * } catch (e) {
 *   console.log((e as Error).message); // map()'s progress has no option "interval": did you mean "intervalMs"?
 * }
 * ```
 *
 * @param progress The option's value.
 * @param where The call it was given to, for the message.
 * @throws {CloudknotInputError} Naming the option and what it takes.
 */
export function validateProgress(progress: unknown, where: string): void {
  if (
    progress !== undefined && typeof progress !== "boolean" &&
    (progress === null || typeof progress !== "object" || Array.isArray(progress))
  ) {
    throw new CloudknotInputError(
      `progress must be true, false or progress options, not ${describeValue(progress)}`,
      { field: "progress" },
    );
  }
  if (typeof progress === "object") validateProgressOptions(progress as ProgressOptions, where);
}

/** Checks progress options given as an object (see {@linkcode validateProgress}). */
function validateProgressOptions(progress: ProgressOptions, where: string): void {
  const named = (e: unknown) => {
    if (e instanceof CloudknotInputError && e.field !== undefined) {
      const message = e.message.startsWith(e.field) ? `progress.${e.message}` : e.message;
      return new CloudknotInputError(message, { field: `progress.${e.field}` });
    }
    return e;
  };
  try {
    validateOptionKeys(progress, PROGRESS_OPTION_KEYS, `${where}'s progress`);
    validateOptionType(progress, "isTerminal", "boolean");
    validateOptionType(progress, "announce", "boolean");
    validateOptionType(progress, "env", "function");
    validateOptionType(progress, "write", "function");
    validateOptionType(progress, "log", "function");
    validateOptionType(progress, "display", "function");
    validateOptionType(progress, "columns", "function");
  } catch (e) {
    throw named(e);
  }
  for (const key of ["intervalMs", "redrawMs"] as const) {
    const ms = progress[key];
    if (ms !== undefined && !(typeof ms === "number" && Number.isFinite(ms) && ms > 0)) {
      throw new CloudknotInputError(
        `progress.${key} must be a positive number of milliseconds, not ${describeValue(ms)}`,
        { field: `progress.${key}` },
      );
    }
  }
}

/**
 * Where a progress line measures its rate from: a moment, and how many items
 * were done then.
 */
export interface ProgressSince {
  /** The moment, in epoch milliseconds. */
  at: number;
  /** Items that ran to an end (succeeded, or failed but not cancelled) at that moment. */
  done: number;
}

/**
 * Formats a progress line: done, failed, cancelled, running, attempts
 * retried, rate and ETA. The rate
 * counts the items done since `since` (by default, the run's start), so a
 * run picked up part-way (by `collect()` or `retry()`) is not credited with
 * the items an earlier process finished.
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
 * @param since Where the rate is measured from. @default {{ at: run.startedAt, done: 0 }}
 * @returns One line.
 */
export function formatProgress(
  run: MapRun<unknown>,
  now: number,
  since: ProgressSince = { at: run.startedAt, done: 0 },
): string {
  const c = run.counts;
  const done = c.succeeded + c.failed;
  const parts = [`${run.knot}: ${done}/${c.total} done`];
  if (c.failed > c.cancelled) parts.push(`${c.failed - c.cancelled} failed`);
  if (c.cancelled > 0) parts.push(`${c.cancelled} cancelled`);
  parts.push(`${c.running} running`);
  // Attempts that failed and will run again: a run whose items keep crashing says so at once.
  if (c.retried > 0) parts.push(`${c.retried} retried`);
  const end = run.endedAt ?? now;
  const seconds = (end - since.at) / 1000;
  // Cancelled items never ran: they are not part of the rate.
  const ran = ranToEnd(run);
  const rate = ran > since.done && seconds > 0 ? (ran - since.done) / seconds : undefined;
  if (rate !== undefined) parts.push(`${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)}/s`);
  if (done < c.total) {
    if (rate !== undefined) parts.push(`ETA ${formatSeconds((c.total - done) / rate)}`);
  } else if (done > 0) {
    parts.push(`took ${formatSeconds((end - run.startedAt) / 1000)}`);
  }
  return parts.join(" · ");
}

/**
 * The line that names a run as its progress starts: its id, and how to pick
 * it up if the program that shows it stops first.
 *
 * @example Usage
 * ```ts
 * import { MapRun } from "@cloudknot/cloudknot";
 * import { announceRun } from "@cloudknot/cloudknot/run";
 *
 * const { run } = MapRun.create({ knot: "k", runId: "r", target: "local", total: 1, attempts: 1 });
 * console.log(announceRun(run));
 * // Run r of knot k: if this program stops first, knot.collect("r") picks it up
 * ```
 *
 * @param run The run.
 * @returns One line.
 */
export function announceRun(run: MapRun<unknown>): string {
  return `Run ${run.runId} of knot ${run.knot}: if this program stops first, ` +
    `knot.collect("${run.runId}") picks it up`;
}

/**
 * An environment variable the program may already read, without asking for
 * the permission: a prompt from a progress line would stop the program.
 */
function grantedEnv(name: string): string | undefined {
  try {
    const { state } = Deno.permissions.querySync({ name: "env", variable: name });
    return state === "granted" ? Deno.env.get(name) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether progress is drawn with cursor codes on stderr: a terminal, but not
 * a dumb one, which shows the codes as they are (the command line's `drawsOn`
 * asks the same of its own streams).
 */
function drawsOnStderr(env: (name: string) => string | undefined): boolean {
  return Deno.stderr.isTerminal() && env("TERM") !== "dumb";
}

/** The terminal's width, or no limit when it cannot be read. */
function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return Infinity;
  }
}

/**
 * A line that fits in `columns - 1` columns, so the terminal never wraps it
 * (a wrapped row stays behind at each redraw): without the knot's name
 * first, then cut with an ellipsis.
 */
function fit(line: string, knot: string, columns: number): string {
  const room = columns - 1;
  if (!(room > 0) || line.length <= room) return line;
  const counts = line.slice(knot.length + 2);
  return counts.length <= room ? counts : `${counts.slice(0, Math.max(0, room - 1))}…`;
}

/** Items that ran to an end: succeeded, or failed but not cancelled. */
function ranToEnd(run: MapRun<unknown>): number {
  const c = run.counts;
  return c.succeeded + c.failed - c.cancelled;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * Shows a run's progress until it finishes. Returns a function that stops
 * early; it is also stopped when the run finishes. In a Deno Jupyter kernel
 * it is one display in the cell that calls it, updated in place every second,
 * so a run going on between cells never prints into the cells run later. Its
 * rate counts the items
 * done while it is shown; a run with items already done (picked up by
 * `collect()` or `retry()`) gets its first line at once, saying where it
 * stands.
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
  const tty = options.isTerminal ?? drawsOnStderr(options.env ?? grantedEnv);
  const encoder = new TextEncoder();
  const write = options.write ?? ((text: string) => {
    Deno.stderr.writeSync(encoder.encode(text));
  });
  const log = options.log ?? ((line: string) => console.error(line));
  // In a notebook, lines at an interval would land in whichever cell runs
  // then, long after the one that mapped: one display is updated instead.
  const id = `cloudknot-progress-${run.runId}-${++displays}`;
  const display = tty ? undefined : options.display ??
    (options.log === undefined && inJupyterKernel()
      ? (line: string, update: boolean) => showInNotebook(line, id, update)
      : undefined);
  const columns = options.columns ?? terminalColumns;
  let stopped = false;
  let shown = false;
  const c = run.counts;
  const since = { at: Date.now(), done: ranToEnd(run) };
  // A program stopped before the run ends (Ctrl-C) leaves the run's id on screen.
  const header = options.announce !== false && !run.finished ? announceRun(run) : undefined;
  const tick = () => {
    const line = formatProgress(run, Date.now(), since);
    if (tty) write(`\r\u001b[K${fit(line, run.knot, columns())}`);
    else if (display) display(header !== undefined ? `${header}\n${line}` : line, shown);
    else log(line);
    shown = true;
  };
  const every = tty
    ? options.redrawMs ?? 100
    : display
    ? options.redrawMs ?? 1000
    : options.intervalMs ?? 5000;
  const timer = run.finished ? undefined : setInterval(tick, every);
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
  // Written once and never redrawn, the line may wrap: it is not cut to the terminal.
  if (header !== undefined && tty) write(`\r\u001b[K${header}\n`);
  else if (header !== undefined && !display) log(header);
  if (tty || display || c.succeeded + c.failed > 0) tick();
  run.done.then(stop);
  return stop;
}
