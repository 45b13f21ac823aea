/**
 * Time limits on the external commands cloudknot runs (`deno bundle`,
 * `deno info`, `docker build`, …): a command past its limit is killed with
 * what it started, and the caller gets a {@linkcode CommandTimeoutError}
 * that names the command, the limit and how to allow it longer.
 *
 * @module
 */
import { CloudknotConfigurationError, CloudknotTimeoutError } from "./errors.ts";

/** A command's time limit, and how to raise it, in the caller's words. */
export interface CommandLimit {
  /** The command, as the error shows it, such as `deno bundle entry.ts`. */
  command: string;
  /** How long it may run, in milliseconds. */
  timeoutMs: number;
  /** How to allow it longer, such as `set CLOUDKNOT_DENO_TIMEOUT=<seconds>`. */
  raise: string;
}

/**
 * An external command ran past its time limit and was killed.
 *
 * @example Usage
 * ```ts
 * import { CommandTimeoutError } from "./command_limit.ts";
 *
 * const e = new CommandTimeoutError({
 *   command: "docker push registry/app:1",
 *   timeoutMs: 1_800_000,
 *   raise: "set CLOUDKNOT_DOCKER_PUSH_TIMEOUT=<seconds>",
 * });
 * console.log(e.message); // "`docker push registry/app:1` did not finish within 1800 s and was killed; …"
 * ```
 */
export class CommandTimeoutError extends CloudknotTimeoutError {
  /** The command. */
  readonly command: string;
  /** Its limit, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Makes the error.
   *
   * @param limit The command, its limit and how to raise it.
   * @param options The cause.
   */
  constructor(limit: CommandLimit, options?: ErrorOptions) {
    super(
      `\`${limit.command}\` did not finish within ${limit.timeoutMs / 1000} s and was killed; ` +
        `check whether it hangs (a network it cannot reach, a prompt), or ${limit.raise}`,
      options,
    );
    this.name = "CommandTimeoutError";
    this.command = limit.command;
    this.timeoutMs = limit.timeoutMs;
  }
}

/**
 * A time limit in milliseconds: `given` when set, else the environment
 * variable `variable` (in seconds) when set, else `fallbackMs`.
 *
 * @example Usage
 * ```ts
 * import { limitMs } from "./command_limit.ts";
 *
 * console.log(limitMs(undefined, 600_000, "CLOUDKNOT_DENO_TIMEOUT", () => "30")); // 30000
 * ```
 *
 * @param given The option's value, in milliseconds.
 * @param fallbackMs The default.
 * @param variable The environment variable, in seconds; none when left out.
 * @param env Reads the environment. @default {Deno.env.get (unset without --allow-env)}
 * @returns The limit.
 * @throws {CloudknotConfigurationError} When the option or the variable is not a positive number.
 */
export function limitMs(
  given: number | undefined,
  fallbackMs: number,
  variable?: string,
  env: (name: string) => string | undefined = readEnv,
): number {
  if (given !== undefined) {
    if (!(given > 0) || !Number.isFinite(given)) {
      throw new CloudknotConfigurationError(
        `A time limit of ${given} ms is not valid; pass a positive number of milliseconds`,
      );
    }
    return given;
  }
  const text = variable === undefined ? undefined : env(variable);
  if (text === undefined || text.trim() === "") return fallbackMs;
  const seconds = Number(text);
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new CloudknotConfigurationError(
      `${variable} is "${text}"; set it to a positive number of seconds, or unset it for ${
        fallbackMs / 1000
      }`,
    );
  }
  return seconds * 1000;
}

/**
 * Runs a command to its end, as `Deno.Command.output()` does, and kills it
 * when it runs past its limit. It runs in a process group of its own, and
 * the whole group is killed (SIGKILL), so that nothing it started keeps the
 * output pipes open or goes on running.
 *
 * @param binary The program.
 * @param options Its arguments, directory, environment and standard streams.
 * @param limit Its limit, and what the error says.
 * @returns Its exit status and output.
 * @throws {CommandTimeoutError} When it ran past its limit.
 */
export async function outputWithin(
  binary: string,
  options: Deno.CommandOptions,
  limit: CommandLimit,
): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(binary, { ...options, detached: true }).spawn();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    killGroup(child);
  }, limit.timeoutMs);
  try {
    const output = await child.output();
    if (expired) throw new CommandTimeoutError(limit);
    return output;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Kills a process started with `detached: true` and everything in its
 * process group.
 *
 * @param child The process.
 * @param signal The signal. @default {"SIGKILL"}
 */
export function killGroup(child: Deno.ChildProcess, signal: Deno.Signal = "SIGKILL"): void {
  try {
    Deno.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // It has exited already.
    }
  }
}

/** An environment variable, or `undefined` when it is unset or env access is not allowed. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // No --allow-env: act as if it were unset.
  }
}

/** The variable that sets how long a deno command (bundle, info) may run, in seconds. */
export const DENO_TIMEOUT_VARIABLE = "CLOUDKNOT_DENO_TIMEOUT";

/**
 * How long a deno command that builds an artifact may run by default: 10
 * minutes, for `deno bundle` or `deno info` to fetch a large npm graph on a
 * slow network.
 */
const DENO_TIMEOUT_MS = 600_000;

/**
 * The limit of a deno command: the option, else `CLOUDKNOT_DENO_TIMEOUT`
 * in seconds, else 10 minutes.
 *
 * @example Usage
 * ```ts
 * import { denoLimit } from "./command_limit.ts";
 *
 * console.log(denoLimit(["bundle", "main.ts"], 60_000).command); // "deno bundle main.ts"
 * ```
 *
 * @param shown The arguments the error shows.
 * @param timeoutMs The option, in milliseconds.
 * @returns The limit.
 * @throws {CloudknotConfigurationError} When the option or the variable is not a positive number.
 */
export function denoLimit(shown: string[], timeoutMs: number | undefined): CommandLimit {
  return {
    command: ["deno", ...shown].join(" "),
    timeoutMs: limitMs(timeoutMs, DENO_TIMEOUT_MS, DENO_TIMEOUT_VARIABLE),
    raise: `allow it longer with ${DENO_TIMEOUT_VARIABLE}=<seconds>`,
  };
}
