// Shared helpers for the command-line tests: run cli.ts in a real process with
// its own knot directories.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TextLineStream } from "../../src/util/text_line_stream.ts";
import type { CliIo } from "../../cli.ts";
import { runCommandLine } from "../../src/cli/main.ts";

/** The project's root: the working directory of every command line run. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The command line's entry point. */
export const CLI = join(ROOT, "cli.ts");
/** The test jobs module, relative to ROOT. */
export const JOBS = "tests/cli/fixtures/jobs.ts";
/** The permission flags docs/command_line.md gives for `map` on the local target. */
export const NARROW_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  `--allow-run=${Deno.execPath()}`,
  "--allow-sys=homedir,uid",
];

/** A command line's exit code and output. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Temporary directories for knots, runs and the config file. */
export interface CliHome {
  /** The root of the temporary directories. */
  dir: string;
  /** The environment that points the command line at them. */
  env: Record<string, string>;
}

/** Variables of this process that must not leak into the command line's. */
const SCRUBBED = /^(NO_COLOR|FORCE_COLOR|CLOUDKNOT_.*|AWS_.*)$/;

/**
 * The environment of a command-line process: this one's, scrubbed, with
 * `NO_COLOR=1`, plus `extra` (where `undefined` removes a variable).
 */
export function childEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string | undefined> = {
    ...Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([k]) => !SCRUBBED.test(k))),
    AWS_EC2_METADATA_DISABLED: "true",
    NO_COLOR: "1",
    ...extra,
  };
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** Makes temporary directories for one test and removes them afterwards. */
export async function withHome(body: (home: CliHome) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-cli-test-" });
  const home: CliHome = {
    dir,
    env: {
      CLOUDKNOT_LOCAL_DIR: join(dir, "knots"),
      CLOUDKNOT_LOCAL_RUNS: join(dir, "runs"),
      CLOUDKNOT_CONFIG_FILE: join(dir, "cloudknot.ini"),
    },
  };
  try {
    await body(home);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Options for {@linkcode cli}. */
export interface CliOptions {
  /** Text for stdin; stdin is empty (`/dev/null`) without it. */
  stdin?: string;
  /** More environment variables; `undefined` removes one (such as `NO_COLOR`). */
  env?: Record<string, string | undefined>;
  /** Permission flags instead of `-A`. */
  flags?: string[];
}

/** Runs `deno run -A cli.ts <args>` and collects its output. */
export async function cli(
  home: CliHome,
  args: string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const child = spawnCli(home, args, { ...options, stdin: options.stdin !== undefined });
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/**
 * Runs the command line in this process (`runCommandLine`) with the environment {@linkcode cli}
 * gives its process, `stdin` as its input, and collects its exit code and output: for a test of
 * what a command does and says, where the process itself is not the point (exit codes of a
 * process, output it flushes, signals, kills, permission flags), since a process of its own costs
 * about a second of CPU to load before it does anything.
 */
export async function cliHere(
  home: CliHome,
  args: string[],
  options: Omit<CliOptions, "flags"> = {},
): Promise<CliResult> {
  const { io, out } = recordingIo(childEnv({ ...home.env, ...options.env }));
  const input = options.stdin === undefined ? [] : [new TextEncoder().encode(options.stdin)];
  const code = await runCommandLine(args, {
    io: {
      ...io,
      stdin: { readable: () => ReadableStream.from(input), isTerminal: () => false },
      noColor: true,
    },
  });
  return { code, stdout: out.stdout, stderr: out.stderr };
}

/** Starts `deno run -A cli.ts <args>` with piped output (and piped stdin when asked). */
export function spawnCli(
  home: CliHome,
  args: string[],
  options: Omit<CliOptions, "stdin"> & { stdin?: boolean } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.flags ?? ["-A"]), "--quiet", CLI, ...args],
    cwd: ROOT,
    env: childEnv({ ...home.env, ...options.env }),
    clearEnv: true,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads a stream line by line. */
export function lines(stream: ReadableStream<Uint8Array>): ReadableStreamDefaultReader<string> {
  return stream.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream())
    .getReader();
}

/**
 * Reads what a spawned command line prints from here on, to its end: the NDJSON lines left on
 * stdout (read through `stdout`, its `lines` reader), how it ended, and its whole stderr.
 */
export async function restOf(
  child: Deno.ChildProcess,
  stdout: ReadableStreamDefaultReader<string>,
): Promise<{ lines: Record<string, unknown>[]; status: Deno.CommandStatus; stderr: string }> {
  const rest: Record<string, unknown>[] = [];
  for (let line = await stdout.read(); !line.done; line = await stdout.read()) {
    rest.push(JSON.parse(line.value));
  }
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  return { lines: rest, status, stderr };
}

/** The NDJSON lines of an output, parsed. */
export function ndjson(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Whether `script` (util-linux) can run a command in a pseudo-terminal here. */
export const hasScript: boolean = await new Deno.Command("script", {
  args: ["-qec", "true", "/dev/null"],
  stdin: "null",
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

/** Quotes a word for `sh`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs the command line in a pseudo-terminal (through `script`), so its
 * stdin, stdout and stderr are terminals. `input` is typed into it.
 */
export async function cliInTerminal(
  home: CliHome,
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliResult> {
  const command = [Deno.execPath(), "run", "-A", "--quiet", CLI, ...args].map(shellQuote).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    cwd: ROOT,
    env: childEnv({ ...home.env, ...options.env }),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  if (options.input !== undefined) await writer.write(new TextEncoder().encode(options.input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** What a {@linkcode recordingIo} keeps: its output, and the length of each write to stdout. */
export interface RecordedOutput {
  stdout: string;
  stderr: string;
  writes: number[];
}

/** An io whose stdout keeps what is written and the length of each write. */
export function recordingIo(env: Record<string, string>): { io: CliIo; out: RecordedOutput } {
  const out: RecordedOutput = { stdout: "", stderr: "", writes: [] };
  const io: CliIo = {
    stdout: {
      write: (t) => {
        out.writes.push(t.length);
        out.stdout += t;
        return Promise.resolve();
      },
      isTerminal: () => false,
    },
    stderr: { write: (t) => Promise.resolve(void (out.stderr += t)), isTerminal: () => false },
    stdin: { readable: () => ReadableStream.from([]), isTerminal: () => false },
    env: (name) => env[name],
  };
  return { io, out };
}

/**
 * Starts `cloudknot map` of the fixtures' `gate` in another process over one
 * item that waits until the file `marker` exists, and resolves once its run
 * is recorded (a run still going, for the commands that meet one), with
 * the map's output once it ends and its process.
 */
export async function mapGated(
  home: CliHome,
  knot: string,
  marker: string,
): Promise<{ output: Promise<Deno.CommandOutput>; map: Deno.ChildProcess }> {
  const map = spawnCli(
    home,
    ["map", JOBS, "gate", "--name", knot, "--allow", `read=${home.dir}`],
    { stdin: true },
  );
  const writer = map.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify([{ id: 0, waitFor: marker }])));
  await writer.close();
  const output = map.output();
  // A bounded wait for the run to be recorded.
  for (let i = 0; i < 300; i++) {
    const shown = await cli(home, ["knot", "show", knot, "--json"]);
    if (shown.code === 0 && JSON.parse(shown.stdout).runs.length === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { output, map };
}
