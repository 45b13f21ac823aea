/**
 * The AWS shared `config` and `credentials` files and profile selection, as
 * the AWS SDKs do it.
 *
 * @module
 */
import { join } from "../../util/path.ts";
import { parseIni } from "../../util/ini.ts";
import { AwsConfigError } from "./error.ts";
import type { EnvLookup, ReadTextFile } from "./types.ts";

/**
 * The profile name that means "no named profile: use the AWS credential
 * chain", as the Python cloudknot writes it in its config file
 * (`[aws] profile = from-env`) and in the records it makes.
 */
export const FROM_ENV_PROFILE = "from-env";

/** A profile's settings: key to value, sub-section keys as `section.key`. */
export type ProfileSettings = Map<string, string>;

/** The two shared files, parsed. */
export interface SharedConfigFiles {
  /** Profiles from the config file (`[default]`, `[profile x]`), without the prefix. */
  configProfiles: Map<string, ProfileSettings>;
  /** Profiles from the credentials file (`[x]`). */
  credentialProfiles: Map<string, ProfileSettings>;
  /** `[sso-session x]` sections of the config file, by name. */
  ssoSessions: Map<string, ProfileSettings>;
  /** `[services x]` sections of the config file, by name. */
  services: Map<string, ProfileSettings>;
  /** The paths of the config and credentials files that were looked at. */
  paths: { config: string; credentials: string };
}

/** Options of {@linkcode loadSharedConfigFiles}. */
export interface LoadSharedConfigOptions {
  /** Environment lookup. */
  env: EnvLookup;
  /** File reader that returns `undefined` for a missing file. */
  readTextFile: ReadTextFile;
  /** The home directory; defaults to `HOME`, then `USERPROFILE`. */
  homeDir?: string;
}

function homeOf(options: Omit<LoadSharedConfigOptions, "readTextFile">): string {
  return options.homeDir ?? options.env("HOME") ?? options.env("USERPROFILE") ?? "";
}

function expandHome(path: string, home: string): string {
  return path.startsWith("~/") ? join(home, path.slice(2)) : path;
}

/**
 * Where the shared config and credentials files are: `AWS_CONFIG_FILE` and
 * `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`.
 *
 * @param options Injected environment and home directory.
 * @returns The two paths.
 */
export function sharedConfigPaths(
  options: Omit<LoadSharedConfigOptions, "readTextFile">,
): { config: string; credentials: string } {
  const home = homeOf(options);
  return {
    config: expandHome(options.env("AWS_CONFIG_FILE") || join(home, ".aws", "config"), home),
    credentials: expandHome(
      options.env("AWS_SHARED_CREDENTIALS_FILE") || join(home, ".aws", "credentials"),
      home,
    ),
  };
}

/** The two shared files' texts as read (`undefined`: no such file), and where they are. */
export interface SharedConfigTexts {
  /** The config file's text. */
  config: string | undefined;
  /** The credentials file's text. */
  credentials: string | undefined;
  /** The paths of the config and credentials files that were looked at. */
  paths: { config: string; credentials: string };
}

/**
 * Reads the shared config and credentials files, honouring `AWS_CONFIG_FILE`
 * and `AWS_SHARED_CREDENTIALS_FILE`, without parsing them.
 *
 * @param options Injected environment, file reader and home directory.
 * @returns Their texts.
 */
export async function readSharedConfigTexts(
  options: LoadSharedConfigOptions,
): Promise<SharedConfigTexts> {
  const paths = sharedConfigPaths(options);
  const [config, credentials] = await Promise.all([
    options.readTextFile(paths.config),
    options.readTextFile(paths.credentials),
  ]);
  return { config, credentials, paths };
}

/**
 * Reads and parses the shared config and credentials files, honouring
 * `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`. Missing files read as
 * empty.
 *
 * @param options Injected environment, file reader and home directory.
 * @returns The parsed files.
 */
export async function loadSharedConfigFiles(
  options: LoadSharedConfigOptions,
): Promise<SharedConfigFiles> {
  return parseSharedConfigFiles(await readSharedConfigTexts(options));
}

/**
 * Parses the shared files' texts; a missing file is empty.
 *
 * @param texts What {@linkcode readSharedConfigTexts} read.
 * @returns The parsed files.
 * @throws {IniSyntaxError} For a line the AWS CLI cannot parse.
 */
export function parseSharedConfigFiles(texts: SharedConfigTexts): SharedConfigFiles {
  const { config: configPath, credentials: credentialsPath } = texts.paths;
  const config = parseIni(texts.config ?? "", { fileName: configPath });
  const credentials = parseIni(texts.credentials ?? "", { fileName: credentialsPath });
  const configProfiles = new Map<string, ProfileSettings>();
  const ssoSessions = new Map<string, ProfileSettings>();
  const services = new Map<string, ProfileSettings>();
  const plainDefault = config.get("default");
  if (plainDefault) configProfiles.set("default", plainDefault);
  for (const [name, settings] of config) {
    const dot = name.indexOf(".");
    if (dot < 0) continue;
    const kind = name.slice(0, dot);
    const rest = name.slice(dot + 1);
    if (kind === "profile") configProfiles.set(rest, settings);
    else if (kind === "sso-session") ssoSessions.set(rest, settings);
    else if (kind === "services") services.set(rest, settings);
  }
  return {
    configProfiles,
    credentialProfiles: credentials,
    ssoSessions,
    services,
    paths: { config: configPath, credentials: credentialsPath },
  };
}

/**
 * The profile's settings from both files, merged key by key with the
 * credentials file winning, or `undefined` when neither file has it.
 *
 * @param files The parsed shared files.
 * @param name The profile name.
 * @returns The merged settings, or `undefined`.
 */
export function profileSettings(
  files: SharedConfigFiles,
  name: string,
): ProfileSettings | undefined {
  const fromConfig = files.configProfiles.get(name);
  const fromCredentials = files.credentialProfiles.get(name);
  if (!fromConfig && !fromCredentials) return undefined;
  return new Map([...(fromConfig ?? []), ...(fromCredentials ?? [])]);
}

/** Options of {@linkcode resolveProfile}. */
export interface ResolveProfileOptions {
  /** A profile name given explicitly; wins over `AWS_PROFILE`. */
  profile?: string;
  /** Environment lookup. */
  env: EnvLookup;
}

/** The selected profile and its settings. */
export interface ResolvedProfile {
  /** The profile name. */
  name: string;
  /** Its merged settings; empty for a `default` that does not exist. */
  settings: ProfileSettings;
}

/**
 * Selects the profile: the explicit name, then `AWS_PROFILE`, then `default`.
 * A named profile that neither file has is an error; a missing `default` is
 * an empty profile.
 *
 * @param files The parsed shared files.
 * @param options The explicit name and the environment.
 * @returns The selected profile.
 * @throws {AwsConfigError} When a named profile does not exist.
 */
export function resolveProfile(
  files: SharedConfigFiles,
  options: ResolveProfileOptions,
): ResolvedProfile {
  const name = options.profile || options.env("AWS_PROFILE") || "default";
  const settings = profileSettings(files, name);
  if (settings) return { name, settings };
  if (name === "default") return { name, settings: new Map() };
  const how = options.profile ? "was asked for" : "is named by AWS_PROFILE";
  throw new AwsConfigError(
    `AWS profile "${name}" ${how} but is not in ${files.paths.config} or ${files.paths.credentials}; ` +
      `add it (aws configure --profile ${name}) or choose another profile`,
    { setting: "profile" },
  );
}

/**
 * Whether a setting string means true, as the AWS SDKs read booleans.
 *
 * @param value The raw setting.
 * @returns `true` for `true` in any case.
 */
export function isTrueSetting(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === "true";
}
