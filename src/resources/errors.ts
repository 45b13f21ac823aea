/**
 * The typed errors of the persistent AWS resources (settings, the bucket,
 * `Pars`), named after the Python original's exceptions where there is one.
 *
 * @module
 */
import {
  CannotCreateResourceError,
  CloudknotError,
  CloudknotInputError,
  ResourceExistsError,
} from "../util/errors.ts";

/**
 * A resource recorded in the config file lives in another region than the
 * current one (the original's `RegionException`).
 *
 * @example Usage
 * ```ts
 * import { RegionMismatchError } from "@cloudknot/cloudknot";
 *
 * const e = new RegionMismatchError("Pars", "lab", { resourceRegion: "eu-west-1", currentRegion: "us-east-1" });
 * console.log(e.resourceRegion, e.currentRegion); // "eu-west-1" "us-east-1"
 * ```
 */
export class RegionMismatchError extends CloudknotError {
  /** The region the resource lives in. */
  readonly resourceRegion: string;
  /** The region of the current session. */
  readonly currentRegion: string;

  /**
   * Makes the error.
   *
   * @param kind The kind of resource, such as `"Pars"`.
   * @param name The resource's name.
   * @param regions Where the resource is and where the session is.
   */
  constructor(
    kind: string,
    name: string,
    regions: { resourceRegion: string; currentRegion: string },
  ) {
    super(
      `${kind} "${name}" lives in region ${regions.resourceRegion} but the current region is ` +
        `${regions.currentRegion}; call setRegion("${regions.resourceRegion}") or use a session ` +
        `in ${regions.resourceRegion}, or choose another name`,
    );
    this.resourceRegion = regions.resourceRegion;
    this.currentRegion = regions.currentRegion;
  }
}

/**
 * A resource recorded in the config file was made with another AWS profile
 * than the current one (the original's `ProfileException`).
 *
 * @example Usage
 * ```ts
 * import { ProfileMismatchError } from "@cloudknot/cloudknot";
 *
 * const e = new ProfileMismatchError("Pars", "lab", { resourceProfile: "work", currentProfile: "default" });
 * console.log(e.resourceProfile); // "work"
 * ```
 */
export class ProfileMismatchError extends CloudknotError {
  /** The kind of resource, such as `"Pars"`. */
  readonly kind: string;
  /** The resource's name. */
  readonly resourceName: string;
  /** The profile the resource was made with. */
  readonly resourceProfile: string;
  /** The profile of the current session. */
  readonly currentProfile: string;

  /**
   * Makes the error.
   *
   * @param kind The kind of resource, such as `"Pars"`.
   * @param name The resource's name.
   * @param profiles The resource's profile and the current one.
   * @param another How to use another resource instead, after "or". @default {"choose another name"}
   */
  constructor(
    kind: string,
    name: string,
    profiles: { resourceProfile: string; currentProfile: string },
    another = "choose another name",
  ) {
    super(
      `${kind} "${name}" was made with AWS profile "${profiles.resourceProfile}" but the current ` +
        `profile is "${profiles.currentProfile}"; call setProfile("${profiles.resourceProfile}") ` +
        `or use a session with that profile, or ${another}`,
    );
    this.kind = kind;
    this.resourceName = name;
    this.resourceProfile = profiles.resourceProfile;
    this.currentProfile = profiles.currentProfile;
  }
}

/**
 * The config file names resources that no longer exist in AWS; the stale
 * record has been removed (the original's `ResourceDoesNotExistException`).
 *
 * @example Usage
 * ```ts
 * import { ResourceDoesNotExistError } from "@cloudknot/cloudknot";
 *
 * const e = new ResourceDoesNotExistError("Pars lab is gone", { missing: ["vpc-1"] });
 * console.log(e.missing); // [ "vpc-1" ]
 * ```
 */
export class ResourceDoesNotExistError extends CloudknotError {
  /** The resources that were looked for and not found. */
  readonly missing: string[];

  /**
   * Makes the error.
   *
   * @param message What is gone and what to do.
   * @param options `missing` lists the resources not found.
   */
  constructor(message: string, options: { missing: string[] }) {
    super(message);
    this.missing = options.missing;
  }
}

/**
 * A resource was clobbered and cannot be used any more (the original's
 * `ResourceClobberedException`).
 *
 * @example Usage
 * ```ts
 * import { ResourceClobberedError } from "@cloudknot/cloudknot";
 *
 * const e = new ResourceClobberedError("Pars lab was clobbered; create it again with Pars.create()");
 * console.log(e.name); // "ResourceClobberedError"
 * ```
 */
export class ResourceClobberedError extends CloudknotError {}

/**
 * A resource cannot be deleted because something still uses it (the
 * original's `CannotDeleteResourceException`).
 *
 * @example Usage
 * ```ts
 * import { CannotDeleteResourceError } from "@cloudknot/cloudknot";
 *
 * const e = new CannotDeleteResourceError("Pars lab is used by knot k", { users: ["knot k"] });
 * console.log(e.users); // [ "knot k" ]
 * ```
 */
export class CannotDeleteResourceError extends CloudknotError {
  /** What still uses the resource. */
  readonly users: string[];

  /**
   * Makes the error.
   *
   * @param message What blocks the deletion and what to do.
   * @param options `users` names what still uses the resource.
   */
  constructor(message: string, options: { users: string[] }) {
    super(message);
    this.users = options.users;
  }
}

/**
 * A knot's clobber with `bucket: true` deleted the knot (and whatever else
 * was asked), but S3 refused to delete the bucket: these credentials lack
 * `s3:DeleteBucket`, which the policy of `docs/iam.md` leaves out on purpose.
 * The bucket is empty and kept; the message says how to grant the action or
 * delete the bucket with the AWS CLI.
 *
 * @example Usage
 * ```ts
 * import { BucketDeleteDeniedError } from "@cloudknot/cloudknot/resources";
 *
 * const e = new BucketDeleteDeniedError("cloudknot-123456789012-us-east-1", { knot: "squares" });
 * console.log(e.bucketArn); // "arn:aws:s3:::cloudknot-123456789012-us-east-1"
 * ```
 */
export class BucketDeleteDeniedError extends CloudknotError {
  /** The bucket that was kept. */
  readonly bucket: string;
  /** The bucket's ARN, the resource to grant `s3:DeleteBucket` on. */
  readonly bucketArn: string;
  /** The knot that was clobbered. */
  readonly knot: string;

  /**
   * Makes the error.
   *
   * @param bucket The bucket's name.
   * @param options `knot` names the clobbered knot; `also` what else was
   *   clobbered with it, such as `"Pars lab"` (@default {[]}); `partition` the
   *   ARN partition (@default {"aws"}); `cause` S3's AccessDenied.
   */
  constructor(
    bucket: string,
    options: { knot: string; also?: string[]; partition?: string; cause?: unknown },
  ) {
    const also = options.also ?? [];
    const bucketArn = `arn:${options.partition ?? "aws"}:s3:::${bucket}`;
    const done = also.length === 0
      ? `Knot ${options.knot} was clobbered`
      : `Knot ${options.knot} and its ${
        also.length === 1 ? also[0] : `${also.slice(0, -1).join(", ")} and ${also.at(-1)}`
      } were clobbered`;
    super(
      `${done}, but bucket ${bucket} was kept: these credentials may not delete it ` +
        `(s3:DeleteBucket). Grant s3:DeleteBucket on ${bucketArn} (docs/iam.md) so that ` +
        `clobber({ bucket: true }) may delete it, or delete it yourself: aws s3 rb s3://${bucket}`,
      { cause: options.cause },
    );
    this.bucket = bucket;
    this.bucketArn = bucketArn;
    this.knot = options.knot;
  }
}

/**
 * A resource with the name cloudknot wants exists, but cloudknot did not make
 * it (it lacks the `ManagedBy=cloudknot` tags), so it is neither adopted nor
 * changed.
 *
 * @example Usage
 * ```ts
 * import { ResourceConflictError } from "@cloudknot/cloudknot";
 *
 * const e = new ResourceConflictError("Role lab-job-role exists and was not made by cloudknot", { resource: "lab-job-role" });
 * console.log(e.resource); // "lab-job-role"
 * ```
 */
export class ResourceConflictError extends ResourceExistsError {
  /** The conflicting resource. */
  readonly resource: string;

  /**
   * Makes the error.
   *
   * @param message What conflicts and what to do.
   * @param options `resource` names the conflicting resource.
   */
  constructor(message: string, options: { resource: string }) {
    super(message);
    this.resource = options.resource;
  }
}

/**
 * The S3 bucket name is taken by another AWS account (or this identity may
 * not use it).
 *
 * @example Usage
 * ```ts
 * import { BucketTakenError } from "@cloudknot/cloudknot";
 *
 * const e = new BucketTakenError("my-bucket");
 * console.log(e.bucket); // "my-bucket"
 * ```
 */
export class BucketTakenError extends ResourceExistsError {
  /** The bucket's name. */
  readonly bucket: string;

  /**
   * Makes the error.
   *
   * @param bucket The bucket's name.
   * @param options The standard error options, such as `cause`.
   */
  constructor(bucket: string, options?: ErrorOptions) {
    super(
      `The S3 bucket name "${bucket}" belongs to another AWS account (or this identity may not ` +
        `use it); bucket names are global, so choose another with setS3Params({ bucket: "..." })`,
      options,
    );
    this.bucket = bucket;
  }
}

/**
 * The account has no default VPC in this region, and cloudknot does not
 * create one (that would change the account for everyone).
 *
 * @example Usage
 * ```ts
 * import { NoDefaultVpcError } from "@cloudknot/cloudknot";
 *
 * const e = new NoDefaultVpcError("eu-west-1");
 * console.log(e.region); // "eu-west-1"
 * ```
 */
export class NoDefaultVpcError extends CannotCreateResourceError {
  /** The region without a default VPC. */
  readonly region: string;

  /**
   * Makes the error.
   *
   * @param region The region.
   * @param detail What exactly is missing.
   */
  constructor(region: string, detail = "has no default VPC") {
    super(
      `The account ${detail} in ${region}; make a Pars with a VPC of its own, ` +
        `Pars.create({ name: "NAME", useDefaultVpc: false }) (optionally with ipv4Cidr), and ` +
        `pass it to Knot.create({ pars: "NAME" }), or create a default VPC yourself`,
    );
    this.region = region;
  }
}

/**
 * A policy given in `policies` (or `parsPolicies`) is neither an existing
 * policy ARN nor the name of a managed policy in the account.
 *
 * @example Usage
 * ```ts
 * import { UnknownPolicyError } from "@cloudknot/cloudknot";
 *
 * const e = new UnknownPolicyError("NoSuchPolicy");
 * console.log(e.policy, e.field); // "NoSuchPolicy" "policies"
 * ```
 */
export class UnknownPolicyError extends CloudknotInputError {
  /** The policy as the user gave it. */
  readonly policy: string;

  /**
   * Makes the error.
   *
   * @param policy The policy name or ARN.
   * @param option The option that gave it (`parsPolicies` of `Knot.create`).
   */
  constructor(policy: string, option = "policies") {
    super(
      `Unknown IAM policy "${policy}" in ${option}: give the ARN or the name of a managed policy ` +
        `that exists in the account (aws iam list-policies lists them)`,
      { field: option },
    );
    this.policy = policy;
  }
}
