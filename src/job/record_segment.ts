/**
 * Record segments: the records of several items of one job attempt in one
 * object (`out/<stamp>-s<first>-<last>-<attempt>-<seq>`, `payload.ts`), so a
 * reader gets many records with one GET; and the one reader of every record
 * object, segment or single record, that the poller, `collect()`, a retried
 * job and the docker target share.
 *
 * A segment is one line of JSON, then the records back to back:
 *
 * ```text
 * {"ck-records":1,"lengths":[L1,L2,…]}\n<record 1: L1 bytes><record 2: L2 bytes>…
 * ```
 *
 * Each record is a complete {@linkcode JobRecord} as the job codec encodes it
 * (`record.ts`), exactly the bytes a single record's object holds.
 *
 * @module
 */
import type { ObjectStore } from "../store/store.ts";
import { CloudknotError } from "../util/errors.ts";
import type { RecordKey } from "./payload.ts";
import { decodeRecord, type JobRecord } from "./record.ts";

/** The version a segment's first line names. */
export const SEGMENT_VERSION = 1;

const NEWLINE = 0x0a;

/**
 * A segment's bytes are not a cloudknot record segment.
 *
 * @example Usage
 * ```ts
 * import { SegmentError } from "@cloudknot/cloudknot/job";
 *
 * console.log(new SegmentError("bad").name); // "SegmentError"
 * ```
 */
export class SegmentError extends CloudknotError {}

/**
 * Puts encoded records into one segment.
 *
 * @example Usage
 * ```ts
 * import { decodeSegment, encodeRecord, encodeSegment } from "@cloudknot/cloudknot/job";
 *
 * const records = [0, 1].map((index) =>
 *   encodeRecord({ version: 1, status: "ok", index, attempt: 1, jobId: "j", endedAt: 0, value: index }).bytes
 * );
 * console.log(decodeSegment(encodeSegment(records)).map((r) => r.index)); // [ 0, 1 ]
 * ```
 *
 * @param records Each record's encoded bytes (`encodeRecord`).
 * @returns The segment's bytes.
 */
export function encodeSegment(records: readonly Uint8Array[]): Uint8Array {
  const header = new TextEncoder().encode(
    `${
      JSON.stringify({ "ck-records": SEGMENT_VERSION, lengths: records.map((r) => r.byteLength) })
    }\n`,
  );
  let total = header.byteLength;
  for (const r of records) total += r.byteLength;
  const out = new Uint8Array(total);
  out.set(header);
  let at = header.byteLength;
  for (const r of records) {
    out.set(r, at);
    at += r.byteLength;
  }
  return out;
}

/**
 * Reads the records of a segment.
 *
 * @example Usage
 * ```ts
 * import { decodeSegment, encodeRecord, encodeSegment } from "@cloudknot/cloudknot/job";
 *
 * const one = encodeRecord({ version: 1, status: "ok", index: 4, attempt: 2, jobId: "j", endedAt: 0, value: "x" }).bytes;
 * console.log(decodeSegment(encodeSegment([one]))[0]?.attempt); // 2
 * ```
 *
 * @param bytes The segment's bytes.
 * @returns Its records, in the order they were written.
 * @throws {SegmentError} When the bytes are not a segment.
 */
export function decodeSegment(bytes: Uint8Array): JobRecord[] {
  const end = bytes.indexOf(NEWLINE);
  let header: { "ck-records"?: unknown; lengths?: unknown } | undefined;
  try {
    header = end < 0 ? undefined : JSON.parse(new TextDecoder().decode(bytes.subarray(0, end)));
  } catch {
    header = undefined;
  }
  const lengths = header?.lengths;
  if (
    header?.["ck-records"] !== SEGMENT_VERSION || !Array.isArray(lengths) ||
    !lengths.every((n) => Number.isSafeInteger(n) && n > 0)
  ) {
    throw new SegmentError(
      `The bytes are not a cloudknot record segment of version ${SEGMENT_VERSION}`,
    );
  }
  const records: JobRecord[] = [];
  let at = end + 1;
  for (const length of lengths as number[]) {
    if (at + length > bytes.byteLength) {
      throw new SegmentError(
        `The record segment is cut short: ${bytes.byteLength} bytes, its header says ${
          end + 1 + (lengths as number[]).reduce((a, b) => a + b, 0)
        }`,
      );
    }
    records.push(decodeRecord(bytes.subarray(at, at + length)));
    at += length;
  }
  return records;
}

/**
 * Whether an object of a run's records may hold a record of an item from
 * `from` to `to - 1`: a single record is of its own item, a segment of items
 * from its first to its last.
 *
 * @example Usage
 * ```ts
 * import { mayHoldItems, RUN_KEYS } from "@cloudknot/cloudknot/job";
 *
 * const key = RUN_KEYS.parseRecord(RUN_KEYS.segment(Date.now(), 10, 19, 1, 0))!;
 * console.log(mayHoldItems(key, 15, 16), mayHoldItems(key, 20, 30)); // true false
 * ```
 *
 * @param key The object's key, as `listRecords` parses it.
 * @param from The first item of interest.
 * @param to One past the last.
 * @returns Whether to read it.
 */
export function mayHoldItems(key: RecordKey, from: number, to: number): boolean {
  const last = key.segment?.last ?? key.index;
  return key.index < to && last >= from;
}

/**
 * The records one object of a run's records holds, as its key says: a
 * segment's records, or a single record.
 *
 * @example Usage
 * ```ts
 * import { decodeRecords, encodeRecord, RUN_KEYS } from "@cloudknot/cloudknot/job";
 *
 * const { bytes } = encodeRecord({ version: 1, status: "ok", index: 3, attempt: 1, jobId: "j", endedAt: 0, value: 9 });
 * const key = RUN_KEYS.parseRecord(RUN_KEYS.stampedRecord(Date.now(), 3, 1))!;
 * console.log(decodeRecords(key, bytes).length); // 1
 * ```
 *
 * @param key The object's key, as `listRecords` parses it.
 * @param bytes The object's bytes.
 * @returns Its records.
 */
export function decodeRecords(key: RecordKey, bytes: Uint8Array): JobRecord[] {
  return key.segment === undefined ? [decodeRecord(bytes)] : decodeSegment(bytes);
}

/**
 * Reads the records one object of a run's records holds (one GET): a
 * segment's, or a single record; none when the object is gone.
 *
 * @example Usage
 * ```ts
 * import { listRecords, readRecords } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * for await (const key of listRecords(run)) console.log(await readRecords(run, key));
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param run The store rooted at the run.
 * @param key The object's key, as `listRecords` parses it.
 * @returns Its records.
 */
export async function readRecords(run: ObjectStore, key: RecordKey): Promise<JobRecord[]> {
  const bytes = await run.get(key.key);
  return bytes === undefined ? [] : decodeRecords(key, bytes);
}
