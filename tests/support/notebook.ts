/**
 * Runs a notebook headless with the Deno kernel, as CI does:
 * `jupyter nbconvert` with the preprocessor of `late_output.py`, a kernelspec
 * for this deno binary in the project's `.jupyter` folder, and the given
 * environment passed on to the kernel. Any cell error fails the run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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

/** One output of an executed cell. */
export interface Output {
  output_type: string;
  name?: string;
  text?: string[];
  data?: Record<string, string[]>;
}

/**
 * Executes a notebook with nbconvert and returns the executed notebook's cells.
 * `env` adds variables for the kernel (nbconvert passes its environment on).
 */
export async function execute(
  notebook: string,
  env: Record<string, string> = {},
): Promise<{ id: string; outputs: Output[] }[]> {
  await writeKernelSpec();
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-notebook-" });
  try {
    const out = join(dir, "out.ipynb");
    // Like --execute, but also keeping the outputs Deno's kernel sends after a
    // cell's idle status (see tests/support/late_output.py).
    const result = await new Deno.Command("jupyter", {
      args: [
        "nbconvert",
        "--to",
        "notebook",
        "--NotebookExporter.preprocessors=late_output.LateOutputExecutePreprocessor",
        notebook,
        "--output",
        out,
      ],
      cwd: ROOT,
      env: {
        JUPYTER_PATH: JUPYTER_DIR,
        PYTHONPATH: join(ROOT, "tests", "support"),
        CLOUDKNOT_LOCAL_DIR: join(dir, "knots"),
        CLOUDKNOT_LOCAL_RUNS: join(dir, "runs"),
        AWS_EC2_METADATA_DISABLED: "true",
        NO_COLOR: "1",
        ...env,
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

/** The text/plain of a cell's result (its last expression) or display, "" when none. */
export function resultText(cells: { id: string; outputs: Output[] }[], id: string): string {
  const outputs = cells.find((c) => c.id === id)?.outputs ?? [];
  return outputs.filter((o) => o.output_type === "execute_result")
    .map((o) => (o.data?.["text/plain"] ?? []).join("")).join("\n");
}
