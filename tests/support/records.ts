/**
 * Reads a run's records whatever their keys: a job stamps each record's key
 * with when it was written, so a test finds an item's record by listing.
 *
 * @module
 */
import { decodeRecord, type JobRecord, listRecords } from "../../src/job/mod.ts";
import type { ObjectStore } from "../../src/store/mod.ts";

/** The record of one attempt of one item, or `undefined` when there is none. */
export async function readRecord(
  run: ObjectStore,
  index: number,
  attempt: number,
): Promise<JobRecord | undefined> {
  for await (const key of listRecords(run)) {
    if (key.index !== index || key.attempt !== attempt) continue;
    const bytes = await run.get(key.key);
    if (bytes !== undefined) return decodeRecord(bytes);
  }
  return undefined;
}
