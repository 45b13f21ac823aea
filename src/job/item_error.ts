/**
 * The errors a map run hands back: {@linkcode ItemError} for one item and
 * {@linkcode MapError} for a run where some items failed.
 *
 * @module
 */
import { JobFailedError } from "../util/errors.ts";
import { resolveArtifactFrames } from "./artifact_sources.ts";
import { recordToError, type SerializedError } from "./error_record.ts";
import { type ErrorRecord, failsEveryAttempt, failureDetails, type FailureKind } from "./record.ts";
import { type InspectPlace, nestedText } from "../util/summary.ts";

// Where it was defined before it had a module of its own.
export { OOM_LINE } from "./oom_line.ts";

/**
 * One item failed: its function threw, its process died, it timed out or the
 * run was cancelled. The remote error, with its remote stack, is the `cause`;
 * the item error's own stack has no frames (it was made by the client's
 * bookkeeping, not where the item failed). Items that ended with the same
 * bare error, a name and a message and nothing else (those one `cancel()`
 * ended), share one `remote` and one `cause`.
 *
 * @example Usage
 * ```ts
 * import { ItemError } from "@cloudknot/cloudknot";
 *
 * const e = ItemError.fromRecord({
 *   version: 1, status: "error", kind: "threw", index: 3, attempt: 1, jobId: "j", endedAt: 0,
 *   error: { name: "TypeError", message: "boom" },
 * }, { attempts: 1 });
 * console.log(e.message); // "Item 3 threw TypeError: boom"
 * ```
 */
export class ItemError extends JobFailedError {
  /** The item's position in the inputs. */
  readonly index: number;
  /** The attempt that failed last, counted from 1. */
  readonly attempt: number;
  /** Why it failed. */
  readonly kind: FailureKind;
  /** The job (or array child) that ran the last attempt. */
  readonly jobId: string;
  /** The remote error's name, message and stack. */
  readonly remote: SerializedError;
  /** The exit code of the process, when it died. */
  readonly exitCode?: number;
  /** The signal that killed the process, when one did. */
  readonly signal?: string;
  /** The scheduler's reason, such as AWS Batch's `statusReason`. */
  readonly statusReason?: string;
  /** Where the attempt's output went (a log stream name or a store key). */
  readonly logStream?: string;

  /**
   * Makes an item error from the fields of an error record.
   *
   * @param message The message.
   * @param record The error record of the last attempt.
   */
  constructor(message: string, record: ErrorRecord) {
    const { remote, cause } = remoteOf(record.error);
    // Made by the client's bookkeeping, not where the item failed: a stack here would name
    // the same frames of ours for every item (the cause's stack says where it failed).
    const restore = stopStacks();
    // Nothing in it can throw (a string message, a plain options object): the limit is restored.
    super(message, { cause });
    restore();
    this.index = record.index;
    this.attempt = record.attempt;
    this.kind = record.kind;
    this.jobId = record.jobId;
    this.remote = remote;
    Object.assign(this, failureDetails(record));
  }

  /**
   * Makes the error an item's final error record stands for.
   *
   * @param record The error record of the item's last attempt.
   * @param options `attempts` is how many attempts the item had.
   * @returns The item error.
   */
  static fromRecord(record: ErrorRecord, options: { attempts: number }): ItemError {
    const { index, error } = record;
    // A program missing where the item ran ends it at its one attempt, as a refusal does, and as
    // a result the codec refuses for its kind: no "attempt 1 of 3", as if others had been tried.
    const tries = options.attempts > 1 && !failsEveryAttempt(record.kind, error)
      ? ` (attempt ${record.attempt} of ${options.attempts})`
      : "";
    const reason = record.statusReason ? `; ${record.statusReason}` : "";
    let message: string;
    switch (record.kind) {
      case "threw":
        message = `Item ${index} threw ${thrownWords(error)}: ${error.message}${tries}`;
        break;
      case "refused": {
        // Its one attempt (no "attempt 1 of 3"): every other would be refused alike. A refusal
        // the function wrapped is named, with what to grant.
        const wrapped = error.name === "NotCapable" ? undefined : wrappedRefusal(error);
        message = `Item ${index} threw ${thrownWords(error)}: ${error.message}` +
          (wrapped === undefined ? "" : `, which wraps Deno's refusal: ${wrapped.message}`);
        break;
      }
      case "crashed": {
        if (error.name === "OutOfMemoryError") {
          message = `Item ${index} ran out of memory: ${error.message}${tries}`;
          break;
        }
        const how = record.signal !== undefined
          ? `was killed by ${record.signal}`
          : record.exitCode !== undefined
          ? `exited with code ${record.exitCode}`
          : "stopped";
        message = `Item ${index} crashed: its process ${how}${exitAdvice(record)}${reason}${tries}`;
        break;
      }
      case "timeout":
        message = `Item ${index} timed out: ${error.message}${tries}`;
        break;
      case "cancelled":
        message = `Item ${index} was cancelled: ${error.message}`;
        break;
      case "unencodable":
        // One the codec refuses for its kind is its one attempt; one too large may have had more.
        message =
          `Item ${index} returned a value that cannot be sent back: ${error.message}${tries}`;
        break;
      default: {
        // A status reason the error's message already gives is not given twice.
        const more = error.message.includes(record.statusReason ?? "\0") ? "" : reason;
        message = `Item ${index} failed: ${error.message}${more}${tries}`;
      }
    }
    return new ItemError(message, record);
  }

  /**
   * What `console.log` and a notebook show of the error: its message, its
   * fields that are set on one line, and its cause (the remote error, with
   * the stack of where the item failed) once, where Deno's own view gave the
   * remote stack twice (`remote` and the cause) and every unset field.
   */
  [Symbol.for("Deno.customInspect")](_inspect: unknown, place?: InspectPlace): string {
    const fields = {
      index: this.index,
      attempt: this.attempt,
      kind: this.kind,
      jobId: this.jobId,
      ...failureDetails(this),
    };
    const cause = this.cause === undefined
      ? ""
      : `\n  [cause]: ${Deno.inspect(this.cause).replaceAll("\n", "\n  ")}`;
    const head = `${this.name}: ${this.message} ${
      Deno.inspect(fields, { compact: true, breakLength: Infinity })
    }`;
    return nestedText(head + cause, place);
  }
}

/**
 * What to do about a worker that exited with a code while its item ran: not
 * killed by a signal, nor out of memory, nor by an error the function threw
 * (the runtime records those), so the function, or code it calls, ended the
 * process, which ends the worker and not only the item.
 */
function exitAdvice(record: ErrorRecord): string {
  const code = record.exitCode;
  if (record.error.name !== "WorkerCrashedError" || record.signal !== undefined) return "";
  if (code === undefined) return "";
  return `, as Deno.exit(${code}) or process.exit(${code}) in the function (or in code it calls) ` +
    `makes it do: return the item's result, or throw to fail it, instead of ending the process`;
}

/** The refusal (`NotCapable`) an error's record wraps, nearest first, as the runtime found it. */
function wrappedRefusal(error: SerializedError): SerializedError | undefined {
  const queue = [error];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (next.name === "NotCapable") return next;
    queue.push(...next.errors ?? [], ...next.cause !== undefined ? [next.cause] : []);
  }
  return undefined;
}

/**
 * What an item threw, in words: the error's name, or, for a value that was
 * not an `Error` (a string, an object…), its type, so a thrown string is not
 * called an `Error`.
 */
function thrownWords(error: SerializedError): string {
  const type = error.thrown;
  if (type === undefined) return error.name;
  if (type === "null" || type === "undefined") return `${type}, not an Error`;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}, not an Error`;
}

/**
 * The last remote error with nothing but a name and a message (what a cancel
 * gives every item it ends), with its cause: the items that ended for one
 * reason share them, where each held its own copy of both.
 */
let lastBare: { remote: SerializedError; cause: Error } | undefined;

/**
 * An item's remote error, its frames named on this machine, and the `Error`
 * it stands for (without a stack of the client's own: it gets the remote
 * one), shared with the item before when both are the same bare error.
 */
function remoteOf(error: SerializedError): { remote: SerializedError; cause: Error } {
  const bare = Object.keys(error).every((key) => key === "name" || key === "message");
  if (bare && lastBare?.remote.name === error.name && lastBare.remote.message === error.message) {
    return lastBare;
  }
  // A module artifact's frames name its files portably: name them on this machine.
  const remote = resolveFrames(error);
  const restore = stopStacks();
  let cause: Error;
  try {
    cause = recordToError(remote);
  } finally {
    restore();
  }
  if (bare) lastBare = { remote, cause };
  return { remote, cause };
}

/**
 * Stops V8 capturing the stack of the errors made until the returned
 * function is called, which restores the limit (unless `Error` is frozen).
 */
function stopStacks(): () => void {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return () => {};
  }
  return () => {
    Error.stackTraceLimit = limit;
  };
}

/** A remote error with its stacks, and those of its causes, resolved by {@linkcode resolveArtifactFrames}. */
function resolveFrames(error: SerializedError): SerializedError {
  const resolved = { ...error };
  if (error.stack !== undefined) resolved.stack = resolveArtifactFrames(error.stack);
  if (error.cause !== undefined) resolved.cause = resolveFrames(error.cause);
  if (error.errors !== undefined) resolved.errors = error.errors.map(resolveFrames);
  return resolved;
}

/**
 * Some items of a run failed. `errors` holds every item's error, in input
 * order; `results` holds the values of the items that succeeded (and
 * `undefined` at the failed positions); `failed` lists the failed indices.
 *
 * @example Usage
 * ```ts
 * import { MapError } from "@cloudknot/cloudknot";
 *
 * const e = new MapError([], [1, 2]);
 * console.log(e.results); // [ 1, 2 ]
 * ```
 */
export class MapError<T = unknown> extends JobFailedError {
  /** Each failed item's error, in input order. */
  readonly errors: ItemError[];
  /** The successful values, with `undefined` where an item failed. */
  readonly results: (T | undefined)[];
  /** The positions of the failed items, in input order. */
  readonly failed: number[];

  /**
   * Makes a map error.
   *
   * @param errors Each failed item's error.
   * @param results The partial results, in input order.
   * @param retry How to map the failed items again, when they can be (`run.retry()`).
   */
  constructor(errors: ItemError[], results: (T | undefined)[], retry?: string) {
    const shown = errors.slice(0, 5).map((e) => `  ${e.message}`).join("\n");
    const more = errors.length > 5 ? `\n  … and ${errors.length - 5} more` : "";
    // Cancelled items never failed: a cancelled run says how many of each.
    const cancelled = errors.filter((e) => e.kind === "cancelled").length;
    const failed = errors.length - cancelled;
    const verb = cancelled === 1 ? "was" : "were";
    const what = failed === 0
      ? `${cancelled} of ${results.length} items ${verb} cancelled`
      : `${failed} of ${results.length} items failed` +
        (cancelled > 0 ? ` and ${cancelled} ${verb} cancelled` : "");
    super(
      `${what}; the error's \`errors\` has each ` +
        `failure and \`results\` has the partial results` +
        (retry !== undefined ? `; map them again with ${retry}` : "") +
        `:\n${shown}${more}`,
    );
    this.errors = errors;
    this.results = results;
    this.failed = errors.map((e) => e.index);
  }

  /**
   * What `console.log` and a notebook show of the error: its message and
   * stack, then how many errors and results it holds and the first failed
   * positions, where Deno's own view gave every item's error in full (some
   * twenty lines each, thousands for a large run).
   */
  [Symbol.for("Deno.customInspect")](_inspect: unknown, place?: InspectPlace): string {
    const n = this.errors.length;
    const first = this.failed.slice(0, 5).join(", ");
    const failed = n > 5 ? `${first}, … and ${n - 5} more` : first;
    return nestedText(
      `${this.stack ?? `${this.name}: ${this.message}`}\n` +
        `  errors:  ${n} ItemError${n === 1 ? "" : "s"}, one per failed item\n` +
        `  results: ${this.results.length} values, undefined where an item failed\n` +
        `  failed:  [ ${failed} ]`,
      place,
    );
  }

  /**
   * Whether a value is a `MapError` (or of the subclass it is called on), as
   * `instanceof` asks. Declared so that `e instanceof MapError` narrows a
   * caught `unknown` to `MapError<unknown>`: TypeScript otherwise fills a
   * generic class's type parameter with `any`, and `e.results` would be
   * `any[]`. `e instanceof` a subclass narrows to that subclass.
   *
   * @example Usage
   * ```ts
   * import { MapError } from "@cloudknot/cloudknot";
   *
   * const e: unknown = new MapError([], [1]);
   * if (e instanceof MapError) console.log(e.results); // (unknown)[]: [ 1 ]
   * ```
   *
   * @typeParam C The class it is called on: `MapError`, or a subclass.
   * @param value The value.
   * @returns Whether the class's prototype is in the value's prototype chain.
   */
  // deno-lint-ignore no-explicit-any
  static override [Symbol.hasInstance]<C extends abstract new (...args: any[]) => unknown>(
    this: C,
    value: unknown,
  ): value is InstanceType<C> {
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}
