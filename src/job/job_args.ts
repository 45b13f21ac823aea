/**
 * The options of a job's command line, declared once: the job entry point
 * (`main.ts`) reads them strictly, and a Batch job's command is read back
 * with the same parser, leniently (`targets/aws/batch/command.ts`).
 *
 * The parser is hand-written rather than `node:util`'s `parseArgs`: the
 * first `node:` import of a process loads Deno's Node layer, milliseconds of
 * every job's start (BENCHMARKS.md, "Job start"), for eight options.
 *
 * @module
 */

/** Each option of a job's command line and whether it takes a value. */
export const JOB_OPTIONS = {
  run: "string",
  function: "string",
  starmap: "boolean",
  offset: "string",
  index: "string",
  slice: "string",
  end: "string",
  concurrency: "string",
} as const;

type JobOption = keyof typeof JOB_OPTIONS;

/** What a job's command line says, as written. */
export type JobArgs =
  & { -readonly [K in JobOption as (typeof JOB_OPTIONS)[K] extends "string" ? K : never]?: string }
  & {
    -readonly [K in JobOption as (typeof JOB_OPTIONS)[K] extends "boolean" ? K : never]: boolean;
  };

/**
 * Reads a job's command line: `--name value` or `--name=value` for an
 * option with a value, `--name` for a flag; a later option wins over an
 * earlier one of the same name. Strict (the default), it throws a
 * `TypeError` for an unknown option, an argument that is not an option, a
 * missing value, a value that looks like an option (write `--name=-x`) and
 * a flag given a value, as `node:util`'s `parseArgs` does. Lenient
 * (`strict: false`), it skips what it does not know, so a command with the
 * entry point in front of it reads too.
 *
 * @example Usage
 * ```ts ignore
 * parseJobArgs(["--run", "s3://b/r", "--index=4", "--starmap"]);
 * // { starmap: true, run: "s3://b/r", index: "4" }
 * ```
 *
 * @param args The arguments.
 * @param options `strict`: throw on what is not a job option. @default {true}
 * @returns The options given.
 */
export function parseJobArgs(
  args: readonly string[],
  options: { strict?: boolean } = {},
): JobArgs {
  const strict = options.strict ?? true;
  const values: JobArgs = { starmap: false };
  const strings = values as Record<string, string | boolean | undefined>;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      if (strict && i + 1 < args.length) {
        throw new TypeError(`Unexpected argument '${args[i + 1]}'`);
      }
      break;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") ? arg.slice(2, eq < 0 ? undefined : eq) : "";
    const type = Object.hasOwn(JOB_OPTIONS, name) ? JOB_OPTIONS[name as JobOption] : undefined;
    if (type === undefined) {
      if (!strict) continue;
      throw new TypeError(
        arg.startsWith("-") && arg !== "-"
          ? `Unknown option '${eq < 0 ? arg : arg.slice(0, eq)}'`
          : `Unexpected argument '${arg}'`,
      );
    }
    if (type === "boolean") {
      if (eq >= 0) {
        if (strict) throw new TypeError(`Option '--${name}' does not take an argument`);
        continue;
      }
      strings[name] = true;
      continue;
    }
    if (eq >= 0) {
      strings[name] = arg.slice(eq + 1);
      continue;
    }
    const value = args[i + 1];
    if (value === undefined) {
      if (strict) throw new TypeError(`Option '--${name} <value>' argument missing`);
      continue;
    }
    if (strict && value.startsWith("-")) {
      throw new TypeError(
        `Option '--${name} <value>' argument is ambiguous: to give a value that starts with a ` +
          `dash, write '--${name}=${value}'`,
      );
    }
    strings[name] = value;
    i++;
  }
  return values;
}
