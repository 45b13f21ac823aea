/**
 * Amazon S3 (restXml, API 2006-03-01): buckets, their configuration, and
 * objects with streaming reads, ranged reads and the operations of a
 * multipart upload (the store runs the upload itself).
 *
 * @module
 */
import type {
  AwsHttpClient,
  CallOptions,
  HttpRequestSpec,
  OperationInfo,
} from "../core/request.ts";
import {
  createClient,
  operationTable,
  type ServiceClient,
  type ServiceDefinition,
} from "../protocols/client.ts";
import {
  checksumHeaders,
  keyPath,
  readXml,
  REST_XML,
  type S3Operation,
  toXml,
  type XmlElement,
} from "../protocols/rest_xml.ts";
import { child, text, type XmlNode } from "../protocols/xml.ts";
import { CloudknotInputError } from "../../util/errors.ts";

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

/** PutObject input. */
export interface PutObjectRequest {
  /** The bucket. */
  Bucket: string;
  /** The key. */
  Key: string;
  /** The body, sent in one request (the store uploads large and streamed bodies in parts). */
  Body: string | Uint8Array<ArrayBuffer>;
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

/**
 * Decodes a key ListObjectsV2 sent with `encoding-type=url`: S3 writes a
 * space as `+` and a `+` as `%2B`, so it is read as botocore reads it
 * (`unquote_plus`, botocore/handlers.py `decode_list_object_v2`).
 */
function decodeListed(value: string): string {
  return decodeURIComponent(value.replaceAll("+", " "));
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

/** The Amazon S3 bucket operations: each one's input and output. */
export type S3BucketApi = {
  CreateBucket: [CreateBucketRequest, CreateBucketResponse];
  HeadBucket: [BucketRequest, HeadBucketResponse];
  DeleteBucket: [BucketRequest, void];
  PutBucketEncryption: [PutBucketEncryptionRequest, void];
  PutPublicAccessBlock: [PutPublicAccessBlockRequest, void];
  PutBucketPolicy: [PutBucketPolicyRequest, void];
  PutBucketLifecycleConfiguration: [PutBucketLifecycleConfigurationRequest, void];
  PutBucketTagging: [PutBucketTaggingRequest, void];
  GetBucketTagging: [BucketRequest, GetBucketTaggingResponse];
};

/** The Amazon S3 object operations, all a job's store uses: each one's input and output. */
export type S3ObjectApi = {
  PutObject: [PutObjectRequest, PutObjectResponse];
  GetObject: [GetObjectRequest, GetObjectResponse];
  HeadObject: [HeadObjectRequest, ObjectMetadata];
  ListObjectsV2: [ListObjectsV2Request, ListObjectsV2Response, "Contents"];
  DeleteObject: [DeleteObjectRequest, void];
  DeleteObjects: [DeleteObjectsRequest, DeleteObjectsResponse];
  CreateMultipartUpload: [CreateMultipartUploadRequest, CreateMultipartUploadResponse];
  UploadPart: [UploadPartRequest, UploadPartResponse];
  CompleteMultipartUpload: [CompleteMultipartUploadRequest, CompleteMultipartUploadResponse];
  AbortMultipartUpload: [AbortMultipartUploadRequest, void];
};

/** The Amazon S3 API: each operation's input and output. */
export type S3Api = S3BucketApi & S3ObjectApi;

function bool(value: boolean | undefined, name: string): XmlElement[] {
  return value === undefined ? [] : [[name, value ? "true" : "false"]];
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
    const value = h.get(name);
    if (value !== null) out[key] = value;
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

/** The text members of an element that are present, by name. */
function textMembers<K extends string>(
  node: XmlNode | undefined,
  names: readonly K[],
): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const name of names) {
    const value = text(node, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Discards a response body that carries nothing. */
async function empty(res: Response): Promise<void> {
  await res.body?.cancel();
}

/** A bucket configuration call: `PUT /?<subresource>` with a checksummed body. */
async function configure(
  input: BucketRequest,
  subresource: string,
  body: string,
  contentType = "application/xml",
): Promise<HttpRequestSpec> {
  const headers: Record<string, string> = {
    "content-type": contentType,
    ...(await checksumHeaders(body)),
  };
  if (input.ExpectedBucketOwner) {
    headers["x-amz-expected-bucket-owner"] = input.ExpectedBucketOwner;
  }
  return {
    method: "PUT",
    path: "/",
    bucket: input.Bucket,
    query: [[subresource, null]],
    headers,
    body,
  };
}

function versionQuery(versionId: string | undefined): { query?: [string, string][] } {
  return versionId ? { query: [["versionId", versionId]] } : {};
}

/** An operation table's type: each operation's request builder and response reader. */
export type S3Operations<Api extends Record<string, [unknown, unknown, ...unknown[]]>> = {
  readonly [K in keyof Api]: S3Operation<Api[K][0], Api[K][1]>;
};

/**
 * The S3 bucket operations as data. All but CreateBucket may be sent again.
 * Marked pure so that a bundle that uses only the object operations (a job's
 * `runtime.js`, which has a byte budget) leaves them out.
 */
export const S3_BUCKET_OPERATIONS: S3Operations<S3BucketApi> = /* @__PURE__ */ operationTable({
  CreateBucket: {
    request: (input: CreateBucketRequest, region: string): HttpRequestSpec => {
      const constraint = input.CreateBucketConfiguration?.LocationConstraint ??
        (region === "us-east-1" ? undefined : region);
      const spec: HttpRequestSpec = { method: "PUT", path: "/", bucket: input.Bucket };
      if (constraint) {
        spec.body = toXml(["CreateBucketConfiguration", [["LocationConstraint", constraint]]]);
        spec.headers = { "content-type": "application/xml" };
      }
      return spec;
    },
    response: async (res: Response): Promise<CreateBucketResponse> => {
      await empty(res);
      const location = res.headers.get("location");
      return location ? { Location: location } : {};
    },
  },
  // Succeeds when the bucket exists and is reachable; a missing bucket is an
  // AwsError with code NotFound.
  HeadBucket: {
    request: (input: BucketRequest): HttpRequestSpec => ({
      method: "HEAD",
      path: "/",
      bucket: input.Bucket,
      ...(input.ExpectedBucketOwner
        ? { headers: { "x-amz-expected-bucket-owner": input.ExpectedBucketOwner } }
        : {}),
    }),
    response: async (res: Response): Promise<HeadBucketResponse> => {
      await empty(res);
      const region = res.headers.get("x-amz-bucket-region");
      return region ? { BucketRegion: region } : {};
    },
  },
  DeleteBucket: {
    request: (input: BucketRequest): HttpRequestSpec => ({
      method: "DELETE",
      path: "/",
      bucket: input.Bucket,
    }),
    response: empty,
  },
  PutBucketEncryption: {
    request: (input: PutBucketEncryptionRequest) =>
      configure(
        input,
        "encryption",
        toXml([
          "ServerSideEncryptionConfiguration",
          input.ServerSideEncryptionConfiguration.Rules.map((r) => {
            const byDefault = r.ApplyServerSideEncryptionByDefault;
            return ["Rule", [
              ...(byDefault
                ? [["ApplyServerSideEncryptionByDefault", [
                  ["SSEAlgorithm", byDefault.SSEAlgorithm],
                  ...(byDefault.KMSMasterKeyID
                    ? [["KMSMasterKeyID", byDefault.KMSMasterKeyID] as XmlElement]
                    : []),
                ]] as XmlElement]
                : []),
              ...bool(r.BucketKeyEnabled, "BucketKeyEnabled"),
            ]] as XmlElement;
          }),
        ]),
      ),
    response: empty,
  },
  PutPublicAccessBlock: {
    request: (input: PutPublicAccessBlockRequest) => {
      const c = input.PublicAccessBlockConfiguration;
      return configure(
        input,
        "publicAccessBlock",
        toXml(["PublicAccessBlockConfiguration", [
          ...bool(c.BlockPublicAcls, "BlockPublicAcls"),
          ...bool(c.IgnorePublicAcls, "IgnorePublicAcls"),
          ...bool(c.BlockPublicPolicy, "BlockPublicPolicy"),
          ...bool(c.RestrictPublicBuckets, "RestrictPublicBuckets"),
        ]]),
      );
    },
    response: empty,
  },
  PutBucketPolicy: {
    request: (input: PutBucketPolicyRequest) =>
      configure(input, "policy", input.Policy, "text/plain"),
    response: empty,
  },
  PutBucketLifecycleConfiguration: {
    request: (input: PutBucketLifecycleConfigurationRequest) =>
      configure(
        input,
        "lifecycle",
        toXml([
          "LifecycleConfiguration",
          input.LifecycleConfiguration.Rules.map((r) =>
            ["Rule", [
              ...(r.Expiration
                ? [[
                  "Expiration",
                  r.Expiration.Days === undefined ? [] : [["Days", r.Expiration.Days]],
                ] as XmlElement]
                : []),
              ...(r.ID !== undefined ? [["ID", r.ID] as XmlElement] : []),
              ...(r.Filter
                ? [[
                  "Filter",
                  r.Filter.Prefix === undefined ? [] : [["Prefix", r.Filter.Prefix]],
                ] as XmlElement]
                : []),
              ["Status", r.Status],
              ...(r.AbortIncompleteMultipartUpload
                ? [[
                  "AbortIncompleteMultipartUpload",
                  r.AbortIncompleteMultipartUpload.DaysAfterInitiation === undefined ? [] : [[
                    "DaysAfterInitiation",
                    r.AbortIncompleteMultipartUpload.DaysAfterInitiation,
                  ]],
                ] as XmlElement]
                : []),
            ]] as XmlElement
          ),
        ]),
      ),
    response: empty,
  },
  PutBucketTagging: {
    request: (input: PutBucketTaggingRequest) =>
      configure(
        input,
        "tagging",
        toXml(["Tagging", [[
          "TagSet",
          input.Tagging.TagSet.map((t) => ["Tag", [["Key", t.Key], ["Value", t.Value]]]),
        ]]]),
      ),
    response: empty,
  },
  // A bucket without tags is an AwsError with code NoSuchTagSet.
  GetBucketTagging: {
    request: (input: BucketRequest): HttpRequestSpec => ({
      method: "GET",
      path: "/",
      bucket: input.Bucket,
      query: [["tagging", null]],
    }),
    response: async (
      res: Response,
      operation: OperationInfo,
    ): Promise<GetBucketTaggingResponse> => {
      const root = await readXml(res, operation);
      return {
        TagSet: texts(child(root, "TagSet"), "Tag").map((t) => ({
          Key: text(t, "Key") ?? "",
          Value: text(t, "Value") ?? "",
        })),
      };
    },
  },
}, ["CreateBucket"]);

/** The S3 object operations as data, all a job's store uses; each may be sent again. */
export const S3_OBJECT_OPERATIONS: S3Operations<S3ObjectApi> = /* @__PURE__ */ operationTable({
  PutObject: {
    request: (input: PutObjectRequest): HttpRequestSpec => ({
      method: "PUT",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      headers: objectHeaders(input),
      body: typeof input.Body === "string" ? new TextEncoder().encode(input.Body) : input.Body,
    }),
    response: async (res: Response): Promise<PutObjectResponse> => {
      await empty(res);
      const out: PutObjectResponse = {};
      const etag = res.headers.get("etag");
      if (etag) out.ETag = etag;
      const version = res.headers.get("x-amz-version-id");
      if (version) out.VersionId = version;
      const sse = res.headers.get("x-amz-server-side-encryption");
      if (sse) out.ServerSideEncryption = sse;
      return out;
    },
  },
  // Metadata and a streaming body; Range reads part of it.
  GetObject: {
    request: (input: GetObjectRequest): HttpRequestSpec => ({
      method: "GET",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      ...versionQuery(input.VersionId),
      ...(input.Range ? { headers: { range: input.Range } } : {}),
    }),
    response: (res: Response): Promise<GetObjectResponse> =>
      Promise.resolve({
        ...objectMetadata(res),
        Body: res.body,
        bytes: async () => new Uint8Array(await res.arrayBuffer()),
        text: () => res.text(),
      }),
  },
  // A missing object is an AwsError with code NotFound.
  HeadObject: {
    request: (input: HeadObjectRequest): HttpRequestSpec => ({
      method: "HEAD",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      ...versionQuery(input.VersionId),
    }),
    response: async (res: Response): Promise<ObjectMetadata> => {
      await empty(res);
      return objectMetadata(res);
    },
  },
  ListObjectsV2: {
    request: (input: ListObjectsV2Request): HttpRequestSpec => {
      const query: [string, string][] = [["list-type", "2"]];
      if (input.ContinuationToken !== undefined) {
        query.push(["continuation-token", input.ContinuationToken]);
      }
      if (input.Delimiter !== undefined) query.push(["delimiter", input.Delimiter]);
      if (input.MaxKeys !== undefined) query.push(["max-keys", String(input.MaxKeys)]);
      if (input.Prefix !== undefined) query.push(["prefix", input.Prefix]);
      if (input.StartAfter !== undefined) query.push(["start-after", input.StartAfter]);
      // Keys come back percent-encoded, as the SDKs ask for them: XML 1.0
      // cannot carry every character a key may hold (ListObjectsV2,
      // `encoding-type`), and its parsers turn a carriage return into a line feed.
      query.push(["encoding-type", "url"]);
      return { method: "GET", path: "/", bucket: input.Bucket, query };
    },
    response: async (res: Response, operation: OperationInfo): Promise<ListObjectsV2Response> => {
      const root = await readXml(res, operation);
      const out: ListObjectsV2Response = textMembers(root, [
        "Name",
        "Prefix",
        "Delimiter",
        "ContinuationToken",
        "NextContinuationToken",
        "StartAfter",
      ]);
      const decode = text(root, "EncodingType") === "url" ? decodeListed : (s: string) => s;
      for (const member of ["Prefix", "Delimiter", "StartAfter"] as const) {
        if (out[member] !== undefined) out[member] = decode(out[member]);
      }
      const maxKeys = text(root, "MaxKeys");
      if (maxKeys !== undefined) out.MaxKeys = Number(maxKeys);
      const keyCount = text(root, "KeyCount");
      if (keyCount !== undefined) out.KeyCount = Number(keyCount);
      const truncated = text(root, "IsTruncated");
      if (truncated !== undefined) out.IsTruncated = truncated === "true";
      const contents = texts(root, "Contents").map((c) => {
        const o: S3Object = textMembers(c, ["Key", "ETag", "StorageClass"]);
        if (o.Key !== undefined) o.Key = decode(o.Key);
        const lm = text(c, "LastModified");
        if (lm !== undefined) o.LastModified = new Date(lm);
        const size = text(c, "Size");
        if (size !== undefined) o.Size = Number(size);
        return o;
      });
      if (contents.length) out.Contents = contents;
      const prefixes = texts(root, "CommonPrefixes").map((p) => {
        const prefix: { Prefix?: string } = textMembers(p, ["Prefix"]);
        if (prefix.Prefix !== undefined) prefix.Prefix = decode(prefix.Prefix);
        return prefix;
      });
      if (prefixes.length) out.CommonPrefixes = prefixes;
      return out;
    },
  },
  // Succeeds for a missing key.
  DeleteObject: {
    request: (input: DeleteObjectRequest): HttpRequestSpec => ({
      method: "DELETE",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      ...versionQuery(input.VersionId),
    }),
    response: empty,
  },
  // Up to 1000 keys in one call; deleteKeys() takes any number.
  DeleteObjects: {
    request: async (input: DeleteObjectsRequest): Promise<HttpRequestSpec> => {
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
      return {
        method: "POST",
        path: "/",
        bucket: input.Bucket,
        query: [["delete", null]],
        headers: { "content-type": "application/xml", ...(await checksumHeaders(body)) },
        body,
      };
    },
    response: async (res: Response, operation: OperationInfo): Promise<DeleteObjectsResponse> => {
      const root = await readXml(res, operation);
      const out: DeleteObjectsResponse = {};
      const deleted = texts(root, "Deleted").map((d) => textMembers(d, ["Key", "VersionId"]));
      if (deleted.length) out.Deleted = deleted;
      const errors = texts(root, "Error").map((e) =>
        textMembers(e, ["Key", "Code", "Message", "VersionId"])
      );
      if (errors.length) out.Errors = errors;
      return out;
    },
  },
  // An unanswered CreateMultipartUpload leaves at most an orphan upload, which
  // the bucket's AbortIncompleteMultipartUpload rule removes.
  CreateMultipartUpload: {
    request: (input: CreateMultipartUploadRequest): HttpRequestSpec => ({
      method: "POST",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      query: [["uploads", null]],
      headers: objectHeaders(input),
    }),
    response: async (
      res: Response,
      operation: OperationInfo,
    ): Promise<CreateMultipartUploadResponse> =>
      textMembers(await readXml(res, operation), ["Bucket", "Key", "UploadId"]),
  },
  UploadPart: {
    request: (input: UploadPartRequest): HttpRequestSpec => ({
      method: "PUT",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      query: [["partNumber", String(input.PartNumber)], ["uploadId", input.UploadId]],
      headers: { "content-type": "application/octet-stream" },
      body: input.Body,
    }),
    response: async (res: Response): Promise<UploadPartResponse> => {
      await empty(res);
      const etag = res.headers.get("etag");
      return etag ? { ETag: etag } : {};
    },
  },
  // Also fails when S3 answers 200 with an error body.
  CompleteMultipartUpload: {
    request: (input: CompleteMultipartUploadRequest): HttpRequestSpec => ({
      method: "POST",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      query: [["uploadId", input.UploadId]],
      headers: { "content-type": "application/xml" },
      body: toXml([
        "CompleteMultipartUpload",
        input.MultipartUpload.Parts.map((p) =>
          ["Part", [["ETag", p.ETag], ["PartNumber", p.PartNumber]]] as XmlElement
        ),
      ]),
    }),
    response: async (
      res: Response,
      operation: OperationInfo,
    ): Promise<CompleteMultipartUploadResponse> =>
      textMembers(await readXml(res, operation), ["Location", "Bucket", "Key", "ETag"]),
  },
  AbortMultipartUpload: {
    request: (input: AbortMultipartUploadRequest): HttpRequestSpec => ({
      method: "DELETE",
      path: keyPath(input.Key),
      bucket: input.Bucket,
      query: [["uploadId", input.UploadId]],
    }),
    response: empty,
  },
});

const PAGINATORS = {
  ListObjectsV2: {
    inputToken: "ContinuationToken",
    outputToken: "NextContinuationToken",
    items: "Contents",
    moreResults: "IsTruncated",
  },
} as const;

/** Amazon S3's object operations as data: what a job's store signs and sends. */
export const S3_OBJECT_SERVICE: ServiceDefinition<S3ObjectApi, S3Operation> = {
  protocol: REST_XML,
  operations: S3_OBJECT_OPERATIONS,
  paginators: PAGINATORS,
};

/** Amazon S3 as data: its protocol, operations and paginators. */
export const S3_SERVICE: ServiceDefinition<S3Api, S3Operation> = {
  protocol: REST_XML,
  operations: /* @__PURE__ */ Object.assign({}, S3_BUCKET_OPERATIONS, S3_OBJECT_OPERATIONS),
  paginators: PAGINATORS,
};

/**
 * The Amazon S3 client: one method per operation of {@linkcode S3Api}
 * (`GetObject` → `getObject`), `listObjectsV2All` across pages, and
 * `deleteKeys` for any number of keys. Get one from
 * {@linkcode AwsSession.s3}. Buckets are addressed path-style on IP-address
 * and `localhost` endpoints, for names with dots, or when asked;
 * virtual-host style otherwise.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const aws = await AwsSession.create();
 * await aws.s3.putObject({ Bucket: "b", Key: "dir/x.json", Body: "{}", ContentType: "application/json" });
 * const obj = await aws.s3.getObject({ Bucket: "b", Key: "dir/x.json", Range: "bytes=0-0" });
 * console.log(await obj.text()); // "{"
 * ```
 */
export type S3 = S3Client<S3Api>;

/** The S3 client of a job's store: the object operations of {@linkcode S3ObjectApi} and `deleteKeys`. */
export type S3Objects = S3Client<S3ObjectApi>;

/** An S3 client of some of S3's operations, with `deleteKeys`. */
export type S3Client<Api extends S3ObjectApi> = ServiceClient<Api> & {
  /** Deletes any number of keys, 1000 per DeleteObjects call, and combines the results. */
  deleteKeys(
    bucket: string,
    keys: Iterable<string>,
    options?: CallOptions,
  ): Promise<DeleteObjectsResponse>;
};

/**
 * Makes an S3 client on a signed HTTP client: {@linkcode S3_SERVICE} for every
 * operation, {@linkcode S3_OBJECT_SERVICE} for the objects' alone.
 *
 * @example Usage
 * ```ts ignore
 * const s3 = createS3(http, S3_SERVICE);
 * await s3.deleteKeys("bucket", ["a", "b"]);
 * ```
 *
 * @param http The S3 HTTP client.
 * @param service S3 as data; a session passes one whose errors carry advice.
 * @returns The client.
 */
export function createS3<Api extends S3ObjectApi>(
  http: AwsHttpClient,
  service: ServiceDefinition<Api, S3Operation>,
): S3Client<Api> {
  const client = createClient(http, service);
  const s3 = client as unknown as ServiceClient<S3ObjectApi>;
  return Object.assign(client, {
    async deleteKeys(bucket: string, keys: Iterable<string>, options?: CallOptions) {
      const all = [...keys];
      const out: Required<DeleteObjectsResponse> = { Deleted: [], Errors: [] };
      for (let i = 0; i < all.length; i += 1000) {
        const r = await s3.deleteObjects({
          Bucket: bucket,
          Delete: { Objects: all.slice(i, i + 1000).map((Key) => ({ Key })) },
        }, options);
        out.Deleted.push(...(r.Deleted ?? []));
        out.Errors.push(...(r.Errors ?? []));
      }
      return out;
    },
  });
}
