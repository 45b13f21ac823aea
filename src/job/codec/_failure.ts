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
      "property",
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
      "large value",
      (at) =>
        `Cannot encode the value at ${at}: it is too large for one JSON text; split it into smaller items`,
      e,
    );
  }
  // Near the stack limit even a regular expression fails, so compare plainly.
  if (e instanceof RangeError && e.message === "Maximum call stack size exceeded") {
    return new Failure(
      "deep value",
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
    "value",
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
