// A write the disk refuses where no command words it says so in words, with what to do: a config
// file on a read-only file system, a full TMPDIR while a module is bundled.
import assert from "node:assert/strict";
import { join } from "node:path";
import { remountTmpfs, tmpfsTest, withTmpfs } from "../support/tmpfs.ts";
import { cli, JOBS, withHome } from "./helpers.ts";

tmpfsTest(
  "configure refuses a config file on a read-only file system, saying so, and leaves it as it was",
  async () => {
    await withHome(async (home) => {
      await withTmpfs(1 << 20, async (mounted) => {
        const file = join(mounted, "cloudknot.ini");
        const env = { env: { CLOUDKNOT_CONFIG_FILE: file } };
        const first = await cli(
          home,
          ["configure", "--region", "us-east-1", "--ecr-repo", "first"],
          env,
        );
        assert.equal(first.code, 0, first.stderr);
        const before = await Deno.readTextFile(file);
        await remountTmpfs(mounted, "ro");
        try {
          const r = await cli(
            home,
            ["configure", "--region", "us-east-1", "--ecr-repo", "second"],
            env,
          );
          assert.equal(r.code, 1);
          assert.equal(
            r.stderr.trim(),
            `error: The cloudknot config file ${file} is on a read-only file system; cloudknot did ` +
              `not change it. Make it writable (mount that file system read-write) or point ` +
              `CLOUDKNOT_CONFIG_FILE at another file`,
          );
        } finally {
          await remountTmpfs(mounted, "rw");
        }
        assert.equal(await Deno.readTextFile(file), before);
      });
    });
  },
);

tmpfsTest(
  "a map whose module cannot be bundled in a full TMPDIR says the disk refused the write, where, and what to do",
  async () => {
    await withHome(async (home) => {
      await withTmpfs(64 << 10, async (tmp) => {
        await Deno.writeFile(join(tmp, "fill"), new Uint8Array(64 << 10)).catch(() => {});
        const r = await cli(home, ["map", JOBS, "square", "--name", "full"], {
          stdin: "[1]",
          env: { TMPDIR: tmp },
        });
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          new RegExp(
            `^error: A write was refused by the disk: No space left on device \\(os error 28\\): ` +
              `\\S+ '${tmp}/[^']+'\\. Free space on that disk, or point what writes there elsewhere ` +
              `\\(TMPDIR, HOME, CLOUDKNOT_LOCAL_DIR, CLOUDKNOT_CONFIG_FILE\\), then run the command ` +
              `again$`,
            "m",
          ),
        );
        assert.doesNotMatch(r.stderr, /unexpected error/);
      });
    });
  },
);
