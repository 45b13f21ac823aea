/**
 * The packages a function imports, fetched when its image is built. A `func`
 * imports what it needs inside itself (`await import("npm:is-number@7")`), and
 * a module's bundle may keep such imports too. `deno info` follows them from
 * the function's artifact and fetches them (as `deno cache` would, but it
 * also tells which of them failed), with this machine's network and
 * registry settings (`HTTPS_PROXY`, `~/.npmrc`), into a Deno cache
 * directory: its `npm/` and `remote/` folders go into the build context as
 * `deno_dir/`, and the image holds them as its `DENO_DIR`. The job runs with
 * `--cached-only`, so nothing is downloaded while it runs: it works in a
 * private subnet, behind a proxy or without any egress.
 *
 * Only imports whose specifier is a string literal can be followed; an
 * import built at run time (`await import(name)`) fails in the job with
 * Deno's "not found in cache" error.
 *
 * @module
 */
import { join } from "node:path";
import { denoLimit } from "../util/command_limit.ts";
import { lastLines, runDeno } from "../util/run_deno.ts";
import { CloudknotError } from "../util/errors.ts";

/** The folders of a Deno cache that hold fetched modules and packages. */
const CACHE_FOLDERS = ["npm", "remote"];

/**
 * The packages a function imports could not be fetched while its image was
 * being built.
 *
 * @example Usage
 * ```ts
 * import { DependencyError } from "@cloudknot/cloudknot/image";
 *
 * const e = new DependencyError("Cannot fetch what the function imports: ...");
 * console.log(e.name); // "DependencyError"
 * ```
 */
export class DependencyError extends CloudknotError {}

/**
 * Whether a function's source may import a package or a remote module: it
 * holds a string that starts with `npm:`, `jsr:`, `http:` or `https:`. When
 * it does not, there is nothing to fetch.
 *
 * @example Usage
 * ```ts
 * import { mayImportPackages } from "@cloudknot/cloudknot/image";
 *
 * console.log(mayImportPackages('async () => (await import("npm:is-number@7")).default(1)')); // true
 * console.log(mayImportPackages("(x) => x * 2")); // false
 * ```
 *
 * @param source The function's artifact.
 * @returns `true` when it may import something to fetch.
 */
export function mayImportPackages(source: string): boolean {
  return /["'`](?:npm|jsr|https?):/.test(source);
}

/**
 * Fetches what a function's artifact imports into `dir`, a Deno cache that
 * holds only those modules and packages. `dir` is made only when there is
 * something to hold.
 *
 * @example Usage
 * ```ts ignore
 * import { cacheDependencies } from "@cloudknot/cloudknot/image";
 *
 * const fetched = await cacheDependencies(artifact.source, "/home/me/.cloudknot/images/simulate/deno_dir");
 * console.log(fetched); // true when the function imports packages
 * ```
 *
 * @param source The artifact's source.
 * @param dir Where the cache goes (made when missing); it must not hold `npm/` or `remote/`.
 * @param options `deno` is the deno binary that fetches (default: this one);
 *   `timeoutMs` is how long `deno info` may run before it is killed (default:
 *   `CLOUDKNOT_DENO_TIMEOUT` seconds, else 600000).
 * @returns Whether anything was fetched.
 * @throws {DependencyError} When an import cannot be fetched: a specifier that
 *   does not resolve, or a registry this machine cannot reach.
 */
export async function cacheDependencies(
  source: string,
  dir: string,
  options: { deno?: string; timeoutMs?: number } = {},
): Promise<boolean> {
  const tmp = await Deno.makeTempDir({ prefix: "cloudknot-deps-" });
  try {
    await Deno.writeTextFile(join(tmp, "function.js"), source);
    const cache = join(tmp, "deno_dir");
    const deno = options.deno ?? Deno.execPath();
    const out = await runDeno(deno, ["info", "--json", "--no-config", "function.js"], {
      cwd: tmp,
      env: { DENO_DIR: cache },
      limit: denoLimit(["info", "function.js"], options.timeoutMs),
      cannotRun: (cause) =>
        new DependencyError(
          `Cannot run ${deno} to fetch what the function imports: pass the path of a deno binary`,
          { cause },
        ),
    });
    const failures: string[] = [];
    if (out.code === 0) {
      const graph = JSON.parse(out.stdout) as {
        modules?: { specifier?: string; error?: string }[];
      };
      for (const module of graph.modules ?? []) {
        if (module.error !== undefined) failures.push(`${module.specifier}: ${module.error}`);
      }
    } else {
      failures.push(lastLines(out.stderr));
    }
    if (failures.length > 0) {
      throw new DependencyError(
        "Cannot fetch what the function imports, so its image could not run it without the " +
          "registry: check each import specifier, and that this machine reaches the registry " +
          `(set HTTPS_PROXY, or the registry in ~/.npmrc), then build again:\n${
            failures.join("\n")
          }`,
      );
    }
    let fetched = false;
    // node:fs's recursive copy, loaded when used: its import costs a process about 0.05 s.
    const { cp } = await import("node:fs/promises");
    for (const folder of CACHE_FOLDERS) {
      const from = join(cache, folder);
      if (!(await Deno.stat(from).then((s) => s.isDirectory, () => false))) continue;
      await cp(from, join(dir, folder), { recursive: true, errorOnExist: true, force: false });
      fetched = true;
    }
    return fetched;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
