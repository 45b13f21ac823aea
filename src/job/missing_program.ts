/**
 * A program the function runs (`new Deno.Command("ffmpeg")`, or
 * `node:child_process`) that is not where the item runs: Deno says only
 * `Failed to spawn 'ffmpeg': entity not found` (Node's words: `spawnSync
 * ffmpeg ENOENT`); the item's error adds where the program must be and how
 * to put it there, in a container's image or on this machine.
 *
 * @module
 */

/** What an item's error says of a program its function runs that the knot's image lacks. */
const NOT_IN_IMAGE = "not in the knot's image, where the item ran";

/** What an item's error says of a program its function runs that this machine lacks. */
const NOT_HERE = "not on this machine, or not in a folder on the PATH of the process that maps " +
  "the items";

/** What {@linkcode explainMissingProgram} adds to an error, wherever the item ran. */
const MISSING = new RegExp(`: the program .+ is (?:${NOT_IN_IMAGE}|${NOT_HERE})\\. `);

/** What {@linkcode explainMissingProgram} adds to an error of an item that ran in a knot's image. */
const MISSING_FROM_IMAGE = new RegExp(`: the program .+ is ${NOT_IN_IMAGE}\\. `);

/** Where an item ran whose function's artifact is at this URL: in a knot's image, or on this machine. */
function inImage(functionUrl: string | undefined): boolean {
  // An image's artifact is at /app/ (image/build_context.ts), on the docker target as on AWS.
  return functionUrl?.startsWith("file:///app/") === true;
}

/**
 * Explains Deno's error for a program the function runs that cannot be
 * found: in a container, that the knot's image lacks it, and to use a base
 * image that has it (`baseImage` in `Knot.create`) and map the items again (a
 * retry runs the run's own image); on this machine, to install it or put its
 * folder on `PATH`, then retry. Deno's words stay at the head of the message
 * (and of the stack); any other error comes back as it is.
 *
 * @example Usage
 * ```ts
 * import { explainMissingProgram } from "./missing_program.ts";
 *
 * const missing = new Deno.errors.NotFound("Failed to spawn 'ffmpeg': entity not found");
 * console.log((explainMissingProgram(missing, "file:///app/function.js") as Error).message);
 * // Failed to spawn 'ffmpeg': entity not found: the program ffmpeg is not in the knot's image. …
 * ```
 *
 * @param error What the function threw.
 * @param functionUrl The URL of the function's artifact: `/app/` is an image's.
 * @param retry How to map the item again on this machine, in the library's
 *   words (`retryAdvice`, naming the knot and the run where the worker is told them).
 * @returns The error, explained when a program was not found.
 */
export function explainMissingProgram(
  error: unknown,
  functionUrl?: string,
  retry = "run.retry() on the run's handle",
): unknown {
  if (!(error instanceof Error)) return error;
  const message = error.message;
  const program = error instanceof Deno.errors.NotFound
    ? /^Failed to spawn '([^']*)'/.exec(message)?.[1]
    // node:child_process: "spawnSync ffmpeg ENOENT" thrown, "spawn ffmpeg ENOENT" emitted.
    : (error as { code?: unknown }).code === "ENOENT"
    ? /^spawn(?:Sync)? (.+) ENOENT$/.exec(message)?.[1]
    : undefined;
  if (program === undefined) return error;
  const explained = `${message}: the program ${program} is ` +
    (inImage(functionUrl)
      ? `${NOT_IN_IMAGE}. Use a base image that has it (baseImage in ` +
        `Knot.create), such as one of your own made FROM the base you use with a step that ` +
        `installs it, then map the items again: a retry runs the run's own image`
      : `${NOT_HERE}. ` +
        `Install it, or put its folder on PATH, then retry the items with ${retry}, or map ` +
        `them again`);
  error.stack = (error.stack ?? "").replace(message, explained);
  error.message = explained;
  return error;
}

/**
 * Whether an item's error is of a program its function runs that is not
 * where it ran ({@linkcode explainMissingProgram} said so): its advice is
 * cloudknot's words, which the command line puts in its own.
 *
 * @example Usage
 * ```ts
 * import { explainMissingProgram, missingProgram } from "./missing_program.ts";
 *
 * const missing = new Deno.errors.NotFound("Failed to spawn 'ffmpeg': entity not found");
 * console.log(missingProgram(explainMissingProgram(missing) as Error)); // true
 * ```
 *
 * @param error The item's error.
 * @returns Whether it is.
 */
export function missingProgram(error: { message: string }): boolean {
  return MISSING.test(error.message);
}

/**
 * Whether an item's error is of a program its function runs that the knot's
 * image lacks: a retry runs the run's own image, which lacks it too, so only
 * mapping the items again (on a knot whose image has it) helps.
 *
 * @example Usage
 * ```ts
 * import { explainMissingProgram, missingFromImage } from "./missing_program.ts";
 *
 * const missing = new Deno.errors.NotFound("Failed to spawn 'ffmpeg': entity not found");
 * console.log(missingFromImage(explainMissingProgram(missing, "file:///app/function.js") as Error)); // true
 * ```
 *
 * @param error The item's error.
 * @returns Whether it is.
 */
export function missingFromImage(error: { message: string }): boolean {
  return MISSING_FROM_IMAGE.test(error.message);
}
