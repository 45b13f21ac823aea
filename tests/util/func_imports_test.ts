/**
 * A `func` whose own `import(...)` names a relative path or a bare name that
 * only deno.json maps would fail on every item where it runs (no import map
 * there, and no file beside the shipped source): Knot.create refuses it
 * first, saying what to import instead. Full specifiers pass.
 */
import assert from "node:assert/strict";
import { CloudknotInputError, Knot } from "../../mod.ts";
import { unshippableImports, validateFuncImports } from "../../src/util/func_imports.ts";
import { rejects } from "../support/rejects.ts";

/** A function from its source text, as it would be written in a file (no type check of the import). */
// deno-lint-ignore no-explicit-any
const written = (text: string): (...args: any[]) => unknown => (0, eval)(`(${text})`);

Deno.test("a func's imports of relative paths and bare names are found; full specifiers and absolute paths are not", () => {
  const text = `async (x) => {
    const a = await import("./helpers.ts");
    const b = await import('../lib/b.js');
    const c = await import(\`is-number\`);
    const d = await import("npm:is-number@7");
    const e = await import("jsr:@std/path@1");
    const f = await import("node:fs");
    const g = await import("https://example.com/g.ts");
    const h = await import("/abs/h.ts");
    const i = await import("./helpers.ts", { with: {} });
    const j = await import(\`./\${x}.ts\`);
    return [a, b, c, d, e, f, g, h, i, j];
  }`;
  assert.deepEqual(unshippableImports(text), ["./helpers.ts", "../lib/b.js", "is-number"]);
  assert.deepEqual(unshippableImports("(x) => x.important(1)"), []);
});

/** What Knot.create rejects `func` (written as `text`) with, and what its knot directory holds after. */
async function refusal(
  text: string,
): Promise<{ error: CloudknotInputError; left: Deno.DirEntry[] }> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-func-imports-" });
  try {
    const error = await rejects(
      Knot.create({ name: "imports", dir, func: written(text) }),
      CloudknotInputError,
    );
    return { error, left: await Array.fromAsync(Deno.readDir(dir)) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Knot.create refuses a func that imports a relative path, before anything is made, saying to use module", async () => {
  const { error, left } = await refusal(`async (x) => (await import("./helpers.ts")).helper(x)`);
  assert.equal(error.field, "func");
  assert.match(error.message, /"\.\/helpers\.ts" is a relative path/);
  assert.match(error.message, /use module and exportName/);
  assert.deepEqual(left, []);
});

Deno.test("Knot.create refuses a func that imports a name only deno.json maps, saying to import its full specifier", async () => {
  const { error, left } = await refusal(`async (x) => (await import("is-number")).default(x)`);
  assert.match(error.message, /^func imports "is-number"/);
  assert.match(error.message, /only your deno\.json or package\.json maps/);
  assert.match(error.message, /await import\("npm:…"\)/);
  assert.deepEqual(left, []);
});

Deno.test("a func that imports full specifiers passes the check", () => {
  validateFuncImports(
    written(`async (x) => (await import("npm:is-number@7")).default(await import("node:fs") && x)`),
  );
  validateFuncImports(written(`(x) => x.important(1)`));
});
