/**
 * Amazon S3 (restXml, API 2006-03-01): buckets, their configuration, and
 * objects with streaming reads, ranged reads and multipart upload.
 *
 * @module
 */
import { paginate, type Paginator } from "../core/paginate.ts";
import {
  checksumHeaders,
  keyPath,
  parseS3Error,
  toXml,
  type XmlElement,
} from "../protocols/rest_xml.ts";
import { child, parseXml, text, type XmlNode } from "../protocols/xml.ts";
import { AwsError } from "../core/error.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import type { AwsHttpClient, CallOptions, HttpRequestSpec, OperationInfo } from "../core/request.ts";

/** A bucket or object tag. */
export interface S3Tag {
  /** The key. */
  Key: string;
  /** The value. */
  Value: string;
}

/** CreateBucket input. */
export interface CreateBucketRequest {
  /** The bucket. */
  Bucket: string;
  /** The location constraint; the session's region when omitted (none for us-east-1). */
  CreateBucketConfiguration?: { LocationConstraint?: string };
}

/** CreateBucket output. */
export interface CreateBucketResponse {
  /** The bucket's location. */
  Location?: string;
}

/** Input naming a bucket. */
export interface BucketRequest {
  /** The bucket. */
  Bucket: string;
  /** The account that must own the bucket. */
  ExpectedBucketOwner?: string;
}

/** HeadBucket output. */
export interface HeadBucketResponse {
  /** The bucket's region. */
  BucketRegion?: string;
}

/** One server-side encryption rule. */
export interface ServerSideEncryptionRule {
  /** The default encryption. */
  ApplyServerSideEncryptionByDefault?: { SSEAlgorithm: string; KMSMasterKeyID?: string };
  /** Use an S3 bucket key. */
  BucketKeyEnabled?: boolean;
}

/** PutBucketEncryption input. */
export interface PutBucketEncryptionRequest extends BucketRequest {
  /** The configuration. */
  ServerSideEncryptionConfiguration: { Rules: ServerSideEncryptionRule[] };
}

/** PutPublicAccessBlock input. */
export interface PutPublicAccessBlockRequest extends BucketRequest {
  /** The configuration. */
  PublicAccessBlockConfiguration: {
    BlockPublicAcls?: boolean;
    IgnorePublicAcls?: boolean;
    BlockPublicPolicy?: boolean;
    RestrictPublicBuckets?: boolean;
  };
}

/** PutBucketPolicy input. */
export interface PutBucketPolicyRequest extends BucketRequest {
  /** The policy JSON. */
  Policy: string;
}

/** A lifecycle rule (the members cloudknot sets). */
export interface LifecycleRule {
  /** The rule id. */
  ID?: string;
  /** `Enabled` or `Disabled`. */
  Status: string;
  /** Which objects: a prefix. */
  Filter?: { Prefix?: string };
  /** Expire objects. */
  Expiration?: { Days?: number };
  /** Abort unfinished multipart uploads. */
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation?: number };
}

/** PutBucketLifecycleConfiguration input. */
export interface PutBucketLifecycleConfigurationRequest extends BucketRequest {
  /** The rules. */
  LifecycleConfiguration: { Rules: LifecycleRule[] };
}

/** PutBucketTagging input. */
export interface PutBucketTaggingRequest extends BucketRequest {
  /** The tags. */
  Tagging: { TagSet: S3Tag[] };
}

/** GetBucketTagging output. */
export interface GetBucketTaggingResponse {
  /** The tags. */
  TagSet: S3Tag[];
}

/** A body `putObject` accepts. */
export type PutObjectBody = string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;

/** PutObject input. */
export interface PutObjectRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** The body; a stream of unknown or large size goes up as a multipart upload. */
  Body: PutObjectBody;
  /** The content type. */
  ContentType?: string;
  /** `AES256`, `aws:kms` or `aws:kms:dsse`. */
  ServerSideEncryption?: string;
  /** The KMS key for `aws:kms`. */
  SSEKMSKeyId?: string;
  /** User metadata (`x-amz-meta-*`). */
  Metadata?: Record<string, string>;
}

/** PutObject output. */
export interface PutObjectResponse {
  /** The ETag. */
  ETag?: string;
  /** The version id. */
  VersionId?: string;
  /** The encryption used. */
  ServerSideEncryption?: string;
}

/** Options of `putObject`. */
export interface PutObjectOptions extends CallOptions {
  /**
   * Bodies larger than this go up as multipart uploads, in bytes.
   *
   * @default {16777216}
   */
  multipartThreshold?: number;
  /**
   * The size of each part, in bytes (at least 5 MiB).
   *
   * @default {8388608}
   */
  partSize?: number;
}

/** GetObject input. */
export interface GetObjectRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** A byte range, e.g. `bytes=0-99`. */
  Range?: string;
  /** A version. */
  VersionId?: string;
}

/** Object metadata from GetObject and HeadObject. */
export interface ObjectMetadata {
  /** The HTTP status (206 for a ranged read). */
  status: number;
  /** All response headers. */
  headers: Headers;
  /** The length of this response's body. */
  ContentLength?: number;
  /** The content type. */
  ContentType?: string;
  /** The content range of a ranged read. */
  ContentRange?: string;
  /** The ETag. */
  ETag?: string;
  /** Last modified. */
  LastModified?: Date;
  /** The version id. */
  VersionId?: string;
  /** The encryption used. */
  ServerSideEncryption?: string;
  /** User metadata. */
  Metadata: Record<string, string>;
}

/** GetObject output: metadata plus the body as a stream (read it or cancel it). */
export interface GetObjectResponse extends ObjectMetadata {
  /** The body. */
  Body: ReadableStream<Uint8Array> | null;
  /** Reads the whole body. */
  bytes(): Promise<Uint8Array>;
  /** Reads the whole body as UTF-8 text. */
  text(): Promise<string>;
}

/** HeadObject input. */
export interface HeadObjectRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** A version. */
  VersionId?: string;
}

/** ListObjectsV2 input. */
export interface ListObjectsV2Request {
  /** The bucket. */
  Bucket: string;
  /** Only keys under this prefix. */
  Prefix?: string;
  /** Group keys by this delimiter into CommonPrefixes. */
  Delimiter?: string;
  /** Page size (at most 1000). */
  MaxKeys?: number;
  /** The token of the next page. */
  ContinuationToken?: string;
  /** Start after this key. */
  StartAfter?: string;
}

/** An object as ListObjectsV2 returns it. */
export interface S3Object {
  /** The key. */
  Key?: string;
  /** Last modified. */
  LastModified?: Date;
  /** The ETag. */
  ETag?: string;
  /** The size in bytes. */
  Size?: number;
  /** The storage class. */
  StorageClass?: string;
}

/** ListObjectsV2 output. */
export interface ListObjectsV2Response {
  /** The bucket. */
  Name?: string;
  /** The prefix asked for. */
  Prefix?: string;
  /** The delimiter asked for. */
  Delimiter?: string;
  /** The page size. */
  MaxKeys?: number;
  /** Keys in this page. */
  KeyCount?: number;
  /** Whether more pages follow. */
  IsTruncated?: boolean;
  /** The objects. */
  Contents?: S3Object[];
  /** The grouped prefixes. */
  CommonPrefixes?: { Prefix?: string }[];
  /** The token that was sent. */
  ContinuationToken?: string;
  /** The token of the next page. */
  NextContinuationToken?: string;
  /** The StartAfter that was sent. */
  StartAfter?: string;
}

/** DeleteObject input. */
export interface DeleteObjectRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** A version. */
  VersionId?: string;
}

/** DeleteObjects input (at most 1000 keys). */
export interface DeleteObjectsRequest {
  /** The bucket. */
  Bucket: string;
  /** The objects. */
  Delete: { Objects: { Key: string; VersionId?: string }[]; Quiet?: boolean };
}

/** DeleteObjects output. */
export interface DeleteObjectsResponse {
  /** Deleted keys. */
  Deleted?: { Key?: string; VersionId?: string }[];
  /** Keys that could not be deleted. */
  Errors?: { Key?: string; Code?: string; Message?: string; VersionId?: string }[];
}

/** CreateMultipartUpload input. */
export interface CreateMultipartUploadRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** The content type. */
  ContentType?: string;
  /** The encryption. */
  ServerSideEncryption?: string;
  /** The KMS key. */
  SSEKMSKeyId?: string;
  /** User metadata. */
  Metadata?: Record<string, string>;
}

/** CreateMultipartUpload output. */
export interface CreateMultipartUploadResponse {
  /** The bucket. */
  Bucket?: string;
  /** The key. */
  Key?: string;
  /** The upload id. */
  UploadId?: string;
}

/** UploadPart input. */
export interface UploadPartRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** The upload id. */
  UploadId: string;
  /** The part number, from 1. */
  PartNumber: number;
  /** The part's bytes. */
  Body: Uint8Array<ArrayBuffer>;
}

/** UploadPart output. */
export interface UploadPartResponse {
  /** The part's ETag. */
  ETag?: string;
}

/** CompleteMultipartUpload input. */
export interface CompleteMultipartUploadRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** The upload id. */
  UploadId: string;
  /** The parts, in order. */
  MultipartUpload: { Parts: { PartNumber: number; ETag: string }[] };
}

/** CompleteMultipartUpload output. */
export interface CompleteMultipartUploadResponse {
  /** The object's location. */
  Location?: string;
  /** The bucket. */
  Bucket?: string;
  /** The key. */
  Key?: string;
  /** The object's ETag. */
  ETag?: string;
}

/** AbortMultipartUpload input. */
export interface AbortMultipartUploadRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** The upload id. */
  UploadId: string;
}

/** The S3 operations as data. */
export const S3_OPERATIONS = {
  CreateBucket: { name: "CreateBucket", idempotent: false },
  HeadBucket: { name: "HeadBucket", idempotent: true },
  DeleteBucket: { name: "DeleteBucket", idempotent: true },
  PutBucketEncryption: { name: "PutBucketEncryption", idempotent: true },
  PutPublicAccessBlock: { name: "PutPublicAccessBlock", idempotent: true },
  PutBucketPolicy: { name: "PutBucketPolicy", idempotent: true },
  PutBucketLifecycleConfiguration: { name: "PutBucketLifecycleConfiguration", idempotent: true },
  PutBucketTagging: { name: "PutBucketTagging", idempotent: true },
  GetBucketTagging: { name: "GetBucketTagging", idempotent: true },
  PutObject: { name: "PutObject", idempotent: true },
  GetObject: { name: "GetObject", idempotent: true },
  HeadObject: { name: "HeadObject", idempotent: true },
  ListObjectsV2: { name: "ListObjectsV2", idempotent: true },
  DeleteObject: { name: "DeleteObject", idempotent: true },
  DeleteObjects: { name: "DeleteObjects", idempotent: true },
  // An unanswered CreateMultipartUpload leaves at most an orphan upload, which
  // the bucket's AbortIncompleteMultipartUpload rule removes.
  CreateMultipartUpload: { name: "CreateMultipartUpload", idempotent: true },
  UploadPart: { name: "UploadPart", idempotent: true },
  CompleteMultipartUpload: { name: "CompleteMultipartUpload", idempotent: true },
  AbortMultipartUpload: { name: "AbortMultipartUpload", idempotent: true },
} as const satisfies Record<string, OperationInfo>;

/** The S3 paginators as data. */
export const S3_PAGINATORS = {
  ListObjectsV2: {
    inputToken: "ContinuationToken",
    outputToken: "NextContinuationToken",
    items: "Contents",
    moreResults: "IsTruncated",
  },
} as const satisfies Record<string, Paginator>;

/** The smallest part S3 accepts (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** The default size above which `putObject` uses a multipart upload. */
export const DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024;
/** The default part size of multipart uploads. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

function bool(value: boolean | undefined, name: string): XmlElement[] {
  return value === undefined ? [] : [[name, value ? "true" : "false"]];
}

function headerValue(headers: Headers, name: string): string | undefined {
  return headers.get(name) ?? undefined;
}

function objectHeaders(input: {
  ContentType?: string;
  ServerSideEncryption?: string;
  SSEKMSKeyId?: string;
  Metadata?: Record<string, string>;
}): Record<string, string> {
  const headers: Record<string, string> = {};
  if (input.ContentType) headers["content-type"] = input.ContentType;
  if (input.ServerSideEncryption) {
    headers["x-amz-server-side-encryption"] = input.ServerSideEncryption;
  }
  if (input.SSEKMSKeyId) headers["x-amz-server-side-encryption-aws-kms-key-id"] = input.SSEKMSKeyId;
  for (const [k, v] of Object.entries(input.Metadata ?? {})) {
    headers[`x-amz-meta-${k.toLowerCase()}`] = v;
  }
  return headers;
}

function objectMetadata(res: Response): ObjectMetadata {
  const h = res.headers;
  const metadata: Record<string, string> = {};
  h.forEach((value, name) => {
    if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = value;
  });
  const out: ObjectMetadata = { status: res.status, headers: h, Metadata: metadata };
  const length = h.get("content-length");
  if (length !== null) out.ContentLength = Number(length);
  const lastModified = h.get("last-modified");
  if (lastModified) out.LastModified = new Date(lastModified);
  const set = (
    key: "ContentType" | "ContentRange" | "ETag" | "VersionId" | "ServerSideEncryption",
    name: string,
  ) => {
    const value = headerValue(h, name);
    if (value !== undefined) out[key] = value;
  };
  set("ContentType", "content-type");
  set("ContentRange", "content-range");
  set("ETag", "etag");
  set("VersionId", "x-amz-version-id");
  set("ServerSideEncryption", "x-amz-server-side-encryption");
  return out;
}

function texts(node: XmlNode | undefined, name: string): XmlNode[] {
  if (node === undefined || typeof node === "string") return [];
  const value = node[name];
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<
  {
    chunks: Uint8Array[];
    size: number;
    done: boolean;
    reader: ReadableStreamDefaultReader<Uint8Array>;
  }
> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= limit) {
    const { value, done } = await reader.read();
    if (done) return { chunks, size, done: true, reader };
    chunks.push(value);
    size += value.byteLength;
  }
  return { chunks, size, done: false, reader };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * The Amazon S3 client. Get one from {@linkcode AwsSession.s3}. Buckets are
 * addressed path-style on IP-address and `localhost` endpoints, for names
 * with dots, or when asked; virtual-host style otherwise.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot";
 *
 * const aws = await AwsSession.create();
 * await aws.s3.putObject({ Bucket: "b", Key: "dir/x.json", Body: "{}", ContentType: "application/json" });
 * const obj = await aws.s3.getObject({ Bucket: "b", Key: "dir/x.json", Range: "bytes=0-0" });
 * console.log(await obj.text()); // "{"
 * ```
 */
export class S3 {
  #client: AwsHttpClient;
  #region: string;

  /**
   * Makes a client on top of a signed HTTP client.
   *
   * @param client The service's HTTP client.
   * @param region The session's region (for CreateBucket's location constraint).
   */
  constructor(client: AwsHttpClient, region: string) {
    this.#client = client;
    this.#region = region;
  }

  #send(operation: OperationInfo, spec: HttpRequestSpec, options?: CallOptions): Promise<Response> {
    return this.#client.send(operation, spec, parseS3Error, options);
  }

  async #sendXml(
    operation: OperationInfo,
    spec: HttpRequestSpec,
    options?: CallOptions,
  ): Promise<XmlNode | undefined> {
    const res = await this.#send(operation, spec, options);
    const body = await res.text();
    if (!body.trim()) return undefined;
    const doc = parseXml(body);
    const error = child(doc, "Error");
    if (error !== undefined) {
      // S3 can answer 200 and still fail (CompleteMultipartUpload).
      const info = parseS3Error(res.status, res.headers, body);
      throw new AwsError(info.message, {
        service: "S3",
        operation: operation.name,
        code: info.code,
        status: res.status,
        ...(info.requestId ? { requestId: info.requestId } : {}),
        retryable: false,
      });
    }
    const [root] = Object.keys(doc);
    return root === undefined ? undefined : child(doc, root);
  }

  async #configure(
    operation: OperationInfo,
    input: BucketRequest,
    query: string,
    body: string,
    contentType: string,
    options?: CallOptions,
  ): Promise<void> {
    const headers: Record<string, string> = {
      "content-type": contentType,
      ...(await checksumHeaders(body)),
    };
    if (input.ExpectedBucketOwner) {
      headers["x-amz-expected-bucket-owner"] = input.ExpectedBucketOwner;
    }
    const res = await this.#send(operation, {
      method: "PUT",
      path: "/",
      bucket: input.Bucket,
      query: [[query, null]],
      headers,
      body,
    }, options);
    await res.body?.cancel();
  }

  /**
   * CreateBucket, with a location constraint for any region but us-east-1.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  async createBucket(
    input: CreateBucketRequest,
    options?: CallOptions,
  ): Promise<CreateBucketResponse> {
    const constraint = input.CreateBucketConfiguration?.LocationConstraint ??
      (this.#region === "us-east-1" ? undefined : this.#region);
    const spec: HttpRequestSpec = { method: "PUT", path: "/", bucket: input.Bucket };
    if (constraint) {
      spec.body = toXml(["CreateBucketConfiguration", [["LocationConstraint", constraint]]]);
      spec.headers = { "content-type": "application/xml" };
    }
    const res = await this.#send(S3_OPERATIONS.CreateBucket, spec, options);
    await res.body?.cancel();
    const location = res.headers.get("location");
    return location ? { Location: location } : {};
  }

  /**
   * HeadBucket: succeeds when the bucket exists and is reachable; a missing
   * bucket is an `AwsError` with code `NotFound`.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  async headBucket(input: BucketRequest, options?: CallOptions): Promise<HeadBucketResponse> {
    const res = await this.#send(S3_OPERATIONS.HeadBucket, {
      method: "HEAD",
      path: "/",
      bucket: input.Bucket,
      ...(input.ExpectedBucketOwner
        ? { headers: { "x-amz-expected-bucket-owner": input.ExpectedBucketOwner } }
        : {}),
    }, options);
    await res.body?.cancel();
    const region = res.headers.get("x-amz-bucket-region");
    return region ? { BucketRegion: region } : {};
  }

  /**
   * DeleteBucket (the bucket must be empty).
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async deleteBucket(input: BucketRequest, options?: CallOptions): Promise<void> {
    const res = await this.#send(S3_OPERATIONS.DeleteBucket, {
      method: "DELETE",
      path: "/",
      bucket: input.Bucket,
    }, options);
    await res.body?.cancel();
  }

  /**
   * PutBucketEncryption.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  putBucketEncryption(input: PutBucketEncryptionRequest, options?: CallOptions): Promise<void> {
    const rules: XmlElement[] = input.ServerSideEncryptionConfiguration.Rules.map((r) => [
      "Rule",
      [
        ...(r.ApplyServerSideEncryptionByDefault
          ? [[
            "ApplyServerSideEncryptionByDefault",
            [
              ["SSEAlgorithm", r.ApplyServerSideEncryptionByDefault.SSEAlgorithm],
              ...(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID
                ? [
                  [
                    "KMSMasterKeyID",
                    r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID,
                  ] as XmlElement,
                ]
                : []),
            ],
          ] as XmlElement]
          : []),
        ...bool(r.BucketKeyEnabled, "BucketKeyEnabled"),
      ],
    ]);
    const body = toXml(["ServerSideEncryptionConfiguration", rules]);
    return this.#configure(
      S3_OPERATIONS.PutBucketEncryption,
      input,
      "encryption",
      body,
      "application/xml",
      options,
    );
  }

  /**
   * PutPublicAccessBlock.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  putPublicAccessBlock(input: PutPublicAccessBlockRequest, options?: CallOptions): Promise<void> {
    const c = input.PublicAccessBlockConfiguration;
    const body = toXml(["PublicAccessBlockConfiguration", [
      ...bool(c.BlockPublicAcls, "BlockPublicAcls"),
      ...bool(c.IgnorePublicAcls, "IgnorePublicAcls"),
      ...bool(c.BlockPublicPolicy, "BlockPublicPolicy"),
      ...bool(c.RestrictPublicBuckets, "RestrictPublicBuckets"),
    ]]);
    return this.#configure(
      S3_OPERATIONS.PutPublicAccessBlock,
      input,
      "publicAccessBlock",
      body,
      "application/xml",
      options,
    );
  }

  /**
   * PutBucketPolicy.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  putBucketPolicy(input: PutBucketPolicyRequest, options?: CallOptions): Promise<void> {
    return this.#configure(
      S3_OPERATIONS.PutBucketPolicy,
      input,
      "policy",
      input.Policy,
      "text/plain",
      options,
    );
  }

  /**
   * PutBucketLifecycleConfiguration.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  putBucketLifecycleConfiguration(
    input: PutBucketLifecycleConfigurationRequest,
    options?: CallOptions,
  ): Promise<void> {
    const rules: XmlElement[] = input.LifecycleConfiguration.Rules.map((r) => [
      "Rule",
      [
        ...(r.Expiration
          ? [
            [
              "Expiration",
              r.Expiration.Days === undefined ? [] : [["Days", r.Expiration.Days]],
            ] as XmlElement,
          ]
          : []),
        ...(r.ID !== undefined ? [["ID", r.ID] as XmlElement] : []),
        ...(r.Filter
          ? [
            [
              "Filter",
              r.Filter.Prefix === undefined ? [] : [["Prefix", r.Filter.Prefix]],
            ] as XmlElement,
          ]
          : []),
        ["Status", r.Status],
        ...(r.AbortIncompleteMultipartUpload
          ? [[
            "AbortIncompleteMultipartUpload",
            r.AbortIncompleteMultipartUpload.DaysAfterInitiation === undefined
              ? []
              : [["DaysAfterInitiation", r.AbortIncompleteMultipartUpload.DaysAfterInitiation]],
          ] as XmlElement]
          : []),
      ],
    ]);
    const body = toXml(["LifecycleConfiguration", rules]);
    return this.#configure(
      S3_OPERATIONS.PutBucketLifecycleConfiguration,
      input,
      "lifecycle",
      body,
      "application/xml",
      options,
    );
  }

  /**
   * PutBucketTagging.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  putBucketTagging(input: PutBucketTaggingRequest, options?: CallOptions): Promise<void> {
    const tags: XmlElement[] = input.Tagging.TagSet.map((
      t,
    ) => ["Tag", [["Key", t.Key], ["Value", t.Value]]]);
    const body = toXml(["Tagging", [["TagSet", tags]]]);
    return this.#configure(
      S3_OPERATIONS.PutBucketTagging,
      input,
      "tagging",
      body,
      "application/xml",
      options,
    );
  }

  /**
   * GetBucketTagging; a bucket without tags is an `AwsError` with code `NoSuchTagSet`.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The tags.
   */
  async getBucketTagging(
    input: BucketRequest,
    options?: CallOptions,
  ): Promise<GetBucketTaggingResponse> {
    const root = await this.#sendXml(S3_OPERATIONS.GetBucketTagging, {
      method: "GET",
      path: "/",
      bucket: input.Bucket,
      query: [["tagging", null]],
    }, options);
    return {
      TagSet: texts(child(root, "TagSet"), "Tag").map((t) => ({
        Key: text(t, "Key") ?? "",
        Value: text(t, "Value") ?? "",
      })),
    };
  }

  /**
   * PutObject. Strings and byte arrays up to `multipartThreshold` go up in
   * one request; larger bodies and streams that turn out larger go up as a
   * multipart upload in `partSize` parts (aborted again if a part fails).
   *
   * @param input The request.
   * @param options Thresholds and per-call options.
   * @returns The response.
   */
  async putObject(
    input: PutObjectRequest,
    options: PutObjectOptions = {},
  ): Promise<PutObjectResponse> {
    const threshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
    const partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (partSize < MIN_PART_SIZE) {
      throw new CloudknotInputError(
        `partSize must be at least ${MIN_PART_SIZE} bytes (5 MiB), got ${partSize}`,
      );
    }
    const body = input.Body;
    if (typeof body === "string" || body instanceof Uint8Array) {
      const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
      if (bytes.byteLength <= threshold) return await this.#putSingle(input, bytes, options);
      return await this.#putMultipart(input, chunksOf(bytes, partSize), options);
    }
    const head = await readAll(body, threshold);
    if (head.done) return await this.#putSingle(input, concat(head.chunks, head.size), options);
    return await this.#putMultipart(
      input,
      streamParts(head.chunks, head.reader, partSize),
      options,
    );
  }

  async #putSingle(
    input: PutObjectRequest,
    bytes: Uint8Array<ArrayBuffer>,
    options?: CallOptions,
  ): Promise<PutObjectResponse> {
    const res = await this.#send(S3_OPERATIONS.PutObject, {
      method: "PUT",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      headers: objectHeaders(input),
      body: bytes,
    }, options);
    await res.body?.cancel();
    const out: PutObjectResponse = {};
    const etag = res.headers.get("etag");
    if (etag) out.ETag = etag;
    const version = res.headers.get("x-amz-version-id");
    if (version) out.VersionId = version;
    const sse = res.headers.get("x-amz-server-side-encryption");
    if (sse) out.ServerSideEncryption = sse;
    return out;
  }

  async #putMultipart(
    input: PutObjectRequest,
    parts: AsyncIterable<Uint8Array<ArrayBuffer>> | Iterable<Uint8Array<ArrayBuffer>>,
    options?: CallOptions,
  ): Promise<PutObjectResponse> {
    const { UploadId } = await this.createMultipartUpload(input, options);
    if (!UploadId) {
      throw new AwsError("CreateMultipartUpload returned no UploadId", {
        service: "S3",
        operation: "CreateMultipartUpload",
        code: "InvalidResponse",
      });
    }
    const done: { PartNumber: number; ETag: string }[] = [];
    try {
      let number = 0;
      for await (const part of parts) {
        number++;
        const { ETag } = await this.uploadPart({
          Bucket: input.Bucket,
          Key: input.Key,
          UploadId,
          PartNumber: number,
          Body: part,
        }, options);
        done.push({ PartNumber: number, ETag: ETag ?? "" });
      }
      const out = await this.completeMultipartUpload({
        Bucket: input.Bucket,
        Key: input.Key,
        UploadId,
        MultipartUpload: { Parts: done },
      }, options);
      return out.ETag ? { ETag: out.ETag } : {};
    } catch (error) {
      await this.abortMultipartUpload({ Bucket: input.Bucket, Key: input.Key, UploadId }).catch(
        () => {},
      );
      throw error;
    }
  }

  /**
   * CreateMultipartUpload.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  async createMultipartUpload(
    input: CreateMultipartUploadRequest,
    options?: CallOptions,
  ): Promise<CreateMultipartUploadResponse> {
    const root = await this.#sendXml(S3_OPERATIONS.CreateMultipartUpload, {
      method: "POST",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      query: [["uploads", null]],
      headers: objectHeaders(input),
    }, options);
    const out: CreateMultipartUploadResponse = {};
    for (const key of ["Bucket", "Key", "UploadId"] as const) {
      const value = text(root, key);
      if (value !== undefined) out[key] = value;
    }
    return out;
  }

  /**
   * UploadPart.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  async uploadPart(input: UploadPartRequest, options?: CallOptions): Promise<UploadPartResponse> {
    const res = await this.#send(S3_OPERATIONS.UploadPart, {
      method: "PUT",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      query: [["partNumber", String(input.PartNumber)], ["uploadId", input.UploadId]],
      headers: { "content-type": "application/octet-stream" },
      body: input.Body,
    }, options);
    await res.body?.cancel();
    const etag = res.headers.get("etag");
    return etag ? { ETag: etag } : {};
  }

  /**
   * CompleteMultipartUpload (also fails when S3 answers 200 with an error body).
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  async completeMultipartUpload(
    input: CompleteMultipartUploadRequest,
    options?: CallOptions,
  ): Promise<CompleteMultipartUploadResponse> {
    const body = toXml([
      "CompleteMultipartUpload",
      input.MultipartUpload.Parts.map((p) =>
        [
          "Part",
          [["ETag", p.ETag], ["PartNumber", p.PartNumber]],
        ] as XmlElement
      ),
    ]);
    const root = await this.#sendXml(S3_OPERATIONS.CompleteMultipartUpload, {
      method: "POST",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      query: [["uploadId", input.UploadId]],
      headers: { "content-type": "application/xml" },
      body,
    }, options);
    const out: CompleteMultipartUploadResponse = {};
    for (const key of ["Location", "Bucket", "Key", "ETag"] as const) {
      const value = text(root, key);
      if (value !== undefined) out[key] = value;
    }
    return out;
  }

  /**
   * AbortMultipartUpload.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async abortMultipartUpload(
    input: AbortMultipartUploadRequest,
    options?: CallOptions,
  ): Promise<void> {
    const res = await this.#send(S3_OPERATIONS.AbortMultipartUpload, {
      method: "DELETE",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      query: [["uploadId", input.UploadId]],
    }, options);
    await res.body?.cancel();
  }

  /**
   * GetObject: metadata and a streaming body; `Range` reads part of it.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The metadata and body.
   */
  async getObject(input: GetObjectRequest, options?: CallOptions): Promise<GetObjectResponse> {
    const res = await this.#send(S3_OPERATIONS.GetObject, {
      method: "GET",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      ...(input.VersionId ? { query: [["versionId", input.VersionId]] as [string, string][] } : {}),
      ...(input.Range ? { headers: { range: input.Range } } : {}),
    }, options);
    return {
      ...objectMetadata(res),
      Body: res.body,
      bytes: async () => new Uint8Array(await res.arrayBuffer()),
      text: () => res.text(),
    };
  }

  /**
   * HeadObject; a missing object is an `AwsError` with code `NotFound`.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The metadata.
   */
  async headObject(input: HeadObjectRequest, options?: CallOptions): Promise<ObjectMetadata> {
    const res = await this.#send(S3_OPERATIONS.HeadObject, {
      method: "HEAD",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      ...(input.VersionId ? { query: [["versionId", input.VersionId]] as [string, string][] } : {}),
    }, options);
    await res.body?.cancel();
    return objectMetadata(res);
  }

  /**
   * ListObjectsV2 (one page).
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The page.
   */
  async listObjectsV2(
    input: ListObjectsV2Request,
    options?: CallOptions,
  ): Promise<ListObjectsV2Response> {
    const query: [string, string][] = [["list-type", "2"]];
    if (input.ContinuationToken !== undefined) {
      query.push(["continuation-token", input.ContinuationToken]);
    }
    if (input.Delimiter !== undefined) query.push(["delimiter", input.Delimiter]);
    if (input.MaxKeys !== undefined) query.push(["max-keys", String(input.MaxKeys)]);
    if (input.Prefix !== undefined) query.push(["prefix", input.Prefix]);
    if (input.StartAfter !== undefined) query.push(["start-after", input.StartAfter]);
    const root = await this.#sendXml(S3_OPERATIONS.ListObjectsV2, {
      method: "GET",
      path: "/",
      bucket: input.Bucket,
      query,
    }, options);
    const out: ListObjectsV2Response = {};
    for (
      const key of [
        "Name",
        "Prefix",
        "Delimiter",
        "ContinuationToken",
        "NextContinuationToken",
        "StartAfter",
      ] as const
    ) {
      const value = text(root, key);
      if (value !== undefined) out[key] = value;
    }
    const maxKeys = text(root, "MaxKeys");
    if (maxKeys !== undefined) out.MaxKeys = Number(maxKeys);
    const keyCount = text(root, "KeyCount");
    if (keyCount !== undefined) out.KeyCount = Number(keyCount);
    const truncated = text(root, "IsTruncated");
    if (truncated !== undefined) out.IsTruncated = truncated === "true";
    const contents = texts(root, "Contents").map((c) => {
      const o: S3Object = {};
      const key = text(c, "Key");
      if (key !== undefined) o.Key = key;
      const lm = text(c, "LastModified");
      if (lm !== undefined) o.LastModified = new Date(lm);
      const etag = text(c, "ETag");
      if (etag !== undefined) o.ETag = etag;
      const size = text(c, "Size");
      if (size !== undefined) o.Size = Number(size);
      const sc = text(c, "StorageClass");
      if (sc !== undefined) o.StorageClass = sc;
      return o;
    });
    if (contents.length) out.Contents = contents;
    const prefixes = texts(root, "CommonPrefixes").map((p) => {
      const prefix = text(p, "Prefix");
      return prefix === undefined ? {} : { Prefix: prefix };
    });
    if (prefixes.length) out.CommonPrefixes = prefixes;
    return out;
  }

  /**
   * Every object under the request's prefix, across pages.
   *
   * @param input The request.
   * @returns The objects.
   */
  listObjectsV2All(input: ListObjectsV2Request): AsyncGenerator<S3Object> {
    return paginate((i) => this.listObjectsV2(i), input, S3_PAGINATORS.ListObjectsV2);
  }

  /**
   * DeleteObject (succeeds for a missing key).
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async deleteObject(input: DeleteObjectRequest, options?: CallOptions): Promise<void> {
    const res = await this.#send(S3_OPERATIONS.DeleteObject, {
      method: "DELETE",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      ...(input.VersionId ? { query: [["versionId", input.VersionId]] as [string, string][] } : {}),
    }, options);
    await res.body?.cancel();
  }

  /**
   * DeleteObjects: up to 1000 keys in one call.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The deleted keys and per-key errors.
   */
  async deleteObjects(
    input: DeleteObjectsRequest,
    options?: CallOptions,
  ): Promise<DeleteObjectsResponse> {
    if (input.Delete.Objects.length > 1000) {
      throw new CloudknotInputError(
        `DeleteObjects takes at most 1000 keys, got ${input.Delete.Objects.length}; use deleteKeys() to delete more`,
      );
    }
    const body = toXml(["Delete", [
      ...input.Delete.Objects.map((o) =>
        ["Object", [
          ["Key", o.Key],
          ...(o.VersionId ? [["VersionId", o.VersionId] as XmlElement] : []),
        ]] as XmlElement
      ),
      ...bool(input.Delete.Quiet, "Quiet"),
    ]]);
    const root = await this.#sendXml(S3_OPERATIONS.DeleteObjects, {
      method: "POST",
      path: "/",
      bucket: input.Bucket,
      query: [["delete", null]],
      headers: { "content-type": "application/xml", ...(await checksumHeaders(body)) },
      body,
    }, options);
    const out: DeleteObjectsResponse = {};
    const deleted = texts(root, "Deleted").map((d) => {
      const o: { Key?: string; VersionId?: string } = {};
      const key = text(d, "Key");
      if (key !== undefined) o.Key = key;
      const version = text(d, "VersionId");
      if (version !== undefined) o.VersionId = version;
      return o;
    });
    if (deleted.length) out.Deleted = deleted;
    const errors = texts(root, "Error").map((e) => {
      const o: { Key?: string; Code?: string; Message?: string; VersionId?: string } = {};
      for (const k of ["Key", "Code", "Message", "VersionId"] as const) {
        const value = text(e, k);
        if (value !== undefined) o[k] = value;
      }
      return o;
    });
    if (errors.length) out.Errors = errors;
    return out;
  }

  /**
   * Deletes any number of keys, 1000 per DeleteObjects call.
   *
   * @param bucket The bucket.
   * @param keys The keys.
   * @param options Per-call options.
   * @returns The combined result of all calls.
   */
  async deleteKeys(
    bucket: string,
    keys: Iterable<string>,
    options?: CallOptions,
  ): Promise<DeleteObjectsResponse> {
    const all = [...keys];
    const out: Required<DeleteObjectsResponse> = { Deleted: [], Errors: [] };
    for (let i = 0; i < all.length; i += 1000) {
      const r = await this.deleteObjects({
        Bucket: bucket,
        Delete: { Objects: all.slice(i, i + 1000).map((Key) => ({ Key })) },
      }, options);
      out.Deleted.push(...(r.Deleted ?? []));
      out.Errors.push(...(r.Errors ?? []));
    }
    return out;
  }
}

function* chunksOf(
  bytes: Uint8Array<ArrayBuffer>,
  size: number,
): Generator<Uint8Array<ArrayBuffer>> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    yield bytes.subarray(offset, Math.min(offset + size, bytes.byteLength));
  }
}

async function* streamParts(
  head: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  let pending: Uint8Array[] = head;
  let pendingSize = head.reduce((n, c) => n + c.byteLength, 0);
  let finished = false;
  try {
    while (!finished || pendingSize > 0) {
      while (!finished && pendingSize < size) {
        const { value, done } = await reader.read();
        if (done) finished = true;
        else {
          pending.push(value);
          pendingSize += value.byteLength;
        }
      }
      const all = concat(pending, pendingSize);
      const take = Math.min(size, all.byteLength);
      if (take === 0) break;
      yield all.slice(0, take);
      pending = take < all.byteLength ? [all.slice(take)] : [];
      pendingSize = all.byteLength - take;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
