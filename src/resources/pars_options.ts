/**
 * The options of {@linkcode Pars.create} and their checks, made before any
 * AWS call: the name, the policies' form, the network and the tags. Whether
 * the policies exist is read from IAM just before anything is made.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import { AWS_SESSION_KIND } from "../aws/session_mark.ts";
import { StateFile } from "../state/state_file.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { validateName, validateOptionKeys, validateOptionType } from "../util/validate.ts";
import { normalizePolicies, resolvePolicies } from "./_iam_roles.ts";
import { parseVpcCidr } from "./_network.ts";
import { validateBucketName, validateTags } from "./bucket.ts";
import type { SettingsOptions } from "./settings.ts";

/** The longest Pars name: role names (at most 64 characters) are made from it. */
export const PARS_NAME_MAX = 45;

/** The instance tenancies of a new VPC. */
export type InstanceTenancy = "default" | "dedicated";

/** Options of {@linkcode Pars.create}. */
export interface ParsOptions extends SettingsOptions {
  /**
   * The name: a letter, then letters, digits and hyphens, at most 45
   * characters. Default: `<caller name>-default`, the caller name being the
   * last part of the STS caller ARN (the user, or the session of an assumed
   * role), made to fit these rules.
   */
  name?: string;
  /** More IAM policies for the job role, as ARNs or names of managed policies. */
  policies?: string | readonly string[];
  /** Use the account's default VPC and its default subnets. @default {true} */
  useDefaultVpc?: boolean;
  /** The block of a new VPC (only with `useDefaultVpc: false`). @default {"172.31.0.0/16"} */
  ipv4Cidr?: string;
  /** The tenancy of a new VPC (only with `useDefaultVpc: false`). @default {"default"} */
  instanceTenancy?: InstanceTenancy;
  /** The bucket the job role may use (default: the settings' bucket, see `getS3Params`). */
  bucket?: string;
  /**
   * Make a Batch service role of its own, `<name>-batch-service-role` with
   * `AWSBatchServiceRole`, for the compute environments. By default they use
   * AWS Batch's service-linked role, `AWSServiceRoleForBatch`, which Batch
   * makes the first time an account needs it
   * (<https://docs.aws.amazon.com/batch/latest/userguide/using-service-linked-roles.html>).
   *
   * @default {false}
   */
  customServiceRole?: boolean;
  /** More tags for everything made. */
  tags?: Record<string, string>;
  /** The AWS session (default: one made from the settings). */
  session?: AwsSession;
}

/** The options of {@linkcode Pars.create}, checked: the policies deduplicated, the tags always there. */
export type ValidParsOptions =
  & Pick<
    ParsOptions,
    "name" | "useDefaultVpc" | "ipv4Cidr" | "instanceTenancy" | "bucket" | "customServiceRole"
  >
  & { policies?: string[]; tags: Record<string, string> };

const PARS_OPTION_KEYS: Record<keyof ParsOptions, true> = {
  name: true,
  policies: true,
  useDefaultVpc: true,
  ipv4Cidr: true,
  instanceTenancy: true,
  bucket: true,
  customServiceRole: true,
  tags: true,
  session: true,
  state: true,
  env: true,
  readTextFile: true,
  homeDir: true,
};

/**
 * Checks every option of {@linkcode Pars.create} without calling AWS.
 *
 * @example Usage
 * ```ts
 * import { validateParsOptions } from "@cloudknot/cloudknot/resources";
 *
 * console.log(validateParsOptions({ name: "lab", policies: "AmazonS3ReadOnlyAccess" }).policies);
 * // [ "AmazonS3ReadOnlyAccess" ]
 * ```
 *
 * @param options The options as given.
 * @returns The options, checked.
 */
export function validateParsOptions(options: ParsOptions): ValidParsOptions {
  validateOptionKeys(options, PARS_OPTION_KEYS, "Pars.create()");
  validateOptionType(options, "state", StateFile, "a StateFile");
  validateOptionType(options, "env", "function");
  validateOptionType(options, "readTextFile", "function");
  validateOptionType(options, "homeDir", "string");
  validateOptionType(options, "session", AWS_SESSION_KIND, "an AwsSession");
  const out: ValidParsOptions = { tags: {} };
  if (options.name !== undefined) {
    out.name = validateName(options.name, { what: "Pars", max: PARS_NAME_MAX });
  }
  if (options.policies !== undefined) out.policies = normalizePolicies(options.policies);
  if (options.customServiceRole !== undefined) {
    if (typeof options.customServiceRole !== "boolean") {
      throw new CloudknotInputError(`The customServiceRole option must be true or false`, {
        field: "customServiceRole",
      });
    }
    out.customServiceRole = options.customServiceRole;
  }
  if (options.useDefaultVpc !== undefined) {
    if (typeof options.useDefaultVpc !== "boolean") {
      throw new CloudknotInputError(`The useDefaultVpc option must be true or false`, {
        field: "useDefaultVpc",
      });
    }
    out.useDefaultVpc = options.useDefaultVpc;
  }
  const defaultVpc = options.useDefaultVpc ?? true;
  if (options.ipv4Cidr !== undefined) {
    if (defaultVpc) {
      throw new CloudknotInputError(
        `The ipv4Cidr option is for a new VPC: pass useDefaultVpc: false with it, or leave it out to use ` +
          `the default VPC`,
        { field: "ipv4Cidr" },
      );
    }
    parseVpcCidr(options.ipv4Cidr);
    out.ipv4Cidr = options.ipv4Cidr;
  }
  if (options.instanceTenancy !== undefined) {
    if (defaultVpc) {
      throw new CloudknotInputError(
        `The instanceTenancy option is for a new VPC: pass useDefaultVpc: false with it, or leave it out ` +
          `to use the default VPC`,
        { field: "instanceTenancy" },
      );
    }
    if (options.instanceTenancy !== "default" && options.instanceTenancy !== "dedicated") {
      throw new CloudknotInputError(
        `Invalid instanceTenancy ${JSON.stringify(options.instanceTenancy)}: use "default" or ` +
          `"dedicated"`,
        { field: "instanceTenancy" },
      );
    }
    out.instanceTenancy = options.instanceTenancy;
  }
  if (options.bucket !== undefined) {
    out.bucket = validateBucketName(options.bucket, {
      source: "the bucket option of Pars.create",
      advice: "pass another",
    });
  }
  validateTags(options.tags);
  out.tags = { ...options.tags };
  return out;
}

/**
 * Checks the name of a Pars, as a knot names the one it runs with.
 *
 * @example Usage
 * ```ts
 * import { validateParsName } from "@cloudknot/cloudknot/resources";
 *
 * console.log(validateParsName("lab")); // "lab"
 * ```
 *
 * @param name The name.
 * @param field The option that holds it. @default {"pars"}
 * @returns The name, when it is valid.
 */
export function validateParsName(name: unknown, field = "pars"): string {
  return validateName(name, { what: "Pars", max: PARS_NAME_MAX, field });
}

/**
 * Reads from IAM whether each policy exists, and whether a role may have that
 * many (read-only), so a knot that names a missing policy, or too many, is
 * refused before anything is made.
 *
 * @example Usage
 * ```ts ignore
 * import { resolveParsPolicies } from "@cloudknot/cloudknot/resources";
 *
 * console.log(await resolveParsPolicies(session, ["AmazonS3ReadOnlyAccess"]));
 * // [ "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" ]
 * ```
 *
 * @param session The AWS session.
 * @param policies Policy names or ARNs, checked with {@linkcode validateParsOptions}.
 * @param option The option that gave them, as an error names it.
 * @returns Their ARNs.
 * @throws {UnknownPolicyError} For a policy IAM does not have.
 */
export function resolveParsPolicies(
  session: AwsSession,
  policies: string[],
  option = "policies",
): Promise<string[]> {
  return resolvePolicies(session.iam, policies, option);
}
