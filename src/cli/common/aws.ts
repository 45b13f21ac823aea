/**
 * What the AWS commands share: the settings, the config file and the AWS
 * session of the command line's environment.
 *
 * @module
 */
import { join } from "node:path";
import { cliWarn } from "./cli_words.ts";
import type { AwsSession } from "../../aws/session.ts";
import { sessionFromSettings, type SettingsOptions } from "../../resources/settings.ts";
import { StateFile, StateFileError } from "../../state/state_file.ts";
import { IniSyntaxError } from "../../util/ini.ts";
import type { CommandContext } from "./command.ts";
import { cliDocker } from "./docker.ts";
import type { Docker } from "../../docker/docker.ts";

/** The settings sources of a command: its environment and the config file it names. */
export interface CliSettings extends SettingsOptions {
  /** The config file (`$CLOUDKNOT_CONFIG_FILE` or `~/.aws/cloudknot`, of the environment's HOME). */
  state: StateFile;
  /** Reads the command line's environment. */
  env: (name: string) => string | undefined;
}

/**
 * The settings sources of a running command: the config file and the
 * environment come from the command line's io, so a test can inject them.
 *
 * @example Usage
 * ```ts ignore
 * const settings = cliSettings(ctx);
 * console.log(settings.state.path);
 * ```
 *
 * @param ctx The running command.
 * @returns The settings sources.
 */
export function cliSettings(ctx: CommandContext): CliSettings {
  const env = ctx.io.env;
  // `~/.aws/cloudknot` of the environment's HOME, as a process of its own would have it.
  const home = env("HOME");
  return { env, state: new StateFile({ env, ...(home ? { homeDir: home } : {}) }) };
}

/**
 * The command's `~/.cloudknot`, from the HOME of its environment, as a process
 * of its own would have it: an AWS knot's image is built in
 * `<HOME>/.cloudknot/images/<name>` (and a knot's runtime cached in
 * `<HOME>/.cloudknot/cache`), so a command line run in a program with
 * an environment of its own (`runCommandLine(args, { io })`) builds where
 * that environment says.
 *
 * @example Usage
 * ```ts ignore
 * const knot = await Knot.create({ name, target: "aws", ...cliCloudknotDir(settings) });
 * ```
 *
 * @param settings The settings sources (their environment).
 * @returns `cloudknotDir` for `Knot.create`, or nothing when HOME is not set.
 */
export function cliCloudknotDir(
  settings: Pick<CliSettings, "env">,
): { cloudknotDir?: string } {
  const home = settings.env("HOME");
  return home ? { cloudknotDir: join(home, ".cloudknot") } : {};
}

/**
 * What `Knot.create` needs to make or adopt a knot on AWS from the command
 * line: the session, the config file, a Docker driver whose output goes to
 * stderr and warnings printed in yellow on stderr.
 *
 * @example Usage
 * ```ts ignore
 * const knot = await Knot.create({ name: "squares", module, ...await cliAwsKnot(ctx, settings) });
 * ```
 *
 * @param ctx The running command.
 * @param settings The settings sources.
 * @param options `quiet` drops Docker's output.
 * @returns The options to spread into `Knot.create`.
 */
export async function cliAwsKnot(
  ctx: CommandContext,
  settings: CliSettings,
  options: { quiet?: boolean } = {},
): Promise<
  {
    target: "aws";
    session: AwsSession;
    state: StateFile;
    docker: Docker;
    warn: (message: string) => void;
    cloudknotDir?: string;
  }
> {
  return {
    target: "aws",
    ...cliCloudknotDir(settings),
    session: await sessionFromSettings(settings),
    state: settings.state,
    docker: cliDocker(ctx, options),
    // Such as the options an adopted knot ignored: in the command's words.
    warn: cliWarn(ctx),
  };
}

/**
 * Why the command line's config file cannot be read (damaged, or not a file), or `undefined` when
 * it can. It records the knots on AWS and the Python cloudknot's: a knot of this machine stays
 * readable without it.
 *
 * @example Usage
 * ```ts ignore
 * if (await configReadError(ctx) !== undefined) return localTarget;
 * ```
 *
 * @param ctx The running command.
 * @returns The error reading it throws, or `undefined`.
 */
export async function configReadError(ctx: CommandContext): Promise<Error | undefined> {
  return await cliSettings(ctx).state.read().then(() => undefined, (e) => {
    if (e instanceof StateFileError || e instanceof IniSyntaxError) return e;
    throw e;
  });
}
