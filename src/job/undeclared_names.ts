/**
 * Finds the names a shipped function uses but does not declare, before
 * anything is built or run: `deno lint`'s `no-undef` rule over the artifact,
 * less the globals every Deno module has.
 *
 * @module
 */
import { killGroup } from "../util/command_limit.ts";

/**
 * How long `deno lint` may take over one function by default before it is
 * killed and the check is left to the run: it reads one file and fetches
 * nothing.
 */
const LINT_MS = 60_000;

/**
 * The answers `deno lint` gave in this process, by binary and source: a
 * function made into a knot again (a notebook cell run twice, knots of one
 * function in a loop) is not linted again, which costs a Deno process (about
 * 0.15 s of CPU). Only answers are kept, never a check that could not run;
 * the oldest goes past {@linkcode CHECKED_MAX}.
 */
const checked = new Map<string, readonly string[]>();
/** How many answers {@linkcode checked} keeps. */
const CHECKED_MAX = 256;

/** The clean globals of a Deno module, read once per process from a fresh worker. */
let denoGlobals: Promise<ReadonlySet<string>> | undefined;

function freshGlobals(): Promise<ReadonlySet<string>> {
  const source = "postMessage(Object.getOwnPropertyNames(globalThis)); close();";
  const worker = new Worker(`data:text/javascript,${encodeURIComponent(source)}`, {
    type: "module",
  });
  return new Promise<ReadonlySet<string>>((resolve, reject) => {
    worker.onmessage = (event) => resolve(new Set(event.data as string[]));
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
  }).finally(() => worker.terminate());
}

/**
 * The names an ES module's code refers to that nothing declares: neither the
 * module itself nor the globals of a Deno module. A function shipped by its
 * source text that uses such a name would fail on every item with
 * "x is not defined", so `Knot.create` refuses it up front.
 *
 * It runs `deno lint` (the rule `no-undef`, no config file) on the source,
 * once per source and deno binary in a process (the answer is kept).
 * When that cannot run (no leave to run the deno binary, a binary without
 * the `lint` command, or one that runs past its time limit and is killed), it returns
 * `undefined`, and the runtime still explains the error per item.
 *
 * @example Usage
 * ```ts
 * import { undeclaredNames } from "./undeclared_names.ts";
 *
 * const names = await undeclaredNames("export default (x) => x * factor + Math.sqrt(x);");
 * console.log(names); // [ "factor" ]
 * ```
 *
 * @param source The ES module's source (JavaScript).
 * @param options `deno` is the deno binary (default: this one); `timeoutMs`
 *   is how long `deno lint` may run before it is killed (default: 60000).
 * @returns The undeclared names, each once, in order of first use; or
 *   `undefined` when the check could not run.
 */
export async function undeclaredNames(
  source: string,
  options: { deno?: string; timeoutMs?: number } = {},
): Promise<string[] | undefined> {
  const deno = options.deno ?? Deno.execPath();
  // Without leave to run it, say nothing rather than prompt for deno lint.
  if (Deno.permissions.querySync({ name: "run", command: deno }).state !== "granted") {
    return undefined;
  }
  const key = `${deno}\0${source}`;
  const known = checked.get(key);
  if (known !== undefined) return [...known];
  const names = await lint(source, deno, options.timeoutMs);
  if (names === undefined) return undefined;
  if (checked.size >= CHECKED_MAX) checked.delete(checked.keys().next().value!);
  checked.set(key, names);
  return [...names];
}

/** What {@linkcode undeclaredNames} finds, with `deno lint` run every time. */
async function lint(
  source: string,
  deno: string,
  timeoutMs: number | undefined,
): Promise<string[] | undefined> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(deno, {
      args: ["lint", "--no-config", "--rules-tags=", "--rules-include=no-undef", "--json", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
      detached: true,
    }).spawn();
  } catch {
    return undefined;
  }
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    killGroup(child);
  }, timeoutMs ?? LINT_MS);
  // A binary that exits without reading its stdin breaks the pipe: its
  // (unusable) output is still read, so nothing is left open.
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source)).then(() => writer.close()).catch(() => {});
  const output = await child.output().finally(() => clearTimeout(timer));
  if (expired) return undefined;
  let report: { diagnostics?: { code?: string; message?: string }[] };
  try {
    report = JSON.parse(new TextDecoder().decode(output.stdout));
  } catch {
    return undefined;
  }
  if (!Array.isArray(report.diagnostics)) return undefined;
  const names: string[] = [];
  for (const diagnostic of report.diagnostics) {
    const name = diagnostic.code === "no-undef"
      ? /^(\S+) is not defined$/.exec(diagnostic.message ?? "")?.[1]
      : undefined;
    if (name !== undefined && !names.includes(name)) names.push(name);
  }
  if (names.length === 0) return names;
  let globals: ReadonlySet<string>;
  try {
    globals = await (denoGlobals ??= freshGlobals());
  } catch {
    denoGlobals = undefined;
    return undefined;
  }
  return names.filter((name) => !globals.has(name));
}
