/**
 * Runs a notebook headless with the Deno kernel, as CI does:
 * `jupyter nbconvert` with the preprocessor of `late_output.py`, a kernelspec
 * for this deno binary in the project's `.jupyter` folder, and the given
 * environment passed on to the kernel. Any cell error fails the run.
 * {@linkcode driveKernel} runs cells as a user does, and can interrupt one
 * mid-run (`kernel_steps.py`).
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
  /** The id of a display (`display_data`) or of the display it replaces (`update_display_data`). */
  display_id?: string;
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

/** One cell for {@linkcode driveKernel}. */
export interface KernelStep {
  /** The cell's code. */
  code: string;
  /**
   * When the cell's output contains this text, the kernel is interrupted (as
   * Jupyter's stop button does), then restarted, as Jupyter does once it died.
   */
  interruptOn?: string;
  /** After that restart, waits until no process's command line contains this text. */
  gone?: string;
}

/** What one cell of {@linkcode driveKernel} gave. */
export interface KernelStepResult {
  /** The cell's outputs, as a notebook keeps them. */
  outputs: Output[];
  /** The kernel was interrupted and restarted. */
  restarted: boolean;
  /** With `gone`: the processes still running that text after the restart. */
  left?: number[];
}

/**
 * Runs cells one after another in one Deno kernel, driven by `jupyter_client`
 * (`kernel_steps.py`, with the Python that runs `jupyter`). `env` adds
 * variables for the kernel. A cell error does not stop the run: it is an
 * output of type `error`.
 */
export async function driveKernel(
  steps: KernelStep[],
  env: Record<string, string> = {},
): Promise<KernelStepResult[]> {
  await writeKernelSpec();
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-kernel-" });
  try {
    const child = new Deno.Command(await jupyterPython(), {
      args: [join(ROOT, "tests", "support", "kernel_steps.py")],
      cwd: ROOT,
      env: {
        JUPYTER_PATH: JUPYTER_DIR,
        JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
        AWS_EC2_METADATA_DISABLED: "true",
        NO_COLOR: "1",
        ...env,
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(
        JSON.stringify({
          steps: steps.map((s) => ({
            code: s.code,
            ...(s.interruptOn !== undefined ? { interrupt_on: s.interruptOn } : {}),
            ...(s.gone !== undefined ? { gone: s.gone } : {}),
          })),
        }),
      ),
    );
    await writer.close();
    const result = await child.output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, `kernel_steps.py failed:\n${stderr}`);
    return JSON.parse(new TextDecoder().decode(result.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The Python that runs `jupyter` (its `#!` line), which has `jupyter_client`:
 * the `python3` on the PATH may be another one.
 */
async function jupyterPython(): Promise<string> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const head = await Deno.readTextFile(join(dir, "jupyter")).then(
      (text) => text.split("\n", 1)[0]!,
      () => undefined,
    );
    if (!head?.startsWith("#!")) continue;
    // `#!/usr/bin/python3`, or `#!/usr/bin/env python3`.
    const words = head.slice(2).trim().split(/\s+/);
    return (words[0]!.endsWith("/env") ? words[1] : words[0]) ?? "python3";
  }
  return "python3";
}

/** The text of a cell's outputs of one kind (a stream's name, or an output type), joined. */
export function outputText(outputs: Output[], kind: string): string {
  return outputs.filter((o) => o.name === kind || o.output_type === kind)
    .map((o) => (o.text ?? o.data?.["text/plain"] ?? []).join("")).join("");
}

/** The text/plain of a cell's result (its last expression) or display, "" when none. */
export function resultText(cells: { id: string; outputs: Output[] }[], id: string): string {
  const outputs = cells.find((c) => c.id === id)?.outputs ?? [];
  return outputs.filter((o) => o.output_type === "execute_result")
    .map((o) => (o.data?.["text/plain"] ?? []).join("")).join("\n");
}
