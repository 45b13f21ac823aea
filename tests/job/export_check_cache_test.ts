// A module bundled again unchanged is not run again to learn that its export is a function: the
// check's result is kept on disk by the bundle's hash, per module and export
// (src/job/export_check_cache.ts). A changed module is checked again, and a cache that cannot be
// written changes nothing but the time.
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifactFromModule } from "../../src/job/mod.ts";
import { exportCheckEntry } from "../../src/job/export_check_cache.ts";
import { CloudknotInputError } from "../../src/util/errors.ts";

Deno.test("the check of a module's export runs once per bundle: again only when the module changes, and a class it becomes is still refused", async () => {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-export-cache-" });
  try {
    const module = join(root, "jobs.ts");
    const helper = join(root, "helper.ts");
    const cacheDir = join(root, "cache");
    // A deno that notes each time it runs a bundle's export check (a `run` of `*.check.mjs`).
    const log = join(root, "runs.log");
    const deno = join(root, "deno");
    await Deno.writeTextFile(
      deno,
      `#!/bin/sh\ncase "$*" in *check.mjs*) echo check >> '${log}';; esac\n` +
        `exec '${Deno.execPath()}' "$@"\n`,
      { mode: 0o755 },
    );
    const checks = async () =>
      (await Deno.readTextFile(log).catch(() => "")).split("\n").filter(Boolean).length;
    await Deno.writeTextFile(helper, "export const twice = (n: number) => 2 * n;\n");
    await Deno.writeTextFile(
      module,
      'import { twice } from "./helper.ts";\nexport function square(n: number) { return twice(n) * n / 2; }\n',
    );

    const first = await artifactFromModule(module, "square", { deno, cacheDir });
    assert.equal(await checks(), 1);
    const again = await artifactFromModule(module, "square", { deno, cacheDir });
    assert.equal(await checks(), 1, "the same bundle is not run again");
    assert.equal(again.hash, first.hash);

    // A change in a module it imports makes another bundle: checked again, then remembered.
    await Deno.writeTextFile(helper, "export const twice = (n: number) => n + n;\n");
    const changed = await artifactFromModule(module, "square", { deno, cacheDir });
    assert.notEqual(changed.hash, first.hash);
    assert.equal(await checks(), 2);
    await artifactFromModule(module, "square", { deno, cacheDir });
    assert.equal(await checks(), 2);

    // The same module turned into a class is run and refused, whatever was remembered.
    await Deno.writeTextFile(module, "export class square {}\n");
    const e = await artifactFromModule(module, "square", { deno, cacheDir }).catch((e) => e);
    assert.ok(e instanceof CloudknotInputError, String(e));
    assert.match(e.message, /^Export square of .*jobs\.ts is a class, not a function/);
    assert.equal(await checks(), 3);

    // Without a cache, every packaging runs the check.
    await Deno.writeTextFile(module, "export function square(n: number) { return n * n; }\n");
    await artifactFromModule(module, "square", { deno, cacheDir: false });
    await artifactFromModule(module, "square", { deno, cacheDir: false });
    assert.equal(await checks(), 5);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const knownFunctionBundle = async (dir: string, module: URL, exportName: string, bundle: string) =>
  await (await exportCheckEntry(dir, module, exportName, bundle)).known();
const rememberFunctionBundle = async (
  dir: string,
  module: URL,
  exportName: string,
  bundle: string,
) => await (await exportCheckEntry(dir, module, exportName, bundle)).remember();

Deno.test("a remembered bundle is one module's and export's, and a cache that cannot be written is only a miss", async () => {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-export-cache-" });
  try {
    const dir = join(root, "cache");
    const jobs = new URL("file:///project/jobs.ts");
    const bundle = "export default function square(n) { return n * n; }\n";
    assert.equal(await knownFunctionBundle(dir, jobs, "square", bundle), false);
    await rememberFunctionBundle(dir, jobs, "square", bundle);
    assert.equal(await knownFunctionBundle(dir, jobs, "square", bundle), true);
    assert.equal(await knownFunctionBundle(dir, jobs, "cube", bundle), false);
    assert.equal(
      await knownFunctionBundle(dir, new URL("file:///other/jobs.ts"), "square", bundle),
      false,
    );
    assert.equal(await knownFunctionBundle(dir, jobs, "square", `${bundle}// changed\n`), false);
    // One file per module and export: a new bundle takes the old one's place, and no partial
    // file is left behind.
    await rememberFunctionBundle(dir, jobs, "square", `${bundle}// changed\n`);
    assert.equal(await knownFunctionBundle(dir, jobs, "square", bundle), false);
    assert.equal((await Array.fromAsync(Deno.readDir(dir))).length, 1);

    // A file where the cache's folder should be: nothing is written, nothing is thrown.
    const blocked = join(root, "blocked");
    await Deno.writeTextFile(blocked, "");
    await rememberFunctionBundle(blocked, jobs, "square", bundle);
    assert.equal(await knownFunctionBundle(blocked, jobs, "square", bundle), false);
    assert.equal(await Deno.readTextFile(blocked), "");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
