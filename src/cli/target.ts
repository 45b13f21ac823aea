/**
 * Which target a command works on. The one place that knows which targets
 * this version of the command line supports.
 *
 * @module
 */
import { CloudknotInputError } from "../errors.ts";
import type { CommandContext } from "./command.ts";

/** The targets a knot can run on. */
export type TargetName = "local" | "aws";

/**
 * The target a command was asked to use (`--target`, default `local`).
 *
 * @example Usage
 * ```ts ignore
 * const target = resolveTarget(ctx); // "local"
 * ```
 *
 * @param ctx The running command.
 * @returns The target.
 * @throws {UsageError} When `--target` is neither `local` nor `aws`.
 * @throws {CloudknotInputError} When the target is not available in this version.
 */
export function resolveTarget(ctx: CommandContext): TargetName {
  const target = ctx.string("target") ?? "local";
  if (target !== "local" && target !== "aws") {
    throw ctx.usage(`--target must be "local" or "aws", not "${target}"`);
  }
  if (target === "aws") {
    throw new CloudknotInputError(
      'The "aws" target is not available in this version of the command line: use --target local',
      { field: "target" },
    );
  }
  return target;
}
