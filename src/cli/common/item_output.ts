/**
 * How the command line prints a run's items: one NDJSON line per item, in
 * input order or as they finish, or one JSON document.
 *
 * Each line is `{"index":i,"value":V}` or `{"index":i,"error":E}`.
 *
 * `V` is the value in the job codec's JSON form (see `src/job/codec/format.ts`):
 * JSON values print as themselves, and what JSON cannot carry prints as a
 * tagged object, such as `{"$":"undefined"}`, `{"$":"bigint","v":"12"}`,
 * `{"$":"NaN"}`, `{"$":"Date","v":0}` or `{"$":"Map","entries":[[k,v]]}`.
 * Object keys that start with `$` get one more `$` (`"$x"` prints as
 * `"$$x"`). So `decode(JSON.stringify({ ck: 1, v: V }))` gives the value back
 * exactly.
 *
 * `E` is the item's error: the remote error's `name`, `message` and, where
 * there are some, `stack`, `code`, `cause`, `errors` and `props`; then `kind`
 * (`threw`, `crashed`, `timeout`, `cancelled`, `unencodable` or
 * `infrastructure`), `attempt`, `jobId`, and for a process that died its
 * `exitCode` or `signal`, and `summary`, the one-line description.
 *
 * @module
 */
import { encodeToString } from "../../job/codec.ts";
import type { SerializedError } from "../../job/error_record.ts";
import type { ItemError } from "../../job/item_error.ts";
import { missingFromImage, missingProgram } from "../../job/missing_program.ts";
import { unshippedFile } from "../../job/permissions.ts";
import { failsEveryAttempt } from "../../job/record.ts";
import { failureDetails } from "../../job/record.ts";
import type { ItemSettled, MapRun } from "../../run/map_run.ts";
import { ChunkedOutput, jsonUpToList } from "./chunked_output.ts";
import { inCliWords } from "./cli_words.ts";
import type { CliOutput } from "./io.ts";
import { defined } from "../../util/defined.ts";
import { WORKER_START_ERROR } from "../../job/pool.ts";
import { ABORTED, untilAborted } from "../../util/sleep.ts";
import { knotClobbered, neverStored } from "../../job/retry_advice.ts";

/**
 * A value in the job codec's JSON form.
 *
 * @example Usage
 * ```ts
 * import { toCodecJson } from "./item_output.ts";
 *
 * console.log(JSON.stringify(toCodecJson({ n: 1n }))); // {"n":{"$":"bigint","v":"1"}}
 * ```
 *
 * @param value Any value the codec carries.
 * @returns Its JSON form.
 */
export function toCodecJson(value: unknown): unknown {
  return JSON.parse(encodeToString(value)).v;
}

/**
 * An item's one-line description for a command-line user: what cloudknot
 * wrote (not what the function threw) is put in CLI words.
 *
 * @example Usage
 * ```ts ignore
 * console.log(errorSummary(itemError)); // "Item 0 ran out of memory: … with --memory on …"
 * ```
 *
 * @param error The item's error.
 * @returns Its summary.
 */
export function errorSummary(error: ItemError): string {
  return ours(error) ? inCliWords(error) : error.message;
}

/**
 * Whether an item's message is cloudknot's words, which are put in CLI words:
 * not when the function threw it, unless cloudknot explained it (a program
 * the function runs that is missing).
 */
function ours(error: ItemError): boolean {
  return error.kind !== "threw" || missingProgram(error);
}

/**
 * A remote error's stack with its head (`Name: message`) saying `message`,
 * the message in CLI words, as the error's `message` says it; a stack that
 * does not start with its message is kept as it is.
 */
function stackSaying(remote: SerializedError, message: string): string | undefined {
  const { stack, name } = remote;
  if (stack === undefined) return undefined;
  const head = `${name}: ${remote.message}`;
  return stack.startsWith(head) ? `${name}: ${message}${stack.slice(head.length)}` : stack;
}

/**
 * A remote error's `cause` chain with each message (and its stack's head, and
 * its properties' texts, as an `AwsError`'s `awsMessage`) in CLI words: the
 * causes of an error cloudknot made itself (a wait that gave up on AWS, whose
 * cause is AWS's error with the library's advice), never those of an error
 * the function threw, which are the user's words.
 */
function causesInCliWords(cause: SerializedError, depth = 0): SerializedError {
  const words = (text: string) => inCliWords(new Error(text));
  const message = words(cause.message);
  const props = cause.props === undefined ? undefined : Object.fromEntries(
    Object.entries(cause.props).map(([k, v]) => [k, typeof v === "string" ? words(v) : v]),
  );
  return {
    ...cause,
    message,
    ...defined({ stack: stackSaying(cause, message), props }),
    ...(cause.cause !== undefined && depth < 8
      ? { cause: causesInCliWords(cause.cause, depth + 1) }
      : {}),
  };
}

/**
 * An item's error as a JSON object.
 *
 * @example Usage
 * ```ts ignore
 * console.log(JSON.stringify(errorJson(itemError)));
 * ```
 *
 * @param error The item's error.
 * @returns The JSON object.
 */
export function errorJson(error: ItemError): Record<string, unknown> {
  const message = ours(error) && typeof error.remote.message === "string"
    ? inCliWords(new Error(error.remote.message))
    : undefined;
  const json: Record<string, unknown> = {
    ...error.remote,
    // The stack's head is the message: both in CLI words.
    ...(message !== undefined
      ? { message, ...defined({ stack: stackSaying(error.remote, message) }) }
      : {}),
    ...(error.kind !== "threw" && error.remote.cause !== undefined
      ? { cause: causesInCliWords(error.remote.cause) }
      : {}),
    kind: error.kind,
    attempt: error.attempt,
    jobId: error.jobId,
    ...failureDetails(error),
    summary: errorSummary(error),
  };
  return json;
}

/**
 * An item's error as a report page shows it, in a command-line user's words:
 * its summary, and its stack with the message at its head in the same words.
 *
 * @example Usage
 * ```ts ignore
 * const page = await run.report({ describe: failureInCliWords });
 * ```
 *
 * @param error The item's error.
 * @returns Its message and stack.
 */
export function failureInCliWords(error: ItemError): { message: string; stack?: string } {
  const { stack } = errorJson(error);
  return { message: errorSummary(error), ...(typeof stack === "string" ? { stack } : {}) };
}

/**
 * One item as a JSON object: `{index, value}` or `{index, error}`.
 *
 * @example Usage
 * ```ts
 * import { itemJson } from "./item_output.ts";
 *
 * console.log(JSON.stringify(itemJson({ index: 0, status: "fulfilled", value: undefined })));
 * // {"index":0,"value":{"$":"undefined"}}
 * ```
 *
 * @param item How the item ended.
 * @returns The JSON object.
 */
export function itemJson(item: ItemSettled<unknown>): Record<string, unknown> {
  return item.status === "fulfilled"
    ? { index: item.index, value: toCodecJson(item.value) }
    : { index: item.index, error: errorJson(item.reason) };
}

/** Options for {@linkcode writeItems}. */
export interface WriteItemsOptions {
  /** Print items as they finish instead of in input order. @default {false} */
  unordered?: boolean;
  /** Print one JSON document once every item has finished. @default {false} */
  json?: boolean;
  /**
   * Stops waiting for the items still running (Ctrl-C on `results`): the
   * items settled by then are printed, in input order after those already
   * out (an item held for an earlier one is printed then), and the document
   * is closed with them alone, its counts theirs. @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Prints a run's items to an output as they settle: NDJSON lines in input
 * order (each as soon as every earlier one is out), in completion order, or
 * one JSON document at the end, written an item at a time (so a document
 * longer than a string can be is written all the same). When `signal`
 * aborts, it stops waiting and prints the items settled by then.
 *
 * @example Usage
 * ```ts ignore
 * const failed = await writeItems(run, io.stdout, { unordered: true });
 * ```
 *
 * @param run The run.
 * @param output Where to print.
 * @param options The order and format, and when to stop waiting.
 * @returns The indices of the items printed that failed, ascending.
 */
export async function writeItems(
  run: MapRun<unknown>,
  output: CliOutput,
  options: WriteItemsOptions = {},
): Promise<number[]> {
  const { signal } = options;
  const failed: number[] = [];
  const out = new ChunkedOutput(output);
  if (options.json) {
    const ended = await untilAborted(run.done, signal) !== ABORTED;
    const settled = ended ? await run.settled() : settledSoFar(run, 0, () => false);
    for (const item of settled) if (item.status === "rejected") failed.push(item.index);
    const c = ended
      ? run.counts
      : { total: run.total, succeeded: settled.length - failed.length, failed: failed.length };
    // The document JSON.stringify makes of it all, written an item at a time after the head,
    // which has the counts.
    const head = jsonUpToList({
      knot: run.knot,
      runId: run.runId,
      target: run.target,
      total: c.total,
      succeeded: c.succeeded,
      failed: c.failed,
      items: [],
    });
    await out.write(head);
    for (let i = 0; i < settled.length; i++) {
      await out.write((i === 0 ? "" : ",") + JSON.stringify(itemJson(settled[i]!)));
    }
    await out.write("]}\n");
    await out.flush();
    return failed;
  }
  const waiting = new Map<number, ItemSettled<unknown>>();
  /** Which items are out, one byte each (the iterator yields each item once). */
  let printed = new Uint8Array(run.total);
  const print = async (item: ItemSettled<unknown>) => {
    if (item.index >= printed.length) {
      const more = new Uint8Array(Math.max(item.index + 1, printed.length * 2));
      more.set(printed);
      printed = more;
    }
    printed[item.index] = 1;
    await out.write(JSON.stringify(itemJson(item)) + "\n");
  };
  let next = 0;
  const items = run[Symbol.asyncIterator]();
  while (true) {
    const step = await untilAborted(items.next(), signal);
    if (step === ABORTED || step.done) break;
    const item = step.value;
    if (item.status === "rejected") failed.push(item.index);
    if (options.unordered) {
      await print(item);
      await out.flush();
      continue;
    }
    waiting.set(item.index, item);
    // The lines this item lets out, now, in writes of bounded size (all of them, when the
    // first item finishes last).
    for (let ready = waiting.get(next); ready !== undefined; ready = waiting.get(next)) {
      waiting.delete(next++);
      await print(ready);
    }
    await out.flush();
  }
  if (signal?.aborted) {
    // Stopped waiting: every item settled by then that is not out yet, in input order.
    const inOrder = options.unordered ? 0 : next;
    for (const item of settledSoFar(run, inOrder, (i) => printed[i] === 1)) {
      if (item.status === "rejected" && !waiting.has(item.index)) failed.push(item.index);
      await print(item);
    }
    await out.flush();
  }
  return failed.sort((a, b) => a - b);
}

/** The items of a run settled so far, in input order, from `from`, but those `out` says are. */
function settledSoFar(
  run: MapRun<unknown>,
  from: number,
  out: (index: number) => boolean,
): ItemSettled<unknown>[] {
  const settled: ItemSettled<unknown>[] = [];
  for (let i = from; i < run.total; i++) {
    const item = out(i) ? undefined : run.settledItem(i);
    if (item !== undefined) settled.push(item);
  }
  return settled;
}

/**
 * Whether an item's error says it never ran, so printed nothing in its last
 * attempt: no job of its run was submitted for it (`MissingJobError`, on
 * AWS), or the workers that were to run it could not start or load the
 * function (`WorkerStartError`).
 *
 * @example Usage
 * ```ts ignore
 * if (neverRan(settled.reason)) console.log("no output");
 * ```
 *
 * @param reason The item's error.
 * @returns Whether it never ran.
 */
export function neverRan(reason: ItemError): boolean {
  return reason.remote.name === "MissingJobError" || reason.remote.name === WORKER_START_ERROR;
}

/** A retry with more memory or time, as an item's error advises it in the library's words. */
const RETRY_ADVICE = /run\.retry\(\{ (memory|timeout): (\d+) \}\)/g;

/**
 * The lines that sum up a run's failed items: those that failed, such as
 * `2 of 10 items failed: 3, 7`, those cancelled apart
 * (`3 of 10 items were cancelled: 4, 5, 6`), then the commands that show
 * what a failed item printed and run them again.
 *
 * @example Usage
 * ```ts ignore
 * const failed = await writeItems(run, ctx.io.stdout);
 * if (failed.length > 0) await ctx.log(failureSummary(run, failed));
 * ```
 *
 * @param run The run, settled.
 * @param failed The failed indices, ascending.
 * @returns The lines.
 */
export function failureSummary(run: MapRun<unknown>, failed: number[]): string {
  const cancelled: number[] = [];
  const clobbered: number[] = [];
  const refused: number[] = [];
  const unshipped: number[] = [];
  const lacking: number[] = [];
  const unsendable: number[] = [];
  const threw: number[] = [];
  const unstored: number[] = [];
  for (const index of failed) {
    const s = run.settledItem(index);
    const reason = s?.status === "rejected" ? s.reason : undefined;
    // Cancelled by the clobber, or ended as the clobber removed the run's directory (docker).
    (reason !== undefined && knotClobbered(reason)
      ? clobbered
      : reason?.kind === "cancelled"
      ? cancelled
      : reason !== undefined && neverStored(reason)
      ? unstored
      : reason !== undefined && missingFromImage(reason)
      ? lacking
      : reason?.kind === "unencodable" && failsEveryAttempt(reason.kind, reason.remote)
      ? unsendable
      : reason?.kind !== "refused"
      ? threw
      : unshippedFile(reason)
      ? unshipped
      : refused).push(index);
  }
  const list = (indices: number[]) =>
    indices.slice(0, 20).join(", ") +
    (indices.length > 20 ? ` and ${indices.length - 20} more` : "");
  const lines: string[] = [];
  if (threw.length > 0) lines.push(`${threw.length} of ${run.total} items failed: ${list(threw)}`);
  if (cancelled.length > 0) {
    lines.push(`${cancelled.length} of ${run.total} items were cancelled: ${list(cancelled)}`);
  }
  if (clobbered.length > 0) {
    // Its knot is gone: no retry runs them, a map of a knot made again does.
    lines.push(
      `${clobbered.length} of ${run.total} items were cancelled as knot ${run.knot} was ` +
        `clobbered while the run ran: ${list(clobbered)}; make the knot again (cloudknot knot ` +
        "create, or cloudknot map of its module), then map them again",
    );
  }
  if (refused.length > 0) {
    // A retry keeps the run's permissions unless given others: without them it is refused alike.
    lines.push(
      `${refused.length} of ${run.total} items were refused a permission: ${list(refused)}; ` +
        "each one's error names the --allow that grants it: run " +
        `\`cloudknot retry ${run.knot} ${run.runId}\` with it (and the --allow the run had)`,
    );
  }
  if (unshipped.length > 0) {
    // On AWS a retry runs the run's own job definition revision, which lacks the file; mapping
    // the items again works on every target.
    lines.push(
      `${unshipped.length} of ${run.total} items read a file beside the function that was not ` +
        `shipped: ${list(unshipped)}; ship it with --file (a path relative to the module's ` +
        "folder) on cloudknot map or cloudknot knot create, then map them again",
    );
  }
  if (lacking.length > 0) {
    // A retry runs the run's own image, which lacks the program too.
    lines.push(
      `${lacking.length} of ${run.total} items ran a program the knot's image lacks: ` +
        `${list(lacking)}; use a base image that has it (--base-image), then map them again`,
    );
  }
  if (unsendable.length > 0) {
    // A retry runs the run's own function, which returns such a value again.
    lines.push(
      `${unsendable.length} of ${run.total} items returned a value that cannot be sent back: ` +
        `${list(unsendable)}; each one's error says what to return instead: change the ` +
        "function to return it, then map them again",
    );
  }
  if (unstored.length > 0) {
    // Their inputs are not in the run: a retry or a collect has nothing of them to run.
    lines.push(
      `${unstored.length} of ${run.total} items' inputs were never stored in the run (writing ` +
        `them failed, on a full disk for example): ${list(unstored)}; free space on that disk, ` +
        "then map those inputs again with cloudknot map (no retry runs them)",
    );
  }
  if (
    threw.length === 0 && cancelled.length === 0 &&
    clobbered.length + refused.length + unshipped.length + lacking.length + unsendable.length +
          unstored.length > 0
  ) {
    return lines.join("\n");
  }
  // What the items' own advice gives their retry (pool.ts: more memory where workers ran out of it
  // before they started, more time where attempts were killed at their timeout; twice the memory
  // where an item ran out of it, `--memory double`): without it, the retry fails them alike.
  const given = new Map<string, number | "double">();
  for (const index of threw) {
    const s = run.settledItem(index);
    if (s?.status !== "rejected") continue;
    for (const [, option, value] of s.reason.message.matchAll(RETRY_ADVICE)) {
      const before = given.get(option!);
      given.set(option!, Math.max(typeof before === "number" ? before : 0, Number(value)));
    }
    if (s.reason.remote.name === "OutOfMemoryError" && !given.has("memory")) {
      given.set("memory", "double");
    }
  }
  const flags = [...given].map(([option, value]) => ` --${option} ${value}`).join("");
  const retry = `\`cloudknot retry ${run.knot} ${run.runId}${flags}\` runs them again`;
  // Not an item that never ran (no job, or no worker to run it): it printed nothing.
  const printed = threw.find((index) => {
    const s = run.settledItem(index);
    return s?.status !== "rejected" || !neverRan(s.reason);
  });
  lines.push(
    printed !== undefined
      ? `\`cloudknot logs ${run.knot} ${run.runId} --item ${printed}\` shows what an item ` +
        `printed; ${retry}`
      : retry,
  );
  return lines.join("\n");
}
