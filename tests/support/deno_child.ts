// Running deno in a new process, for tests of what a process that did not
// make a knot sees when it opens it (a Knot adopted by name, the CLI).

/** How a deno process ended and what it wrote. */
export interface ChildOutput {
  /** Its exit code. */
  code: number;
  /** Its standard output. */
  stdout: string;
  /** Its standard error. */
  stderr: string;
}

/** The command line's entry point, for `deno run -A --quiet CLI …`. */
export const CLI: string = new URL("../../cli.ts", import.meta.url).pathname;

/**
 * Runs this deno with `args` in a new process, with this process's
 * environment plus `env` (and colours off), and waits for it to end.
 */
export async function denoChild(
  args: string[],
  env: Record<string, string> = {},
): Promise<ChildOutput> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}
