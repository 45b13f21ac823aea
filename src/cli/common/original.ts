/**
 * How the command line shows and removes the Pars and knots the Python
 * cloudknot made (CloudFormation stacks): its words for them, and the one
 * way `knot clobber` and `pars clobber` remove them.
 *
 * @module
 */
import {
  clobberOriginal,
  type OriginalRecord,
  readOriginalRecord,
} from "../../resources/original.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import { findLocalKnot } from "../../targets/local/catalog.ts";
import { cliSettings, configReadError } from "./aws.ts";
import type { CommandContext } from "./command.ts";
import { confirmDeletion } from "./confirm.ts";

/** How a table's TARGET (or kind) column names the original's resources. */
export const ORIGINAL_LABEL = "Python cloudknot";

/**
 * The JSON of `knot list`, `knot show`, `pars list` for the original's
 * knot or Pars: `{"name","target":"aws","madeBy":"python","stack",...}`.
 *
 * @example Usage
 * ```ts ignore
 * await ctx.print(JSON.stringify(originalJson(record)));
 * ```
 *
 * @param record The original's record.
 * @returns The JSON value.
 */
export function originalJson(record: OriginalRecord): Record<string, unknown> {
  return {
    name: record.name,
    target: "aws",
    madeBy: "python",
    region: record.region,
    profile: record.profile,
    stack: record.stackName,
    stackId: record.stackId,
    ...(record.kind === "knot" ? { pars: record.pars ?? null, jobIds: record.jobIds } : {}),
  };
}

/**
 * The error for a command that cannot use the Python cloudknot's knot or
 * Pars: what it is, and the commands that remove it.
 *
 * @example Usage
 * ```ts ignore
 * throw originalError(record);
 * ```
 *
 * @param record The original's record.
 * @returns The error.
 */
export function originalError(record: OriginalRecord): CloudknotInputError {
  const what = record.kind === "knot" ? "Knot" : "Pars";
  const remove = record.kind === "knot"
    ? `\`cloudknot knot clobber ${record.name}\`` +
      (record.pars ? ` (add --pars for its Pars ${record.pars})` : "")
    : `\`cloudknot pars clobber ${record.name}\``;
  return new CloudknotInputError(
    `${what} "${record.name}" was made by the Python cloudknot: it is the CloudFormation stack ` +
      `${record.stackName}, which this cloudknot does not run. Remove it with ${remove} and make ` +
      `it again here, choose another name, or keep using it from Python`,
    { field: "name" },
  );
}

/**
 * Refuses a name the Python cloudknot's knot or Pars has, before a command
 * that would use or make one of that name does anything.
 *
 * @example Usage
 * ```ts ignore
 * await refuseOriginal(ctx, "knot", "squares");
 * ```
 *
 * @param ctx The running command.
 * @param kind `knot` or `pars`.
 * @param name The name.
 * @throws {CloudknotInputError} When the config file's record of that name is the original's.
 */
export async function refuseOriginal(
  ctx: CommandContext,
  kind: "knot" | "pars",
  name: string,
): Promise<void> {
  const record = await readOriginalRecord(cliSettings(ctx).state, kind, name);
  if (record !== undefined) throw originalError(record);
}

/**
 * Refuses an AWS knot of a name the Python cloudknot's knot has, or on the
 * Python cloudknot's Pars that `--pars` names, before an image is built for
 * it (or planned): what `map` and `knot create` check first on AWS.
 *
 * @example Usage
 * ```ts ignore
 * await refuseOriginalKnotAndPars(ctx, "squares");
 * ```
 *
 * @param ctx The running command, with its `--pars`.
 * @param knot The knot's name.
 * @throws {CloudknotInputError} When either is the original's.
 */
export async function refuseOriginalKnotAndPars(ctx: CommandContext, knot: string): Promise<void> {
  await refuseOriginal(ctx, "knot", knot);
  const pars = ctx.string("pars");
  if (pars !== undefined) await refuseOriginal(ctx, "pars", pars);
}

/**
 * The Python cloudknot's knot of a name, for the commands that take one
 * (`knot show`, `knot clobber`): unless `--target local` says otherwise.
 *
 * @example Usage
 * ```ts ignore
 * const original = await findOriginalKnot(ctx, "squares");
 * if (original !== undefined) return await clobberOriginalCommand(ctx, original);
 * ```
 *
 * @param ctx The running command, with its `--target`.
 * @param name The knot's name.
 * @returns The record, or `undefined`.
 * @throws {CloudknotInputError} When a local knot has the name too and `--target` does not pick one.
 */
export async function findOriginalKnot(
  ctx: CommandContext,
  name: string,
): Promise<OriginalRecord | undefined> {
  const target = ctx.string("target");
  if (target === "local") return undefined;
  const hasLocal = () => findLocalKnot(name, { env: ctx.io.env }).then(() => true, () => false);
  // A config file that cannot be read leaves a knot of this machine readable (locateKnot).
  if (target === undefined && await configReadError(ctx) !== undefined && await hasLocal()) {
    return undefined;
  }
  const record = await readOriginalRecord(cliSettings(ctx).state, "knot", name);
  if (record === undefined || target === "aws") return record;
  if (await hasLocal()) {
    throw new CloudknotInputError(
      `There is a local knot and a knot of the Python cloudknot named "${name}": pass ` +
        "--target local or --target aws",
      { field: "target" },
    );
  }
  return record;
}

/**
 * Removes the Python cloudknot's knot (with `--pars`, its Pars too) or Pars
 * through CloudFormation, after asking, and says what it did.
 *
 * @example Usage
 * ```ts ignore
 * return await clobberOriginalCommand(ctx, record);
 * ```
 *
 * @param ctx The running command, with its `yes` flag (and `pars` for a knot).
 * @param record The original's record.
 * @returns The exit code.
 */
export async function clobberOriginalCommand(
  ctx: CommandContext,
  record: OriginalRecord,
): Promise<number> {
  const withPars = record.kind === "knot" && ctx.flag("pars");
  const stacks = [record.stackName];
  if (withPars && record.pars) stacks.push(`${record.pars}'s stack`);
  const what = `${record.kind} ${record.name} made by the Python cloudknot (CloudFormation ` +
    `stack${stacks.length > 1 ? "s" : ""} ${stacks.join(" and ")}, with every resource in ` +
    `${stacks.length > 1 ? "them" : "it"})`;
  if (!await confirmDeletion(ctx, what)) return 1;
  const result = await clobberOriginal(record.kind, record.name, {
    ...cliSettings(ctx),
    pars: withPars,
    onProgress: (message) => void ctx.log(ctx.err("dim", `${message}…`)),
    onWait: (message) => ctx.warn(message),
  });
  await ctx.print(
    `Clobbered ${record.kind} ${record.name} of the Python cloudknot: deleted ` +
      `${result.stacks.join(", ")}`,
  );
  return 0;
}
