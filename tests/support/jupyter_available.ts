/**
 * Whether the tests can run notebooks headless with Jupyter. Tests that need
 * it register through {@linkcode jupyterTest}: with Jupyter they run; without
 * it they fail under `CI=true` and are ignored (with the reason printed once)
 * elsewhere.
 *
 * @module
 */
import { type RequirementTest, requirementTest } from "./requirement.ts";

/** Whether `jupyter nbconvert` works, and why not when it does not. */
export interface JupyterStatus {
  /** `jupyter nbconvert` runs. */
  ok: boolean;
  /** Why it cannot be used. */
  reason?: string;
}

/** Options for {@linkcode checkJupyter}. */
export interface CheckJupyterOptions {
  /** The `jupyter` binary. @default {"jupyter"} */
  jupyter?: string;
}

/**
 * Asks `jupyter nbconvert --version` whether it works.
 *
 * @param options Which binary to ask.
 * @returns Whether it works, and why not.
 */
export async function checkJupyter(options: CheckJupyterOptions = {}): Promise<JupyterStatus> {
  const jupyter = options.jupyter ?? "jupyter";
  try {
    const out = await new Deno.Command(jupyter, {
      args: ["nbconvert", "--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.success) return { ok: true };
    const tail = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    return { ok: false, reason: `${jupyter} nbconvert exited with code ${out.code}: ${tail}` };
  } catch (e) {
    return {
      ok: false,
      reason: e instanceof Deno.errors.NotFound
        ? `${jupyter} is not installed (Debian: jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel)`
        : e instanceof Error
        ? e.message
        : String(e),
    };
  }
}

/** The state of the default `jupyter`, asked once when this module loads. */
export const jupyterStatus: JupyterStatus = await checkJupyter();

/**
 * Registers a test that needs Jupyter: it fails under `CI=true` when Jupyter is
 * missing, and is ignored with the reason printed elsewhere.
 */
export const jupyterTest: RequirementTest = requirementTest("Jupyter", jupyterStatus);
