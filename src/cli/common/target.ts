/**
 * Which target a command works on.
 *
 * @module
 */
import type { CommandContext } from "./command.ts";

/** The targets a knot can run on. */
export type TargetName = "local" | "aws" | "docker";

/**
 * The target a command was asked to use (`--target`, default `local`). For
 * commands on an existing knot, `locateKnot` (in `knots.ts`) also finds where
 * the knot lives.
 *
 * @example Usage
 * ```ts ignore
 * const target = resolveTarget(ctx); // "local"
 * ```
 *
 * @param ctx The running command.
 * @returns The target.
 * @throws {UsageError} When `--target` is not `local`, `aws` or `docker`.
 */
export function resolveTarget(ctx: CommandContext): TargetName {
  const target = ctx.string("target") ?? "local";
  if (target !== "local" && target !== "aws" && target !== "docker") {
    throw ctx.usage(`--target must be "local", "aws" or "docker", not "${target}"`);
  }
  return target;
}
