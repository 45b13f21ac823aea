/**
 * How a job writes its items' records: buffered, as segments
 * (`record_segment.ts`), so a slice of many items leaves few objects and a
 * reader needs few GETs. The buffer is written when it reaches a size or a
 * count, when its oldest record has waited a short time (so progress stays
 * live), and when the job closes it. A record is durable once its segment is
 * written: a job that dies before then leaves the record unwritten, and the
 * item runs again on the job's retry, as an item that was running does.
 *
 * @module
 */
import type { ObjectStore } from "../store/store.ts";
import { RUN_KEYS } from "./payload.ts";
import { encodeSegment } from "./record_segment.ts";

/** Options of a {@linkcode RecordWriter}. */
export interface RecordWriterOptions {
  /**
   * Bytes of buffered records that make a flush; a record this large is
   * written on its own at once.
   *
   * @default {1048576}
   */
  maxBytes?: number;
  /** Buffered records that make a flush. @default {1000} */
  maxRecords?: number;
  /** Milliseconds the oldest buffered record may wait before a flush. @default {1000} */
  maxWaitMs?: number;
}

/**
 * When a job writes the records it holds, unless told otherwise: at 1 MiB
 * or 1,000 records, or once the oldest has waited 1 s (and always before it
 * exits). The one place these figures live: the writer and the cost estimate
 * (which counts the objects a run writes) read them here.
 *
 * @example Usage
 * ```ts
 * import { RECORD_FLUSH } from "@cloudknot/cloudknot/job";
 *
 * console.log(RECORD_FLUSH.maxRecords); // 1000
 * ```
 */
export const RECORD_FLUSH: Readonly<Required<RecordWriterOptions>> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxRecords: 1000,
  maxWaitMs: 1000,
});

interface Buffered {
  index: number;
  bytes: Uint8Array;
}

/**
 * Buffers the records of one job attempt and writes them as segments: one
 * object per flush, or the record's own stamped key when a flush holds one.
 *
 * @example Usage
 * ```ts
 * import { encodeRecord, listRecords, readRecords, RecordWriter } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * const writer = new RecordWriter(run, 1);
 * for (const index of [0, 1, 2]) {
 *   const record = { version: 1, status: "ok", index, attempt: 1, jobId: "j", endedAt: 0, value: index } as const;
 *   await writer.add(index, encodeRecord(record).bytes);
 * }
 * await writer.close();
 * const [segment] = await Array.fromAsync(listRecords(run));
 * console.log((await readRecords(run, segment!)).length); // 3
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RecordWriter {
  #run: ObjectStore;
  #attempt: number;
  #maxBytes: number;
  #maxRecords: number;
  #maxWaitMs: number;
  #buffer: Buffered[] = [];
  #bytes = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #seq = 0;
  #closed = false;
  #writing = new Set<Promise<void>>();
  #failure?: { error: unknown };
  #written = 0;

  /**
   * Makes a writer; nothing is written until a flush.
   *
   * @param run The store rooted at the run.
   * @param attempt The job's attempt, counted from 1.
   * @param options When to flush.
   */
  constructor(run: ObjectStore, attempt: number, options: RecordWriterOptions = {}) {
    this.#run = run;
    this.#attempt = attempt;
    this.#maxBytes = options.maxBytes ?? RECORD_FLUSH.maxBytes;
    this.#maxRecords = options.maxRecords ?? RECORD_FLUSH.maxRecords;
    this.#maxWaitMs = options.maxWaitMs ?? RECORD_FLUSH.maxWaitMs;
  }

  /** How many records have been written (flushed and stored) so far. */
  get written(): number {
    return this.#written;
  }

  /**
   * Adds an item's encoded record. Resolves once it is buffered, or once it
   * is written when it filled the buffer (or is too large to buffer, or the
   * writer is closed); rejects when that write failed.
   *
   * @param index The item.
   * @param bytes Its encoded record (`encodeRecord`).
   */
  async add(index: number, bytes: Uint8Array): Promise<void> {
    if (this.#closed || bytes.byteLength >= this.#maxBytes) {
      await this.#put([{ index, bytes }]);
      return;
    }
    this.#buffer.push({ index, bytes });
    this.#bytes += bytes.byteLength;
    if (this.#buffer.length >= this.#maxRecords || this.#bytes >= this.#maxBytes) {
      await this.flush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      // A failure is kept for close().
      this.flush().catch(() => {});
    }, this.#maxWaitMs);
  }

  /** Writes what is buffered now, as one object; rejects when that write fails. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0) return;
    const records = this.#buffer;
    this.#buffer = [];
    this.#bytes = 0;
    await this.#put(records);
  }

  /**
   * Writes what is buffered and waits for every write; later records are
   * written as they come. Rejects with the first write that failed, if any
   * did: those records are not in the store.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush().catch(() => {});
    await Promise.allSettled([...this.#writing]);
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  async #put(records: Buffered[]): Promise<void> {
    const stamp = Date.now();
    let key: string;
    let bytes: Uint8Array;
    if (records.length === 1) {
      key = RUN_KEYS.stampedRecord(stamp, records[0]!.index, this.#attempt);
      bytes = records[0]!.bytes;
    } else {
      let first = Infinity;
      let last = -Infinity;
      for (const { index } of records) {
        first = Math.min(first, index);
        last = Math.max(last, index);
      }
      key = RUN_KEYS.segment(stamp, first, last, this.#attempt, this.#seq++);
      bytes = encodeSegment(records.map((r) => r.bytes));
    }
    const writing = this.#run.put(key, bytes).then(() => {
      this.#written += records.length;
    });
    this.#writing.add(writing);
    try {
      await writing;
    } catch (e) {
      this.#failure ??= { error: e };
      throw e;
    } finally {
      this.#writing.delete(writing);
    }
  }
}
