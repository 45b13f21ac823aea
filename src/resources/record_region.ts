/**
 * The check that a resource recorded in the config file (`[knot <name>]`,
 * `[pars <name>]`) is in the session's region, before it is adopted.
 *
 * @module
 */
import { CloudknotError } from "../util/errors.ts";
import { RegionMismatchError } from "./errors.ts";

/** A record of the config file, as far as its region goes. */
export interface RegionRecord {
  /** The record's kind: its section starts with it. */
  kind: "knot" | "pars";
  /** Its name. */
  name: string;
  /** Its `region` key; `""` when the record has none. */
  region: string;
}

/**
 * Checks that a record is in the session's region. A record without a region
 * (made or cut by hand) says which key to add to which file, where a mismatch
 * would name a blank region.
 *
 * @example Usage
 * ```ts ignore
 * import { requireRecordRegion } from "./record_region.ts";
 *
 * requireRecordRegion({ kind: "pars", name: "lab", region: "" }, "us-east-1", state.path);
 * // CloudknotError: The config file's [pars lab] (…) has no "region": …
 * ```
 *
 * @param record The record's kind, name and region.
 * @param current The session's region.
 * @param file The config file's path.
 * @throws {CloudknotError} When the record has no region.
 * @throws {RegionMismatchError} When the record is in another region.
 */
export function requireRecordRegion(record: RegionRecord, current: string, file: string): void {
  const what = record.kind === "knot" ? "Knot" : "Pars";
  if (record.region === "") {
    throw new CloudknotError(
      `The config file's [${record.kind} ${record.name}] (${file}) has no "region": add the ` +
        `region the ${what === "Knot" ? "knot" : what} was made in to it, such as ` +
        `region = ${current} for the current region`,
    );
  }
  if (record.region !== current) {
    throw new RegionMismatchError(what, record.name, {
      resourceRegion: record.region,
      currentRegion: current,
    });
  }
}
