/**
 * The payload layout of one run: every input item in one object, plus an
 * index of fixed-size entries, so a worker reads its own item with one ranged
 * read of the index and one ranged read of the inputs, whatever the run size
 * (or, for small inputs, the whole inputs object beside the index read).
 *
 * Keys, relative to the run's root in the store:
 *
 * - `inputs`: the encoded items, back to back.
 * - `index`: for item `i`, bytes `16 i` to `16 i + 16` hold its offset and
 *   length in `inputs`, each an unsigned 64-bit little-endian integer.
 * - `run.json`: the {@linkcode RunManifest}.
 * - `out/<stamp>-<index>-<attempt>`: the {@linkcode JobRecord} of one attempt
 *   in an object store (AWS), where the stamp is when it was written (epoch
 *   milliseconds, 13 digits), so records sort in the order they were written
 *   and a listing that starts after a time finds only the newer ones
 *   ({@linkcode RUN_KEYS.stampedRecord}, {@linkcode listRecords}). Jobs write
 *   these.
 * - `out/<stamp>-s<first>-<last>-<attempt>-<seq>`: a segment, the records of
 *   several items of one attempt of a job in one object, items `first` to
 *   `last` at most ({@linkcode RUN_KEYS.segment}; the format is in
 *   `record_segment.ts`). A job buffers its records and writes them this way,
 *   so one read gives many; a flush of one record writes the stamped key
 *   above. `seq` counts the attempt's segments from 0.
 * - `out/<index>-<attempt>`: the same record without a stamp (jobs of earlier
 *   versions).
 *
 * The local target appends the same records to one log per run instead
 * (`targets/local/run_dir.ts`).
 *
 * @module
 */
import { CloudknotError } from "../util/errors.ts";
import type { ObjectStore } from "../store/store.ts";

/** Bytes per index entry. */
export const INDEX_ENTRY_BYTES = 16;

/** Where a run's records are, relative to the run's root. */
const RECORDS_PREFIX = "out/";

/** A stamp as 13 digits, so that keys sort by time (until the year 2286). */
function stampText(stamp: number): string {
  return String(Math.max(0, Math.floor(stamp))).padStart(13, "0");
}

/** What a record's key says. */
export interface RecordKey {
  /** The key, as listed. */
  key: string;
  /** The item's position in the inputs. */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** When the record was written (epoch milliseconds), for stamped keys. */
  stamp?: number;
  /**
   * For a segment (many records in one object): the last item it may hold
   * (`index` is the first) and its number among the attempt's segments.
   */
  segment?: { last: number; seq: number };
}

/** The keys of a run's objects, relative to the run's root. */
export const RUN_KEYS = {
  inputs: "inputs",
  index: "index",
  manifest: "run.json",
  /** The prefix of every record. */
  records: RECORDS_PREFIX,
  /** The record of one attempt of one item, without a stamp (jobs of earlier versions). */
  record: (index: number, attempt: number): string => `out/${index}-${attempt}`,
  /**
   * The record of one attempt of one item as a job writes it, stamped with
   * when it was written (epoch milliseconds), so keys sort in writing order.
   */
  stampedRecord: (stamp: number, index: number, attempt: number): string =>
    `${RECORDS_PREFIX}${stampText(stamp)}-${index}-${attempt}`,
  /**
   * The segment of one attempt of a job, stamped with when it was written:
   * the records of items `first` to `last` (some of them) in one object.
   */
  segment: (stamp: number, first: number, last: number, attempt: number, seq: number): string =>
    `${RECORDS_PREFIX}${stampText(stamp)}-s${first}-${last}-${attempt}-${seq}`,
  /** The first key a record written at `stamp` or later can have. */
  recordsFrom: (stamp: number): string => `${RECORDS_PREFIX}${stampText(stamp)}`,
  /**
   * Reads the item, the attempt and the stamp (when there is one) back from a
   * record's or a segment's key; `undefined` for other keys.
   */
  parseRecord: (key: string): RecordKey | undefined => {
    const segment = /^(?:.*\/)?out\/(\d{13})-s(\d+)-(\d+)-(\d+)-(\d+)$/.exec(key);
    if (segment !== null) {
      return {
        key,
        index: Number(segment[2]),
        attempt: Number(segment[4]),
        stamp: Number(segment[1]),
        segment: { last: Number(segment[3]), seq: Number(segment[5]) },
      };
    }
    const match = /^(?:.*\/)?out\/(?:(\d{13})-)?(\d+)-(\d+)$/.exec(key);
    if (match === null) return undefined;
    const parsed: RecordKey = { key, index: Number(match[2]), attempt: Number(match[3]) };
    if (match[1] !== undefined) parsed.stamp = Number(match[1]);
    return parsed;
  },
} as const;

/**
 * What a run is, written to `run.json` before any job starts, so another
 * process can collect the run's results later.
 */
export interface RunManifest {
  /** The layout version. */
  version: 1;
  /** The run's id, unique within its knot. */
  runId: string;
  /** The knot's name. */
  knot: string;
  /** How many items the run has. */
  count: number;
  /** Whether each item is spread into the function's arguments. */
  starmap: boolean;
  /** When the run was created, in epoch milliseconds. */
  createdAt: number;
  /** The attempts each item gets. */
  attempts: number;
  /**
   * The jobs the run was submitted as, once known (AWS target): `slice`
   * items per child (one when missing, as in runs recorded before slices).
   */
  jobs?: {
    jobId: string;
    jobName: string;
    offset: number;
    size: number;
    array: boolean;
    slice?: number;
  }[];
  /** Items per job (or array child, or docker container), when more than one. */
  itemsPerJob?: number;
  /** The environment variables the map call gave every job, so a retry gets the same. */
  env?: Record<string, string>;
  /** Ranges of items that run with resources of their own (a retry with more memory). */
  groups?: {
    offset: number;
    size: number;
    resources: { memory?: number; vcpus?: number; timeout?: number };
  }[];
  /** The run this run retries, and the input index of each of its items. */
  retryOf?: { runId: string; items: number[] };
  /**
   * The job definition revision its jobs run on (AWS target), so that its
   * retries run the same function and options after the knot is updated;
   * absent in runs of earlier versions, whose retries run on the revision
   * Batch says their jobs ran on (once Batch forgot them, the one the knot
   * ran before its first update, for a run made before it; else the knot's).
   */
  jobDefinition?: string;
  /**
   * The owner id of the config file the run was started with (AWS target):
   * `gc` deletes the job data of a knot no longer recorded only when every
   * run under it names its own config file.
   */
  owner?: string;
}

/** The metadata key of a run's index object that carries its manifest (AWS target). */
export const MANIFEST_METADATA_KEY = "cloudknot-run";

/** The two objects of a laid-out payload. */
export interface Payload {
  /** Every item's bytes, back to back. */
  inputs: Uint8Array;
  /** Offset and length of each item, {@linkcode INDEX_ENTRY_BYTES} per item. */
  index: Uint8Array;
}

/**
 * An object of the payload is missing or shorter than the index says.
 *
 * @example Usage
 * ```ts
 * import { PayloadError } from "@cloudknot/cloudknot/job";
 *
 * const e = new PayloadError("Item 4 is out of range: the run has 3 items");
 * console.log(e.name); // "PayloadError"
 * ```
 */
export class PayloadError extends CloudknotError {}

/**
 * Lays encoded items out as one inputs object and its index.
 *
 * @example Usage
 * ```ts
 * import { layoutPayload } from "@cloudknot/cloudknot/job";
 *
 * const { inputs, index } = layoutPayload([new Uint8Array([1]), new Uint8Array([2, 3])]);
 * console.log(inputs.length, index.length); // 3 32
 * ```
 *
 * @param items Each item's encoded bytes.
 * @param start Where the first item starts in the whole inputs object, for a
 * chunk of items laid out after others (a payload written as it is read).
 * @returns The inputs object (or chunk) and its index entries.
 */
export function layoutPayload(items: readonly Uint8Array[], start = 0): Payload {
  let total = 0;
  for (const item of items) total += item.byteLength;
  const inputs = new Uint8Array(total);
  const index = new Uint8Array(items.length * INDEX_ENTRY_BYTES);
  const view = new DataView(index.buffer);
  let offset = 0;
  items.forEach((item, i) => {
    inputs.set(item, offset);
    view.setBigUint64(i * INDEX_ENTRY_BYTES, BigInt(start + offset), true);
    view.setBigUint64(i * INDEX_ENTRY_BYTES + 8, BigInt(item.byteLength), true);
    offset += item.byteLength;
  });
  return { inputs, index };
}

/**
 * Writes a run's inputs, index and manifest. The manifest goes last, so a
 * run that has a manifest always has its payload.
 *
 * @example Usage
 * ```ts
 * import { readItem, writePayload } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * const items = [new TextEncoder().encode("a"), new TextEncoder().encode("bc")];
 * await writePayload(run, items, { version: 1, runId: "r", knot: "k", count: 2, starmap: false, createdAt: 0, attempts: 1 });
 * console.log(new TextDecoder().decode(await readItem(run, 1))); // "bc"
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param run The store rooted at the run.
 * @param items Each item's encoded bytes.
 * @param manifest The run's description.
 */
export async function writePayload(
  run: ObjectStore,
  items: readonly Uint8Array[],
  manifest: RunManifest,
): Promise<void> {
  const { inputs, index } = layoutPayload(items);
  await Promise.all([run.put(RUN_KEYS.inputs, inputs), run.put(RUN_KEYS.index, index)]);
  await writeManifest(run, manifest);
}

/**
 * Writes (or rewrites) a run's manifest.
 *
 * @example Usage
 * ```ts
 * import { readManifest, writeManifest } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * await writeManifest(run, { version: 1, runId: "r", knot: "k", count: 0, starmap: false, createdAt: 0, attempts: 1 });
 * console.log((await readManifest(run))?.runId); // "r"
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param run The store rooted at the run.
 * @param manifest The run's description.
 */
export async function writeManifest(run: ObjectStore, manifest: RunManifest): Promise<void> {
  await run.put(RUN_KEYS.manifest, JSON.stringify(manifest, null, 2));
}

/**
 * Reads a run's manifest; `undefined` when the run has none.
 *
 * @example Usage
 * ```ts
 * import { readManifest } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * console.log(await readManifest(new LocalStore(dir))); // undefined
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param run The store rooted at the run.
 * @returns The manifest, if there is one.
 */
export async function readManifest(run: ObjectStore): Promise<RunManifest | undefined> {
  const bytes = await run.get(RUN_KEYS.manifest);
  return bytes === undefined ? undefined : JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * Reads one item's encoded bytes: one ranged read of the index, then one of
 * the inputs.
 *
 * @example Usage
 * ```ts
 * import { readItem, writePayload } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * await writePayload(run, [new Uint8Array([7])], { version: 1, runId: "r", knot: "k", count: 1, starmap: false, createdAt: 0, attempts: 1 });
 * console.log(await readItem(run, 0)); // Uint8Array(1) [ 7 ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param run The store rooted at the run.
 * @param index The item's position in the inputs.
 * @returns The item's encoded bytes.
 */
export async function readItem(run: ObjectStore, index: number): Promise<Uint8Array> {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new PayloadError(`Invalid item index ${index}: it must be a non-negative integer`);
  }
  const entry = await run.get(RUN_KEYS.index, {
    range: { offset: index * INDEX_ENTRY_BYTES, length: INDEX_ENTRY_BYTES },
  });
  if (entry === undefined) {
    throw new PayloadError(
      `The run at ${run.url} has no index object; it was deleted or never written`,
    );
  }
  if (entry.byteLength < INDEX_ENTRY_BYTES) {
    throw new PayloadError(
      `Item ${index} is out of range: the index at ${run.url} has ${
        Math.floor(entry.byteLength / INDEX_ENTRY_BYTES)
      } entries from there`,
    );
  }
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const offset = Number(view.getBigUint64(0, true));
  const length = Number(view.getBigUint64(8, true));
  if (length === 0) return new Uint8Array();
  const bytes = await run.get(RUN_KEYS.inputs, { range: { offset, length } });
  if (bytes === undefined || bytes.byteLength !== length) {
    throw new PayloadError(
      `The inputs object at ${run.url} is missing or shorter than its index says (item ${index})`,
    );
  }
  return bytes;
}

/**
 * The environment variable with which the submitting client tells a job the
 * size in bytes of its run's inputs object, set only when the object is
 * small enough to read whole (`targets/aws/aws_target.ts`): the job then
 * reads it in one GET beside its index read ({@linkcode ReadItemsOptions}),
 * one round trip instead of two. A job of an older runtime ignores it.
 *
 * @example Usage
 * ```ts
 * import { INPUTS_BYTES_ENV } from "@cloudknot/cloudknot/job";
 *
 * console.log(INPUTS_BYTES_ENV); // "CLOUDKNOT_INPUTS_BYTES"
 * ```
 */
export const INPUTS_BYTES_ENV = "CLOUDKNOT_INPUTS_BYTES";

/** Options for {@linkcode readItems}. */
export interface ReadItemsOptions {
  /**
   * Read the whole inputs object, at the same time as the index, instead of
   * the slice's range after it: one round trip instead of two, for a small
   * object. @default {false}
   */
  whole?: boolean;
}

/**
 * Reads the encoded bytes of items `from` to `to - 1` (a job's slice) with
 * one ranged read of the index and one of the inputs, however many items;
 * with `whole`, the whole inputs object is read beside the index instead.
 *
 * @example Usage
 * ```ts
 * import { readItems, writePayload } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * await writePayload(run, [new Uint8Array([7]), new Uint8Array([8, 9])], { version: 1, runId: "r", knot: "k", count: 2, starmap: false, createdAt: 0, attempts: 1 });
 * console.log(await readItems(run, 0, 2)); // [ Uint8Array(1) [ 7 ], Uint8Array(2) [ 8, 9 ] ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param run The store rooted at the run.
 * @param from The first item.
 * @param to One past the last item.
 * @param options `whole` reads the whole inputs object beside the index.
 * @returns Each item's encoded bytes, in order.
 */
export async function readItems(
  run: ObjectStore,
  from: number,
  to: number,
  options: ReadItemsOptions = {},
): Promise<Uint8Array[]> {
  // Sent before the index is read, so both are in flight at once.
  const whole = options.whole ? run.get(RUN_KEYS.inputs) : undefined;
  whole?.catch(() => {});
  const spans = await readSpans(run, from, to);
  const count = to - from;
  const start = spans[0]!.offset;
  const last = spans[count - 1]!;
  const length = last.offset + last.length - start;
  if (length === 0) return spans.map(() => new Uint8Array());
  const bytes = whole !== undefined
    ? (await whole)?.subarray(start, start + length)
    : await run.get(RUN_KEYS.inputs, { range: { offset: start, length } });
  if (bytes === undefined || bytes.byteLength !== length) throw shortInputs(run, from, to);
  return spans.map((s) => bytes.subarray(s.offset - start, s.offset - start + s.length));
}

/** Where each item of `from` to `to - 1` is in the inputs: one ranged read of the index. */
async function readSpans(
  run: ObjectStore,
  from: number,
  to: number,
): Promise<{ offset: number; length: number }[]> {
  if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(to) || to <= from) {
    throw new PayloadError(`Invalid item range ${from} to ${to}: it must hold at least one item`);
  }
  const count = to - from;
  const entries = await run.get(RUN_KEYS.index, {
    range: { offset: from * INDEX_ENTRY_BYTES, length: count * INDEX_ENTRY_BYTES },
  });
  if (entries === undefined) {
    throw new PayloadError(
      `The run at ${run.url} has no index object; it was deleted or never written`,
    );
  }
  if (entries.byteLength < count * INDEX_ENTRY_BYTES) {
    // Items past the end of the index: their inputs were never stored (a local run whose disk
    // filled as they were written), and nothing of the run can read them.
    const missing = from + Math.floor(entries.byteLength / INDEX_ENTRY_BYTES);
    throw new PayloadError(
      `The inputs of item${to - 1 > missing ? `s ${missing} to ${to - 1}` : ` ${missing}`} ` +
        `are not in the run at ${run.url}: its index ends before them, so they were never ` +
        `stored (as when its disk filled while they were written), and neither a retry nor ` +
        `collecting the run can run them: map these inputs again`,
    );
  }
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  return Array.from({ length: count }, (_, i) => ({
    offset: Number(view.getBigUint64(i * INDEX_ENTRY_BYTES, true)),
    length: Number(view.getBigUint64(i * INDEX_ENTRY_BYTES + 8, true)),
  }));
}

function shortInputs(run: ObjectStore, from: number, to: number): PayloadError {
  return new PayloadError(
    `The inputs object at ${run.url} is missing or shorter than its index says (items ${from} ` +
      `to ${to - 1})`,
  );
}

/** The default {@linkcode SliceReaderOptions.windowBytes}: 64 MiB. */
export const SLICE_WINDOW_BYTES = 64 * 1024 * 1024;

/** Options of {@linkcode SliceReader.open}. */
export interface SliceReaderOptions extends ReadItemsOptions {
  /**
   * The items to run (the others are never asked for: on a retried attempt,
   * those an earlier one ran to a result). @default {every item of the slice}
   */
  wanted?: readonly number[];
  /**
   * The most bytes of inputs one ranged read fetches (at least one item):
   * about the most of the slice's inputs held at once.
   *
   * @default {67108864}
   */
  windowBytes?: number;
  /**
   * The most bytes of items not `wanted` that one ranged read fetches
   * between two wanted ones: past it, the read stops after the last wanted
   * item and the next one begins at the next wanted item, so wanted items
   * far apart are not read with everything between them. @default {Infinity}
   */
  gapBytes?: number;
}

/**
 * A job's slice of items, read as they are asked for: the index entries of
 * the slice in one ranged read, then its inputs a window at a time (one
 * ranged read each, the first begun at once), so a slice of large items is
 * never held whole; each item is let go of once handed out, and read again
 * if asked for again. A slice within one window is read as
 * {@linkcode readItems} reads it: two reads, or one beside the index with
 * `whole`.
 *
 * @example Usage
 * ```ts
 * import { SliceReader, writePayload } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * await writePayload(run, [new Uint8Array([7]), new Uint8Array([8, 9])], { version: 1, runId: "r", knot: "k", count: 2, starmap: false, createdAt: 0, attempts: 1 });
 * const slice = await SliceReader.open(run, 0, 2);
 * console.log(await slice.read([1])); // [ Uint8Array(2) [ 8, 9 ] ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SliceReader {
  #run: ObjectStore;
  #from: number;
  #spans: { offset: number; length: number }[];
  #wanted: Set<number> | undefined;
  #window: number;
  #gap: number;
  #held = new Map<number, Uint8Array>();
  #reading: Promise<void> = Promise.resolve();

  private constructor(
    run: ObjectStore,
    from: number,
    spans: { offset: number; length: number }[],
    options: SliceReaderOptions,
  ) {
    this.#run = run;
    this.#from = from;
    this.#spans = spans;
    this.#wanted = options.wanted !== undefined ? new Set(options.wanted) : undefined;
    this.#window = options.windowBytes ?? SLICE_WINDOW_BYTES;
    this.#gap = options.gapBytes ?? Infinity;
  }

  /**
   * Reads the slice's index entries and begins reading its first window.
   *
   * @param run The store rooted at the run.
   * @param from The first item.
   * @param to One past the last item.
   * @param options `whole`, the items wanted and the window.
   * @returns The reader.
   */
  static async open(
    run: ObjectStore,
    from: number,
    to: number,
    options: SliceReaderOptions = {},
  ): Promise<SliceReader> {
    // Sent before the index is read, so both are in flight at once.
    const whole = options.whole ? run.get(RUN_KEYS.inputs) : undefined;
    whole?.catch(() => {});
    const reader = new SliceReader(run, from, await readSpans(run, from, to), options);
    const first = options.wanted?.[0] ?? from;
    reader.#reading = whole !== undefined
      ? whole.then((bytes) => reader.#keep(first, to, bytes, 0))
      : reader.#fetch(first);
    reader.#reading.catch(() => {});
    return reader;
  }

  /**
   * The encoded bytes of some items of the slice, in the order asked.
   *
   * @param indices The items.
   * @returns Their bytes.
   */
  async read(indices: readonly number[]): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const index of indices) {
      if (!this.#held.has(index)) {
        // After the read under way (which may bring it), one at a time.
        const fetching = this.#reading.catch(() => {}).then(() => {
          if (!this.#held.has(index)) return this.#fetch(index);
        });
        this.#reading = fetching;
        await fetching;
      }
      let bytes = this.#held.get(index);
      // Asked again after it was handed out: read on its own.
      if (bytes === undefined) {
        await this.#fetch(index, true);
        bytes = this.#held.get(index)!;
      }
      this.#held.delete(index);
      out.push(bytes);
    }
    return out;
  }

  /** Reads the window of items that begins at `index` (only it, with `alone`). */
  async #fetch(index: number, alone = false): Promise<void> {
    const spans = this.#spans;
    const k = index - this.#from;
    if (spans[k] === undefined) {
      throw new PayloadError(`Item ${index} is not in the slice read from ${this.#run.url}`);
    }
    const start = spans[k]!.offset;
    let end = k + 1;
    // One past the last wanted item in the read, where it ends when a gap is too wide.
    let last = end;
    const past = (i: number) => spans[i]!.offset + spans[i]!.length;
    while (
      !alone && end < spans.length && past(end) - start <= this.#window &&
      past(end) - past(last - 1) - spans[end]!.length <= this.#gap
    ) {
      end++;
      if (this.#wanted === undefined || this.#wanted.has(this.#from + end - 1)) last = end;
    }
    if (this.#gap !== Infinity) end = last;
    const length = spans[end - 1]!.offset + spans[end - 1]!.length - start;
    const bytes = length === 0
      ? new Uint8Array()
      : await this.#run.get(RUN_KEYS.inputs, { range: { offset: start, length } });
    if (bytes === undefined || bytes.byteLength !== length) {
      throw shortInputs(this.#run, index, this.#from + end);
    }
    this.#keep(index, this.#from + end, bytes, start, alone);
  }

  /** Holds the wanted items of `from` to `to - 1`, out of bytes that begin at `start`. */
  #keep(from: number, to: number, bytes: Uint8Array | undefined, start: number, all = false) {
    for (let index = from; index < to; index++) {
      if (!all && this.#wanted !== undefined && !this.#wanted.has(index)) continue;
      const span = this.#spans[index - this.#from]!;
      const at = span.offset - start;
      if (bytes === undefined || at + span.length > bytes.byteLength) {
        throw shortInputs(this.#run, from, to);
      }
      this.#held.set(index, bytes.subarray(at, at + span.length));
    }
  }
}

/**
 * Lists a run's records and segments, stamped or not, in key order: stamped
 * ones in the order they were written. Read what one holds with
 * `readRecords` (`record_segment.ts`).
 *
 * @example Usage
 * ```ts
 * import { listRecords, RUN_KEYS } from "@cloudknot/cloudknot/job";
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const run = new LocalStore(dir);
 * await run.put(RUN_KEYS.stampedRecord(Date.now(), 4, 1), "…");
 * for await (const { index, attempt } of listRecords(run)) console.log(index, attempt); // 4 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param run The store rooted at the run.
 * @returns Each record's (or segment's) key, item, attempt and stamp.
 */
export async function* listRecords(run: ObjectStore): AsyncGenerator<RecordKey> {
  for await (const { key } of run.list(RECORDS_PREFIX)) {
    const parsed = RUN_KEYS.parseRecord(key);
    if (parsed !== undefined) yield parsed;
  }
}
