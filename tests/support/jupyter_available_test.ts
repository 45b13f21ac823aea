import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkJupyter } from "./jupyter_available.ts";

const fixture = fileURLToPath(new URL("./testdata/needs_jupyter.ts", import.meta.url));

/** Runs the fixture in a child `deno test` whose PATH holds no jupyter. */
async function runWithoutJupyter(ci: boolean): Promise<{ code: number; output: string }> {
  const empty = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", fixture],
      env: { PATH: empty, NO_COLOR: "1", CI: ci ? "true" : "false" },
      stdin: "null",
    }).output();
    const text = new TextDecoder();
    return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
  } finally {
    await Deno.remove(empty);
  }
}

Deno.test("without Jupyter, jupyterTest fails under CI=true", async () => {
  const { code, output } = await runWithoutJupyter(true);
  assert.notEqual(code, 0, output);
  assert.match(output, /Jupyter is required under CI=true: jupyter is not installed/);
  assert.match(output, /0 passed \| 1 failed/);
});

Deno.test("without Jupyter, jupyterTest ignores the test elsewhere and says why", async () => {
  const { code, output } = await runWithoutJupyter(false);
  assert.equal(code, 0, output);
  assert.match(output, /Skipping the tests that need Jupyter: jupyter is not installed/);
  assert.match(output, /0 passed \| 0 failed \| 1 ignored/);
});

Deno.test("checkJupyter reports a binary that fails", async () => {
  const status = await checkJupyter({ jupyter: "false" });
  assert.equal(status.ok, false);
  assert.match(status.reason!, /^false nbconvert exited with code 1/);
});
