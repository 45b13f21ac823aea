/**
 * The runtime that runs one job attempt where the work runs: inside a
 * container on AWS Batch or in a local worker process. It reads its item with
 * two ranged reads (or is handed its bytes), calls the function, and makes a
 * result or error record. Nothing here assumes a target.
 *
 * @module
 */
import type { ObjectStore } from "../store/store.ts";
import { decode } from "./codec.ts";
import { errorToRecord } from "./error_record.ts";
import type { FunctionKind } from "./function_kind.ts";
import { readItem, RUN_KEYS } from "./payload.ts";
import { explainMissingProgram } from "./missing_program.ts";
import { explainPermissionError } from "./permissions.ts";
import { dropRuntimeFrames } from "./runtime_frames.ts";
import { type EncodedRecord, encodeRecord, type JobRecord } from "./record.ts";
import { refusalWithin } from "../util/refusal.ts";

/** A function loaded from an artifact. */
export interface LoadedFunction {
  /** The function. */
  // deno-lint-ignore no-explicit-any
  fn: (...args: any[]) => unknown;
  /** How it was shipped. */
  kind: FunctionKind;
  /** The artifact's URL, whose folder an item's refused read is explained by. */
  url?: string;
}

/** Which attempt of which item to run. */
export interface AttemptSpec {
  /** The item's position in the inputs. */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** The job (or array child) id. */
  jobId: string;
  /** Spread the item (an array) into the function's arguments. */
  starmap: boolean;
  /**
   * How to map the item again, in the library's words (`retryAdvice`): what
   * the error of a program missing on this machine says to do once it is
   * installed.
   *
   * @default {"run.retry() on the run's handle"}
   */
  retry?: string;
}

/**
 * Imports a function artifact and checks that its default export is a
 * function.
 *
 * @example Usage
 * ```ts
 * import { loadFunction } from "@cloudknot/cloudknot/job";
 *
 * const url = `data:text/javascript,export default (x) => x + 1; export const kind = "func";`;
 * const { fn } = await loadFunction(url);
 * console.log(fn(1)); // 2
 * ```
 *
 * @param url The artifact's URL or path.
 * @returns The function and how it was shipped.
 */
export async function loadFunction(url: string | URL): Promise<LoadedFunction> {
  const module = await import(String(url));
  if (typeof module.default !== "function") {
    throw new TypeError(
      `The artifact ${url} does not export a function as its default export; rebuild it from func or module + exportName`,
    );
  }
  return {
    fn: module.default,
    kind: module.kind === "module" ? "module" : "func",
    url: String(url),
  };
}

/**
 * Runs one attempt of one item and writes its record to the run's store,
 * under a key stamped with when it was written (`RUN_KEYS.stampedRecord`), so
 * a poller finds it by listing from a time. Resolves to the record it wrote and its bytes. It rejects only when the
 * store cannot be written.
 *
 * @example Usage
 * ```ts
 * import { encode } from "@cloudknot/cloudknot/codec";
 * import { runAttempt, writePayload } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * await writePayload(run, [encode(20)], { version: 1, runId: "r", knot: "k", count: 1, starmap: false, createdAt: 0, attempts: 1 });
 * const { record } = await runAttempt(run, { fn: (x: number) => x + 1, kind: "func" }, { index: 0, attempt: 1, jobId: "j", starmap: false });
 * console.log(record.status === "ok" && record.value); // 21
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param run The store rooted at the run.
 * @param func The loaded function.
 * @param spec Which attempt of which item.
 * @returns The record written and its bytes.
 */
export async function runAttempt(
  run: ObjectStore,
  func: LoadedFunction,
  spec: AttemptSpec,
): Promise<EncodedRecord> {
  let item: Uint8Array | Error;
  try {
    item = await readItem(run, spec.index);
  } catch (e) {
    item = e instanceof Error ? e : new Error(String(e));
  }
  const encoded = await runItem(func, item, spec);
  await run.put(RUN_KEYS.stampedRecord(Date.now(), spec.index, spec.attempt), encoded.bytes);
  return encoded;
}

/** What one attempt's watch for errors nothing caught found. */
interface LooseErrorWatch {
  /** The first promise rejected and never awaited so far: its reason. */
  found: { value: unknown } | undefined;
  /** The first exception nothing caught so far (thrown by a timer or a listener), explained. */
  thrown: Error | undefined;
  /** Rejects with {@linkcode LooseErrorWatch.thrown} as soon as there is one. */
  uncaught: Promise<never>;
  /** Stops watching. */
  remove(): void;
}

/** The attempts watching for errors nothing caught now. */
const watches = new Set<LooseErrorWatch & { fail(error: Error): void }>();
let listening = false;

/**
 * Catches unhandled promise rejections and uncaught exceptions from now on.
 * One listener of each serves every attempt of the process (adding and
 * removing them per attempt costs more); one while no attempt watches is
 * left to Deno, as before (an uncaught exception then ends the worker, which
 * its pool replaces).
 *
 * An uncaught exception (a timer's or an event listener's callback that
 * threw) would end the process, and the item with it as a crash whose error
 * says only the exit code: it fails the attempt instead, at once, naming it.
 */
function watchLooseErrors(): LooseErrorWatch {
  if (!listening) {
    listening = true;
    globalThis.addEventListener("unhandledrejection", (event) => {
      if (watches.size === 0) return;
      unlessHandled(event, () => {
        for (const watch of watches) watch.found ??= { value: event.reason };
      });
    });
    globalThis.addEventListener("error", (event) => {
      if (watches.size === 0) return;
      unlessHandled(event, () => {
        const thrown = uncaughtException(event.error ?? event.message);
        for (const watch of watches) watch.fail(thrown);
      });
    });
  }
  let reject!: (error: Error) => void;
  const uncaught = new Promise<never>((_, r) => reject = r);
  // Raced only while the function's promise is pending; never a rejection of its own.
  uncaught.catch(() => {});
  const watch = {
    found: undefined,
    thrown: undefined,
    uncaught,
    fail(error: Error) {
      if (watch.thrown !== undefined) return;
      watch.thrown = error;
      reject(error);
    },
    remove: () => watches.delete(watch),
  } as LooseErrorWatch & { fail(error: Error): void };
  watches.add(watch);
  return watch;
}

/**
 * Cancels an `error` or `unhandledrejection` event, which keeps the process
 * running, and calls `unhandled` once every listener has seen it, unless a
 * listener of the function's own cancelled it too: the function handled it
 * itself (`addEventListener("error", …)` or `("unhandledrejection", …)` with
 * `preventDefault()`, or `process.on("uncaughtException", …)` of
 * `node:process`, which Deno runs through such a listener), and the attempt
 * goes on as the function meant. Ours was added as the first attempt began:
 * it runs before the function's (the event's own `preventDefault` tells us)
 * and after a module's added as it loaded (the event is cancelled already).
 * `process.on("unhandledRejection")` is not seen: Deno hands a rejection to
 * it only when no listener cancelled it, and ours must, to keep the process
 * running.
 */
function unlessHandled(event: Event, unhandled: () => void): void {
  // One the module added as it loaded, before ours, has run already.
  if (event.defaultPrevented) return;
  let handled = false;
  const cancel = event.preventDefault.bind(event);
  Object.defineProperty(event, "preventDefault", {
    value: () => {
      handled = true;
      cancel();
    },
    configurable: true,
  });
  cancel();
  // After the event's dispatch, which ran every listener.
  queueMicrotask(() => {
    if (!handled) unhandled();
  });
}

/** The attempts waiting for the function's promise now. */
const drainWatches = new Set<() => void>();
let listeningForDrain = false;

/**
 * Rejects when the process's event loop runs out of work while the
 * function's promise is still pending: nothing (no timer, I/O or other work)
 * is left that could settle it, and Deno would end the process with "Top-level
 * await promise never resolved" (or end it quietly), a crash that names
 * cloudknot's worker rather than the function. Deno dispatches `beforeunload`
 * then; cancelling it keeps the process running, with the attempt failed.
 */
function watchDrain(): { promise: Promise<never>; remove(): void } {
  if (!listeningForDrain) {
    listeningForDrain = true;
    globalThis.addEventListener("beforeunload", (event) => {
      if (drainWatches.size === 0) return;
      event.preventDefault();
      for (const fail of drainWatches) fail();
      drainWatches.clear();
    });
  }
  let fail!: () => void;
  const promise = new Promise<never>((_, reject) => {
    fail = () => {
      const error = new Error(
        "The function's promise never settled: nothing was left to settle it. Check that every " +
          "promise it awaits is resolved or rejected",
      );
      error.name = "PromiseNeverSettledError";
      // Its stack would name cloudknot's listener, not the function.
      error.stack = `${error.name}: ${error.message}`;
      reject(error);
    };
  });
  drainWatches.add(fail);
  return { promise, remove: () => drainWatches.delete(fail) };
}

/**
 * One turn of the event loop. Deno reports a promise rejected with no handler
 * (`unhandledrejection`) from its event loop, once the turn that rejected it
 * has run its microtasks: after this turn, never within a chain of
 * microtasks (`queueMicrotask`, `await`). `setImmediate` is the cheapest turn
 * measured (about 2 µs; a `MessageChannel` round about 9 µs; `setTimeout(0)`
 * is clamped to milliseconds once nested).
 */
function turn(): Promise<void> {
  // Deno's global setImmediate: importing node:timers would load Deno's Node
  // layer as every worker starts.
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs one attempt of one item from its encoded bytes and returns its
 * record, encoded; it never rejects. Where the item's bytes come from and
 * where the record goes is the caller's business: a job's store, or the
 * pool a worker process answers to.
 *
 * A promise the function rejected and nobody awaited fails the attempt with
 * an `UnhandledRejectionError` naming its reason, even one rejected as the
 * function returned: after the function, it waits one turn of the event
 * loop, where Deno reports such a promise (about 2 µs).
 *
 * @example Usage
 * ```ts
 * import { encode } from "@cloudknot/cloudknot/codec";
 * import { runItem } from "@cloudknot/cloudknot/job";
 *
 * const { record } = await runItem({ fn: (x: number) => x * 2, kind: "func" }, encode(21), { index: 0, attempt: 1, jobId: "j", starmap: false });
 * console.log(record.status === "ok" && record.value); // 42
 * ```
 *
 * @example A promise left rejected as the function returns
 * ```ts
 * import { encode } from "@cloudknot/cloudknot/codec";
 * import { runItem } from "@cloudknot/cloudknot/job";
 *
 * const late = (x: number) => {
 *   Promise.reject(new Error("lost"));
 *   return x;
 * };
 * const { record } = await runItem({ fn: late, kind: "func" }, encode(1), { index: 0, attempt: 1, jobId: "j", starmap: false });
 * console.log(record.status === "error" && record.error.name); // "UnhandledRejectionError"
 * ```
 *
 * @param func The loaded function.
 * @param item The item's encoded bytes, or why they could not be read.
 * @param spec Which attempt of which item.
 * @returns The record and its bytes.
 */
export async function runItem(
  func: LoadedFunction,
  item: Uint8Array | Error,
  spec: AttemptSpec,
): Promise<EncodedRecord> {
  const startedAt = Date.now();
  const base = {
    version: 1 as const,
    index: spec.index,
    attempt: spec.attempt,
    jobId: spec.jobId,
    startedAt,
  };
  let record: JobRecord;
  // A promise the function rejected and nobody awaited, or an exception
  // nothing caught, would end the process with the reason only in the log;
  // it fails the attempt instead, naming it.
  const loose = watchLooseErrors();
  try {
    if (item instanceof Error) throw item;
    const args = readArguments(item, spec);
    try {
      let value: unknown;
      try {
        value = func.fn(...args);
        if (typeof (value as PromiseLike<unknown> | undefined)?.then === "function") {
          const drain = watchDrain();
          try {
            value = await Promise.race([value, drain.promise, loose.uncaught]);
          } finally {
            drain.remove();
          }
        }
      } finally {
        // One left rejected as the function returned (or threw) is reported
        // only after a turn; taking it whatever the outcome also keeps it
        // from being blamed on the next item.
        await turn();
      }
      if (loose.thrown !== undefined) throw loose.thrown;
      const unhandled = loose.found;
      if (unhandled !== undefined) throw unhandledRejection(unhandled.value);
      record = { ...base, status: "ok", endedAt: Date.now(), value };
    } catch (caught) {
      // A refusal nothing caught (in a timer's callback) or nobody awaited fails the attempt as
      // one the function threw: granting the permission is what helps, not catching it.
      const e = refusalLoose(caught) ?? caught;
      const error = explainMissingProgram(
        explainPermissionError(func.kind === "func" ? explainScope(e) : e, func.url),
        func.url,
        spec.retry,
      );
      const refusal = refusalWithin(error);
      if (refusal !== undefined && refusal !== error) explainWrapped(refusal, func.url);
      const thrown = errorToRecord(error);
      // Below the function's frames, where this runtime called it says nothing of the item.
      dropRuntimeFrames(thrown, import.meta.url);
      record = {
        ...base,
        status: "error",
        // A refused permission is refused again on every attempt, also when another error
        // wraps it (its cause, an AggregateError's errors).
        kind: refusal !== undefined ? "refused" : "threw",
        endedAt: Date.now(),
        error: thrown,
      };
    }
  } catch (e) {
    record = {
      ...base,
      status: "error",
      kind: "infrastructure",
      endedAt: Date.now(),
      error: errorToRecord(e),
    };
  } finally {
    loose.remove();
  }
  return encodeRecord(record);
}

/**
 * Explains where it is a refusal the function wrapped in an error of its own
 * (its cause, an AggregateError's errors), as one it threw is explained: the
 * item's error then says what to grant ({@linkcode ItemError} names it).
 * The attempt is over, so the refusal's message and stack are rewritten in place.
 */
function explainWrapped(refusal: Deno.errors.NotCapable, functionUrl?: string): void {
  const explained = explainPermissionError(refusal, functionUrl);
  if (!(explained instanceof Error) || explained === refusal) return;
  refusal.message = explained.message;
  refusal.stack = explained.stack;
}

/**
 * The error an attempt fails with when a promise it rejected was never awaited.
 *
 * @example Usage
 * ```ts ignore
 * unhandledRejection(new Error("lost")).message; // "A promise was rejected and never awaited …"
 * ```
 *
 * @param reason The rejection's reason.
 * @returns The error.
 */
export function unhandledRejection(reason: unknown): Error {
  return looseError(
    "UnhandledRejectionError",
    "A promise was rejected and never awaited (unhandled rejection)",
    reason,
    "await it, or catch its rejection",
  );
}

/**
 * The error an attempt fails with when an exception was thrown where nothing
 * could catch it: in a timer's or an event listener's callback, outside the
 * function's own calls and promises.
 *
 * @example Usage
 * ```ts ignore
 * uncaughtException(new Error("late")).message; // "An exception was thrown where nothing caught it …"
 * ```
 *
 * @param thrown What was thrown.
 * @returns The error.
 */
export function uncaughtException(thrown: unknown): Error {
  return looseError(
    "UncaughtExceptionError",
    "An exception was thrown where nothing caught it (uncaught exception, as in a timer's or an " +
      "event listener's callback)",
    thrown,
    "catch it in that callback, or turn the callback into a promise the function awaits",
  );
}

/** The errors {@linkcode looseError} made, each for what nothing caught or awaited. */
const LOOSE = new WeakSet<Error>();

/** An error that names what nothing caught (`reason`, with its stack) and what to do. */
function looseError(name: string, what: string, reason: unknown, advice: string): Error {
  const told = reason instanceof Error
    ? `${reason.name}: ${reason.message}`
    : `${typeof reason === "string" ? JSON.stringify(reason) : String(reason)}`;
  const error = new Error(`${what}: ${told}; ${advice}`, { cause: reason });
  error.name = name;
  if (reason instanceof Error && reason.stack !== undefined) error.stack = reason.stack;
  LOOSE.add(error);
  return error;
}

/** The refusal a loose error ({@linkcode looseError}) stands for, when it stands for one. */
function refusalLoose(error: unknown): Deno.errors.NotCapable | undefined {
  if (!(error instanceof Error) || !LOOSE.has(error)) return undefined;
  return error.cause instanceof Deno.errors.NotCapable ? error.cause : undefined;
}

function readArguments(bytes: Uint8Array, spec: AttemptSpec): unknown[] {
  const item = decode(bytes);
  if (!spec.starmap) return [item];
  if (!Array.isArray(item)) {
    throw new TypeError(
      `Item ${spec.index} is not an array, so it cannot be spread into the function's arguments (starmap)`,
    );
  }
  return item;
}

/**
 * A `func` is shipped as source text, so a name from the scope it was written
 * in is undefined where it runs. Say so, keeping the remote stack.
 */
function explainScope(error: unknown): unknown {
  if (!(error instanceof ReferenceError)) return error;
  const match = /^(\S+) is not defined$/.exec(error.message);
  if (match === null) return error;
  const name = match[1];
  const explained = new ReferenceError(
    `${name} is not defined: the function refers to "${name}" from the scope it was written in, ` +
      `but only the function's own source is shipped. Define ${name} inside the function, pass it ` +
      `in the input, or import it inside the function with await import(...); or ship a module ` +
      `with module and exportName`,
  );
  explained.stack = `ReferenceError: ${explained.message}\n${
    (error.stack ?? "").split("\n").slice(1).join("\n")
  }`;
  return explained;
}
