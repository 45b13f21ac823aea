/**
 * What a `DENO_DIR` holds from npm, for the tests that check a first run
 * fetches only the package's own dependencies: the packages Deno downloaded,
 * and the packages reachable from a set of names through the `dependencies`
 * of the versions it downloaded.
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../docs/markdown.ts";

/** Where Deno keeps npm packages in a `DENO_DIR`: one folder per name, one per version inside. */
function registryDir(denoDir: string): string {
  return join(denoDir, "npm", "registry.npmjs.org");
}

/**
 * The names of the npm packages in `denoDir` (`@scope/name` for scoped ones).
 *
 * @example Usage
 * ```ts ignore
 * const names = await cachedNpmPackages(env.DENO_DIR);
 * ```
 */
export async function cachedNpmPackages(denoDir: string): Promise<Set<string>> {
  const names = new Set<string>();
  const dir = registryDir(denoDir);
  const entries = await Array.fromAsync(Deno.readDir(dir)).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  });
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    if (!entry.name.startsWith("@")) {
      names.add(entry.name);
      continue;
    }
    for await (const scoped of Deno.readDir(join(dir, entry.name))) {
      if (scoped.isDirectory) names.add(`${entry.name}/${scoped.name}`);
    }
  }
  return names;
}

/**
 * The packages reachable from `roots` in `denoDir`: the roots, and the
 * dependencies (plain, optional and peer) named by the `package.json` of
 * every version of them that Deno downloaded, and so on.
 *
 * @example Usage
 * ```ts ignore
 * const needed = await npmClosure(env.DENO_DIR, runtimeNpmPackages());
 * ```
 */
export async function npmClosure(denoDir: string, roots: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const todo = [...roots];
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = join(registryDir(denoDir), name);
    const versions = await Array.fromAsync(Deno.readDir(dir)).catch(() => []);
    for (const version of versions) {
      if (!version.isDirectory) continue;
      const manifest = JSON.parse(
        await Deno.readTextFile(join(dir, version.name, "package.json")),
      ) as Record<string, Record<string, string> | undefined>;
      for (const field of ["dependencies", "optionalDependencies", "peerDependencies"]) {
        todo.push(...Object.keys(manifest[field] ?? {}));
      }
    }
  }
  return seen;
}

/**
 * The npm packages the published package imports: the `npm:` entries of
 * `deno.json`'s import map, by name.
 *
 * @example Usage
 * ```ts ignore
 * await runtimeNpmPackages(); // ["@rgrove/parse-xml", "aws4fetch"]
 * ```
 */
export async function runtimeNpmPackages(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  return Object.values(config.imports as Record<string, string>)
    .filter((target) => target.startsWith("npm:"))
    .map((target) => /^npm:(@[^/@]+\/[^/@]+|[^/@]+)/.exec(target)![1]!);
}

/**
 * The npm packages in `denoDir` that the published package does not need:
 * what {@linkcode cachedNpmPackages} holds beyond the
 * {@linkcode npmClosure} of {@linkcode runtimeNpmPackages}.
 *
 * @example Usage
 * ```ts ignore
 * assert.deepEqual(await strayNpmPackages(env.DENO_DIR), []);
 * ```
 */
export async function strayNpmPackages(denoDir: string): Promise<string[]> {
  const needed = await npmClosure(denoDir, await runtimeNpmPackages());
  return [...await cachedNpmPackages(denoDir)].filter((name) => !needed.has(name)).sort();
}

/**
 * The bytes of every file under `dir`.
 *
 * @example Usage
 * ```ts ignore
 * const bytes = await treeBytes(join(env.DENO_DIR, "npm"));
 * ```
 */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) total += await treeBytes(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}
