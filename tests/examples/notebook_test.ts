// Runs the example notebooks headless with the Deno kernel: any cell error fails.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jupyterTest } from "../support/jupyter_available.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The project's own Jupyter folder; its kernel.json is generated and gitignored. */
const JUPYTER_DIR = join(ROOT, ".jupyter");

/** Writes the Deno kernelspec for this deno binary, as `deno jupyter --install` would. */
async function writeKernelSpec(): Promise<void> {
  const dir = join(JUPYTER_DIR, "kernels", "deno");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "kernel.json"),
    JSON.stringify(
      {
        argv: [Deno.execPath(), "jupyter", "--kernel", "--conn", "{connection_file}"],
        display_name: "Deno",
        language: "typescript",
      },
      null,
      2,
    ) + "\n",
  );
}

interface Output {
  output_type: string;
  name?: string;
  text?: string[];
  data?: Record<string, string[]>;
}

/** Executes a notebook with nbconvert and returns the executed notebook's cells. */
async function execute(notebook: string): Promise<{ id: string; outputs: Output[] }[]> {
  await writeKernelSpec();
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-notebook-" });
  try {
    const out = join(dir, "out.ipynb");
    const result = await new Deno.Command("jupyter", {
      args: ["nbconvert", "--to", "notebook", "--execute", notebook, "--output", out],
      cwd: ROOT,
      env: {
        JUPYTER_PATH: JUPYTER_DIR,
        CLOUDKNOT_LOCAL_DIR: join(dir, "knots"),
        CLOUDKNOT_LOCAL_RUNS: join(dir, "runs"),
        AWS_EC2_METADATA_DISABLED: "true",
        NO_COLOR: "1",
      },
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, `nbconvert failed:\n${stderr}`);
    return JSON.parse(await Deno.readTextFile(out)).cells;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

jupyterTest(
  "the local quickstart notebook runs, shows progress and the job table as HTML",
  async () => {
    const cells = await execute("examples/quickstart_local.ipynb");
    const byId = new Map(cells.map((c) => [c.id, c.outputs]));
    const text = (id: string, stream: string) =>
      (byId.get(id) ?? []).filter((o) => o.output_type === "stream" && o.name === stream)
        .map((o) => o.text!.join("")).join("");
    // Progress reaches the notebook through console.error.
    assert.match(text("map", "stderr"), /quickstart-pi: 16\/16 done/);
    const estimate = /π ≈ (\d\.\d+)/.exec(text("map", "stdout"));
    assert.ok(estimate, text("map", "stdout"));
    assert.ok(Math.abs(Number(estimate[1]) - Math.PI) < 0.01);
    // The run displays as an HTML table through Symbol.for("Jupyter.display").
    const display = (byId.get("view") ?? []).find((o) => o.output_type === "display_data");
    assert.ok(display?.data, "the run was not displayed");
    const html = display.data["text/html"]!.join("");
    assert.match(html, /^<div class="cloudknot-run">/);
    assert.match(html, /quickstart-pi run \S+ \(local\): 16\/16 done/);
    assert.equal(html.match(/<td style="color:#2e7d32">succeeded<\/td>/g)?.length, 16);
    assert.match(display.data["text/plain"]!.join(""), /^quickstart-pi run/);
    assert.match(text("clobber", "stdout"), /clobbered quickstart-pi/);
  },
);
