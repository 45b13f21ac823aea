/**
 * Runs the examples of the given modules' doc comments, each as a test of this one `deno test`
 * process: `deno test -A --no-check scripts/doc_examples.ts -- <module> ...`, each named by its
 * module's path from the working directory.
 *
 * Why not `deno test --doc`: it runs each example as a test module of its own, in a new worker,
 * which costs about 0.3 s of CPU before the example does anything (measured on this project's two
 * cores: ten empty test modules cost 2.9 CPU-seconds, one costs 0.4). Over the project's 375
 * examples that was more than two CPU-minutes of a CPU-bound suite. Here every example is a module
 * imported by a test of one process, so the modules they share load once.
 *
 * What stays as `deno test --doc` has it: the examples are found by the same rule
 * (`scripts/examples.ts`), each is a test named as `deno test --doc` names it
 * (`./src/util/sleep.ts#13-20.ts`), with the sanitizers `scripts/test.ts` gives, and it resolves
 * its imports as if it were beside its module: relative specifiers against the module's place,
 * the package's own name (`@cloudknot/cloudknot/...`) through `deno.json`'s exports. The type check
 * is `deno check --doc`'s, in the gates. What differs: an example is a module that runs once in a
 * process the other examples share, so one that changes a process-wide thing (an environment
 * variable, the working directory) must put it back, and `deno test --doc`'s import of the
 * module's exports into an example that does not import them is not made: an example imports what
 * it uses, as a reader who copies it must.
 *
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import denoJson from "../deno.json" with { type: "json" };
import { examples } from "./examples.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const exports = denoJson.exports as Record<string, string>;

/**
 * `specifier` as the example at `moduleUrl` means it: a relative one against the module's place,
 * the package's own name through its exports, any other as it is.
 */
function resolveSpecifier(specifier: string, moduleUrl: URL): string {
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    return new URL(specifier, moduleUrl).href;
  }
  const name = denoJson.name;
  if (specifier === name || specifier.startsWith(`${name}/`)) {
    const target = exports[`.${specifier.slice(name.length)}`];
    if (target === undefined) throw new Error(`${specifier} is not an export of ${name}`);
    return pathToFileURL(resolve(root, target)).href;
  }
  return specifier;
}

/** The specifiers of static and dynamic imports and of re-exports. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"'\n]+)\2/g;

/**
 * What the examples import statically. `deno test --doc` puts an example's imports outside its
 * test, so what loading them does (a module that makes an HTTP client as it loads) is not the
 * test's: they are loaded here, before the tests, for the same reason.
 */
const imports = new Set<string>();
const dir = Deno.makeTempDirSync({ prefix: "cloudknot-doc-examples-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

for (const path of Deno.args.map((p) => resolve(p))) {
  const moduleUrl = pathToFileURL(path);
  const name = relative(Deno.cwd(), path);
  for (const example of examples(Deno.readTextFileSync(path))) {
    const testName = `./${name}#${example.open}-${example.close + 1}.ts`;
    const file = join(dir, testName);
    Deno.mkdirSync(dirname(file), { recursive: true });
    const code = example.code.replace(SPECIFIER, (_, before: string, quote, specifier) => {
      const resolved = resolveSpecifier(specifier, moduleUrl);
      if (!before.includes("(")) imports.add(resolved);
      return `${before}${quote}${resolved}${quote}`;
    });
    Deno.writeTextFileSync(file, `${code}\n`);
    Deno.test(testName, async () => {
      await import(pathToFileURL(file).href);
    });
  }
}

for (const specifier of imports) await import(specifier);
