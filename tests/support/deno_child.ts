// Running deno in a new process, for tests of what a process that did not
// make a knot sees when it opens it (a Knot adopted by name, the CLI).

import { endChild } from "./processes.ts";

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

/** The remote stack of a run's first failed item, as two processes that did not make the knot see it. */
export interface StacksElsewhere {
  /** In a `Knot` adopted by name that collects the run. */
  adopted: string;
  /** In `cloudknot results <knot>`. */
  results: string;
}

/**
 * The remote stack of run `runId`'s first failed item, read by two new
 * processes: one adopts the knot with `Knot.create(adopt)` and collects the
 * run, the other runs `cloudknot results <adopt.name>` (its last run), each
 * with this process's environment plus `env`.
 */
export async function stacksElsewhere(
  adopt: { name: string } & Record<string, unknown>,
  runId: string,
  env: Record<string, string> = {},
): Promise<StacksElsewhere> {
  const adopted = await denoChild([
    "eval",
    `
    import { Knot } from ${JSON.stringify(new URL("../../mod.ts", import.meta.url).href)};
    const knot = await Knot.create(${JSON.stringify(adopt)});
    const error = await (await knot.collect(${JSON.stringify(runId)})).results()
      .then(() => undefined, (e) => e);
    console.log(error.errors[0].remote.stack);
    `,
  ], env);
  if (adopted.code !== 0) throw new Error(`the adopting process failed:\n${adopted.stderr}`);
  const results = await denoChild(["run", "-A", "--quiet", CLI, "results", adopt.name], env);
  if (results.code !== 1) {
    throw new Error(`cloudknot results exited with ${results.code}, not 1:\n${results.stderr}`);
  }
  // One JSON line per item.
  const failed = results.stdout.trim().split("\n").map((line) => JSON.parse(line))
    .find((item) => item.error !== undefined);
  return { adopted: adopted.stdout, results: failed?.error?.stack ?? "" };
}

/**
 * Starts this deno with `args` in a new process and resolves once it printed
 * `word` on stdout (its stderr is this process's); the caller ends it, with
 * {@linkcode killChild}. One that ends before is reported with what it printed.
 */
export async function startUntil(args: string[], word: string): Promise<Deno.ChildProcess> {
  return (await startReading(args, (out) => out.includes(word), word)).child;
}

/**
 * Starts this deno with `args` in a new process and resolves with its first
 * line on stdout (a run's id, which a client prints first), once printed.
 * One that ends before is reported with what it printed.
 */
export async function startForLine(
  args: string[],
  stderr: "inherit" | "null" = "inherit",
): Promise<{ child: Deno.ChildProcess; line: string }> {
  const { child, out } = await startReading(args, (out) => out.includes("\n"), "a line", stderr);
  return { child, line: out.slice(0, out.indexOf("\n")).trim() };
}

/** Starts a child and reads its stdout until `enough`, then stops reading it. */
async function startReading(
  args: string[],
  enough: (out: string) => boolean,
  what: string,
  stderr: "inherit" | "null" = "inherit",
): Promise<{ child: Deno.ChildProcess; out: string }> {
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!enough(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the child ended before printing ${what}: ${out}`);
      out += value;
    }
  } catch (e) {
    await endChild(child, "SIGKILL");
    throw e;
  } finally {
    await reader.cancel();
  }
  return { child, out };
}

/** Kills a child with SIGKILL, as a crash or `kill -9` would, and waits for it to end. */
export async function killChild(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  const status = await child.status;
  if (status.signal !== "SIGKILL") throw new Error(`the child ended by itself: ${status.code}`);
}
