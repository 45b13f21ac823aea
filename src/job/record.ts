/**
 * The records a job attempt leaves in the store (under `out/`, alone or many
 * in a segment: `payload.ts`, `record_segment.ts`): a result record when the function returned, an error record when it threw
 * or its process died. Every item of a run ends with exactly one of them as
 * its final record. Records are encoded with the job codec, so any value the
 * codec carries (including `undefined`) can be a result.
 *
 * @module
 */
import { decode, encode } from "./codec.ts";
import { DEFAULT_MAX_DEPTH, encodeResult } from "./codec/encode.ts";
import { UNSTEADY_KINDS } from "./codec/_failure.ts";
import { errorToRecord, type SerializedError } from "./error_record.ts";
import { missingProgram } from "./missing_program.ts";

/** Why an attempt failed. */
export type FailureKind =
  /** The function threw (or its promise rejected). */
  | "threw"
  /**
   * The function was refused a permission (Deno's `NotCapable`): final at once,
   * as every attempt would be refused until the knot's `permissions` change.
   */
  | "refused"
  /** The process running the attempt died: a crash, out of memory, `Deno.exit`. */
  | "crashed"
  /** The attempt ran past its time limit and was killed. */
  | "timeout"
  /** The run was cancelled before the item finished. */
  | "cancelled"
  /**
   * The function returned a value the codec cannot carry: final at once when
   * the codec refuses its kind (a function, a class instance), as every
   * attempt would return one alike; retried when it was too large or too deep.
   */
  | "unencodable"
  /** The item could not be read or the record could not be written. */
  | "infrastructure";

/**
 * Whether an attempt that failed so is final whatever attempts are left: a
 * refused permission is refused again on every attempt, locally, in a
 * container and on AWS Batch, until the knot's `permissions` change; a
 * program the function runs that is not where the item runs (its error says
 * so, `missing_program.ts`) is missing again on every attempt, until it is
 * installed (then `run.retry()`) or the knot's image has it; a value the
 * codec refuses for what kind of value it is (a function, a symbol, an
 * instance of a class, a `WeakMap`: its error's `kind`) is returned again by
 * every attempt of the same function, until the function returns data. A
 * result too large or too deep to encode, or one whose getter threw, is
 * retried: another attempt may return one that encodes.
 *
 * @example Usage
 * ```ts
 * import { failsEveryAttempt } from "@cloudknot/cloudknot/job";
 *
 * console.log(failsEveryAttempt("refused"), failsEveryAttempt("threw")); // true false
 * console.log(failsEveryAttempt("unencodable", { message: "…", props: { kind: "function" } })); // true
 * ```
 *
 * @param kind Why the attempt failed.
 * @param error The attempt's error, which says whether a program was missing,
 *   and for a result that could not be encoded, the codec's `kind` in its `props`.
 * @returns `true` when retrying it is pointless.
 */
export function failsEveryAttempt(
  kind: FailureKind,
  error?: Pick<SerializedError, "message" | "props">,
): boolean {
  if (kind === "refused") return true;
  if (error === undefined) return false;
  if (kind === "threw") return missingProgram(error);
  const codecKind = error.props?.kind;
  return kind === "unencodable" && typeof codecKind === "string" &&
    !UNSTEADY_KINDS.has(codecKind);
}

/**
 * The exit code of a job that could not read its run or write its records
 * (`main.ts`): what a container that left no record says with it.
 */
export const STORE_EXIT_CODE = 3;

/** Fields every record has. */
export interface RecordBase {
  /** The layout version. */
  version: 1;
  /** The item's position in the inputs. */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** The id of the job (or array child) that ran the attempt. */
  jobId: string;
  /** When the attempt started, in epoch milliseconds. */
  startedAt?: number;
  /** When the attempt ended, in epoch milliseconds. */
  endedAt: number;
}

/** The function returned `value`. */
export interface ResultRecord extends RecordBase {
  /** Marks a result. */
  status: "ok";
  /** What the function returned (after awaiting it). */
  value: unknown;
}

/** The attempt failed. */
export interface ErrorRecord extends RecordBase {
  /** Marks a failure. */
  status: "error";
  /** Why it failed. */
  kind: FailureKind;
  /** The error, with its remote stack where there is one. */
  error: SerializedError;
  /** The process's exit code, when it died. */
  exitCode?: number;
  /** The signal that killed the process, when one did. */
  signal?: string;
  /** The scheduler's reason, such as AWS Batch's `statusReason`. */
  statusReason?: string;
  /** Where the attempt's output went (a log stream name or a store key). */
  logStream?: string;
}

/** The optional details of a failure, as an error record and an `ItemError` carry them. */
export type FailureDetails = Pick<
  ErrorRecord,
  "exitCode" | "signal" | "statusReason" | "logStream"
>;

/**
 * The failure details `from` has, without the ones it leaves out: what an
 * error record, an `ItemError` and the command line's JSON copy from each other.
 *
 * @example Usage
 * ```ts
 * import { failureDetails } from "@cloudknot/cloudknot/job";
 *
 * console.log(failureDetails({ exitCode: 137, signal: undefined })); // { exitCode: 137 }
 * ```
 *
 * @param from An error record, an `ItemError` or anything with those fields.
 * @returns The fields that are set.
 */
export function failureDetails(from: FailureDetails): FailureDetails {
  const out: FailureDetails = {};
  if (from.exitCode !== undefined) out.exitCode = from.exitCode;
  if (from.signal !== undefined) out.signal = from.signal;
  if (from.statusReason !== undefined) out.statusReason = from.statusReason;
  if (from.logStream !== undefined) out.logStream = from.logStream;
  return out;
}

/** A result record or an error record. */
export type JobRecord = ResultRecord | ErrorRecord;

/**
 * Makes the error record of an attempt that ended without the function's own
 * answer (a crash, a timeout, a cancellation, a lost item), ended now.
 *
 * @example Usage
 * ```ts
 * import { failureRecord } from "@cloudknot/cloudknot/job";
 *
 * const record = failureRecord({ index: 2, attempt: 1, jobId: "r:2", kind: "cancelled" }, {
 *   name: "CancelledError",
 *   message: "The run was cancelled",
 * });
 * console.log(record.status, record.kind); // "error" "cancelled"
 * ```
 *
 * @param at Which attempt of which item, and why it failed.
 * @param error The error's name and message.
 * @returns The record.
 */
export function failureRecord(
  at: { index: number; attempt: number; jobId: string; kind: FailureKind },
  error: SerializedError,
): ErrorRecord {
  return { version: 1, status: "error", ...at, endedAt: Date.now(), error };
}

/** How deep a record may nest: its value, one level down, as deep as a result may. */
const RECORD_DEPTH = { maxDepth: DEFAULT_MAX_DEPTH + 1 };

/** A record and its encoded bytes. */
export interface EncodedRecord {
  /** The record that was encoded; an unencodable result becomes an error record. */
  record: JobRecord;
  /** The bytes to store. */
  bytes: Uint8Array;
}

/**
 * Encodes a record for the store. A result whose value the codec cannot carry
 * becomes an error record of kind `"unencodable"` that says why.
 *
 * @example Usage
 * ```ts
 * import { decodeRecord, encodeRecord } from "@cloudknot/cloudknot/job";
 *
 * const { bytes } = encodeRecord({ version: 1, status: "ok", index: 0, attempt: 1, jobId: "j", endedAt: 0, value: new Map([[1, 2]]) });
 * console.log(decodeRecord(bytes).status); // "ok"
 * ```
 *
 * @param record The record.
 * @returns The record that was encoded and its bytes.
 */
export function encodeRecord(record: JobRecord): EncodedRecord {
  try {
    // The value is one level down in its record: it may nest as deep as encodeResult lets it.
    return { record, bytes: encode(record, RECORD_DEPTH) };
  } catch (cause) {
    if (record.status !== "ok") throw cause;
    const failed: ErrorRecord = {
      version: 1,
      status: "error",
      kind: "unencodable",
      index: record.index,
      attempt: record.attempt,
      jobId: record.jobId,
      endedAt: record.endedAt,
      error: errorToRecord(valueFailure(record.value, cause)),
    };
    if (record.startedAt !== undefined) failed.startedAt = record.startedAt;
    return { record: failed, bytes: encode(failed, RECORD_DEPTH) };
  }
}

/**
 * Why a result cannot be encoded, with the path inside the value the function
 * returned (`$.cb`) rather than inside the record that carries it
 * (`$.value.cb`): the value alone is encoded again to find it.
 */
function valueFailure(value: unknown, recordFailure: unknown): unknown {
  try {
    encodeResult(value);
  } catch (e) {
    return e;
  }
  return recordFailure;
}

/**
 * Decodes a record read from the store.
 *
 * @example Usage
 * ```ts
 * import { decodeRecord, encodeRecord } from "@cloudknot/cloudknot/job";
 *
 * const record = decodeRecord(encodeRecord({ version: 1, status: "ok", index: 2, attempt: 1, jobId: "j", endedAt: 0, value: undefined }).bytes);
 * console.log(record.index); // 2
 * ```
 *
 * @param bytes The bytes from the store, or their text.
 * @returns The record.
 */
export function decodeRecord(bytes: Uint8Array | string): JobRecord {
  const record = decode(bytes) as JobRecord;
  if (
    record === null || typeof record !== "object" ||
    (record.status !== "ok" && record.status !== "error") ||
    typeof record.index !== "number" || typeof record.attempt !== "number"
  ) {
    throw new TypeError("The bytes are not a cloudknot job record");
  }
  return record;
}
