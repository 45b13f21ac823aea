/**
 * `--allow KIND[=LIST]`: a local knot's permissions on the command line,
 * Deno's permission kinds with Deno's lists (`--allow read=/data,/tmp`,
 * `--allow env`, `--allow net=api.example.com`).
 *
 * @module
 */
import {
  DEFAULT_PERMISSIONS,
  PERMISSION_KINDS,
  type PermissionKind,
  type Permissions,
  validatePermissions,
} from "../../job/permissions.ts";
import type { CommandContext, OptionSpec } from "./command.ts";

/** `--allow KIND[=LIST]`, repeatable. */
export const PERMISSION_OPTION: Record<string, OptionSpec> = {
  allow: {
    type: "string",
    value: "KIND[=LIST]",
    multiple: true,
    description: `Let the function use ${
      PERMISSION_KINDS.join("|")
    } (all of it, or a comma-separated list of paths, hosts or names), in a local worker or its AWS container; net is allowed by default`,
  },
};

/**
 * Reads `--allow` options into permissions: the default (`net`) plus what
 * they grant; `--allow net=HOSTS` narrows the network to those hosts.
 *
 * @example Usage
 * ```ts ignore
 * const permissions = cliPermissions(ctx); // { net: true, read: ["/data"] }
 * ```
 *
 * @param ctx The running command.
 * @returns The permissions, or `undefined` when no `--allow` was given.
 */
export function cliPermissions(ctx: CommandContext): Permissions | undefined {
  const given = ctx.strings("allow");
  if (given.length === 0) return undefined;
  const permissions: Permissions = { ...DEFAULT_PERMISSIONS };
  const narrowed = new Set<string>();
  for (const entry of given) {
    const [kind, list] = entry.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!(PERMISSION_KINDS as readonly string[]).includes(kind)) {
      throw ctx.usage(
        `--allow takes one of ${PERMISSION_KINDS.join(", ")}, optionally =LIST, not "${entry}"`,
      );
    }
    const k = kind as PermissionKind;
    if (list === undefined || list === "") {
      permissions[k] = true;
      continue;
    }
    const values = list.split(",").filter((v) => v !== "");
    const before = permissions[k];
    permissions[k] = [
      ...(Array.isArray(before) && narrowed.has(k) ? before : []),
      ...values,
    ];
    narrowed.add(k);
  }
  return validatePermissions(permissions);
}
