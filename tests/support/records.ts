/**
 * Reads a run's records whatever their keys: a job stamps each record's key
 * with when it was written, and writes many in one segment, so a test finds
 * an item's record by listing.
 *
 * @module
 */
import { type JobRecord, listRecords, mayHoldItems, readRecords } from "../../src/job/mod.ts";
import type { ObjectStore } from "../../src/store/mod.ts";

/** The record of one attempt of one item, or `undefined` when there is none. */
export async function readRecord(
  run: ObjectStore,
  index: number,
  attempt: number,
): Promise<JobRecord | undefined> {
  for await (const key of listRecords(run)) {
    if (key.attempt !== attempt || !mayHoldItems(key, index, index + 1)) continue;
    const record = (await readRecords(run, key)).find((r) => r.index === index);
    if (record !== undefined) return record;
  }
  return undefined;
}

/** Every record of a run (in segments or alone), in the order their objects were listed. */
export async function readAllRecords(run: ObjectStore): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for await (const key of listRecords(run)) out.push(...await readRecords(run, key));
  return out;
}
