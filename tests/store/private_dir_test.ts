import assert from "node:assert/strict";
import { join } from "node:path";
import { UnsafeDirectoryError } from "../../mod.ts";
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
    await assert.rejects(() => checkPrivateDir(link), /symbolic link/);
    const file = join(base, "file");
    await Deno.writeTextFile(file, "");
    await assert.rejects(() => checkPrivateDir(file), /not a directory/);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
