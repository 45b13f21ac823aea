/**
 * Internal, for the encoder and the decoder: the failure their walks throw
 * at a bad value. Each frame on the way out adds its step, so the happy path
 * pays nothing for paths; at the top it becomes a {@linkcode CodecError}.
 *
 * @module
 */
import { CodecError, formatPath, type PathSegment } from "./error.ts";

/**
 * What the value being encoded is: a job's input, sent to the worker, or what
 * a job function returned, sent back. Advice is worded for it ("pass …" or
 * "return …"); it is read only when a failure is explained, never while
 * encoding.
 */
export type Role = "input" | "result";

/** A getter threw while the value was read. */
export const PROPERTY_KIND = "property";
/** Reading the value threw. */
export const VALUE_KIND = "value";
/** The value is too large for one JSON text. */
export const LARGE_KIND = "large value";
/** The value nests deeper than the depth limit or the stack. */
export const DEEP_KIND = "deep value";

/**
 * The kinds of failure that are not the codec refusing what kind of value it
 * is, but its size, its depth or a getter that threw: another call of the
 * same function may return one that encodes, so an item whose result failed
 * so is retried (`failsEveryAttempt` in `record.ts`).
 */
export const UNSTEADY_KINDS: ReadonlySet<string> = new Set([
  PROPERTY_KIND,
  VALUE_KIND,
  LARGE_KIND,
  DEEP_KIND,
]);

export class Failure {
  /** Steps from the bad value outwards (reversed at the end). */
  readonly steps: PathSegment[] = [];
  constructor(
    readonly kind: string,
    readonly explain: (at: string, role: Role) => string,
    readonly cause?: unknown,
  ) {}
}

export function step(
  e: unknown,
  segment: PathSegment,
  mode: "read" | "encode" | "decode",
): Failure {
  let failure: Failure;
  if (e instanceof Failure) failure = e;
  else if (mode === "read") {
    failure = new Failure(
      PROPERTY_KIND,
      (at) =>
        `Cannot read the property at ${at}: its getter threw ${
          describeThrown(e)
        }; make it a plain data property`,
      e,
    );
  } else failure = fromThrown(e, mode);
  failure.steps.push(segment);
  return failure;
}

export function fromThrown(e: unknown, operation: "encode" | "decode" = "encode"): Failure {
  if (e instanceof Failure) return e;
  if (e instanceof RangeError && e.message === "Invalid string length") {
    return new Failure(
      LARGE_KIND,
      (at, role) =>
        `Cannot encode the value at ${at}: it is too large for one JSON text; ${
          role === "result"
            ? "return less (write the rest to a file or a store, and return where it is)"
            : "split it into smaller items"
        }`,
      e,
    );
  }
  // Near the stack limit even a regular expression fails, so compare plainly.
  if (e instanceof RangeError && e.message === "Maximum call stack size exceeded") {
    return new Failure(
      DEEP_KIND,
      (at) => `Cannot handle the value at ${at}: it is nested too deeply for the stack; flatten it`,
      e,
    );
  }
  if (operation === "decode") {
    return new Failure(
      "malformed data",
      (at) =>
        `Cannot decode the value at ${at}: decoding threw ${
          describeThrown(e)
        }; the data is corrupt`,
      e,
    );
  }
  return new Failure(
    VALUE_KIND,
    (at, role) =>
      `Cannot read the value at ${at}: reading it threw ${describeThrown(e)}; ${
        role === "result" ? "return" : "pass"
      } plain data instead`,
    e,
  );
}

export function toCodecError(
  failure: Failure,
  operation: "encode" | "decode",
  role: Role = "input",
): CodecError {
  const path = failure.steps.slice().reverse();
  return new CodecError(failure.explain(formatPath(path, { maxSteps: 40 }), role), {
    operation,
    path,
    kind: failure.kind,
    cause: failure.cause,
  });
}

export function describeThrown(e: unknown): string {
  try {
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    return typeof e === "string" ? JSON.stringify(e) : String(e);
  } catch {
    return "a value that cannot be shown";
  }
}
