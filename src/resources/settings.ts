/**
 * The settings API of the original (`get_region`/`set_region`,
 * `get_profile`/`set_profile`/`list_profiles`, `get_s3_params`/
 * `set_s3_params`, `get_ecr_repo`/`set_ecr_repo`), kept in the `[aws]`
 * section of the cloudknot config file.
 *
 * Unlike the original, a getter never writes the file and never calls AWS:
 * it reads the config file, the environment and the shared AWS files, and
 * that is all. Setters validate first, then (where the original did) call
 * AWS, then write.
 *
 * @module
 */
import { homedir } from "node:os";
import type { AwsSession, AwsSessionOptions } from "../aws/session.ts";
import { AwsConfigError } from "../aws/core/error.ts";
import {
  FROM_ENV_PROFILE,
  loadSharedConfigFiles,
  profileSettings,
  type SharedConfigFiles,
} from "../aws/core/profile.ts";
import { isRegionName, resolveRegion } from "../aws/core/region.ts";
import type { EnvLookup, ReadTextFile } from "../aws/core/types.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { validateOptionKeys, validateOptionType } from "../util/validate.ts";
import {
  SESSION_FROM_SETTINGS_OPTION_KEYS,
  SETTINGS_OPTION_KEYS,
  SETTINGS_SESSION_OPTION_KEYS,
  settingsOf,
} from "./settings_keys.ts";
import { StateFile } from "../state/state_file.ts";
import { AWS_SECTION } from "../state/sections.ts";
import {
  type BucketSse,
  defaultBucketName,
  ensureBucket,
  type EnsureBucketOptions,
  validateBucketName,
  validateEnsureBucketOptions,
  validateSse,
} from "./bucket.ts";
import { readTextIfExists } from "../util/read_text.ts";
import { BucketTakenError } from "./errors.ts";

export { AWS_SECTION, FROM_ENV_PROFILE };

/**
 * `[aws] s3-sse = None`: no encryption setting, as the Python cloudknot
 * writes it (`str(None)`) when none was asked for. Objects then get the
 * bucket's default encryption.
 */
export const NO_SSE_SETTING = "None";

/** The ECR repository used when nothing else names one. */
export const DEFAULT_ECR_REPO = "cloudknot";

/** Where the settings are read from; every side effect is injectable. */
export interface SettingsOptions {
  /** The config file (default: `$CLOUDKNOT_CONFIG_FILE` or `~/.aws/cloudknot`). */
  state?: StateFile;
  /** Reads an environment variable (default: `Deno.env.get`). */
  env?: EnvLookup;
  /** Reads a text file, `undefined` when missing (default: `Deno.readTextFile`). */
  readTextFile?: ReadTextFile;
  /** The home directory, for the shared AWS files (default: `HOME`, then `os.homedir()`). */
  homeDir?: string;
}

/** Settings options of setters that may call AWS. */
export interface SettingsSessionOptions extends SettingsOptions {
  /** The AWS session to use (default: one made by {@linkcode sessionFromSettings}). */
  session?: AwsSession;
}

/** What {@linkcode listProfiles} returns (the original's `ProfileInfo`). */
export interface ProfileInfo {
  /** Profile names: `[profile x]` and `[default]` of the config file, and every section of the credentials file. */
  profileNames: string[];
  /** The credentials file that was read. */
  credentialsFile: string;
  /** The config file that was read. */
  configFile: string;
}

/** The S3 settings, as {@linkcode getS3Params} reads them. */
export interface S3Params {
  /**
   * The bucket, or `undefined` while the default is not resolved yet: the
   * default `cloudknot-<account id>-<region>` needs the account id, which
   * only an AWS call tells; {@linkcode resolveS3Params} or
   * {@linkcode setS3Params} resolve it.
   */
  bucket: string | undefined;
  /**
   * The default encryption of the bucket; `undefined` for `s3-sse = None`
   * (no setting: the bucket's own default applies).
   */
  sse: BucketSse | undefined;
  /** Where `bucket` came from. */
  source: "state" | "env" | "unresolved";
}

/** The S3 settings with the bucket resolved. */
export interface ResolvedS3Params {
  /** The bucket. */
  bucket: string;
  /** The default encryption of the bucket; `undefined` for no setting (`s3-sse = None`). */
  sse: BucketSse | undefined;
}

/** What {@linkcode setS3Params} sets. */
export interface SetS3ParamsInput {
  /** The bucket (default: `CLOUDKNOT_S3_BUCKET`, else `cloudknot-<account id>-<region>`). */
  bucket?: string;
  /**
   * The default encryption.
   *
   * @default {"AES256"} (or, when the config file says `s3-sse = None`, no setting)
   */
  sse?: BucketSse;
  /** Days after which job data under `cloudknot/` expires, or `"never"`. @default {30} */
  expireAfterDays?: number | "never";
  /** More bucket tags. */
  tags?: Record<string, string>;
  /** Configure a bucket that exists but was not made by cloudknot. @default {false} */
  manageExisting?: boolean;
}

const SET_S3_PARAMS_KEYS: Readonly<Record<keyof SetS3ParamsInput, true>> = {
  bucket: true,
  sse: true,
  expireAfterDays: true,
  tags: true,
  manageExisting: true,
};

/** Options of {@linkcode sessionFromSettings}. */
export interface SessionFromSettingsOptions extends SettingsOptions {
  /**
   * A session to use as it is, or more options for `AwsSession.create`
   * (endpoints, credentials, retry, fetch, …). A `profile` or `region` here
   * wins over everything else; its `env`, `readTextFile` and `homeDir` are
   * also where the settings are read when the options above name none.
   */
  aws?: AwsSession | AwsSessionOptions;
  /**
   * The profile and region a resource was made with (an image's last push):
   * they win over the settings, not over `aws`.
   */
  recorded?: { profile?: string | undefined; region?: string | undefined };
}

function envOf(options: SettingsOptions): EnvLookup {
  return options.env ?? ((name: string) => Deno.env.get(name));
}

/**
 * The config file the settings options name: `state` when given, else the
 * one `env` and `homeDir` lead to (`$CLOUDKNOT_CONFIG_FILE` or
 * `~/.aws/cloudknot`).
 *
 * @example Usage
 * ```ts
 * import { settingsState } from "@cloudknot/cloudknot/resources";
 *
 * const state = settingsState({ env: () => "/tmp/cloudknot-example" });
 * console.log(state.path); // "/tmp/cloudknot-example"
 * ```
 *
 * @param options The settings options.
 * @returns The config file.
 */
export function settingsState(options: SettingsOptions): StateFile {
  return options.state ?? new StateFile({
    env: envOf(options),
    ...(options.homeDir !== undefined ? { homeDir: options.homeDir } : {}),
  });
}

function sharedFiles(options: SettingsOptions): Promise<SharedConfigFiles> {
  const env = envOf(options);
  return loadSharedConfigFiles({
    env,
    readTextFile: options.readTextFile ?? readTextIfExists,
    homeDir: options.homeDir ?? env("HOME") ?? env("USERPROFILE") ?? homedir(),
  });
}

async function awsSetting(options: SettingsOptions, key: string): Promise<string | undefined> {
  const value = (await settingsState(options).get(AWS_SECTION, key))?.trim();
  return value ? value : undefined;
}

/**
 * Lists the profiles of the shared AWS files: `[profile x]` and `[default]`
 * of the config file (`AWS_CONFIG_FILE`, default `~/.aws/config`), and every
 * section of the credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default
 * `~/.aws/credentials`). Reads files only.
 *
 * @example Usage
 * ```ts
 * import { listProfiles } from "@cloudknot/cloudknot";
 *
 * const files: Record<string, string> = {
 *   "/home/me/.aws/config": "[profile lab]\nregion = eu-west-1\n",
 *   "/home/me/.aws/credentials": "[default]\naws_access_key_id = AKID\n",
 * };
 * const info = await listProfiles({
 *   env: () => undefined,
 *   homeDir: "/home/me",
 *   readTextFile: (path) => Promise.resolve(files[path]),
 * });
 * console.log(info.profileNames); // [ "default", "lab" ]
 * ```
 *
 * @param options Injectable environment, file reader and home directory.
 * @returns The profile names (sorted) and the two files' paths.
 */
export async function listProfiles(options: SettingsOptions = {}): Promise<ProfileInfo> {
  validateOptionKeys(options, SETTINGS_OPTION_KEYS, "listProfiles()");
  const files = await sharedFiles(options);
  const names = new Set([...files.configProfiles.keys(), ...files.credentialProfiles.keys()]);
  return {
    profileNames: [...names].sort(),
    credentialsFile: files.paths.credentials,
    configFile: files.paths.config,
  };
}

/**
 * The AWS profile cloudknot uses: `[aws] profile` of the config file, else
 * `AWS_PROFILE`, else `"default"` when that profile exists, else
 * `"from-env"` (the AWS credential chain without a named profile). Reads
 * files only; never writes.
 *
 * @example Usage
 * ```ts
 * import { getProfile } from "@cloudknot/cloudknot";
 *
 * const profile = await getProfile({
 *   env: (name) => (name === "AWS_PROFILE" ? "lab" : undefined),
 *   readTextFile: () => Promise.resolve(undefined),
 *   homeDir: "/nowhere",
 * });
 * console.log(profile); // "lab"
 * ```
 *
 * @param options Injectable config file, environment and file reader.
 * @returns The profile name, or `"from-env"`.
 */
export async function getProfile(options: SettingsOptions = {}): Promise<string> {
  validateOptionKeys(options, SETTINGS_OPTION_KEYS, "getProfile()");
  const fromState = await awsSetting(options, "profile");
  if (fromState) return fromState;
  const fromEnv = envOf(options)("AWS_PROFILE")?.trim();
  if (fromEnv) return fromEnv;
  const { profileNames } = await listProfiles(options);
  return profileNames.includes("default") ? "default" : FROM_ENV_PROFILE;
}

/**
 * Sets the AWS profile cloudknot uses. The name must be one of
 * {@linkcode listProfiles} or `"from-env"`.
 *
 * @example Usage
 * ```ts
 * import { setProfile } from "@cloudknot/cloudknot";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * await setProfile("from-env", { state });
 * console.log(await state.get("aws", "profile")); // "from-env"
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param name The profile name, or `"from-env"`.
 * @param options Injectable config file, environment and file reader.
 * @throws {CloudknotInputError} When the profile is in neither shared file.
 */
export async function setProfile(name: string, options: SettingsOptions = {}): Promise<void> {
  validateOptionKeys(options, SETTINGS_OPTION_KEYS, "setProfile()");
  if (typeof name !== "string" || !name.trim()) {
    throw new CloudknotInputError(
      `A profile name is needed: pass the name of a profile or "${FROM_ENV_PROFILE}"`,
      { field: "profile" },
    );
  }
  const profile = name.trim();
  if (profile !== FROM_ENV_PROFILE) {
    const info = await listProfiles(options);
    if (!info.profileNames.includes(profile)) {
      throw new CloudknotInputError(
        `AWS profile "${profile}" is not in ${info.configFile} or ${info.credentialsFile}; ` +
          `choose one of ${JSON.stringify(info.profileNames)}, add it with ` +
          `"aws configure --profile ${profile}", or use "${FROM_ENV_PROFILE}"`,
        { field: "profile" },
      );
    }
  }
  await settingsState(options).set(AWS_SECTION, "profile", profile);
}

/**
 * The AWS region cloudknot uses: `[aws] region` of the config file, else the
 * AWS chain's region (`AWS_REGION`, `AWS_DEFAULT_REGION`, then the region of
 * the profile from {@linkcode getProfile}). Reads files only; never writes.
 *
 * @example Usage
 * ```ts
 * import { getRegion } from "@cloudknot/cloudknot";
 *
 * const region = await getRegion({
 *   env: (name) => (name === "AWS_REGION" ? "eu-west-1" : undefined),
 *   readTextFile: () => Promise.resolve(undefined),
 *   homeDir: "/nowhere",
 * });
 * console.log(region); // "eu-west-1"
 * ```
 *
 * @param options Injectable config file, environment and file reader.
 * @returns The region.
 * @throws {AwsConfigError} When no source names a region, or the one that names it is malformed.
 */
export async function getRegion(options: SettingsOptions = {}): Promise<string> {
  validateOptionKeys(options, SETTINGS_OPTION_KEYS, "getRegion()");
  const state = settingsState(options);
  const fromState = await awsSetting({ ...options, state }, "region");
  const env = envOf(options);
  const files = await sharedFiles(options);
  const name = await getProfile({ ...options, state });
  const profile = name === FROM_ENV_PROFILE ? env("AWS_PROFILE") || "default" : name;
  if (fromState !== undefined && !isRegionName(fromState)) {
    throw new AwsConfigError(
      `The AWS region "${fromState}" from [aws] region in the cloudknot config file ${state.path} ` +
        `is not a region name such as us-east-1; call setRegion("us-east-1") (for example) to ` +
        "replace it",
      { setting: "region" },
    );
  }
  return resolveRegion({
    ...(fromState !== undefined ? { region: fromState } : {}),
    env,
    profile: { name: profile, settings: profileSettings(files, profile) ?? new Map() },
    missing: `No AWS region is set; call setRegion("us-east-1") (for example) to keep one in ` +
      `${state.path}, set AWS_REGION, or add a region to profile "${profile}" in ` +
      `${files.paths.config} (aws configure set region us-east-1 --profile ${profile})`,
  });
}

/**
 * The one way cloudknot opens an AWS session: a given session as it is;
 * otherwise the profile and region are, first to last, those of `aws`, those
 * a resource `recorded`, then the settings' ({@linkcode getProfile},
 * {@linkcode getRegion}: the config file's `[aws]`, then the AWS chain).
 * `"from-env"` leaves the profile to `AWS_PROFILE` and the credential chain.
 * A profile that only `AWS_PROFILE` (or the `default` profile) chooses is
 * left to the session, so environment keys come before it, as in the AWS
 * CLI. Makes no AWS call.
 *
 * @example Usage
 * ```ts ignore
 * import { sessionFromSettings } from "@cloudknot/cloudknot/resources";
 *
 * const aws = await sessionFromSettings();
 * console.log(aws.profile, aws.region);
 * ```
 *
 * @param options Injectable settings sources, a session or more session options, and what a resource recorded.
 * @returns The session.
 */
export async function sessionFromSettings(
  options: SessionFromSettingsOptions = {},
): Promise<AwsSession> {
  validateOptionKeys(options, SESSION_FROM_SETTINGS_OPTION_KEYS, "sessionFromSettings()");
  // The AWS client layer loads with the first session: reading the settings alone does not load it.
  const { AwsSession } = await import("../aws/session.ts");
  if (options.aws instanceof AwsSession) return options.aws;
  const aws = options.aws ?? {};
  const files = {
    env: options.env ?? aws.env,
    readTextFile: options.readTextFile ?? aws.readTextFile,
    homeDir: options.homeDir ?? aws.homeDir,
  };
  const sources = { ...files, state: options.state };
  const profile = aws.profile ?? await chosenProfile(sources, options.recorded?.profile);
  const region = aws.region ?? options.recorded?.region ?? await getRegion(sources);
  return await AwsSession.create({ ...files, ...aws, profile, region });
}

/**
 * The profile to name to the session, when the caller named none:
 * `undefined` when the environment chooses it (`AWS_PROFILE`, or the
 * `default` profile), so that the session resolves it as the AWS CLI does:
 * environment keys (`AWS_ACCESS_KEY_ID`) before the profile's. botocore
 * skips the environment's keys only for a profile given to the session
 * itself (`create_credential_resolver`: `disable_env_vars` is set by the
 * session's `profile` instance variable, never by `AWS_PROFILE`). A profile
 * kept with {@linkcode setProfile}, and one a resource recorded that the
 * environment would not choose now, are named: explicit choices.
 */
async function chosenProfile(
  sources: SettingsOptions,
  recorded: string | undefined,
): Promise<string | undefined> {
  const settled = await getProfile(sources);
  if (recorded !== undefined && recorded !== settled) return recorded;
  const kept = await awsSetting(sources, "profile");
  if (kept !== undefined || settled === FROM_ENV_PROFILE) return settled;
  return undefined;
}

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Sets the AWS region cloudknot uses, after checking with EC2
 * DescribeRegions that the account can use it. Choosing a region needs no
 * credentials: without any on this machine, only the name's form is checked
 * (`checked` is then `false`), and the first AWS call in the region tells
 * whether the account has it. A bucket setting that is the
 * derived default of the old region (`cloudknot-<account>-<old region>`) is
 * dropped, so the new region gets its own bucket.
 *
 * @example Usage
 * ```ts ignore
 * import { getRegion, setRegion } from "@cloudknot/cloudknot";
 *
 * const { checked } = await setRegion("eu-west-1");
 * console.log(await getRegion(), checked); // "eu-west-1" true
 * ```
 *
 * @param region The region, such as `"eu-west-1"`.
 * @param options The session to ask, and injectable settings sources.
 * @returns Whether EC2 confirmed that the account has the region.
 * @throws {CloudknotInputError} When the name is malformed or the account has no such region.
 */
export async function setRegion(
  region: string,
  options: SettingsSessionOptions = {},
): Promise<{ checked: boolean }> {
  validateOptionKeys(options, SETTINGS_SESSION_OPTION_KEYS, "setRegion()");
  if (typeof region !== "string" || !REGION_RE.test(region.trim())) {
    throw new CloudknotInputError(
      `"${region}" is not an AWS region name; pass one such as "us-east-1" or "eu-west-1"`,
      { field: "region" },
    );
  }
  const wanted = region.trim();
  const names = await accountRegions(options);
  if (names !== undefined && !names.includes(wanted)) {
    throw new CloudknotInputError(
      `Region "${wanted}" is not available to this account; choose one of ${names.join(", ")}`,
      { field: "region" },
    );
  }
  await settingsState(options).update((doc) => {
    const aws = doc.get(AWS_SECTION) ?? new Map<string, string>();
    const old = aws.get("region");
    const bucket = aws.get("s3-bucket");
    if (old && old !== wanted && bucket && new RegExp(`^cloudknot-\\d{12}-${old}$`).test(bucket)) {
      aws.delete("s3-bucket");
    }
    aws.set("region", wanted);
    doc.set(AWS_SECTION, aws);
  });
  return { checked: names !== undefined };
}

/**
 * The regions the account can use, from EC2 DescribeRegions; `undefined`
 * when this machine has no AWS credentials to ask with.
 */
async function accountRegions(options: SettingsSessionOptions): Promise<string[] | undefined> {
  try {
    const session = options.session ?? await sessionFromSettings({
      ...settingsOf(options),
      aws: { region: await getRegion(settingsOf(options)).catch(() => "us-east-1") },
    });
    const { Regions } = await session.ec2.describeRegions({});
    return (Regions ?? []).map((r) => r.RegionName).filter((r): r is string => !!r).sort();
  } catch (e) {
    if (e instanceof AwsConfigError && e.setting === "credentials") return undefined;
    throw e;
  }
}

/**
 * The S3 settings: the bucket from `[aws] s3-bucket`, else
 * `CLOUDKNOT_S3_BUCKET`, else unresolved (the default
 * `cloudknot-<account id>-<region>` needs an AWS call, see
 * {@linkcode resolveS3Params}); the encryption from `[aws] s3-sse`
 * (`AES256`, the default, or `aws:kms`; `None`, as the Python cloudknot
 * writes it, is no setting: `sse` is then `undefined`). Reads only.
 *
 * @example Usage
 * ```ts
 * import { getS3Params } from "@cloudknot/cloudknot";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * const params = await getS3Params({ state, env: (n) => n === "CLOUDKNOT_S3_BUCKET" ? "my-bucket" : undefined });
 * console.log(params); // { bucket: "my-bucket", sse: "AES256", source: "env" }
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param options Injectable config file and environment.
 * @returns The bucket (when known), its encryption and where the bucket came from.
 * @throws {CloudknotInputError} When the stored encryption is not `AES256`, `aws:kms` or `None`, or the bucket (stored, or of `CLOUDKNOT_S3_BUCKET`) is not a bucket name.
 */
export async function getS3Params(options: SettingsOptions = {}): Promise<S3Params> {
  validateOptionKeys(options, SETTINGS_OPTION_KEYS, "getS3Params()");
  const state = settingsState(options);
  const section = await state.section(AWS_SECTION);
  const sse = storedSse(section?.get("s3-sse"), state.path);
  const stored = section?.get("s3-bucket")?.trim();
  if (stored) {
    const source = `[aws] s3-bucket in the cloudknot config file ${state.path}`;
    return { bucket: validateBucketName(stored, { source }), sse, source: "state" };
  }
  const fromEnv = envOf(options)("CLOUDKNOT_S3_BUCKET")?.trim();
  if (fromEnv) return { bucket: validateBucketName(fromEnv, ENV_BUCKET), sse, source: "env" };
  return { bucket: undefined, sse, source: "unresolved" };
}

/** Where a bucket of `CLOUDKNOT_S3_BUCKET` came from, and what to do instead, as an error says. */
const ENV_BUCKET = {
  source: "CLOUDKNOT_S3_BUCKET",
  advice:
    `set CLOUDKNOT_S3_BUCKET to another, or choose another with setS3Params({ bucket: "..." })`,
};

/** The stored encryption: `None` is no setting, nothing is the default `AES256`. */
function storedSse(value: string | undefined, path: string): BucketSse | undefined {
  const text = value?.trim();
  if (!text) return "AES256";
  return text === NO_SSE_SETTING ? undefined : validateSse(text, {
    source: `[aws] s3-sse in the cloudknot config file ${path}`,
    advice: `set another with setS3Params({ sse: "AES256" })`,
  });
}

/**
 * {@linkcode getS3Params}, with the default bucket resolved when nothing
 * names one: `cloudknot-<account id>-<region>`, the account id from STS
 * GetCallerIdentity (one read-only call). Never writes.
 *
 * @example Usage
 * ```ts ignore
 * import { resolveS3Params } from "@cloudknot/cloudknot/resources";
 *
 * const { bucket } = await resolveS3Params();
 * console.log(bucket); // e.g. "cloudknot-123456789012-us-east-1"
 * ```
 *
 * @param options The session, and injectable settings sources.
 * @returns The bucket and its encryption.
 */
export async function resolveS3Params(
  options: SettingsSessionOptions = {},
): Promise<ResolvedS3Params> {
  validateOptionKeys(options, SETTINGS_SESSION_OPTION_KEYS, "resolveS3Params()");
  const params = await getS3Params(settingsOf(options));
  if (params.bucket !== undefined) return { bucket: params.bucket, sse: params.sse };
  const session = options.session ?? await sessionFromSettings(settingsOf(options));
  const { Account } = await session.sts.getCallerIdentity();
  if (!Account) {
    throw new AwsConfigError(
      `STS GetCallerIdentity returned no account id, so the default bucket name cannot be made; ` +
        `name a bucket with setS3Params({ bucket: "..." })`,
      { setting: "credentials" },
    );
  }
  return { bucket: defaultBucketName(Account, session.region), sse: params.sse };
}

/** The key of `[aws]` naming a bucket `setS3Params` is creating, until it is configured. */
const CREATING_BUCKET_KEY = "s3-bucket-creating";

/**
 * Sets the S3 bucket and its encryption: creates the bucket when missing
 * (or adopts it), configures it (see `ensureBucket`), then writes
 * `[aws] s3-bucket` and `s3-sse`. With no bucket, the bucket is
 * `CLOUDKNOT_S3_BUCKET`, else the derived default. With no encryption, a
 * config file's `s3-sse = None` (the Python cloudknot's "no setting") is
 * kept and the bucket's default encryption left as it is; otherwise it is
 * `AES256`.
 *
 * @example Usage
 * ```ts ignore
 * import { getS3Params, setS3Params } from "@cloudknot/cloudknot";
 *
 * await setS3Params({ bucket: "my-lab-cloudknot", sse: "aws:kms", expireAfterDays: 14 });
 * console.log((await getS3Params()).bucket); // "my-lab-cloudknot"
 * ```
 *
 * @param params The bucket, encryption, expiry and tags.
 * @param options The session, and injectable settings sources.
 * @returns The bucket and encryption now in the settings.
 * @throws {CloudknotInputError} For a malformed bucket name, encryption or expiry (before any AWS call).
 * @throws {BucketTakenError} When another account owns the name.
 */
export async function setS3Params(
  params: SetS3ParamsInput = {},
  options: SettingsSessionOptions = {},
): Promise<ResolvedS3Params> {
  validateOptionKeys(params, SET_S3_PARAMS_KEYS, "setS3Params()");
  validateOptionType(params, "manageExisting", "boolean");
  validateOptionKeys(options, SETTINGS_SESSION_OPTION_KEYS, "setS3Params()'s options");
  const sse = params.sse !== undefined ? validateSse(params.sse) : storedSse(
    (await settingsState(options).get(AWS_SECTION, "s3-sse")) ?? "",
    settingsState(options).path,
  );
  const fromEnv = envOf(options)("CLOUDKNOT_S3_BUCKET")?.trim() || undefined;
  if (params.bucket === undefined && fromEnv !== undefined) validateBucketName(fromEnv, ENV_BUCKET);
  const explicit = params.bucket ?? fromEnv;
  const ensure: Omit<EnsureBucketOptions, "bucket"> = {
    sse: sse ?? null,
    ...(params.expireAfterDays !== undefined ? { expireAfterDays: params.expireAfterDays } : {}),
    ...(params.tags !== undefined ? { tags: params.tags } : {}),
    ...(params.manageExisting !== undefined ? { manageExisting: params.manageExisting } : {}),
  };
  // Check expiry and tags before any AWS call (the name is checked once known).
  validateEnsureBucketOptions({ bucket: explicit ?? "placeholder", ...ensure });
  const session = options.session ?? await sessionFromSettings(settingsOf(options));
  let bucket = explicit;
  if (bucket === undefined) {
    const { Account } = await session.sts.getCallerIdentity();
    if (!Account) {
      throw new AwsConfigError(
        `STS GetCallerIdentity returned no account id; name a bucket with setS3Params({ bucket: "..." })`,
        { setting: "credentials" },
      );
    }
    bucket = defaultBucketName(Account, session.region);
  }
  const state = settingsState(options);
  // A config file the setting cannot be written to is refused before the bucket is made.
  await state.assertWritable();
  // A bucket this config file was creating when its process was killed (before the bucket's
  // first tag) is finished, not left as it is; the mark is written only once the bucket is
  // known to be missing, so a bucket that was there before is never taken over.
  const stored = await state.section(AWS_SECTION);
  const hadAws = stored !== undefined;
  const creating = stored?.get(CREATING_BUCKET_KEY)?.trim();
  try {
    await ensureBucket(session, {
      bucket,
      ...ensure,
      ...(creating === bucket ? { manageExisting: true } : {}),
      beforeCreate: () => state.set(AWS_SECTION, CREATING_BUCKET_KEY, bucket),
    });
  } catch (e) {
    // Another account's bucket: nothing was made, and nothing is left to finish.
    if (e instanceof BucketTakenError) {
      await state.update((doc) => {
        const aws = doc.get(AWS_SECTION);
        aws?.delete(CREATING_BUCKET_KEY);
        // The `configured` the mark's write added to a file that had no [aws] goes with it.
        if (!hadAws && [...aws?.keys() ?? []].every((k) => k === "configured")) {
          doc.delete(AWS_SECTION);
        }
      });
    }
    throw e;
  }
  await state.setMany(AWS_SECTION, {
    "s3-bucket": bucket,
    "s3-sse": sse ?? NO_SSE_SETTING,
    [CREATING_BUCKET_KEY]: undefined,
  });
  return { bucket, sse };
}

const ECR_REPO_RE = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/**
 * Checks an ECR repository name: 2 to 256 characters, lowercase letters,
 * digits and `.`, `_`, `-` between them, with `/` separating path parts.
 *
 * @example Usage
 * ```ts
 * import { validateEcrRepoName } from "@cloudknot/cloudknot/resources";
 *
 * console.log(validateEcrRepoName("lab/cloudknot")); // "lab/cloudknot"
 * ```
 *
 * @param name The repository name.
 * @returns The name, when valid.
 * @throws {CloudknotInputError} When the name breaks ECR's rules.
 */
export function validateEcrRepoName(name: unknown): string {
  if (
    typeof name !== "string" || name.length < 2 || name.length > 256 || !ECR_REPO_RE.test(name)
  ) {
    throw new CloudknotInputError(
      `Invalid ECR repository name ${JSON.stringify(name)}: use 2 to 256 lowercase letters, ` +
        `digits, and ".", "_" or "-" between them, with "/" between path parts`,
      { field: "repo" },
    );
  }
  return name;
}

/**
 * The ECR repository cloudknot pushes images to: `[aws] ecr-repo`, else
 * `CLOUDKNOT_ECR_REPO`, else `"cloudknot"`. Reads only.
 *
 * @example Usage
 * ```ts
 * import { getEcrRepo } from "@cloudknot/cloudknot";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * console.log(await getEcrRepo({ state, env: () => undefined })); // "cloudknot"
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param options Injectable config file and environment.
 * @returns The repository name.
 */
export async function getEcrRepo(options: SettingsOptions = {}): Promise<string> {
  validateOptionKeys(options, SETTINGS_OPTION_KEYS, "getEcrRepo()");
  // A name ECR refuses is refused here, saying where it came from, before a knot makes anything.
  const saved = await awsSetting(options, "ecr-repo");
  if (saved !== undefined) {
    return checkedEcrRepo(
      saved,
      `ecr-repo in ${settingsState(options).path}`,
      `replace it with setEcrRepo("${DEFAULT_ECR_REPO}") (for example)`,
    );
  }
  const fromEnv = envOf(options)("CLOUDKNOT_ECR_REPO")?.trim();
  if (!fromEnv) return DEFAULT_ECR_REPO;
  return checkedEcrRepo(fromEnv, "CLOUDKNOT_ECR_REPO", "set it to a valid name, or unset it");
}

/** The repository name of a setting, when ECR takes it; else an error naming the setting. */
function checkedEcrRepo(name: string, source: string, fix: string): string {
  try {
    return validateEcrRepoName(name);
  } catch (e) {
    throw new CloudknotInputError(`${(e as Error).message} (from ${source}): ${fix}`, {
      field: "ecrRepo",
    });
  }
}

/**
 * Sets the ECR repository cloudknot pushes images to. Only the name is
 * checked and kept; the repository is made when an image is first pushed.
 *
 * @example Usage
 * ```ts
 * import { getEcrRepo, setEcrRepo } from "@cloudknot/cloudknot";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * await setEcrRepo("lab-images", { state });
 * console.log(await getEcrRepo({ state })); // "lab-images"
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param name The repository name.
 * @param options Injectable config file.
 * @throws {CloudknotInputError} When the name breaks ECR's rules.
 */
export async function setEcrRepo(name: string, options: SettingsOptions = {}): Promise<void> {
  validateOptionKeys(options, SETTINGS_OPTION_KEYS, "setEcrRepo()");
  await settingsState(options).set(AWS_SECTION, "ecr-repo", validateEcrRepoName(name));
}
