import assert from "node:assert/strict";
import { join } from "node:path";
import { setprivFound } from "../../src/job/parent_watch.ts";

Deno.test("setprivFound finds setpriv as the shell would: an executable file in a directory of the workers' PATH, and nothing else", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ck-setpriv-" });
  try {
    const bin = join(dir, "bin"), plain = join(dir, "plain"), folder = join(dir, "folder");
    await Promise.all(
      [bin, plain, join(folder, "setpriv")].map((d) => Deno.mkdir(d, { recursive: true })),
    );
    await Deno.writeTextFile(join(bin, "setpriv"), "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(join(plain, "setpriv"), "not a program\n", { mode: 0o644 });
    const asked = (path: string) => {
      const shell = new Deno.Command("/bin/sh", {
        args: ["-c", "command -v setpriv >/dev/null 2>&1"],
        env: { PATH: path },
      }).outputSync();
      return shell.code === 0;
    };
    for (
      const path of [
        `${join(dir, "none")}:${bin}`,
        `${plain}:${folder}`,
        folder,
        "",
        `${plain}:${bin}`,
      ]
    ) {
      assert.equal(setprivFound("/bin/sh", { PATH: path }), asked(path), `PATH=${path}`);
    }
    assert.equal(setprivFound("/bin/sh", { PATH: bin }), true);
    assert.equal(setprivFound("/bin/sh", { PATH: `${plain}:${folder}` }), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
