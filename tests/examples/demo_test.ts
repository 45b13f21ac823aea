// `deno task demo`, the first command of docs/development.md, prints a good estimate of π.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { ROOT } from "../docs/markdown.ts";
import {
  cachedNpmPackages,
  runtimeNpmPackages,
  strayNpmPackages,
  treeBytes,
} from "../support/npm_cache.ts";

Deno.test("deno task demo estimates π within 0.01", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-demo-" });
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["task", "demo"],
      cwd: ROOT,
      env: {
        CLOUDKNOT_LOCAL_DIR: join(dir, "knots"),
        CLOUDKNOT_LOCAL_RUNS: join(dir, "runs"),
        NO_COLOR: "1",
      },
      stdin: "null",
    }).output();
    const stdout = new TextDecoder().decode(result.stdout);
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    const estimate = /^π ≈ (\d+\.\d+) \(error \S+\) from 64000000 samples$/m.exec(stdout);
    assert.ok(estimate, stdout);
    assert.ok(Math.abs(Number(estimate[1]) - Math.PI) < 0.01, estimate[1]);
    assert.match(stdout, /^monte-carlo-pi run \S+ \(local\): 32\/32 done/m);
    assert.match(stderr, /monte-carlo-pi: 32\/32 done/);
    // The demo clobbers its knot.
    assert.deepEqual(await Array.fromAsync(Deno.readDir(join(dir, "knots"))), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a fresh clone's deno task demo downloads only the npm packages the library imports", async () => {
  // The clone: every file git tracks, as it is in this working tree.
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-clone-" });
  try {
    const clone = join(dir, "clone");
    const listed = await new Deno.Command("git", { args: ["ls-files", "-z"], cwd: ROOT }).output();
    assert.equal(listed.code, 0, new TextDecoder().decode(listed.stderr));
    for (const file of new TextDecoder().decode(listed.stdout).split("\0")) {
      if (file === "") continue;
      await Deno.mkdir(dirname(join(clone, file)), { recursive: true });
      await Deno.copyFile(join(ROOT, file), join(clone, file)).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e; // deleted, not yet committed
      });
    }
    const denoDir = join(dir, "deno-dir");
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["task", "demo", "2", "1000"],
      cwd: clone,
      env: {
        DENO_DIR: denoDir,
        CLOUDKNOT_LOCAL_DIR: join(dir, "knots"),
        CLOUDKNOT_LOCAL_RUNS: join(dir, "runs"),
        NO_COLOR: "1",
      },
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    assert.match(new TextDecoder().decode(result.stdout), /^π ≈ /m);
    // Only what the library imports: no AWS SDK, no emulator dependency.
    assert.deepEqual(await strayNpmPackages(denoDir), [], stderr);
    const cached = await cachedNpmPackages(denoDir);
    for (const name of await runtimeNpmPackages()) assert.ok(cached.has(name), name);
    const bytes = await treeBytes(join(denoDir, "npm"));
    assert.ok(bytes <= 10_000_000, `${bytes} bytes of npm packages`);
    // Nothing was written into the clone: the package keeps no lockfile.
    await assert.rejects(Deno.stat(join(clone, "deno.lock")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
