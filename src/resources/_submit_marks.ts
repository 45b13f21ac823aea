/**
 * The submission marks a map on AWS left when it was killed while it
 * submitted a run's jobs, and that no reader of the run came to remove.
 *
 * A map holds the mark of its run (`targets/aws/submit_mark.ts`: a hold of
 * the config file, {@linkcode StateFile.hold}, an OS lock the kernel frees
 * when its process ends however it ends) from before the run's index is
 * written until its jobs are submitted, and touches its file each time it
 * submits one. A mark whose lock is free is a dead map's, on this machine
 * with this config file (another machine's marks are beside its own config
 * file, and never here). A reader of the run uses it only within the run's
 * submission window ({@linkcode SUBMIT_WINDOW_MS} from the last sign of its
 * submission), then removes it; `gc` removes one whose file no one touched
 * (the map, or a reader noting when it saw it dead) for that long, when no
 * reader can need it any more: the run is then judged without it.
 *
 * @module
 */
import type { StateFile } from "../state/state_file.ts";
import { CloudknotError } from "../util/errors.ts";

/** The first word of a submission mark's name; no image tag has this form. */
const SUBMITTING = "submitting-run";

/**
 * How long a reader waits for the jobs a run's manifest does not name, from
 * the last sign of its submission (`AwsTargetOptions.submitWindowMs`): 10
 * minutes. A map submits its jobs within seconds, but one SubmitJob may wait
 * 2 minutes for an answer before it is looked up by name and sent again, up
 * to 5 times, and AWS may throttle it meanwhile; a killed map's last
 * SubmitJob reaches Batch within moments.
 */
export const SUBMIT_WINDOW_MS = 600_000;

/**
 * The name of the mark of run `runId` of knot `knot`.
 *
 * @example Usage
 * ```ts ignore
 * console.log(submitMarkName("squares", "20260101T000000Z-abcdef")); // "submitting-run squares 20260101T000000Z-abcdef"
 * ```
 *
 * @param knot The knot's name.
 * @param runId The run's id.
 * @returns The mark's name.
 */
export function submitMarkName(knot: string, runId: string): string {
  return `${SUBMITTING} ${knot} ${runId}`;
}

/** A submission mark a dead map left, which no reader needs any more. */
export interface SubmitMarkLeft {
  /** The mark's name (`submitting-run <knot> <run>`). */
  name: string;
  /** The knot. */
  knot: string;
  /** The run. */
  runId: string;
  /** The mark's file beside the config file. */
  file: string;
}

/**
 * The submission marks of this config file whose map is gone and whose file
 * no one touched for the submission window. It only reads.
 *
 * @example Usage
 * ```ts ignore
 * console.log(await findSubmitMarksLeft(new StateFile()));
 * ```
 *
 * @param state The config file whose marks are looked at.
 * @param now The time, in ms since the epoch. @default {Date.now()}
 * @returns The marks, sorted by name.
 */
export async function findSubmitMarksLeft(
  state: StateFile,
  now = Date.now(),
): Promise<SubmitMarkLeft[]> {
  const found: SubmitMarkLeft[] = [];
  for (const name of await state.holdsLeft()) {
    const [word, knot, runId, ...rest] = name.split(" ");
    if (word !== SUBMITTING || knot === undefined || runId === undefined || rest.length > 0) {
      continue;
    }
    const file = await state.holdFile(name);
    const touched = (await Deno.stat(file).catch(() => undefined))?.mtime?.getTime();
    if (touched === undefined || now - touched < SUBMIT_WINDOW_MS) continue;
    found.push({ name, knot, runId, file });
  }
  return found;
}

/**
 * Removes a submission mark {@linkcode findSubmitMarksLeft} found, holding its
 * lock meanwhile.
 *
 * @example Usage
 * ```ts ignore
 * await removeSubmitMarkLeft(new StateFile(), "submitting-run squares 20260101T000000Z-abcdef");
 * ```
 *
 * @param state The config file whose mark it is.
 * @param name The mark's name; one already gone counts as removed.
 * @throws {CloudknotError} When a live process holds it (a map submitting the run).
 */
export async function removeSubmitMarkLeft(state: StateFile, name: string): Promise<void> {
  if (!await state.endHoldLeft(name, () => Promise.resolve())) {
    throw new CloudknotError(
      `The mark ${name} was kept: a live process holds it (a map still submitting that run)`,
    );
  }
}
