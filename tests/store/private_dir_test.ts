import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, UnsafeDirectoryError } from "../../mod.ts";
import { findLocalKnot } from "../../src/targets/local/catalog.ts";
import { checkPrivateDir, ensurePrivateDir } from "../../src/store/private_dir.ts";

Deno.test("private directories are made 0700, and others are refused", async () => {
  const base = await Deno.makeTempDir();
  try {
    const dir = join(base, "a", "b");
    await ensurePrivateDir(dir);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    await ensurePrivateDir(dir);
    const open = join(base, "open");
    await Deno.mkdir(open);
    await Deno.chmod(open, 0o750);
    await assert.rejects(
      () => ensurePrivateDir(open),
      (e) =>
        e instanceof UnsafeDirectoryError && /mode is 0750/.test(e.message) &&
        /chmod 700/.test(e.message),
    );
    const link = join(base, "link");
    await Deno.symlink(dir, link);
    // chmod does not mend a link or a file: only a mode is said to be mended by it.
    await assert.rejects(
      () => checkPrivateDir(link),
      (e) => /symbolic link/.test(String(e)) && !/chmod/.test(String(e)),
    );
    const file = join(base, "file");
    await Deno.writeTextFile(file, "");
    await assert.rejects(
      () => checkPrivateDir(file),
      (e) => /not a directory/.test(String(e)) && !/chmod/.test(String(e)),
    );
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("reading a local knot's runs refuses its directory, its runs directory or a run directory that others may enter or that is a link, as mapping does", async () => {
  const base = await Deno.makeTempDir();
  try {
    const dir = join(base, "knots");
    const knot = await Knot.create({ name: "open", dir, func: (x: number) => x * 2 });
    const run = await knot.map([1, 2], { progress: false });
    assert.deepEqual(await run.results(), [2, 4]);
    const root = join(dir, "open");
    const refused = async (path: string) => {
      for (const read of [() => findLocalKnot("open", { dir }), () => knot.collect(run.runId)]) {
        await assert.rejects(
          read,
          (e) => e instanceof UnsafeDirectoryError && e.path === path,
        );
      }
    };
    await Deno.chmod(root, 0o755);
    await refused(root);
    await Deno.chmod(root, 0o700);
    await Deno.chmod(join(root, "runs"), 0o755);
    await refused(join(root, "runs"));
    await Deno.chmod(join(root, "runs"), 0o700);
    // The knot's directory moved away and a link put in its place.
    await Deno.rename(root, join(base, "elsewhere"));
    await Deno.symlink(join(base, "elsewhere"), root);
    await assert.rejects(
      () => findLocalKnot("open", { dir }),
      (e) => e instanceof UnsafeDirectoryError && /symbolic link/.test(e.message),
    );
    await Deno.remove(root);
    await Deno.rename(join(base, "elsewhere"), root);
    assert.deepEqual(await (await knot.collect(run.runId)).results(), [2, 4]);
    await knot.clobber();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
