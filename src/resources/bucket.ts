/**
 * The S3 bucket that holds job data: created when missing, with public
 * access blocked, default encryption, a TLS-only policy, tags, and a
 * lifecycle rule that expires job data under `cloudknot/`.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import type { LifecycleRule, S3Tag } from "../aws/services/s3.ts";
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";
import { describeValue } from "../util/validate.ts";
import { sleep } from "../util/sleep.ts";
import { BucketTakenError, RegionMismatchError } from "./errors.ts";
import { isAwsCode } from "./_ledger.ts";
import type { S3Encryption } from "../store/s3.ts";

/** The key prefix under which all job data lives (and expires). */
export const JOB_DATA_PREFIX = "cloudknot/";

/** Days after which job data expires when nothing else is asked for. */
export const DEFAULT_EXPIRE_AFTER_DAYS = 30;

/** The default encryption of a bucket (the S3 store's encryption). */
export type BucketSse = S3Encryption;

/** The lifecycle rule's id; other rules of the bucket are replaced too (see `ensureBucket`). */
export const LIFECYCLE_RULE_ID = "cloudknot-job-data";

/** Options of {@linkcode ensureBucket}. */
export interface EnsureBucketOptions {
  /** The bucket's name. */
  bucket: string;
  /**
   * The default encryption: `AES256` (S3-managed keys) or `aws:kms` (the
   * account's `aws/s3` key); `null` leaves the bucket's default encryption as
   * it is (the Python cloudknot's `s3-sse = None`: S3 encrypts every new
   * object with S3-managed keys whatever a bucket sets, see "Setting default
   * server-side encryption behavior for Amazon S3 buckets" in the S3 user
   * guide).
   *
   * @default {"AES256"}
   */
  sse?: BucketSse | null;
  /**
   * Days after which objects under `cloudknot/` expire: a whole number from
   * 1, or `"never"` to keep them until clobbered. There is no silent "no
   * expiry": 0 and negative numbers are refused.
   *
   * @default {30}
   */
  expireAfterDays?: number | "never";
  /** More tags; `ManagedBy`, `Project` and `Owner` are always set. */
  tags?: Record<string, string>;
  /**
   * Configure a bucket that already exists but was not made by cloudknot
   * (no `ManagedBy=cloudknot` tag). Its policy, lifecycle rules, tags and
   * encryption are then replaced. By default such a bucket is used as it is.
   *
   * @default {false}
   */
  manageExisting?: boolean;
  /**
   * Called once the bucket is known to be missing, right before it is
   * created: where a caller records that it is creating it. S3 has no way to
   * tag a bucket as it is created, so a process killed between CreateBucket
   * and its first PutBucketTagging leaves a bucket without `ManagedBy`, which
   * a later call would use as it is; a caller that finds its record there
   * passes `manageExisting` to finish it (as `setS3Params` does).
   * @default {undefined}
   */
  beforeCreate?: () => Promise<void>;
}

/** What {@linkcode ensureBucket} did. */
export interface EnsureBucketResult {
  /** The bucket. */
  bucket: string;
  /** Whether this call created it. */
  created: boolean;
  /** Whether cloudknot's configuration was applied (false for a foreign bucket left alone). */
  configured: boolean;
}

const IP_RE = /^\d+\.\d+\.\d+\.\d+$/;

/**
 * Checks an S3 bucket name against S3's rules for new buckets.
 *
 * @example Usage
 * ```ts
 * import { validateBucketName } from "@cloudknot/cloudknot/resources";
 *
 * console.log(validateBucketName("my-lab-data")); // "my-lab-data"
 * ```
 *
 * @param name The name.
 * @param from Where the name came from, as the error names it (`CLOUDKNOT_S3_BUCKET`), and what
 *   to do instead; by default the settings' bucket, which `setS3Params` changes.
 * @returns The name, when valid.
 * @throws {CloudknotInputError} When the name breaks the rules.
 */
export function validateBucketName(
  name: unknown,
  from: { source?: string; advice?: string } = {},
): string {
  const advice = from.advice ?? `choose another with setS3Params({ bucket: "..." })`;
  const bad = (why: string) =>
    new CloudknotInputError(
      `Invalid S3 bucket name ${JSON.stringify(name)}` +
        `${from.source !== undefined ? ` from ${from.source}` : ""}: ${why}; ${advice}`,
      { field: "bucket" },
    );
  if (typeof name !== "string") throw bad("it must be a string");
  if (name.length < 3 || name.length > 63) throw bad("it must have 3 to 63 characters");
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    throw bad(
      "use lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
    );
  }
  if (name.includes("..") || name.includes(".-") || name.includes("-.")) {
    throw bad("dots may not be next to each other or to a hyphen");
  }
  if (IP_RE.test(name)) throw bad("it may not look like an IP address");
  if (
    /^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|--x-s3|\.mrap)$/.test(name)
  ) {
    throw bad("that prefix or suffix is reserved by S3");
  }
  return name;
}

/**
 * Checks a default-encryption setting.
 *
 * @example Usage
 * ```ts
 * import { validateSse } from "@cloudknot/cloudknot/resources";
 *
 * console.log(validateSse("aws:kms")); // "aws:kms"
 * ```
 *
 * @param sse The setting.
 * @param from Where it came from (the config file), as the error names it, and what to do instead.
 * @returns It, when it is `AES256` or `aws:kms`.
 * @throws {CloudknotInputError} Otherwise.
 */
export function validateSse(
  sse: unknown,
  from: { source?: string; advice?: string } = {},
): BucketSse {
  if (sse !== "AES256" && sse !== "aws:kms") {
    throw new CloudknotInputError(
      `Invalid S3 encryption ${JSON.stringify(sse)}` +
        `${from.source !== undefined ? ` from ${from.source}` : ""}: use "AES256" or "aws:kms"` +
        `${from.advice !== undefined ? `; ${from.advice}` : ""}`,
      { field: "sse" },
    );
  }
  return sse;
}

/**
 * Checks the options of {@linkcode ensureBucket} without calling AWS.
 *
 * @example Usage
 * ```ts
 * import { validateEnsureBucketOptions } from "@cloudknot/cloudknot/resources";
 *
 * validateEnsureBucketOptions({ bucket: "my-lab-data", expireAfterDays: 7 });
 * ```
 *
 * @param options The options.
 * @throws {CloudknotInputError} For a bad name, encryption, expiry or tag.
 */
export function validateEnsureBucketOptions(options: EnsureBucketOptions): void {
  validateBucketName(options.bucket);
  if (options.sse !== undefined && options.sse !== null) validateSse(options.sse);
  const days = options.expireAfterDays;
  if (days !== undefined && days !== "never" && !(Number.isInteger(days) && days >= 1)) {
    throw new CloudknotInputError(
      `The expireAfterDays option must be a whole number of days from 1, or "never" to keep job data ` +
        `until it is clobbered; got ${describeValue(days)}`,
      { field: "expireAfterDays" },
    );
  }
  validateTags(options.tags);
}

/** Tag keys cloudknot sets itself, which user tags may not use. */
export const RESERVED_TAG_KEYS: readonly string[] = ["ManagedBy", "Project", "Owner", "Name"];

/**
 * The most user tags: IAM, Batch, ECR, S3 and EC2 allow 50 tags per resource
 * (IAM's `TagsPerRole`, <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>;
 * <https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html>),
 * and cloudknot adds up to five of its own (`ManagedBy`, `cloudknot:pars`,
 * `cloudknot:owner`, `Owner` and a network resource's `Name`).
 */
export const MAX_USER_TAGS = 45;

/**
 * Checks user tags: at most {@linkcode MAX_USER_TAGS}, non-empty keys of at
 * most 128 characters, string values of at most 256, no key in the `aws:` or
 * `cloudknot:` namespaces, and none of {@linkcode RESERVED_TAG_KEYS}.
 *
 * @example Usage
 * ```ts
 * import { validateTags } from "@cloudknot/cloudknot/resources";
 *
 * validateTags({ team: "imaging" });
 * ```
 *
 * @param tags The tags.
 * @throws {CloudknotInputError} For a bad key or value.
 */
export function validateTags(tags: Record<string, string> | undefined): void {
  if (tags === undefined) return;
  const proto = typeof tags === "object" && tags !== null ? Object.getPrototypeOf(tags) : undefined;
  // A Map (or another class) has no own keys to read: its tags would be dropped silently.
  if (proto !== Object.prototype && proto !== null) {
    throw new CloudknotInputError(
      `The tags option must be a plain object of key to value, such as { team: "lab" }, ` +
        `not ${describeValue(tags)}`,
      { field: "tags" },
    );
  }
  const count = Object.keys(tags).length;
  if (count > MAX_USER_TAGS) {
    throw new CloudknotInputError(
      `Too many tags (${count}): pass at most ${MAX_USER_TAGS}; AWS allows 50 per resource and ` +
        `cloudknot adds up to 5 of its own`,
      { field: "tags" },
    );
  }
  for (const [key, value] of Object.entries(tags)) {
    if (
      !key || key.length > 128 || !TAG_TEXT.test(key) || /^(aws|cloudknot):/i.test(key) ||
      RESERVED_TAG_KEYS.includes(key)
    ) {
      throw new CloudknotInputError(
        `Invalid tag key ${JSON.stringify(key)}: use 1 to 128 letters, digits, spaces and ` +
          `_ . : / = + - @, not starting with "aws:" or "cloudknot:", and none of ${
            RESERVED_TAG_KEYS.join(", ")
          } (cloudknot sets those)`,
        { field: "tags" },
      );
    }
    if (typeof value !== "string" || value.length > 256 || !TAG_TEXT.test(value)) {
      throw new CloudknotInputError(
        `Invalid value of tag ${JSON.stringify(key)}: use a string of at most 256 letters, ` +
          `digits, spaces and _ . : / = + - @`,
        { field: "tags" },
      );
    }
  }
}

/**
 * The characters of a tag's key and value that every service a knot or a
 * Pars tags takes: IAM's pattern, the narrowest of them
 * (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html>); the
 * IAM role a knot makes would refuse any other after the Pars was made.
 */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * The default bucket name: `cloudknot-<account id>-<region>`. It is
 * deterministic, so every machine of an account finds the same bucket.
 *
 * @example Usage
 * ```ts
 * import { defaultBucketName } from "@cloudknot/cloudknot/resources";
 *
 * console.log(defaultBucketName("123456789012", "eu-west-1")); // "cloudknot-123456789012-eu-west-1"
 * ```
 *
 * @param accountId The 12-digit account id.
 * @param region The region.
 * @returns The name.
 */
export function defaultBucketName(accountId: string, region: string): string {
  return `cloudknot-${accountId}-${region}`;
}

/**
 * The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).
 *
 * @example Usage
 * ```ts
 * import { arnPartition } from "@cloudknot/cloudknot/resources";
 *
 * console.log(arnPartition("arn:aws-cn:iam::123456789012:user/me")); // "aws-cn"
 * ```
 *
 * @param arn An ARN.
 * @returns The partition, `aws` when the ARN is not one.
 */
export function arnPartition(arn: string | undefined): string {
  return arn?.match(/^arn:([^:]+):/)?.[1] ?? "aws";
}

/**
 * The bucket policy cloudknot sets: deny every S3 action over plain HTTP.
 *
 * @example Usage
 * ```ts
 * import { bucketPolicy } from "@cloudknot/cloudknot/resources";
 *
 * const policy = JSON.parse(bucketPolicy("my-lab-data"));
 * console.log(policy.Statement[0].Condition); // { Bool: { "aws:SecureTransport": "false" } }
 * ```
 *
 * @param bucket The bucket.
 * @param partition The ARN partition. @default {"aws"}
 * @returns The policy JSON.
 */
export function bucketPolicy(bucket: string, partition = "aws"): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Sid: "CloudknotDenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    }],
  });
}

/**
 * The bucket's lifecycle rule: job data under `cloudknot/` expires after
 * `days` (unless `"never"`), and unfinished multipart uploads there are
 * aborted after a day.
 *
 * @example Usage
 * ```ts
 * import { lifecycleRules } from "@cloudknot/cloudknot/resources";
 *
 * console.log(lifecycleRules(7)[0]?.Expiration); // { Days: 7 }
 * ```
 *
 * @param days Days until expiry, or `"never"`.
 * @returns The rules.
 */
export function lifecycleRules(days: number | "never"): LifecycleRule[] {
  return [{
    ID: LIFECYCLE_RULE_ID,
    Status: "Enabled",
    Filter: { Prefix: JOB_DATA_PREFIX },
    ...(days === "never" ? {} : { Expiration: { Days: days } }),
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  }];
}

/**
 * Makes sure the bucket exists and is configured. A missing bucket is
 * created (with a location constraint outside us-east-1). A bucket this
 * account already owns is adopted: when it carries `ManagedBy=cloudknot` (or
 * `manageExisting` is set) its configuration is applied again, otherwise it
 * is used as it is. Configuration means: all four public access blocks,
 * default encryption, a TLS-only bucket policy, a lifecycle rule for
 * `cloudknot/` and the tags `ManagedBy=cloudknot`, `Project=cloudknot` and
 * `Owner=<caller ARN>` (an existing `Owner` is kept). Running it again
 * changes nothing.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { ensureBucket } from "@cloudknot/cloudknot/resources";
 *
 * const aws = await AwsSession.create();
 * const { created } = await ensureBucket(aws, { bucket: "my-lab-data", expireAfterDays: 14 });
 * ```
 *
 * @param session The AWS session.
 * @param options The bucket and its configuration.
 * @returns Whether the bucket was created and configured.
 * @throws {CloudknotInputError} For bad options, before any AWS call.
 * @throws {BucketTakenError} When another account owns the name.
 * @throws {RegionMismatchError} When the bucket is in another region than the session.
 */
export async function ensureBucket(
  session: AwsSession,
  options: EnsureBucketOptions,
): Promise<EnsureBucketResult> {
  validateEnsureBucketOptions(options);
  const { bucket } = options;
  const sse = options.sse === undefined ? "AES256" : options.sse;
  const days = options.expireAfterDays ?? DEFAULT_EXPIRE_AFTER_DAYS;
  const caller = await session.sts.getCallerIdentity();
  const owner = caller.Account;
  const headers = owner ? { ExpectedBucketOwner: owner } : {};

  let created = false;
  const exists = await headBucket(session, bucket, headers);
  if (!exists) {
    await options.beforeCreate?.();
    try {
      await session.s3.createBucket({ Bucket: bucket });
      created = true;
    } catch (e) {
      if (isAwsCode(e, "BucketAlreadyExists")) {
        throw new BucketTakenError(bucket, { cause: e });
      } else if (isAwsCode(e, "OutcomeUnknown")) {
        created = true; // the answer was lost; the wait below finds out
      } else if (!isAwsCode(e, "BucketAlreadyOwnedByYou")) {
        throw e;
      }
    }
    // Ours now, made a moment ago (here or elsewhere): wait until S3 shows it.
    await untilVisible(session, bucket, headers);
  }

  const existingTags = created ? [] : await bucketTags(session, bucket);
  const managed = existingTags.some((t) => t.Key === "ManagedBy" && t.Value === "cloudknot");
  if (!created && !managed && !options.manageExisting) {
    return { bucket, created, configured: false };
  }
  // The tags first: `ManagedBy` is what tells a later run that the bucket is
  // cloudknot's to configure, so a process killed while it configures a new
  // bucket leaves one that the next run configures again, not one it must
  // leave as it is (without its lifecycle rule).
  const tags = new Map(existingTags.map((t) => [t.Key, t.Value]));
  for (const [k, v] of Object.entries(options.tags ?? {})) tags.set(k, v);
  tags.set("ManagedBy", "cloudknot");
  tags.set("Project", "cloudknot");
  if (!tags.has("Owner") && caller.Arn) tags.set("Owner", caller.Arn);
  await session.s3.putBucketTagging({
    Bucket: bucket,
    ...headers,
    Tagging: { TagSet: [...tags].map(([Key, Value]) => ({ Key, Value })) },
  });
  const partition = arnPartition(caller.Arn);
  await session.s3.putPublicAccessBlock({
    Bucket: bucket,
    ...headers,
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    },
  });
  if (sse !== null) {
    await session.s3.putBucketEncryption({
      Bucket: bucket,
      ...headers,
      ServerSideEncryptionConfiguration: {
        Rules: [{
          ApplyServerSideEncryptionByDefault: { SSEAlgorithm: sse },
          BucketKeyEnabled: sse === "aws:kms",
        }],
      },
    });
  }
  await session.s3.putBucketPolicy({
    Bucket: bucket,
    ...headers,
    Policy: bucketPolicy(bucket, partition),
  });
  await session.s3.putBucketLifecycleConfiguration({
    Bucket: bucket,
    ...headers,
    LifecycleConfiguration: { Rules: lifecycleRules(days) },
  });
  return { bucket, created, configured: true };
}

async function headBucket(
  session: AwsSession,
  bucket: string,
  headers: { ExpectedBucketOwner?: string },
): Promise<boolean> {
  try {
    const { BucketRegion } = await session.s3.headBucket({ Bucket: bucket, ...headers });
    if (BucketRegion && BucketRegion !== session.region) {
      throw new RegionMismatchError("S3 bucket", bucket, {
        resourceRegion: BucketRegion,
        currentRegion: session.region,
      });
    }
    return true;
  } catch (e) {
    if (isAwsCode(e, "NotFound", "NoSuchBucket")) return false;
    if (isAwsCode(e, "Forbidden", "AccessDenied")) throw new BucketTakenError(bucket, { cause: e });
    if (isAwsCode(e, "PermanentRedirect", "TemporaryRedirect")) {
      const region = e.awsMessage.match(/the bucket is in ([a-z0-9-]+)/)?.[1] ?? "another region";
      throw new RegionMismatchError("S3 bucket", bucket, {
        resourceRegion: region,
        currentRegion: session.region,
      });
    }
    throw e;
  }
}

/** How long a new bucket may stay invisible before {@linkcode ensureBucket} gives up. */
const VISIBLE_WITHIN_MS = 120_000;

/**
 * Waits until a bucket made a moment ago answers HeadBucket. Outside
 * us-east-1 a new bucket may answer `NoSuchBucket` for a while (bucket
 * configurations are eventually consistent:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel;
 * redpanda-data/redpanda#8490, aws/aws-sdk-cpp#751), and configuring it then
 * fails. The SDKs' `bucketExists` waiter polls HeadBucket the same way.
 */
async function untilVisible(
  session: AwsSession,
  bucket: string,
  headers: { ExpectedBucketOwner?: string },
): Promise<void> {
  const deadline = Date.now() + VISIBLE_WITHIN_MS;
  for (let wait = 100; !(await headBucket(session, bucket, headers)); wait *= 2) {
    if (Date.now() > deadline) {
      throw new CloudknotError(
        `S3 bucket ${bucket} still does not answer ${VISIBLE_WITHIN_MS / 1000} s after it was ` +
          `created (or its creation's answer was lost); try again in a few minutes`,
      );
    }
    await sleep(Math.min(wait, 5_000));
  }
}

async function bucketTags(session: AwsSession, bucket: string): Promise<S3Tag[]> {
  try {
    return (await session.s3.getBucketTagging({ Bucket: bucket })).TagSet;
  } catch (e) {
    if (isAwsCode(e, "NoSuchTagSet", "NoSuchTagSetError")) return [];
    throw e;
  }
}
