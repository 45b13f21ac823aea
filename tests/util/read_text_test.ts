import assert from "node:assert/strict";
import { join } from "node:path";
import { pathExists } from "../../src/util/read_text.ts";

Deno.test("pathExists: a dangling link is absent when followed and present as itself; a failure other than absence throws", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-read-text-" });
  try {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "");
    const link = join(dir, "link");
    await Deno.symlink(join(dir, "gone"), link);
    assert.equal(await pathExists(file), true);
    assert.equal(await pathExists(dir), true);
    assert.equal(await pathExists(join(dir, "gone")), false);
    assert.equal(await pathExists(link), false);
    assert.equal(await pathExists(link, { followLinks: false }), true);
    await assert.rejects(pathExists(join(file, "below")), Deno.errors.NotADirectory);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
