/**
 * The options of a knot on AWS Batch and their checks, made before any AWS
 * call: the function, the image, the Pars, the repository, the names of the
 * Batch resources, the tags, the compute settings (with their upper bounds)
 * and the injectable parts. What needs AWS to check (instance types, IAM
 * policies) is read just before the first resource is made.
 *
 * @module
 */
import { AwsSession } from "../../aws/session.ts";
import { Docker } from "../../docker/docker.ts";
import { DEFAULT_IMAGE_PLATFORM, DockerImage } from "../../image/docker_image.ts";
import { validateBaseImage } from "../../image/docker_image_options.ts";
import { validateImageTags, validateRepositoryName } from "../../image/names.ts";
import { validateTags } from "../../resources/bucket.ts";
import { Pars } from "../../resources/pars.ts";
import { validateParsName } from "../../resources/pars_options.ts";
import { normalizePolicies } from "../../resources/_iam_roles.ts";
import { StateFile } from "../../state/state_file.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import type { Permissions } from "../../job/permissions.ts";
import { describeValue, validateOptionType } from "../../util/validate.ts";
import {
  checkArchitecture,
  type ComputeOptions,
  type ComputeSpec,
  type ComputeType,
  validateComputeOptions,
} from "./batch/compute_options.ts";
import { readAwsKnot } from "./catalog.ts";

/** The Batch name rule: letters, digits, hyphens and underscores, at most 128. */
const BATCH_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** The longest wait between looks at AWS: the longest timer JavaScript can set. */
const MAX_POLL_INTERVAL_MS = 2 ** 31 - 1;

/** Options of a knot on AWS, besides its name and function. */
export interface AwsKnotOptions extends ComputeOptions {
  /**
   * What the function may do in its container, as Deno permission
   * descriptors (as on the local target). @default {{ net: true }}
   */
  permissions?: Permissions;
  /**
   * The Pars to use, or its name (default: the shared `<caller>-default`
   * Pars). A name whose Pars another config file on the account made is
   * refused before anything is made.
   */
  pars?: Pars | string;
  /** More IAM policies for the jobs; the knot then gets a Pars of its own. */
  parsPolicies?: string[];
  /** An image built already, instead of `func` or `module`. */
  dockerImage?: DockerImage;
  /** The base image (default: `$CLOUDKNOT_BASE_IMAGE` or the official Deno image). */
  baseImage?: string;
  /** The ECR repository (default: the settings' `getEcrRepo()`). */
  repoName?: string;
  /** The image's tags. @default {[name]} */
  imageTags?: string[];
  /** Build without Docker's layer cache. @default {false} */
  noImageCache?: boolean;
  /** The job definition's name. @default {"<name>-ck-jd"} */
  jobDefinitionName?: string;
  /** The compute environment's name. @default {"<name>-ck-ce"} */
  computeEnvironmentName?: string;
  /** The job queue's name. @default {"<name>-ck-jq"} */
  jobQueueName?: string;
  /** More AWS tags for everything the knot makes. */
  tags?: Record<string, string>;
  /** The AWS session (default: one made from the settings). */
  session?: AwsSession;
  /** The cloudknot config file (default: `$CLOUDKNOT_CONFIG_FILE` or `~/.aws/cloudknot`). */
  state?: StateFile;
  /** The docker driver. */
  docker?: Docker;
  /** cloudknot's own directory (image build files, registry logins). @default {"~/.cloudknot"} */
  cloudknotDir?: string;
  /** Milliseconds between looks at AWS while waiting for resources and results. @default {2000} */
  pollInterval?: number;
  /**
   * Where warnings go, on every target: such as a module whose code reaches
   * files beside it, which the bundle does not hold, or options ignored when
   * adopting. @default {console.warn}
   */
  warn?: (message: string) => void;
}

/** What a knot on AWS is made from: the name, the function and the options. */
export interface AwsKnotSpec extends AwsKnotOptions {
  /** The knot's name. */
  name: string;
  /** A self-contained function. */
  // deno-lint-ignore no-explicit-any
  func?: (...args: any[]) => unknown;
  /** A module whose export is the function. */
  module?: string | URL;
  /** The export of `module`. */
  exportName?: string;
  /** Data files and folders to ship beside the function, relative to `module`'s folder. */
  files?: string[];
  /** The deno binary that packages the function (bundles a module). @default {Deno.execPath()} */
  deno?: string;
}

/** The options that shape what is made, and so are ignored when adopting. */
export const SHAPING: readonly (keyof AwsKnotSpec)[] = [
  "permissions",
  "func",
  "module",
  "exportName",
  "files",
  "dockerImage",
  "pars",
  "parsPolicies",
  "baseImage",
  "repoName",
  "imageTags",
  "noImageCache",
  "jobDefinitionName",
  "computeEnvironmentName",
  "jobQueueName",
  "tags",
  "compute",
  "vcpus",
  "memory",
  "gpus",
  "retries",
  "timeout",
  "evaluateOnExit",
  "instanceTypes",
  "minVcpus",
  "desiredVcpus",
  "maxVcpus",
  "bidPercentage",
  "volumeSize",
  "imageId",
  "ec2KeyPair",
  "priority",
  "stuckTimeout",
  "capacityTimeout",
];

/** The options of a knot on AWS after their checks. */
export interface CheckedAwsKnot {
  /** The compute settings, with defaults. */
  compute: ComputeSpec;
  /** The names of the Batch resources. */
  names: {
    computeEnvironment: string;
    jobQueue: string;
    jobDefinition: string;
    launchTemplate: string;
  };
  /** The image's tags. */
  imageTags: string[];
  /** The repository, when named. */
  repoName?: string;
  /** The Pars' name, when named. */
  parsName?: string;
  /** The policies of the knot's own Pars, when given. */
  parsPolicies?: string[];
}

/**
 * Checks every option of a knot on AWS that needs no AWS call, and fills in
 * the defaults. Every mistake is a {@linkcode CloudknotInputError} naming the
 * option.
 *
 * @example Usage
 * ```ts
 * import { validateAwsKnotOptions } from "./knot_options.ts";
 *
 * const checked = validateAwsKnotOptions({ name: "squares", compute: "FARGATE" });
 * console.log(checked.names.jobQueue); // "squares-ck-jq"
 * ```
 *
 * @param spec The name, the function and the options.
 * @param own The compute type of the knot of that name, when it exists ({@linkcode ownCompute}):
 *   the options are checked against it when `compute` is not given. @default {{}}
 * @returns The checked options.
 */
export function validateAwsKnotOptions(
  spec: AwsKnotSpec,
  own: { compute?: ComputeType } = {},
): CheckedAwsKnot {
  const { name } = spec;
  const given = [spec.func, spec.module, spec.dockerImage].filter((x) => x !== undefined).length;
  if (given > 1) {
    throw new CloudknotInputError("Pass one of func, module and dockerImage", { field: "func" });
  }
  validateOptionType(spec, "dockerImage", DockerImage, "a DockerImage");
  validateOptionType(spec, "session", AwsSession, "an AwsSession");
  validateOptionType(spec, "state", StateFile, "a StateFile");
  validateOptionType(spec, "docker", Docker, "a Docker driver");
  validateOptionType(spec, "cloudknotDir", "string");
  validateOptionType(spec, "warn", "function");
  validateOptionType(spec, "noImageCache", "boolean");
  if (spec.dockerImage !== undefined && spec.baseImage !== undefined) {
    throw new CloudknotInputError("baseImage belongs to the image: dockerImage is built already", {
      field: "baseImage",
    });
  }
  if (spec.baseImage !== undefined) validateBaseImage(spec.baseImage);
  const compute = validateComputeOptions(spec, own.compute);
  checkArchitecture(compute, spec.dockerImage?.platform ?? DEFAULT_IMAGE_PLATFORM);
  const checked: CheckedAwsKnot = {
    compute,
    names: {
      computeEnvironment: spec.computeEnvironmentName ?? `${name}-ck-ce`,
      jobQueue: spec.jobQueueName ?? `${name}-ck-jq`,
      jobDefinition: spec.jobDefinitionName ?? `${name}-ck-jd`,
      launchTemplate: `${name}-ck-lt`,
    },
    imageTags: spec.imageTags === undefined
      ? [name.toLowerCase()]
      : validateImageTags(spec.imageTags, "imageTags"),
  };
  if (spec.pars !== undefined) {
    if (typeof spec.pars === "string") checked.parsName = validateParsName(spec.pars);
    else if (!(spec.pars instanceof Pars)) {
      throw new CloudknotInputError(
        `pars must be a Pars or the name of one, not ${describeValue(spec.pars)}`,
        { field: "pars" },
      );
    }
  }
  if (spec.parsPolicies !== undefined) {
    if (spec.pars !== undefined) {
      // Given both, parsPolicies would choose the Pars and pars be ignored.
      throw new CloudknotInputError(
        "parsPolicies makes a Pars of the knot's own with those policies, so the knot cannot " +
          "use another: pass either pars (a Pars to use) or parsPolicies",
        { field: "pars" },
      );
    }
    if (!Array.isArray(spec.parsPolicies) || spec.parsPolicies.length === 0) {
      throw new CloudknotInputError(
        'parsPolicies must be a non-empty array of IAM policy names or ARNs, such as ["AmazonS3ReadOnlyAccess"]',
        { field: "parsPolicies" },
      );
    }
    checked.parsPolicies = normalizePolicies(spec.parsPolicies, "parsPolicies");
  }
  if (spec.repoName !== undefined) {
    checked.repoName = validateRepositoryName(spec.repoName, "repoName");
  }
  validateTags(spec.tags);
  for (const [key, value] of Object.entries(checked.names)) {
    if (typeof value !== "string") {
      throw new CloudknotInputError(
        `${key}Name must be a string of up to 128 letters, digits, hyphens and underscores, ` +
          `not ${describeValue(value)}`,
        { field: `${key}Name` },
      );
    }
    if (!BATCH_NAME.test(value)) {
      throw new CloudknotInputError(
        `Invalid ${key} name "${value}": use up to 128 letters, digits, hyphens and underscores`,
        { field: `${key}Name` },
      );
    }
  }
  if (spec.pollInterval !== undefined) {
    const ms = spec.pollInterval;
    if (typeof ms !== "number" || !(ms > 0) || ms > MAX_POLL_INTERVAL_MS) {
      throw new CloudknotInputError(
        `pollInterval must be a positive number of milliseconds, at most ${MAX_POLL_INTERVAL_MS}, ` +
          `not ${describeValue(ms)}`,
        { field: "pollInterval" },
      );
    }
  }
  return checked;
}

/**
 * The compute type of the AWS knot the config file has of `spec`'s name, when `spec` gives none:
 * its options (`bidPercentage`, which needs SPOT; Fargate's vCPUs; GPUs) are then checked against
 * the knot's compute type, not the default's. Reads the config file only.
 *
 * @example Usage
 * ```ts ignore
 * import { ownCompute, validateAwsKnotOptions } from "./knot_options.ts";
 *
 * const spec = { name: "spotty", bidPercentage: 60 };
 * validateAwsKnotOptions(spec, await ownCompute(spec)); // passes when knot spotty is SPOT
 * ```
 *
 * @param spec The knot's name and options, as given.
 * @returns The knot's compute type, or nothing when `compute` is given or there is no such knot.
 */
export async function ownCompute(spec: AwsKnotSpec): Promise<{ compute?: ComputeType }> {
  // A state that is not a StateFile is refused by the checks, in their words.
  if (
    spec.compute !== undefined || (spec.state !== undefined && !(spec.state instanceof StateFile))
  ) {
    return {};
  }
  const saved = await readAwsKnot(spec.state ?? new StateFile(), spec.name);
  return saved === undefined ? {} : { compute: saved.compute as ComputeType };
}
