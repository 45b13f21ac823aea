// Helpers of the command-line tests that talk to AWS: an emulator, and the
// environment that points the command line at it.
import { join } from "node:path";
import { type Emulator, type EmulatorOptions, startEmulator } from "../emulator/mod.ts";
import { type CliHome, withHome } from "./helpers.ts";

/**
 * The emulator options of a test that drives AWS through the command line (or a notebook), which
 * looks at a compute environment or queue it made (or disabled, or deleted) right away, then every
 * 2 s: they settle at once, since a settling of 10 ms cost each wait 2 s. A test about that wait
 * gives its own delay.
 *
 * IAM's lag goes with them. On AWS a compute environment takes minutes to be made and IAM seconds
 * to show a new role, so the first job of a knot on a new Pars never starts before its roles can
 * be assumed; with compute environments settled at once and IAM's lag kept (300 ms), it did, on a
 * fast machine: every attempt failed to start in the same few ms, which AWS spaces by a task's
 * start (`ECS was unable to assume the role …`).
 */
export const SETTLED_AT_ONCE: EmulatorOptions = Object.freeze({
  ceValidDelayMs: 0,
  iamPropagationMs: 0,
  tickMs: 10,
});

/** A command-line home whose environment points at a running emulator. */
export interface AwsHome extends CliHome {
  /** The emulator. */
  emu: Emulator;
  /** The config file. */
  configFile: string;
}

/**
 * Runs a test body with temporary directories, an emulator, and an
 * environment with the emulator's endpoint, region and keys; HOME is a
 * temporary directory too (no ~/.aws, ~/.cloudknot of its own), with DENO_DIR
 * kept so that nothing is downloaded again.
 */
export async function withAwsHome(
  body: (home: AwsHome) => Promise<void>,
  options: EmulatorOptions = {},
): Promise<void> {
  await withHome(async (shared) => {
    const emu = await startEmulator({ ...SETTLED_AT_ONCE, ...options });
    try {
      await withHomeOn(emu, shared.env.CLOUDKNOT_CONFIG_FILE!, body);
    } finally {
      await emu.close();
    }
  });
}

/**
 * Runs a test body with a home of its own (temporary knots, runs and HOME directories, removed
 * after) whose environment points at a running emulator and names `configFile`, with DENO_DIR
 * kept so that nothing is downloaded again.
 *
 * @param emu The emulator.
 * @param configFile The config file, which other homes on the emulator may share.
 * @param body The test body.
 */
export async function withHomeOn(
  emu: Emulator,
  configFile: string,
  body: (home: AwsHome) => Promise<void>,
): Promise<void> {
  await withHome(async (home) => {
    await Deno.mkdir(join(home.dir, "home"));
    await body({
      ...home,
      emu,
      configFile,
      env: {
        ...home.env,
        CLOUDKNOT_CONFIG_FILE: configFile,
        ...emu.env,
        HOME: join(home.dir, "home"),
        DENO_DIR,
      },
    });
  });
}

/** This deno's cache directory, so a child with another HOME downloads nothing. */
export const DENO_DIR: string = await (async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
})();

/** A command-line test of a file whose steps share one emulator and config file: name and body. */
export type AwsHomeStep = [name: string, fn: (home: AwsHome) => Promise<void>];

/**
 * Runs `steps` in order, each a step of test `t` with a home of its own ({@linkcode withAwsHome}'s:
 * knots, runs and HOME directories), all on one emulator started with `options` and one config
 * file, as one user's commands are.
 *
 * Why share them: an emulator whose jobs run in containers starts a registry of its own, into which
 * a knot's first push sends the 100 MB test base image again, compressed anew by dockerd (about
 * 6 s of a core each time); the steps of one emulator push it once. They share the config file too,
 * since the default Pars is the config file's that made it, and another's is refused.
 *
 * @param t The test.
 * @param steps Each step's name and body.
 * @param options The emulator's options, as {@linkcode withAwsHome}'s.
 */
export async function runAwsHomeSteps(
  t: Deno.TestContext,
  steps: AwsHomeStep[],
  options: EmulatorOptions = {},
): Promise<void> {
  await withHome(async (shared) => {
    const configFile = shared.env.CLOUDKNOT_CONFIG_FILE!;
    const emu = await startEmulator({ ...SETTLED_AT_ONCE, ...options });
    try {
      for (const [name, fn] of steps) {
        await t.step(name, () => withHomeOn(emu, configFile, fn));
      }
    } finally {
      await emu.close();
    }
  });
}
