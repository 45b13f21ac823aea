/**
 * Options shared by several commands, declared once, and the numbers a
 * command's help states and its run keeps to.
 *
 * @module
 */
import type { ArgumentSpec, CommandContext, OptionSpec } from "./command.ts";
import { targetsTaking } from "./ranges.ts";

/** `--json`: one JSON document on stdout instead of text. */
export const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "Print one JSON document instead of text" },
};

/** `--unordered`: the NDJSON lines of `map`, `results` and `retry` as items finish. */
export const UNORDERED_OPTION: Record<string, OptionSpec> = {
  unordered: {
    type: "boolean",
    description: "Print results as they finish, not in input order (not with --json)",
  },
};

/**
 * Refuses `--unordered` with `--json` (`map`, `results`, `retry`): `--unordered` orders the
 * NDJSON lines, which `--json` replaces with one document in input order, so it would be
 * ignored. Flags alone decide it: it is refused before anything is read or made.
 *
 * @example Usage
 * ```ts ignore
 * refuseUnorderedJson(ctx); // throws with --unordered --json
 * ```
 *
 * @param ctx The running command.
 * @throws {UsageError} When both are given.
 */
export function refuseUnorderedJson(ctx: CommandContext): void {
  if (ctx.flag("unordered") && ctx.flag("json")) {
    throw ctx.usage(
      "--unordered prints the result lines as items finish, and --json prints one document in " +
        "input order instead of lines: drop --unordered, or drop --json",
    );
  }
}

/** `--target local|aws|docker`: where the knot's items run. */
export const TARGET_OPTION: Record<string, OptionSpec> = {
  target: {
    type: "string",
    value: "local|aws|docker",
    description:
      "Where the knot's items run (default: local); docker runs the knot's image on this " +
      "machine's Docker engine as AWS Batch would",
  },
};

/**
 * `--target local|aws|docker` of the commands on an existing knot, which is
 * found by its name wherever it is.
 */
export const KNOT_TARGET_OPTION: Record<string, OptionSpec> = {
  target: {
    type: "string",
    value: "local|aws|docker",
    description: "Which knot of the name, when there is one on more than one target (default: " +
      "the one there is)",
  },
};

/**
 * `--concurrency`, `--retries`, `--timeout`, `--memory`: a knot's limits, which `map` and
 * `knot create` take, and which the knot keeps for the maps that do not give them (an AWS knot in
 * its job definition, a local or docker knot in its record); `--concurrency` on this machine only.
 */
export const KNOT_LIMIT_OPTIONS: Record<string, OptionSpec> = {
  concurrency: {
    type: "string",
    value: "N",
    description:
      "Local: worker processes; docker: containers at once; 1 to 1024 (default: the number of cores)",
  },
  retries: { type: "string", value: "N", description: "Attempts per item, 1 to 10 (default: 3)" },
  timeout: {
    type: "string",
    value: "S",
    description: "Seconds one attempt may run (a whole number of at least 60 on AWS)",
  },
  memory: {
    type: "string",
    value: "MiB",
    description:
      "Memory per job (4 to 33,554,432 on AWS, at least 6 on docker); locally, each worker's heap limit",
  },
};

/**
 * Refuses `--concurrency` for a knot on AWS (`map`, `knot create`), where a
 * compute environment's vCPUs bound what runs at once.
 *
 * @example Usage
 * ```ts ignore
 * if (target === "aws") refuseConcurrencyOnAws(ctx);
 * ```
 *
 * @param ctx The running command.
 * @throws {UsageError} When `--concurrency` is given.
 */
export function refuseConcurrencyOnAws(ctx: CommandContext): void {
  if (ctx.string("concurrency") !== undefined) {
    throw ctx.usage(
      `--concurrency is for ${targetsTaking("concurrency")}: on AWS, see --max-vcpus`,
    );
  }
}

/** Options every command has; the command line handles them itself. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", description: "Show this help" },
  debug: { type: "boolean", description: "Show the whole error, with its stack, when one happens" },
};

/** `--dry-run`: change nothing, print the plan. */
export const DRY_RUN_OPTION: Record<string, OptionSpec> = {
  "dry-run": {
    type: "boolean",
    description: "Change nothing: print what would be created, adopted or submitted, and its cost",
  },
};

/** `<knot> [run]`: the arguments of the commands on one run of a knot. */
export const RUN_ARGUMENTS: ArgumentSpec[] = [
  { name: "knot", required: true, description: "The knot's name" },
  {
    name: "run",
    required: false,
    description: "The run's id, or a unique prefix of it (default: the latest run)",
  },
];

/** `[export]`: the export of a module to call. */
export const EXPORT_ARGUMENT: ArgumentSpec = {
  name: "export",
  required: false,
  description: 'The export to call (default: "default")',
};

/** `<module> [export]`: the function a command packages. */
export const MODULE_ARGUMENTS: ArgumentSpec[] = [
  { name: "module", required: true, description: "The module's path or URL" },
  EXPORT_ARGUMENT,
];

/**
 * The AWS runs `knot show` reads for their status (each takes one round of AWS
 * calls); older ones are listed only.
 */
export const AWS_RUNS_READ = 20;
