/**
 * The messages between the local target's pool and its worker processes:
 * newline-delimited JSON over a loopback TCP connection, so the workers'
 * stdout and stderr stay free for the user's function.
 *
 * @module
 */

/** Pool to worker: run one attempt. */
export interface RunMessage {
  /** Marks the message. */
  type: "run";
  /** The item's position in the inputs. */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** The job id the attempt gets in `AWS_BATCH_JOB_ID`. */
  jobId: string;
}

/** Pool to worker: finish and exit. */
export interface ExitMessage {
  /** Marks the message. */
  type: "exit";
}

/** Worker to pool: connected and ready. */
export interface HelloMessage {
  /** Marks the message. */
  type: "hello";
  /** The token the pool gave the worker, proving who it is. */
  token: string;
}

/** Worker to pool: the attempt's record is in the store. */
export interface DoneMessage {
  /** Marks the message. */
  type: "done";
  /** The item's position in the inputs. */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** The record's encoded text, when it is small; otherwise it is read from the store. */
  record?: string;
}

/** Largest record sent inline in a {@linkcode DoneMessage}, in bytes. */
export const INLINE_RECORD_BYTES = 64 * 1024;

/** Worker to pool: the worker cannot run anything (its function did not load). */
export interface FatalMessage {
  /** Marks the message. */
  type: "fatal";
  /** What went wrong. */
  message: string;
}

/** A message to a worker. */
export type ToWorker = RunMessage | ExitMessage;
/** A message from a worker. */
export type FromWorker = HelloMessage | DoneMessage | FatalMessage;

/** The line a worker writes to stdout and stderr after each attempt. */
export const END_MARKER = "\u001ecloudknot:attempt-end";

/**
 * Encodes one message as a line.
 *
 * @example Usage
 * ```ts
 * import { encodeMessage } from "./protocol.ts";
 *
 * console.log(new TextDecoder().decode(encodeMessage({ type: "exit" }))); // '{"type":"exit"}\n'
 * ```
 *
 * @param message The message.
 * @returns Its bytes.
 */
export function encodeMessage(message: ToWorker | FromWorker): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message) + "\n");
}
