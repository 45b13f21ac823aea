/**
 * The mark a map holds while it submits a run's jobs, so that a reader of
 * the run with the same config file tells a map that still submits from one
 * that died part-way (killed, crashed, or ended by a second Ctrl-C).
 *
 * The mark is a hold of the config file ({@linkcode StateFile.hold}): an OS
 * lock (`flock`) on a file beside it, taken before the run's index is
 * written (before any reader can see the run) and released once its jobs are
 * submitted and recorded, or the submission failed. The kernel frees the
 * lock when the map's process ends, however it ends, but the file stays: a
 * file whose lock is free is the mark of a map that died before it finished
 * submitting. The first reader that sees it so writes the time into it, and
 * it is removed once the run's submission window is over (or every job of
 * the run is found), when no reader needs it any more. Neither an age nor a process id tells that for sure (a map may
 * wait minutes between two jobs when AWS throttles it; a process id is reused,
 * and means nothing on another machine).
 *
 * A reader that finds no mark (the map ran with another config file, or on
 * another machine, or it could not write beside the config file) knows
 * nothing, and waits for the run's submission window as before, unless the
 * map gave up with an error and said so in the run's manifest
 * ({@linkcode SubmitGaveUp}). A mark a killed map left that no reader removed
 * is removed by `gc` once the run's submission window is over
 * (`resources/_submit_marks.ts`).
 *
 * @module
 */
import type { RunManifest } from "../../job/payload.ts";
import type { StateFile } from "../../state/state_file.ts";
import { submitMarkName } from "../../resources/_submit_marks.ts";
import { sleep } from "../../util/sleep.ts";

/**
 * What a map whose submission failed (SubmitJob refused, or its answer lost
 * for good: an error, not a kill) records in its run's manifest, with the
 * jobs it had submitted (and stopped), before it lets go of its mark: every
 * reader, with any config file on any machine, trusts it at once, and ends
 * the items no job runs as never submitted instead of waiting for the
 * submission window.
 */
export interface SubmitGaveUp {
  /** When the map gave up, in ms since the epoch. */
  at: number;
  /** Why: the error of the SubmitJob that failed. */
  why: string;
}

/** A run's manifest as the AWS target writes it: `submitGaveUp` once its map gave up. */
export type AwsRunManifest = RunManifest & { submitGaveUp?: SubmitGaveUp };

/**
 * How long a reader still waits for the jobs of a run whose map died while
 * it submitted them, from when the reader first saw it dead, in ms
 * (`AwsTargetOptions.submitGraceMs`): a SubmitJob the map sent just before
 * it died still reaches AWS Batch, within moments. One minute.
 */
export const SUBMIT_GRACE_MS = 60_000;

export { SUBMIT_WINDOW_MS, submitMarkName } from "../../resources/_submit_marks.ts";

/** The mark a map holds while it submits a run, or nothing when it cannot take it. */
export interface SubmitMark {
  /**
   * Notes that a job of the run was submitted (the mark's file is touched):
   * `gc` leaves the mark of a map killed part-way until the run's submission
   * window is over from then.
   */
  submitted(): Promise<void>;
  /** Releases it: the submission is over (every job submitted, or it failed). */
  release(): Promise<void>;
}

/**
 * Takes the mark of a run's submission. A config file whose directory
 * cannot be written (a read-only home) gives no mark: readers then wait the
 * whole submission window, as for a map on another machine.
 *
 * @example Usage
 * ```ts ignore
 * const mark = await holdSubmitMark(state, "squares", runId);
 * try {
 *   // write the index, submit the jobs, record the run
 * } finally {
 *   await mark.release();
 * }
 * ```
 *
 * @param state The config file.
 * @param knot The knot's name.
 * @param runId The run's id.
 * @returns The mark.
 */
export async function holdSubmitMark(
  state: StateFile,
  knot: string,
  runId: string,
): Promise<SubmitMark> {
  const name = submitMarkName(knot, runId);
  const hold = await state.hold(name).catch(() => undefined);
  const file = hold === undefined ? undefined : await state.holdFile(name).catch(() => undefined);
  return {
    submitted: async () => {
      if (file === undefined) return;
      const now = new Date();
      await Deno.utime(file, now, now).catch(() => {});
    },
    release: async () => await hold?.release().catch(() => {}),
  };
}

/**
 * When a reader first saw that the map that submitted run `runId` with this
 * config file died before it finished submitting (its mark is there and no
 * live process holds it), in ms since the epoch: the first reader to see it
 * notes the time in the mark's file, so every later reader counts its grace
 * from the same moment. `undefined` when the mark is held (the map still
 * submits), or when there is none (the map finished, or ran elsewhere, and
 * nothing is known). A config file that cannot be read counts as one
 * without the mark.
 *
 * @example Usage
 * ```ts ignore
 * const died = await submitterDiedAt(state, "squares", runId);
 * if (died !== undefined) console.log(`no job comes after ${died + SUBMIT_GRACE_MS}`);
 * ```
 *
 * @param state The config file.
 * @param knot The knot's name.
 * @param runId The run's id.
 * @returns When its death was first seen, or `undefined`.
 */
export async function submitterDiedAt(
  state: StateFile,
  knot: string,
  runId: string,
): Promise<number | undefined> {
  const name = submitMarkName(knot, runId);
  const left: string[] = await state.holdsLeft().catch(() => []);
  if (!left.includes(name)) return undefined;
  const file = await state.holdFile(name);
  const noted = Date.parse((await Deno.readTextFile(file).catch(() => "")).trim());
  if (Number.isFinite(noted)) return noted;
  const now = Date.now();
  // Not created again when a reader whose window is over removed it meanwhile.
  await Deno.writeTextFile(file, new Date(now).toISOString(), { create: false }).catch(() => {});
  return now;
}

/**
 * Removes the mark of a map that died while it submitted the run, once no
 * reader needs it (the run's submission window is over for everyone). A
 * mark a live process holds is left alone; errors are ignored (it is an
 * empty file).
 *
 * @example Usage
 * ```ts ignore
 * await forgetSubmitMark(state, "squares", runId);
 * ```
 *
 * @param state The config file.
 * @param knot The knot's name.
 * @param runId The run's id.
 */
export async function forgetSubmitMark(
  state: StateFile,
  knot: string,
  runId: string,
): Promise<void> {
  await state.endHoldLeft(submitMarkName(knot, runId), () => Promise.resolve()).catch(() => {});
}

/**
 * Removes every submission mark of knot `knot` that no live process holds:
 * for its clobber, once no map submits its runs, as nothing reads them after.
 *
 * @example Usage
 * ```ts ignore
 * await forgetKnotSubmitMarks(state, "squares");
 * ```
 *
 * @param state The config file.
 * @param knot The knot's name.
 */
export async function forgetKnotSubmitMarks(state: StateFile, knot: string): Promise<void> {
  const head = submitMarkName(knot, "");
  for (const name of await state.holdsLeft().catch(() => [] as string[])) {
    // A name is "<word> <knot> <run>": another knot's name never starts with this knot's and a space.
    if (name.startsWith(head)) {
      await state.endHoldLeft(name, () => Promise.resolve()).catch(() => {});
    }
  }
}

/**
 * The runs of knot `knot` whose map holds its submission mark now, with this
 * config file (a live process submitting their jobs); it only reads. A
 * knot's clobber waits for them before it changes anything
 * ({@linkcode waitForSubmissions}).
 *
 * @example Usage
 * ```ts ignore
 * console.log(await submissionsUnderWay(state, "squares")); // ["20260101T000000Z-abcdef"]
 * ```
 *
 * @param state The config file.
 * @param knot The knot's name.
 * @returns Their run ids, sorted.
 */
export async function submissionsUnderWay(state: StateFile, knot: string): Promise<string[]> {
  const head = submitMarkName(knot, "");
  return (await state.holding().catch(() => [] as string[]))
    .filter((name) => name.startsWith(head))
    .map((name) => name.slice(head.length));
}

/** Options for {@linkcode waitForSubmissions}. */
export interface WaitForSubmissionsOptions {
  /** How often to look again, in ms. @default {2000} */
  pollMs?: number;
  /** Told once, at once, the runs still being submitted, when there are any. */
  onWait?: (runIds: string[]) => void;
}

/**
 * Waits until no map with this config file submits a run of knot `knot`
 * ({@linkcode submissionsUnderWay}): a knot's clobber calls it once it holds
 * its own mark, and a map that takes its submission mark after that sees the
 * clobber's and refuses (`refuseMapWhileClobbered`), so of a clobber and a
 * map that overlap, the map either refuses before it writes its index or
 * has submitted and recorded its jobs (and written its manifest) when the
 * clobber goes on: the clobber then stops those jobs and deletes their data
 * with the knot's. A map that died while it submitted holds nothing, and is
 * not waited for.
 *
 * @example Usage
 * ```ts ignore
 * await waitForSubmissions(state, "squares", { onWait: (runs) => console.warn(runs) });
 * ```
 *
 * @param state The config file.
 * @param knot The knot's name.
 * @param options How often to look, and who is told of the wait.
 */
export async function waitForSubmissions(
  state: StateFile,
  knot: string,
  options: WaitForSubmissionsOptions = {},
): Promise<void> {
  let told = false;
  for (;;) {
    const runs = await submissionsUnderWay(state, knot);
    if (runs.length === 0) return;
    if (!told) options.onWait?.(runs);
    told = true;
    await sleep(options.pollMs ?? 2000);
  }
}
