/**
 * The payload layout of one run: every input item in one object, plus an
 * index of fixed-size entries, so a worker reads its own item with one ranged
 * read of the index and one ranged read of the inputs, whatever the run size.
 *
 * Keys, relative to the run's root in the store:
 *
 * - `inputs`: the encoded items, back to back.
 * - `index`: for item `i`, bytes `16 i` to `16 i + 16` hold its offset and
 *   length in `inputs`, each an unsigned 64-bit little-endian integer.
 * - `run.json`: the {@linkcode RunManifest}.
 * - `out/<index>-<attempt>`: the {@linkcode JobRecord} of one attempt; the
 *   prefix `out/<index>-` lists every attempt of one item.
 * - `logs/<index>-<attempt>`: the output of one attempt (local target).
 *
 * Records sit side by side under `out/` rather than in a folder per item, so a
 * local run writes one file per attempt and no directory.
 *
 * @module
 */
import { CloudknotError } from "../util/errors.ts";
import type { ObjectStore } from "../store/store.ts";

/** Bytes per index entry. */
export const INDEX_ENTRY_BYTES = 16;

/** The keys of a run's objects, relative to the run's root. */
export const RUN_KEYS = {
  inputs: "inputs",
  index: "index",
  manifest: "run.json",
  /** The local target's proof that the process running the run is alive. */
  heartbeat: "heartbeat",
  /** The record of one attempt of one item. */
  record: (index: number, attempt: number): string => `out/${index}-${attempt}`,
  /** Reads the item and attempt back from a record's key; `undefined` for other keys. */
  parseRecord: (key: string): { index: number; attempt: number } | undefined => {
    const match = /^(?:.*\/)?out\/(\d+)-(\d+)$/.exec(key);
    return match ? { index: Number(match[1]), attempt: Number(match[2]) } : undefined;
  },
  /** The output of one attempt of one item. */
  log: (index: number, attempt: number): string => `logs/${index}-${attempt}`,
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
  /** The jobs the run was submitted as, once known (AWS target). */
  jobs?: { jobId: string; jobName: string; offset: number; size: number; array: boolean }[];
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
}

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
 * @returns The inputs object and its index.
 */
export function layoutPayload(items: readonly Uint8Array[]): Payload {
  let total = 0;
  for (const item of items) total += item.byteLength;
  const inputs = new Uint8Array(total);
  const index = new Uint8Array(items.length * INDEX_ENTRY_BYTES);
  const view = new DataView(index.buffer);
  let offset = 0;
  items.forEach((item, i) => {
    inputs.set(item, offset);
    view.setBigUint64(i * INDEX_ENTRY_BYTES, BigInt(offset), true);
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
