/**
 * A fresh user's machine for the published-package tests: a temporary folder
 * with an empty `DENO_DIR`, a fresh `HOME`, a `DENO_INSTALL_ROOT` whose `bin`
 * is on `PATH`, and `JSR_URL` pointing at a loopback registry that serves
 * the package as `deno publish` uploads it.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { type JsrRegistry, type PublishedPackage, serveRegistry } from "../support/jsr_registry.ts";

/** What a command gave. */
export interface Outcome {
  /** The exit code. */
  code: number;
  /** Its stdout. */
  stdout: string;
  /** Its stderr. */
  stderr: string;
}

/** A fresh user's machine with a loopback JSR registry. */
export interface FreshMachine extends AsyncDisposable {
  /** The temporary root. */
  root: string;
  /** An empty working folder (no deno.json). */
  work: string;
  /** The fresh HOME. */
  home: string;
  /** The registry. */
  registry: JsrRegistry;
  /** The environment every command gets. */
  env: Record<string, string>;
  /** Runs a shell command in `work` (or `cwd`), with `input` on stdin. */
  sh(command: string, options?: { input?: string; cwd?: string }): Promise<Outcome>;
}

/** Variables of this process that would leak this machine's state into a fresh one. */
const LEAKS = /^(HOME|DENO_DIR|DENO_INSTALL_ROOT|JSR_URL|CLOUDKNOT_.*|XDG_.*)$/;

/**
 * Makes a fresh machine serving `pkg`; disposing it stops the registry and
 * removes the folder.
 */
export async function freshMachine(pkg: PublishedPackage): Promise<FreshMachine> {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-jsr-user-" });
  const work = join(root, "work");
  const home = join(root, "home");
  await Deno.mkdir(work);
  await Deno.mkdir(home);
  const registry = await serveRegistry(pkg);
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !LEAKS.test(name)),
  );
  const env: Record<string, string> = {
    ...inherited,
    HOME: home,
    DENO_DIR: join(root, "deno-dir"),
    DENO_INSTALL_ROOT: join(root, "deno-install"),
    JSR_URL: registry.url,
    // Local runs stay in this folder instead of /dev/shm.
    CLOUDKNOT_LOCAL_RUNS: join(root, "runs"),
    PATH: [join(root, "deno-install", "bin"), dirname(Deno.execPath()), inherited.PATH ?? ""]
      .join(":"),
    NO_COLOR: "1",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  const sh = async (command: string, options: { input?: string; cwd?: string } = {}) => {
    const child = new Deno.Command("sh", {
      args: ["-c", command],
      cwd: options.cwd ?? work,
      env,
      clearEnv: true,
      stdin: options.input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.input !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.input));
      await writer.close();
    }
    const out = await child.output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
  return {
    root,
    work,
    home,
    registry,
    env,
    sh,
    async [Symbol.asyncDispose]() {
      await registry.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Fails with the command's output unless it exited with 0. */
export function ok(outcome: Outcome, what: string): Outcome {
  if (outcome.code !== 0) {
    throw new Error(
      `${what} exited with ${outcome.code}\nstdout:\n${outcome.stdout}\nstderr:\n${outcome.stderr}`,
    );
  }
  return outcome;
}
