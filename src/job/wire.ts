/**
 * The wire between a pool and its worker processes: binary frames over the
 * worker's standard streams, so a worker needs no permission to talk to its
 * pool (no socket, no file).
 *
 * - **Pool to worker, on stdin**: `u32 length, u8 type, body` frames. A
 *   {@linkcode FRAME.run} frame carries a batch of attempts: `u32 count`,
 *   then for each `u32 index, u16 attempt, u8 where, u32 length` and either
 *   the item's encoded bytes (`where` 0) or, for an item the worker reads
 *   itself from the run's inputs file (`where` 1, see {@linkcode FileSpan}),
 *   its `u64 offset` there. The end of stdin tells the worker to exit.
 * - **Worker to pool, on stdout and stderr**: the user's function writes
 *   there too, so each frame starts with the worker's mark, 16 random bytes
 *   (the first is `0x1e`) the pool gave it, then `u8 type, u32 length, body`.
 *   After each attempt the worker writes a {@linkcode FRAME.done} frame
 *   (`u32 index, u16 attempt, u8 kind` and the encoded record) on stdout and
 *   an empty {@linkcode FRAME.end} frame on stderr: the text before them on
 *   each stream is that attempt's output, so output is told apart per
 *   attempt without a file, and a record always follows the output it ends.
 *   When the pool starts the worker with its stderr on its stdout (one
 *   pipe, see `pool.ts`), the worker writes no {@linkcode FRAME.end}: the
 *   record alone ends the attempt's output, one write per attempt.
 *
 * Numbers are little-endian.
 *
 * @module
 */
import type { FailureKind } from "./record.ts";

/** Frame types. */
export const FRAME = {
  /** Pool to worker: a batch of attempts to run, in order. */
  run: 1,
  /** Worker to pool (stdout): an attempt ended; the body is its record. */
  done: 2,
  /** Worker to pool (stdout): the function loaded, the worker is ready. */
  ready: 3,
  /** Worker to pool (stdout): the function cannot load; the body is why, as text. */
  fatal: 4,
  /** Worker to pool (stderr): an attempt ended; nothing follows. */
  end: 5,
} as const;

/**
 * The name under which the pool has V8 expose its garbage collector to a
 * worker that reads large items from a file (`--expose-gc-as`); the worker
 * takes it before the function loads and leaves `undefined` there.
 */
export const GC_NAME = "__cloudknotGc";

/** Frames up to this size are written as one copy; larger ones in parts. */
const COPY_BELOW = 256 * 1024;

/** Bytes in a worker's mark. */
export const MARK_BYTES = 16;
/** Bytes of a marked frame's head: the mark, the type and the length. */
const HEAD_BYTES = MARK_BYTES + 5;

/** How an attempt ended, as one byte on the wire and in the local run log. */
export const KIND_CODES: readonly ("ok" | FailureKind)[] = [
  "ok",
  "threw",
  "unencodable",
  "infrastructure",
  "crashed",
  "timeout",
  "cancelled",
  "refused",
];

/**
 * The byte of an attempt's ending.
 *
 * @example Usage
 * ```ts
 * import { kindCode } from "./wire.ts";
 *
 * console.log(kindCode("threw")); // 1
 * ```
 *
 * @param kind `"ok"` or the failure's kind.
 * @returns Its code.
 */
export function kindCode(kind: "ok" | FailureKind): number {
  return KIND_CODES.indexOf(kind);
}

/**
 * Makes a worker's mark: 16 random bytes, the first `0x1e`.
 *
 * @example Usage
 * ```ts
 * import { newMark } from "./wire.ts";
 *
 * console.log(newMark().length); // 16
 * ```
 *
 * @returns The mark.
 */
export function newMark(): Uint8Array {
  const mark = crypto.getRandomValues(new Uint8Array(MARK_BYTES));
  mark[0] = 0x1e;
  return mark;
}

/**
 * Where an item's encoded bytes are in the inputs file a worker was given
 * (`--inputs`): a large item goes to the worker as its place, and the worker
 * reads it from the file (which the pool's process has just written, so it
 * is in the page cache), instead of down its stdin's pipe.
 */
export interface FileSpan {
  /** Where the item starts in the file. */
  offset: number;
  /** Its length in bytes. */
  length: number;
}

/** One attempt sent to a worker. */
export interface WireAttempt {
  /** The item's position in the inputs. */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** The item's encoded bytes, or where they are in the worker's inputs file. */
  bytes: Uint8Array | FileSpan;
}

/** Bytes of an attempt's head in a run frame: index, attempt, where, length. */
const ATTEMPT_HEAD = 11;

/** The bytes an attempt takes in a run frame after its head. */
function bodyLength(a: WireAttempt): number {
  return a.bytes instanceof Uint8Array ? a.bytes.byteLength : 8;
}

/** Writes an attempt's head (and a span's offset) at `at`. */
function writeAttempt(view: DataView, at: number, a: WireAttempt): void {
  view.setUint32(at, a.index, true);
  view.setUint16(at + 4, a.attempt, true);
  if (a.bytes instanceof Uint8Array) {
    view.setUint8(at + 6, 0);
    view.setUint32(at + 7, a.bytes.byteLength, true);
  } else {
    view.setUint8(at + 6, 1);
    view.setUint32(at + 7, a.bytes.length, true);
    view.setBigUint64(at + ATTEMPT_HEAD, BigInt(a.bytes.offset), true);
  }
}

/**
 * Encodes a batch of attempts as one {@linkcode FRAME.run} frame.
 *
 * @example Usage
 * ```ts
 * import { encodeRunFrame } from "./wire.ts";
 *
 * console.log(encodeRunFrame([{ index: 0, attempt: 1, bytes: new Uint8Array([1]) }]).length); // 21
 * ```
 *
 * @param attempts The attempts, in the order the worker runs them.
 * @returns The frame.
 */
export function encodeRunFrame(attempts: readonly WireAttempt[]): Uint8Array {
  let size = 5 + 4;
  for (const a of attempts) size += ATTEMPT_HEAD + bodyLength(a);
  const frame = new Uint8Array(size);
  const view = new DataView(frame.buffer);
  view.setUint32(0, size - 5, true);
  frame[4] = FRAME.run;
  view.setUint32(5, attempts.length, true);
  let at = 9;
  for (const a of attempts) {
    writeAttempt(view, at, a);
    if (a.bytes instanceof Uint8Array) frame.set(a.bytes, at + ATTEMPT_HEAD);
    at += ATTEMPT_HEAD + bodyLength(a);
  }
  return frame;
}

/**
 * Encodes a batch of attempts as the parts of one {@linkcode FRAME.run}
 * frame, to be written in order: one part for a small batch, and for a
 * large one the items' own bytes between small heads, sparing a copy.
 *
 * @example Usage
 * ```ts
 * import { encodeRunFrames } from "./wire.ts";
 *
 * console.log(encodeRunFrames([{ index: 0, attempt: 1, bytes: new Uint8Array(1 << 20) }]).length); // 3
 * ```
 *
 * @param attempts The attempts, in the order the worker runs them.
 * @returns The frame's parts.
 */
export function encodeRunFrames(attempts: readonly WireAttempt[]): Uint8Array[] {
  let size = 5 + 4;
  for (const a of attempts) size += ATTEMPT_HEAD + bodyLength(a);
  if (size <= COPY_BELOW) return [encodeRunFrame(attempts)];
  const head = new Uint8Array(9);
  const view = new DataView(head.buffer);
  view.setUint32(0, size - 5, true);
  head[4] = FRAME.run;
  view.setUint32(5, attempts.length, true);
  const parts: Uint8Array[] = [head];
  for (const a of attempts) {
    const itemHead = new Uint8Array(ATTEMPT_HEAD + (a.bytes instanceof Uint8Array ? 0 : 8));
    writeAttempt(new DataView(itemHead.buffer), 0, a);
    parts.push(itemHead);
    if (a.bytes instanceof Uint8Array) parts.push(a.bytes);
  }
  return parts;
}

/**
 * Reads the pool's frames from a worker's stdin, however the bytes are cut
 * into chunks. It keeps one buffer that grows to the largest frame; a reader
 * that reads stdin straight into {@linkcode RunFrameReader.space} and then
 * calls {@linkcode RunFrameReader.commit} copies nothing (`push` copies each
 * chunk once). The attempts it returns are views of that buffer, valid until
 * the next call.
 *
 * @example Usage
 * ```ts
 * import { encodeRunFrame, RunFrameReader } from "./wire.ts";
 *
 * const reader = new RunFrameReader();
 * const [batch] = reader.push(encodeRunFrame([{ index: 3, attempt: 1, bytes: new Uint8Array([7]) }]));
 * console.log(batch![0]!.index); // 3
 * ```
 */
export class RunFrameReader {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /**
   * Takes the next chunk of stdin.
   *
   * @param chunk The bytes.
   * @returns The batches completed by it, each a list of attempts.
   */
  push(chunk: Uint8Array): WireAttempt[][] {
    this.#reserve(chunk.byteLength);
    this.#buf.set(chunk, this.#end);
    return this.commit(chunk.byteLength);
  }

  /**
   * Where to read the next bytes of stdin: the free end of the buffer, with
   * room for at least `min` bytes and for the rest of the frame being read,
   * so a large item is read whole in place. Call
   * {@linkcode RunFrameReader.commit} with the number of bytes read.
   *
   * @example Usage
   * ```ts
   * import { encodeRunFrame, RunFrameReader } from "./wire.ts";
   *
   * const reader = new RunFrameReader();
   * const frame = encodeRunFrame([{ index: 3, attempt: 1, bytes: new Uint8Array([7]) }]);
   * reader.space().set(frame);
   * console.log(reader.commit(frame.length)[0]![0]!.index); // 3
   * ```
   *
   * @param min The fewest bytes of room.
   * @returns The room, a view of the buffer.
   */
  space(min: number = 64 * 1024): Uint8Array {
    let need = min;
    const have = this.#end - this.#start;
    if (have >= 5) {
      const length = new DataView(this.#buf.buffer).getUint32(this.#start, true);
      need = Math.max(min, 5 + length - have);
    }
    this.#reserve(need);
    return this.#buf.subarray(this.#end);
  }

  /**
   * Takes `n` bytes read into {@linkcode RunFrameReader.space}.
   *
   * @param n The bytes read.
   * @returns The batches completed by them, each a list of attempts.
   */
  commit(n: number): WireAttempt[][] {
    this.#end += n;
    const view = new DataView(this.#buf.buffer);
    const batches: WireAttempt[][] = [];
    while (this.#end - this.#start >= 5) {
      const length = view.getUint32(this.#start, true);
      if (this.#end - this.#start - 5 < length) break;
      if (this.#buf[this.#start + 4] === FRAME.run) batches.push(readRun(view, this.#start + 5));
      this.#start += 5 + length;
    }
    return batches;
  }

  /** Makes room for `n` more bytes, dropping the frames handed out last time. */
  #reserve(n: number): void {
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end + n > this.#buf.byteLength) {
      const grown = new Uint8Array(Math.max(this.#end + n, this.#buf.byteLength * 2));
      grown.set(this.#buf.subarray(0, this.#end));
      this.#buf = grown;
    }
  }
}

function readRun(view: DataView, at: number): WireAttempt[] {
  const count = view.getUint32(at, true);
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const attempts: WireAttempt[] = new Array(count);
  at += 4;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(at + 7, true);
    const inFile = view.getUint8(at + 6) === 1;
    attempts[i] = {
      index: view.getUint32(at, true),
      attempt: view.getUint16(at + 4, true),
      bytes: inFile
        ? { offset: Number(view.getBigUint64(at + ATTEMPT_HEAD, true)), length }
        : bytes.subarray(at + ATTEMPT_HEAD, at + ATTEMPT_HEAD + length),
    };
    at += ATTEMPT_HEAD + (inFile ? 8 : length);
  }
  return attempts;
}

/**
 * Encodes the head of a marked frame: the mark, the type and the body's
 * length. The body follows it on the stream.
 *
 * @example Usage
 * ```ts
 * import { FRAME, markedHead, newMark } from "./wire.ts";
 *
 * console.log(markedHead(newMark(), FRAME.end, 0).length); // 21
 * ```
 *
 * @param mark The worker's mark.
 * @param type The frame's type.
 * @param length The body's length.
 * @returns The head's bytes.
 */
export function markedHead(mark: Uint8Array, type: number, length: number): Uint8Array {
  const head = new Uint8Array(HEAD_BYTES);
  head.set(mark);
  head[MARK_BYTES] = type;
  new DataView(head.buffer).setUint32(MARK_BYTES + 1, length, true);
  return head;
}

/**
 * Encodes a whole {@linkcode FRAME.done} frame: the head, the attempt and
 * its encoded record, into `into` when it has room (a buffer reused for
 * every attempt makes no garbage), otherwise into a new array. For a large
 * record, write {@linkcode doneHead} and then the record instead, sparing a
 * copy.
 *
 * @example Usage
 * ```ts
 * import { doneFrame, newMark } from "./wire.ts";
 *
 * console.log(doneFrame(newMark(), 0, 1, 0, new Uint8Array(3)).length); // 31
 * ```
 *
 * @param mark The worker's mark.
 * @param index The item.
 * @param attempt The attempt.
 * @param kind The ending's code ({@linkcode kindCode}).
 * @param record The encoded record.
 * @param into Where to encode it, when it fits.
 * @returns The frame (a view of `into` when it fit).
 */
export function doneFrame(
  mark: Uint8Array,
  index: number,
  attempt: number,
  kind: number,
  record: Uint8Array,
  into?: Uint8Array,
): Uint8Array {
  const size = HEAD_BYTES + 7 + record.byteLength;
  const frame = into !== undefined && into.byteLength >= size
    ? into.subarray(0, size)
    : new Uint8Array(size);
  frame.set(mark);
  const view = new DataView(frame.buffer, frame.byteOffset, size);
  frame[MARK_BYTES] = FRAME.done;
  view.setUint32(MARK_BYTES + 1, 7 + record.byteLength, true);
  view.setUint32(HEAD_BYTES, index, true);
  view.setUint16(HEAD_BYTES + 4, attempt, true);
  frame[HEAD_BYTES + 6] = kind;
  frame.set(record, HEAD_BYTES + 7);
  return frame;
}

/**
 * Encodes the start of a {@linkcode FRAME.done} frame: what precedes its
 * record on the stream.
 *
 * @example Usage
 * ```ts
 * import { doneHead, newMark } from "./wire.ts";
 *
 * console.log(doneHead(newMark(), 0, 1, 0, 1 << 20).length); // 28
 * ```
 *
 * @param mark The worker's mark.
 * @param index The item.
 * @param attempt The attempt.
 * @param kind The ending's code ({@linkcode kindCode}).
 * @param recordLength The encoded record's length.
 * @returns The bytes before the record.
 */
export function doneHead(
  mark: Uint8Array,
  index: number,
  attempt: number,
  kind: number,
  recordLength: number,
): Uint8Array {
  const head = new Uint8Array(HEAD_BYTES + 7);
  head.set(mark);
  const view = new DataView(head.buffer);
  head[MARK_BYTES] = FRAME.done;
  view.setUint32(MARK_BYTES + 1, 7 + recordLength, true);
  view.setUint32(HEAD_BYTES, index, true);
  view.setUint16(HEAD_BYTES + 4, attempt, true);
  head[HEAD_BYTES + 6] = kind;
  return head;
}

/** What {@linkcode MarkedStreamReader} hands out. */
export interface MarkedStreamHandler {
  /** Text the function wrote (a view, valid during the call). */
  text(bytes: Uint8Array): void;
  /**
   * A frame of the worker's. The body is a view, valid during the call,
   * unless `owned`: then it is the receiver's to keep.
   */
  frame(type: number, body: Uint8Array, owned: boolean): void;
}

/**
 * Splits one of a worker's output streams into the function's text and the
 * worker's marked frames, however the bytes are cut into chunks. Text that
 * only looks like the start of a mark is held back until the next chunk
 * says what it is.
 *
 * @example Usage
 * ```ts
 * import { FRAME, MarkedStreamReader, markedHead, newMark } from "./wire.ts";
 *
 * const mark = newMark();
 * const reader = new MarkedStreamReader(mark);
 * const seen: string[] = [];
 * const chunk = new Uint8Array([...new TextEncoder().encode("hi\n"), ...markedHead(mark, FRAME.end, 0)]);
 * reader.push(chunk, { text: (b) => seen.push(new TextDecoder().decode(b)), frame: (t) => seen.push(`frame ${t}`) });
 * console.log(seen); // [ "hi\n", "frame 5" ]
 * ```
 */
export class MarkedStreamReader {
  #mark: Uint8Array;
  #carry: Uint8Array | undefined;
  #body: Uint8Array | undefined;
  #filled = 0;
  #type = 0;

  /**
   * Makes a reader for one stream of one worker.
   *
   * @param mark The worker's mark.
   */
  constructor(mark: Uint8Array) {
    this.#mark = mark;
  }

  /**
   * Takes the next chunk of the stream.
   *
   * @param chunk The bytes.
   * @param handler Receives the text and the frames, in stream order.
   */
  push(chunk: Uint8Array, handler: MarkedStreamHandler): void {
    let buf = chunk;
    let pos = 0;
    if (this.#body !== undefined) {
      const n = Math.min(this.#body.byteLength - this.#filled, buf.byteLength);
      this.#body.set(buf.subarray(0, n), this.#filled);
      this.#filled += n;
      pos = n;
      if (this.#filled < this.#body.byteLength) return;
      const body = this.#body;
      this.#body = undefined;
      handler.frame(this.#type, body, true);
    } else if (this.#carry !== undefined) {
      buf = new Uint8Array(this.#carry.byteLength + chunk.byteLength);
      buf.set(this.#carry);
      buf.set(chunk, this.#carry.byteLength);
      this.#carry = undefined;
    }
    const mark = this.#mark;
    const end = buf.byteLength;
    while (pos < end) {
      const at = buf.indexOf(0x1e, pos);
      if (at < 0) {
        handler.text(buf.subarray(pos));
        return;
      }
      if (at > pos) handler.text(buf.subarray(pos, at));
      if (end - at < HEAD_BYTES) {
        // Maybe a mark cut in two: decide with the next chunk.
        if (matchesPrefix(buf, at, end, mark)) {
          this.#carry = buf.slice(at);
          return;
        }
        handler.text(buf.subarray(at, at + 1));
        pos = at + 1;
        continue;
      }
      if (!matches(buf, at, mark)) {
        handler.text(buf.subarray(at, at + 1));
        pos = at + 1;
        continue;
      }
      const type = buf[at + MARK_BYTES]!;
      const length = (buf[at + 17]! | buf[at + 18]! << 8 | buf[at + 19]! << 16) +
        buf[at + 20]! * 2 ** 24;
      pos = at + HEAD_BYTES;
      if (end - pos >= length) {
        handler.frame(type, buf.subarray(pos, pos + length), false);
        pos += length;
      } else {
        this.#body = new Uint8Array(length);
        this.#body.set(buf.subarray(pos));
        this.#filled = end - pos;
        this.#type = type;
        return;
      }
    }
  }

  /**
   * Ends the stream: text held back is handed out.
   *
   * @param handler Receives the text.
   */
  end(handler: MarkedStreamHandler): void {
    if (this.#carry !== undefined) handler.text(this.#carry);
    this.#carry = undefined;
    this.#body = undefined;
  }
}

function matches(buf: Uint8Array, at: number, mark: Uint8Array): boolean {
  for (let i = 1; i < MARK_BYTES; i++) if (buf[at + i] !== mark[i]) return false;
  return true;
}

function matchesPrefix(buf: Uint8Array, at: number, end: number, mark: Uint8Array): boolean {
  for (let i = 1; i < MARK_BYTES && at + i < end; i++) if (buf[at + i] !== mark[i]) return false;
  return true;
}

/**
 * Reads a {@linkcode FRAME.done} frame's body.
 *
 * @example Usage
 * ```ts
 * import { doneFrame, newMark, readDone } from "./wire.ts";
 *
 * const frame = doneFrame(newMark(), 4, 2, 0, new Uint8Array([9]));
 * console.log(readDone(frame.subarray(21)).index); // 4
 * ```
 *
 * @param body The frame's body.
 * @returns The attempt, its ending's kind and its record's bytes (a view).
 */
export function readDone(
  body: Uint8Array,
): { index: number; attempt: number; kind: "ok" | FailureKind; record: Uint8Array } {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    index: view.getUint32(0, true),
    attempt: view.getUint16(4, true),
    kind: KIND_CODES[body[6]!] ?? "infrastructure",
    record: body.subarray(7),
  };
}
