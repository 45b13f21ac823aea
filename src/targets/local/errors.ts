/**
 * The errors of a run on this machine that a program may catch by name,
 * apart from the local target so that naming them does not load it.
 *
 * @module
 */
import { CloudknotError } from "../../util/errors.ts";
import { thenSentence } from "../../util/sentence.ts";
import { INPUTS_NOT_STORED } from "../../job/retry_advice.ts";

/**
 * A run's data is gone: its directory was deleted, or was on a filesystem
 * cleared at restart.
 *
 * @example Usage
 * ```ts
 * import { RunDataGoneError } from "@cloudknot/cloudknot";
 *
 * const e = new RunDataGoneError("squares", "20260101T000000Z-abcdef", "/tmp/runs/20260101T000000Z-abcdef");
 * console.log(e.runId); // "20260101T000000Z-abcdef"
 * ```
 */
export class RunDataGoneError extends CloudknotError {
  /** The run's id. */
  readonly runId: string;

  /**
   * Makes the error.
   *
   * @param knot The knot's name.
   * @param runId The run's id.
   * @param dir Where its data was.
   */
  constructor(knot: string, runId: string, dir: string) {
    super(
      `The data of run ${runId} of knot ${knot} is gone: ${dir} no longer exists (it was ` +
        `deleted, or it was on a filesystem cleared at restart, such as /dev/shm or /tmp). ` +
        `Its results cannot be read: map its inputs again`,
    );
    this.runId = runId;
  }
}

/**
 * A knot opened by name was clobbered by another process while it was being
 * opened (between reading its record and writing it again): nothing of it is
 * made again, as its function is gone with it. Create it again with its
 * function.
 *
 * @example Usage
 * ```ts
 * import { KnotClobberedWhileOpeningError } from "./errors.ts";
 *
 * const e = new KnotClobberedWhileOpeningError("squares", "/home/me/.cloudknot/local/squares");
 * console.log(e.knot); // "squares"
 * ```
 */
export class KnotClobberedWhileOpeningError extends CloudknotError {
  /** The knot's name. */
  readonly knot: string;

  /**
   * Makes the error.
   *
   * @param knot The knot's name.
   * @param root The knot's folder.
   */
  constructor(knot: string, root: string) {
    super(
      `Knot ${knot} was clobbered by another process while this one was opening it (in ` +
        `${root}): its record and its function are gone. Create it again with its function ` +
        `(Knot.create({ name: "${knot}", func }), or module and exportName)`,
    );
    this.knot = knot;
  }
}

/**
 * A run's files could not be written (a full disk, a lost mount) or read.
 * Items whose records could not be kept end with it; what was kept before
 * stays readable.
 *
 * @example Usage
 * ```ts
 * import { RunStoreError } from "@cloudknot/cloudknot";
 *
 * const e = new RunStoreError("/runs/r1", "write the records of items 3 to 4", new Error("No space left on device"));
 * console.log(e.dir); // "/runs/r1"
 * ```
 */
export class RunStoreError extends CloudknotError {
  /** The run's directory. */
  readonly dir: string;
  /** What could not be done, as "write the records of item 3". */
  readonly what: string;

  /**
   * Makes the error.
   *
   * @param dir The run's directory.
   * @param what What could not be done.
   * @param cause The system's error.
   * @param then What runs the items again once there is room, as "collect the run again".
   */
  constructor(dir: string, what: string, cause: unknown, then?: string) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    // A read-only disk has room that no freeing gives: it must be made writable.
    const readOnly = (cause as { code?: unknown } | undefined)?.code === "EROFS";
    super(
      thenSentence(
        `Cannot ${what} in ${dir}: ${reason}`,
        (readOnly
          ? `Make that disk writable (the results already `
          : `Free space on that disk (the results already `) +
          (then === undefined
            ? `there stay readable), or set CLOUDKNOT_LOCAL_RUNS to a directory on another disk`
            : `there stay readable), then ${then}; CLOUDKNOT_LOCAL_RUNS set to a directory on ` +
              `another disk puts new runs there`),
      ),
      { cause },
    );
    this.dir = dir;
    this.what = what;
  }
}

/**
 * The error of items whose inputs were never stored in their run: it names
 * them and says to map their inputs again.
 *
 * @example Usage
 * ```ts
 * import { unstoredInputs } from "./errors.ts";
 *
 * const e = unstoredInputs("/runs/r1", "write", 3, 5, new Error("No space left on device"));
 * console.log(e.message); // "Cannot write the inputs of items 3 to 5 in /runs/r1: …"
 * ```
 *
 * @param dir The run's directory.
 * @param verb What could not be done with them: "write", "read".
 * @param from The first item.
 * @param to The last item (inclusive).
 * @param cause Why.
 * @returns The error.
 */
export function unstoredInputs(
  dir: string,
  verb: string,
  from: number,
  to: number,
  cause: unknown,
): RunStoreError {
  const items = from === to ? `item ${from}` : `items ${from} to ${to}`;
  return new RunStoreError(
    dir,
    `${verb} the inputs of ${items}`,
    cause,
    `map these inputs again: ${INPUTS_NOT_STORED}`,
  );
}

/**
 * Where the runs of a knot made under another runs directory than this
 * process's are, and the `CLOUDKNOT_LOCAL_RUNS` that reads them: the end of a
 * sentence that names them.
 *
 * @example Usage
 * ```ts
 * import { runsRootAdvice } from "./errors.ts";
 *
 * const where = runsRootAdvice("/home/me/.cloudknot/local/sq", "/fast/1f2e3d4c5b6a7980", "it");
 * console.log(`Run 20260101T000000Z-abcdef of knot sq is ${where}`);
 * // … is in /fast/1f2e3d4c5b6a7980/runs, made with CLOUDKNOT_LOCAL_RUNS=/fast, not where this
 * // process looks: set CLOUDKNOT_LOCAL_RUNS=/fast to read it
 * ```
 *
 * @param knotRoot The knot's directory.
 * @param runsRoot The runs directory they were made under.
 * @param what What they are called in the sentence ("it", "them").
 * @returns The words.
 */
export function runsRootAdvice(knotRoot: string, runsRoot: string, what: string): string {
  const runs = `${runsRoot.replace(/\/+$/, "")}/runs`;
  if (runsRoot === knotRoot) {
    return `in ${runs}, made without CLOUDKNOT_LOCAL_RUNS, not where this process looks: unset ` +
      `CLOUDKNOT_LOCAL_RUNS to read ${what}`;
  }
  const chosen = runsRoot.replace(/\/+$/, "").replace(/\/[^/]*$/, "") || "/";
  return `in ${runs}, made with CLOUDKNOT_LOCAL_RUNS=${chosen}, not where this process looks: ` +
    `set CLOUDKNOT_LOCAL_RUNS=${chosen} to read ${what}`;
}

/** The system's codes of a disk that cannot take a write. */
const DISK_FULL = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO"]);

/**
 * Whether an error is a write the disk refused: full, over quota, read-only.
 *
 * @example Usage
 * ```ts
 * import { isDiskRefusal } from "./errors.ts";
 *
 * console.log(isDiskRefusal(Object.assign(new Error("No space left on device"), { code: "ENOSPC" }))); // true
 * ```
 *
 * @param e The error.
 * @returns Whether the disk refused the write.
 */
export function isDiskRefusal(e: unknown): e is Error {
  const code = (e as { code?: unknown } | undefined)?.code;
  return e instanceof Error && typeof code === "string" && DISK_FULL.has(code);
}
