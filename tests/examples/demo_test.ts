// `deno task demo`, the first command of docs/development.md, prints a good estimate of π.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

Deno.test("deno task demo estimates π within 0.01", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-demo-" });
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["task", "demo"],
      cwd: fileURLToPath(new URL("../../", import.meta.url)),
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
