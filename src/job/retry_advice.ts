/**
 * How a run's failed items are mapped again, in a library user's words: the
 * advice every target's errors give (a container's pool too, which is told
 * its knot and run), and which the command line's `inCliWords` turns into
 * `cloudknot retry <knot> <run>`.
 *
 * @module
 */

/** The variable that tells a job (`main.ts`) its knot's name, for the advice of its items' errors. */
export const KNOT_ENV = "CLOUDKNOT_KNOT";
/** The variable that tells a job (`main.ts`) its run's id, for the advice of its items' errors. */
export const RUN_ID_ENV = "CLOUDKNOT_RUN_ID";

/**
 * How a library user maps a run's failed items again, in words that the
 * command line's `inCliWords` turns into `cloudknot retry <knot> <run>`
 * (with `{ timeout: 6 }` as the options, `cloudknot retry <knot> <run> --timeout 6`).
 *
 * @example Usage
 * ```ts
 * import { retryAdvice } from "@cloudknot/cloudknot/run";
 *
 * console.log(`map it again with ${retryAdvice("squares", "20250101T000000Z-abcdef")}`);
 * console.log(retryAdvice("squares", "20250101T000000Z-abcdef", "{ timeout: 6 }"));
 * // run.retry({ timeout: 6 }) on the run's handle (knot.collect("20250101T000000Z-abcdef") of knot squares)
 * ```
 *
 * @param knot The knot's name.
 * @param runId The run's id.
 * @param options The retry's options, as code (`{ timeout: 6 }`), when it takes some.
 * @returns The advice.
 */
export function retryAdvice(knot: string, runId: string, options = ""): string {
  return `run.retry(${options}) on the run's handle (knot.collect("${runId}") of knot ${knot})`;
}

/**
 * What the cancel reason of a run stopped by its knot's clobber says, on the
 * local and docker targets, in the words its items' errors give. A reader
 * tells such items by their error's name ({@linkcode KNOT_CLOBBERED_ERROR}),
 * and by these words only where no name came with them
 * ({@linkcode knotClobbered}).
 *
 * @example Usage
 * ```ts
 * import { CLOBBERED_WHILE_RUNNING } from "./retry_advice.ts";
 *
 * console.log(`The run stopped because its knot squares ${CLOBBERED_WHILE_RUNNING}: create it again`);
 * ```
 */
export const CLOBBERED_WHILE_RUNNING = "was clobbered while it ran, so nothing of it is kept";

/**
 * The name of the error of an item whose run stopped because its knot was
 * clobbered while it ran (its `ItemError.remote.name`, of kind `cancelled`):
 * no retry runs such items, as the knot is gone with what it kept of the run.
 */
export const KNOT_CLOBBERED_ERROR = "KnotClobberedError";

/**
 * Whether an item's error is one of an item whose run stopped because its
 * knot was clobbered while it ran: `run.retry()` refuses such a run, and the
 * command line's summary of failed items says to make the knot again rather
 * than to retry.
 *
 * Its error's name says so ({@linkcode KNOT_CLOBBERED_ERROR}). A clobber's
 * reason that reached the run as words alone, without that name, is told by
 * its words ({@linkcode CLOBBERED_WHILE_RUNNING}): the error of a docker
 * run's item whose run's directory the clobber removed under its driver, and
 * a request to cancel that a clobber of a version before the name wrote in
 * the run's folder.
 *
 * @example Usage
 * ```ts
 * import { KNOT_CLOBBERED_ERROR, knotClobbered } from "./retry_advice.ts";
 *
 * console.log(knotClobbered({ kind: "cancelled", message: "…", remote: { name: KNOT_CLOBBERED_ERROR } })); // true
 * console.log(knotClobbered({ kind: "cancelled", message: "cancelled", remote: { name: "CancelledError" } })); // false
 * ```
 *
 * @param error The item's error: its kind, message and remote error's name.
 * @returns Whether the clobber of its knot stopped it.
 */
export function knotClobbered(
  error: { kind: string; message: string; remote: { name: string } },
): boolean {
  return error.remote.name === KNOT_CLOBBERED_ERROR ||
    ((error.kind === "cancelled" || error.kind === "infrastructure") &&
      error.message.includes(CLOBBERED_WHILE_RUNNING));
}

/**
 * What every error of an item whose inputs were never stored in its run says
 * (the disk filled as they were written): the run has nothing of the item to
 * run, so its inputs must be mapped again. Looked for by `run.retry()`, which
 * leaves such items out (their error stays), and by the command line's
 * summary of failed items, which then suggests no retry for them.
 *
 * @example Usage
 * ```ts
 * import { INPUTS_NOT_STORED } from "./retry_advice.ts";
 *
 * console.log(`map these inputs again: ${INPUTS_NOT_STORED}`);
 * ```
 */
export const INPUTS_NOT_STORED =
  "they were never stored in the run, so neither a retry of it nor collecting it runs their items";

/**
 * Whether an item's error is one of an item whose inputs its run never
 * stored ({@linkcode INPUTS_NOT_STORED}): an infrastructure failure that
 * says so. `run.retry()` leaves such items out, and the command line's
 * summary of failed items suggests no retry for them.
 *
 * @example Usage
 * ```ts
 * import { INPUTS_NOT_STORED, neverStored } from "./retry_advice.ts";
 *
 * console.log(neverStored({ kind: "infrastructure", message: `Item 3: ${INPUTS_NOT_STORED}` })); // true
 * ```
 *
 * @param error The item's error: its kind and message.
 * @returns Whether its inputs were never stored.
 */
export function neverStored(error: { kind: string; message: string }): boolean {
  return error.kind === "infrastructure" && error.message.includes(INPUTS_NOT_STORED);
}
