/**
 * What a knot's function may touch, the Deno way: a knot's `permissions` are
 * Deno's permission descriptors (`read`, `write`, `net`, `env`, `run`, `ffi`,
 * `sys`, `import`, as in a `Worker`'s `deno.permissions`), turned into the
 * `--allow-*` flags of the process that runs the function. Every place a
 * function runs uses the same flags: a local worker process, and the worker
 * a job starts inside its container.
 *
 * The default is {@linkcode DEFAULT_PERMISSIONS}: network access and nothing
 * else, so a function cannot read the user's files (`~/.aws/credentials`),
 * write anywhere, read the environment or start programs. The runtime's own
 * needs are granted narrowly on top by {@linkcode permissionFlags}: reading
 * the function's artifact (and the folder it lies in when it is named
 * `function.js`, which holds the data files shipped with it:
 * `function_folder.ts`) and setting the `AWS_BATCH_JOB_*` variables (and
 * the run's `env`) each attempt sees.
 *
 * @module
 */
import { CloudknotInputError } from "../util/errors.ts";
import { readRefusal, reworded } from "../util/refusal.ts";
/**
 * One permission: `true` grants all of it, `false` (or leaving it out) none,
 * and a list grants those paths, hosts, variable names, programs or APIs.
 */
export type PermissionValue = boolean | string[];

/**
 * A knot's permissions: Deno's permission descriptors, one field per kind.
 *
 * @example Usage
 * ```ts
 * import type { Permissions } from "@cloudknot/cloudknot";
 *
 * const permissions: Permissions = { net: ["api.example.com"], read: ["/data"], env: ["HOME"] };
 * console.log(permissions.read); // [ "/data" ]
 * ```
 */
export interface Permissions {
  /** Files and directories the function may read. @default {false} */
  read?: PermissionValue;
  /** Files and directories the function may write. @default {false} */
  write?: PermissionValue;
  /** Hosts (`host` or `host:port`) the function may reach. @default {true} */
  net?: PermissionValue;
  /** Environment variables the function may read (beyond the job's own). @default {false} */
  env?: PermissionValue;
  /** Programs the function may run. @default {false} */
  run?: PermissionValue;
  /** Native libraries the function may load. @default {false} */
  ffi?: PermissionValue;
  /** System information APIs (`hostname`, `osRelease`, …) the function may call. @default {false} */
  sys?: PermissionValue;
  /** Hosts the function may import modules from (`https:` imports). @default {false} */
  import?: PermissionValue;
}

/** The permission kinds, in the order their flags are written. */
export const PERMISSION_KINDS = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
] as const;

/** One permission kind. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

/**
 * What a knot's function may do when its `permissions` are not given:
 * network access, nothing else.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_PERMISSIONS } from "@cloudknot/cloudknot/job";
 *
 * console.log(DEFAULT_PERMISSIONS); // { net: true }
 * ```
 */
export const DEFAULT_PERMISSIONS: Readonly<Permissions> = Object.freeze({ net: true });

/**
 * Checks a `permissions` option and returns it in a canonical form: only the
 * kinds that grant something, lists sorted and without duplicates.
 *
 * @example Usage
 * ```ts
 * import { validatePermissions } from "@cloudknot/cloudknot/job";
 *
 * console.log(validatePermissions({ read: ["/b", "/a"], write: false }));
 * // { read: [ "/a", "/b" ] }
 * ```
 *
 * @param permissions The option; `undefined` gives {@linkcode DEFAULT_PERMISSIONS}.
 * @returns The canonical permissions.
 * @throws {CloudknotInputError} When a kind is unknown or a value is not a boolean or a list of non-empty strings without commas.
 */
export function validatePermissions(permissions: Permissions | undefined): Permissions {
  if (permissions === undefined) return { ...DEFAULT_PERMISSIONS };
  if (permissions === null || typeof permissions !== "object" || Array.isArray(permissions)) {
    throw new CloudknotInputError(
      `permissions must be an object such as { net: true, read: ["/data"] }, not ${
        JSON.stringify(permissions)
      }`,
      { field: "permissions" },
    );
  }
  const out: Permissions = {};
  for (const [kind, value] of Object.entries(permissions)) {
    if (!(PERMISSION_KINDS as readonly string[]).includes(kind)) {
      throw new CloudknotInputError(
        `permissions has an unknown kind "${kind}": use ${PERMISSION_KINDS.join(", ")}`,
        { field: "permissions" },
      );
    }
    if (value === undefined || value === false) continue;
    if (value === true) {
      out[kind as PermissionKind] = true;
      continue;
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) {
      throw new CloudknotInputError(
        `permissions.${kind} must be true, false or a list of non-empty strings, not ${
          JSON.stringify(value)
        }`,
        { field: "permissions" },
      );
    }
    const comma = value.find((v) => v.includes(","));
    if (comma !== undefined) {
      throw new CloudknotInputError(
        `permissions.${kind} has "${comma}", which holds a comma: Deno's --allow-${kind} flag ` +
          "cannot name it; grant a directory above it instead",
        { field: "permissions" },
      );
    }
    if (value.length > 0) out[kind as PermissionKind] = [...new Set(value)].sort();
  }
  return out;
}

/** What the runtime itself needs in the process that runs the function. */
export interface RuntimeGrants {
  /** Paths it reads (the function's artifact). */
  read?: string[];
  /** Variables it sets for each attempt (`AWS_BATCH_JOB_*`, the run's `env`). */
  env?: string[];
  /** Hosts it reaches. */
  net?: string[];
}

/**
 * Turns permissions into the flags of `deno run`, with the runtime's own
 * needs granted narrowly on top. `--no-prompt` is always there: a missing
 * permission throws `Deno.errors.NotCapable` instead of waiting for an answer.
 *
 * @example Usage
 * ```ts
 * import { permissionFlags } from "@cloudknot/cloudknot/job";
 *
 * console.log(permissionFlags({ net: true }, { read: ["/app/function.js"], env: ["AWS_BATCH_JOB_ID"] }));
 * // [ "--no-prompt", "--allow-read=/app/function.js", "--allow-net", "--allow-env=AWS_BATCH_JOB_ID" ]
 * ```
 *
 * @param permissions The knot's permissions (validated).
 * @param grants What the runtime needs.
 * @returns The flags.
 * @throws {CloudknotInputError} When a runtime path holds a comma, which no flag can name.
 */
export function permissionFlags(permissions: Permissions, grants: RuntimeGrants = {}): string[] {
  const flags = ["--no-prompt"];
  for (const kind of PERMISSION_KINDS) {
    const granted = permissions[kind];
    if (granted === true) {
      flags.push(`--allow-${kind}`);
      continue;
    }
    const own = (grants as Record<string, string[] | undefined>)[kind] ?? [];
    const comma = own.find((v) => v.includes(","));
    if (comma !== undefined) {
      throw new CloudknotInputError(
        `The path "${comma}" holds a comma, which Deno's --allow-${kind} flag cannot name: ` +
          "move the knot to a directory without commas (the dir option or CLOUDKNOT_LOCAL_DIR)",
      );
    }
    const list = [...new Set([...(granted || []), ...own])];
    if (list.length > 0) flags.push(`--allow-${kind}=${list.join(",")}`);
  }
  return flags;
}

/**
 * Adds to an error that Deno refused for lack of a permission which knot
 * option grants it. Other errors come back unchanged.
 *
 * @example Usage
 * ```ts
 * import { explainPermissionError } from "@cloudknot/cloudknot/job";
 *
 * const denied = new Deno.errors.NotCapable('Requires read access to "/root/.aws/credentials", run again with the --allow-read flag');
 * console.log((explainPermissionError(denied) as Error).message);
 * // Requires read access to "/root/.aws/credentials": the knot's permissions do not allow it, so the item is not retried. …
 * ```
 *
 * @param error What the function threw.
 * @param functionUrl The URL of the function's artifact: a read refused
 *   beside it, in a folder cloudknot keeps for artifacts alone
 *   ({@linkcode artifactsFolder}), is of a file that was not shipped, which
 *   no permission mends.
 * @returns The error, explained when it is a permission error.
 */
export function explainPermissionError(error: unknown, functionUrl?: string): unknown {
  const beside = artifactsFolder(functionUrl);
  const refusal = readRefusal(error);
  if (refusal === undefined) return beside === "" ? error : explainUnshipped(error, beside);
  const { what, kind, target } = refusal;
  if (kind === "read" && beside !== "" && target.startsWith(beside)) {
    return reworded(
      refusal,
      `${what}, beside the function's artifact: the module reads a file beside it ` +
        `(new URL("./…", import.meta.url)) ${NOT_SHIPPED}, so the item is not ` +
        `retried, and granting read would not help (the file is not there). ${SHIP_IT}`,
    );
  }
  const grant = nameable(kind, target);
  const again = "then map the items again, or retry them with it in run.retry({ permissions }) " +
    "(a retry without them keeps the permissions its run had); by default a function may use " +
    "the network and nothing else";
  return reworded(
    refusal,
    !(PERMISSION_KINDS as readonly string[]).includes(kind)
      ? allOnly(what)
      : `${what}: the knot's permissions do not allow it, so the item is not retried. ` +
        (grant === undefined
          ? `Deno's --allow-${kind} flag cannot name it, as it holds a comma: Grant all of it ` +
            `with permissions: { ${kind}: true } in Knot.create, ${again}`
          : `Grant it with permissions: { ${kind}: [${JSON.stringify(grant)}] } in Knot.create ` +
            `(${kind}: true for all), ${again}` +
            (grant === target ? "" : `; that is the directory above it without a comma, which ` +
              `Deno's --allow-${kind} flag cannot name (it splits its list at commas)`)),
  );
}

/**
 * The folder of a function's artifact when cloudknot keeps it for artifacts
 * alone (a local knot's `artifacts/`, an artifact's own folder in it, an
 * image's `/app/`), where a file the function looks for beside itself can only
 * be one that was not shipped; `""` for an artifact anywhere else (a job run
 * with a `--function` of another folder, which may hold anything). From the
 * URL alone: the worker loads no path module (nor Node's).
 */
function artifactsFolder(functionUrl: string | undefined): string {
  if (!functionUrl?.startsWith("file:")) return "";
  const folder = decodeURIComponent(new URL(".", functionUrl).pathname);
  const parts = folder.split("/").filter((p) => p !== "");
  return folder === "/app/" || parts.at(-1) === "artifacts" || parts.at(-2) === "artifacts"
    ? folder
    : "";
}

/** What an item's error says of a file the function looks for beside itself and was not shipped. */
const NOT_SHIPPED = "that was not shipped with it";

/** What to do about a file the function looks for beside itself and was not shipped. */
const SHIP_IT = "Ship the file with the files option of Knot.create (a path relative to the " +
  "module's folder, such as ./model.json), then map the items again";

/**
 * Whether an item's error is of a file its function looks for beside itself
 * and was not shipped ({@linkcode explainPermissionError} said so): no
 * permission or retry of the run mends it, shipping the file and mapping the
 * item again does.
 *
 * @example Usage
 * ```ts
 * import { explainPermissionError, unshippedFile } from "@cloudknot/cloudknot/job";
 *
 * const missing = new Deno.errors.NotFound("No such file or directory (os error 2): readfile '/app/model.json'");
 * console.log(unshippedFile(explainPermissionError(missing, "file:///app/function.js") as Error)); // true
 * ```
 *
 * @param error The item's error, or its cause.
 * @returns Whether it is.
 */
export function unshippedFile(error: { message: string }): boolean {
  return error.message.includes(`beside it (new URL("./…", import.meta.url)) ${NOT_SHIPPED}`);
}

/**
 * A file not found beside the function's artifact (in the folder its files
 * are shipped to, or the folder of its one file): the module reads it by
 * `import.meta.url` and it was not shipped. Said in the error's message, in
 * place (the attempt is over); any other error comes back as it is.
 */
function explainUnshipped(error: unknown, beside: string): unknown {
  if (!(error instanceof Error)) return error;
  const message = error.message;
  // Deno's words: "… (os error 2): readfile '/app/x'", and fetch's "Error fetching file 'file:///app/x'".
  const path = error instanceof Deno.errors.NotFound
    ? /'([^']*)'$/.exec(message)?.[1]
    : /^Error fetching file 'file:\/\/([^']*)': No such file/.exec(message)?.[1];
  if (path === undefined || !path.startsWith(beside)) return error;
  const explained = `${message}, beside the function's artifact: the module reads a file ` +
    `beside it (new URL("./…", import.meta.url)) ${NOT_SHIPPED}. ${SHIP_IT}`;
  error.stack = (error.stack ?? "").replace(message, explained);
  error.message = explained;
  return error;
}

/**
 * What a knot's permissions can grant a refused target by: the target, or,
 * as Deno splits an `--allow-*` flag's list at its commas (Deno 2.9 has no
 * escape for one, and repeated flags split alike), for a path that holds a
 * comma the nearest directory above it that holds none (`read`, `write` and
 * `ffi` grant what is under a directory); `undefined` when nothing but the
 * whole kind grants it.
 */
function nameable(kind: string, target: string): string | undefined {
  if (!target.includes(",")) return target;
  if (kind !== "read" && kind !== "write" && kind !== "ffi") return undefined;
  let dir = target;
  while (dir.includes(",")) {
    const cut = Math.max(dir.lastIndexOf("/"), dir.lastIndexOf("\\"));
    if (cut < 0) return undefined;
    dir = cut === 0 ? dir.slice(0, 1) : dir.slice(0, cut);
  }
  return dir;
}

/** What to do about a target Deno grants only with `--allow-all`. */
function allOnly(what: string): string {
  // Deno asks for --allow-all for a few paths (its process's own files, such as
  // /proc/self/environ), which no single permission kind grants.
  return `${what}: Deno allows it only with --allow-all, which a knot's permissions do not ` +
    "grant, so the item is not retried: read what you need another way (for example the job's variables through " +
    "permissions: { env: [...] } instead of /proc/self/environ)";
}

/**
 * Permissions as a short text, as a knot's summary shows them: each kind granted, with the
 * paths, hosts or names it is limited to.
 *
 * @example Usage
 * ```ts
 * import { permissionsText } from "./permissions.ts";
 *
 * console.log(permissionsText({ net: true, read: ["/data"] })); // "net, read=/data"
 * ```
 *
 * @param permissions The permissions (validated).
 * @returns The text; `none` when nothing is granted.
 */
export function permissionsText(permissions: Permissions): string {
  const kinds = Object.entries(permissions).filter(([, value]) => value !== false)
    .map(([kind, value]) => value === true ? kind : `${kind}=${(value as string[]).join(",")}`);
  return kinds.length > 0 ? kinds.join(", ") : "none";
}
