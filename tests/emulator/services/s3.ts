/**
 * Emulated S3 (path-style, restXml): buckets with their configurations,
 * objects with ranged reads and byte counters, multipart uploads.
 *
 * @module
 */
import { base64, checksum, hex, md5 } from "../checksums.ts";
import { ServiceError } from "../errors.ts";
import { evaluatePolicies, type PolicyRequest } from "../iam_policy.ts";
import type { RoutedService } from "../server.ts";
import type { CallContext } from "../service.ts";
import { parseXml, xmlElements, type XmlNode } from "../xml.ts";

/** A role's policy documents (inline and attached), by role name; none for an unknown role. */
export type RolePolicies = (roleName: string) => string[];

/**
 * The IAM action, resource and condition keys S3 authorizes an operation
 * with ("Required permissions for Amazon S3 API operations",
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html;
 * ARNs and condition keys: "Actions, resources, and condition keys for
 * Amazon S3" in the Service Authorization Reference). DeleteObjects is
 * checked per key, and CopyObject's source as well, where they run.
 */
export function s3Permission(
  op: string,
  bucket: string,
  key: string,
  q: URLSearchParams,
): PolicyRequest | undefined {
  const onBucket: Record<string, string> = {
    CreateBucket: "s3:CreateBucket",
    HeadBucket: "s3:ListBucket",
    DeleteBucket: "s3:DeleteBucket",
    GetBucketLocation: "s3:GetBucketLocation",
    PutBucketEncryption: "s3:PutEncryptionConfiguration",
    GetBucketEncryption: "s3:GetEncryptionConfiguration",
    DeleteBucketEncryption: "s3:PutEncryptionConfiguration",
    PutPublicAccessBlock: "s3:PutBucketPublicAccessBlock",
    GetPublicAccessBlock: "s3:GetBucketPublicAccessBlock",
    DeletePublicAccessBlock: "s3:PutBucketPublicAccessBlock",
    PutBucketPolicy: "s3:PutBucketPolicy",
    GetBucketPolicy: "s3:GetBucketPolicy",
    DeleteBucketPolicy: "s3:DeleteBucketPolicy",
    PutBucketLifecycleConfiguration: "s3:PutLifecycleConfiguration",
    GetBucketLifecycleConfiguration: "s3:GetLifecycleConfiguration",
    DeleteBucketLifecycle: "s3:PutLifecycleConfiguration",
    PutBucketVersioning: "s3:PutBucketVersioning",
    GetBucketVersioning: "s3:GetBucketVersioning",
    PutBucketTagging: "s3:PutBucketTagging",
    GetBucketTagging: "s3:GetBucketTagging",
    DeleteBucketTagging: "s3:PutBucketTagging",
    ListObjects: "s3:ListBucket",
    ListObjectsV2: "s3:ListBucket",
    ListMultipartUploads: "s3:ListBucketMultipartUploads",
  };
  const onObject: Record<string, string> = {
    PutObject: "s3:PutObject",
    CopyObject: "s3:PutObject",
    CreateMultipartUpload: "s3:PutObject",
    UploadPart: "s3:PutObject",
    CompleteMultipartUpload: "s3:PutObject",
    GetObject: "s3:GetObject",
    HeadObject: "s3:GetObject",
    DeleteObject: "s3:DeleteObject",
    PutObjectTagging: "s3:PutObjectTagging",
    GetObjectTagging: "s3:GetObjectTagging",
    DeleteObjectTagging: "s3:DeleteObjectTagging",
    ListParts: "s3:ListMultipartUploadParts",
    AbortMultipartUpload: "s3:AbortMultipartUpload",
  };
  if (op === "ListBuckets") return { action: "s3:ListAllMyBuckets", resource: "*" };
  if (onObject[op] !== undefined) {
    return { action: onObject[op], resource: `arn:aws:s3:::${bucket}/${key}` };
  }
  if (onBucket[op] === undefined) return undefined;
  const context: Record<string, string | undefined> = {};
  if (op === "ListObjects" || op === "ListObjectsV2") {
    // A listing without a prefix has no s3:prefix, so a policy that asks for
    // one does not allow it (the S3 user guide's s3:prefix example: "If the
    // user sends a request without a prefix, Amazon S3 denies the request").
    if (q.has("prefix")) context["s3:prefix"] = q.get("prefix")!;
    if (q.has("delimiter")) context["s3:delimiter"] = q.get("delimiter")!;
    if (q.has("max-keys")) context["s3:max-keys"] = q.get("max-keys")!;
  }
  return { action: onBucket[op], resource: `arn:aws:s3:::${bucket}`, context };
}

/** A stored object. */
export interface S3Object {
  /** The key. */
  key: string;
  /** The bytes. */
  body: Uint8Array;
  /** The ETag (quoted). */
  etag: string;
  /** Last modified. */
  lastModified: Date;
  /** The content type. */
  contentType: string;
  /** `x-amz-meta-*` metadata. */
  metadata: Record<string, string>;
  /** Checksums the client sent, by algorithm. */
  checksums: Record<string, string>;
  /** Bytes served by GetObject so far. */
  bytesServed: number;
  /** GetObject calls so far. */
  gets: number;
  /** Object tags. */
  tags: Record<string, string>;
}

/** A bucket. */
export interface S3Bucket {
  /** The name. */
  name: string;
  /** Created. */
  created: Date;
  /** The region. */
  region: string;
  /** Objects by key. */
  objects: Map<string, S3Object>;
  /** Stored configuration documents (raw XML / JSON) by kind. */
  config: {
    encryption?: string;
    publicAccessBlock?: string;
    policy?: string;
    lifecycle?: string;
    versioning?: string;
  };
  /** Bucket tags. */
  tags?: Record<string, string>;
  /** Until when (epoch ms) requests that address it answer `NoSuchBucket`. */
  visibleAt: number;
}

interface Upload {
  bucket: string;
  key: string;
  parts: Map<number, { etag: string; body: Uint8Array; md5: Uint8Array }>;
  contentType: string;
  metadata: Record<string, string>;
  initiated: Date;
}

const NS = "http://s3.amazonaws.com/doc/2006-03-01/";
const MIN_PART = 5 * 1024 * 1024;
/** The most bytes of user metadata an object may have (keys and values). */
const METADATA_MAX_BYTES = 2048;
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

function noBucket(name: string): ServiceError {
  return new ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, {
    extra: { BucketName: name },
  });
}

function xmlResponse(
  root: string,
  body: XmlNode,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${XML_DECL}<${root} xmlns="${NS}">${xmlElements(body)}</${root}>`, {
    status,
    headers: { "content-type": "application/xml", ...headers },
  });
}

function httpDate(d: Date): string {
  return d.toUTCString();
}

function decodeAwsChunked(
  body: Uint8Array,
): { data: Uint8Array; trailers: Record<string, string> } {
  const out: Uint8Array[] = [];
  const trailers: Record<string, string> = {};
  let i = 0;
  const dec = new TextDecoder();
  const line = (): string => {
    const start = i;
    while (i < body.length - 1 && !(body[i] === 13 && body[i + 1] === 10)) i++;
    if (i >= body.length - 1) {
      throw new ServiceError("IncompleteBody", "The request body terminated unexpectedly", 400);
    }
    const s = dec.decode(body.subarray(start, i));
    i += 2;
    return s;
  };
  while (true) {
    const header = line();
    const size = parseInt(header.split(";")[0]!, 16);
    if (Number.isNaN(size)) {
      throw new ServiceError("InvalidRequest", "Invalid chunk header in aws-chunked body", 400);
    }
    if (size === 0) break;
    out.push(body.subarray(i, i + size));
    i += size + 2;
  }
  while (i < body.length) {
    const l = line();
    if (l === "") break;
    const c = l.indexOf(":");
    if (c > 0) trailers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  const total = out.reduce((n, c) => n + c.length, 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const c of out) {
    data.set(c, off);
    off += c.length;
  }
  return { data, trailers };
}

function checkBucketName(name: string): void {
  if (
    name.length < 3 || name.length > 63 || !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) ||
    /\.\./.test(name) || /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(name)
  ) {
    throw new ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, {
      extra: { BucketName: name },
    });
  }
}

function malformed(): ServiceError {
  return new ServiceError(
    "MalformedXML",
    "The XML you provided was not well-formed or did not validate against our published schema",
    400,
  );
}

function parseRoot(body: Uint8Array, root: string): Record<string, unknown> {
  let doc: Record<string, unknown>;
  try {
    doc = parseXml(new TextDecoder().decode(body));
  } catch {
    throw malformed();
  }
  const el = doc[root];
  if (el === undefined) throw malformed();
  return (typeof el === "object" && el !== null ? el : {}) as Record<string, unknown>;
}

function asList<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * The S3 state of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * emu.s3.bytesServed("bucket", "run/inputs"); // bytes GetObject returned for that key
 * ```
 */
export class S3Service implements RoutedService {
  /** Buckets by name. */
  readonly buckets: Map<string, S3Bucket> = new Map();
  #uploads = new Map<string, Upload>();
  #region: string;
  #visibilityMs: number;
  #policiesOf: RolePolicies;

  /**
   * Makes S3.
   *
   * @param region The region.
   * @param visibilityMs How long a bucket created outside us-east-1 answers
   *   `NoSuchBucket` to requests that address it.
   * @param policiesOf A role's policy documents, for requests signed with a
   *   role's credentials (default: none, so they are all denied).
   */
  constructor(region: string, visibilityMs = 0, policiesOf: RolePolicies = () => []) {
    this.#region = region;
    this.#visibilityMs = visibilityMs;
    this.#policiesOf = policiesOf;
  }

  /**
   * Refuses a request signed with a role's credentials (an assumed-role
   * session: AssumeRole, a container's job role) that the role's
   * identity-based policies do not allow, as IAM's policy evaluation logic
   * decides (`iam_policy.ts`): an explicit Deny wins, then an Allow, and
   * otherwise the request is denied. The answer is S3's 403 `AccessDenied`
   * with the context S3 gives for a request within the account
   * ("Access denied message examples" in "Troubleshoot access denied (403
   * Forbidden) errors in Amazon S3",
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html).
   * The emulator's IAM user (the long-term keys the tests use) is allowed
   * everything, as before; bucket policies are not evaluated.
   */
  #authorize(ctx: CallContext, request: PolicyRequest): void {
    const message = this.#denial(ctx, request);
    if (message !== undefined) throw new ServiceError("AccessDenied", message, 403);
  }

  /** Why a role's request is denied, or `undefined` when it is allowed. */
  #denial(ctx: CallContext, request: PolicyRequest): string | undefined {
    const { principal } = ctx;
    if (principal.kind !== "assumed-role") return undefined;
    const decision = evaluatePolicies(this.#policiesOf(principal.roleName ?? ""), request);
    if (decision === "allow") return undefined;
    return `User: ${principal.arn} is not authorized to perform: ${request.action} on resource: ` +
      `"${request.resource}" ` +
      (decision === "explicit-deny"
        ? "with an explicit deny in an identity-based policy"
        : `because no identity-based policy allows the ${request.action} action`);
  }

  /**
   * Bytes that GetObject served for one object (0 when none or missing).
   *
   * @param bucket The bucket.
   * @param key The key.
   */
  bytesServed(bucket: string, key: string): number {
    return this.buckets.get(bucket)?.objects.get(key)?.bytesServed ?? 0;
  }

  /**
   * Total bytes GetObject served from a bucket (or all buckets).
   *
   * @param bucket The bucket, or every bucket when omitted.
   */
  totalBytesServed(bucket?: string): number {
    let n = 0;
    for (const b of this.buckets.values()) {
      if (bucket && b.name !== bucket) continue;
      for (const o of b.objects.values()) n += o.bytesServed;
    }
    return n;
  }

  /**
   * Names the operation of a request.
   *
   * @param method The method.
   * @param url The URL.
   * @param headers The headers.
   */
  route(
    method: string,
    url: URL,
    headers: Headers,
  ): { operation: string; params: Record<string, unknown> } {
    const segs = url.pathname.split("/");
    const bucket = segs[1] ? decodeURIComponent(segs[1]) : "";
    const rawKey = segs.slice(2).join("/");
    const key = rawKey ? decodeURIComponent(rawKey) : "";
    const q = url.searchParams;
    const has = (k: string) => q.has(k);
    let op = "unknown";
    if (!bucket) op = method === "GET" ? "ListBuckets" : "unknown";
    else if (!key) {
      const sub = [
        "encryption",
        "publicAccessBlock",
        "policy",
        "lifecycle",
        "tagging",
        "versioning",
        "location",
        "uploads",
        "delete",
      ].find(has);
      const names: Record<string, Record<string, string>> = {
        PUT: {
          encryption: "PutBucketEncryption",
          publicAccessBlock: "PutPublicAccessBlock",
          policy: "PutBucketPolicy",
          lifecycle: "PutBucketLifecycleConfiguration",
          tagging: "PutBucketTagging",
          versioning: "PutBucketVersioning",
          "": "CreateBucket",
        },
        GET: {
          encryption: "GetBucketEncryption",
          publicAccessBlock: "GetPublicAccessBlock",
          policy: "GetBucketPolicy",
          lifecycle: "GetBucketLifecycleConfiguration",
          tagging: "GetBucketTagging",
          versioning: "GetBucketVersioning",
          location: "GetBucketLocation",
          uploads: "ListMultipartUploads",
          "": q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects",
        },
        DELETE: {
          encryption: "DeleteBucketEncryption",
          publicAccessBlock: "DeletePublicAccessBlock",
          policy: "DeleteBucketPolicy",
          lifecycle: "DeleteBucketLifecycle",
          tagging: "DeleteBucketTagging",
          "": "DeleteBucket",
        },
        HEAD: { "": "HeadBucket" },
        POST: { delete: "DeleteObjects" },
      };
      op = names[method]?.[sub ?? ""] ?? "unknown";
    } else {
      switch (method) {
        case "PUT":
          op = has("uploadId")
            ? "UploadPart"
            : headers.has("x-amz-copy-source")
            ? "CopyObject"
            : has("tagging")
            ? "PutObjectTagging"
            : "PutObject";
          break;
        case "GET":
          op = has("uploadId") ? "ListParts" : has("tagging") ? "GetObjectTagging" : "GetObject";
          break;
        case "HEAD":
          op = "HeadObject";
          break;
        case "DELETE":
          op = has("uploadId")
            ? "AbortMultipartUpload"
            : has("tagging")
            ? "DeleteObjectTagging"
            : "DeleteObject";
          break;
        case "POST":
          op = has("uploads")
            ? "CreateMultipartUpload"
            : has("uploadId")
            ? "CompleteMultipartUpload"
            : "unknown";
          break;
      }
    }
    const params: Record<string, unknown> = {};
    if (bucket) params.Bucket = bucket;
    if (key) params.Key = key;
    for (
      const k of [
        "prefix",
        "delimiter",
        "max-keys",
        "continuation-token",
        "start-after",
        "uploadId",
        "partNumber",
        "marker",
      ]
    ) {
      if (q.has(k)) params[k] = q.get(k);
    }
    if (headers.has("range")) params.Range = headers.get("range");
    return { operation: op, params };
  }

  /**
   * Executes a routed request.
   *
   * @param op The operation.
   * @param params The routed parameters.
   * @param ctx The call context.
   */
  execute(op: string, params: Record<string, unknown>, ctx: CallContext): Promise<Response> {
    const bucket = params.Bucket as string;
    const key = params.Key as string;
    const q = ctx.url.searchParams;
    const h = ctx.headers;
    const permission = s3Permission(op, bucket, key, q);
    if (permission !== undefined) this.#authorize(ctx, permission);
    const requestHeaders = { "x-amz-request-id": ctx.requestId, "x-amz-id-2": btoa(ctx.requestId) };
    const res = this.#execute(op, bucket, key, q, h, ctx);
    for (const [k, v] of Object.entries(requestHeaders)) res.headers.set(k, v);
    return Promise.resolve(res);
  }

  #bucket(name: string): S3Bucket {
    const b = this.buckets.get(name);
    // Bucket configurations are eventually consistent
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel):
    // right after CreateBucket outside us-east-1, requests that address the
    // bucket may answer NoSuchBucket (redpanda-data/redpanda#8490, aws/aws-sdk-cpp#751).
    if (!b || Date.now() < b.visibleAt) throw noBucket(name);
    return b;
  }

  #payload(h: Headers, body: Uint8Array): Uint8Array {
    const sha = h.get("x-amz-content-sha256") ?? "";
    let data = body;
    let trailers: Record<string, string> = {};
    if (sha.startsWith("STREAMING-")) {
      if (sha !== "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
        throw new ServiceError(
          "NotImplemented",
          `The emulator does not implement x-amz-content-sha256 ${sha}`,
          501,
        );
      }
      ({ data, trailers } = decodeAwsChunked(body));
      const declared = h.get("x-amz-decoded-content-length");
      if (declared !== null && Number(declared) !== data.length) {
        throw new ServiceError(
          "IncompleteBody",
          "You did not provide the number of bytes specified by the Content-Length HTTP header",
          400,
        );
      }
    }
    const md = h.get("content-md5");
    if (md !== null) {
      let raw: string;
      try {
        raw = atob(md);
      } catch {
        raw = "";
      }
      if (raw.length !== 16) {
        throw new ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400);
      }
      if (base64(md5(data)) !== md) {
        throw new ServiceError(
          "BadDigest",
          "The Content-MD5 you specified did not match what we received.",
          400,
        );
      }
    }
    for (const algo of ["crc32", "crc32c", "sha1", "sha256"]) {
      const given = h.get(`x-amz-checksum-${algo}`) ?? trailers[`x-amz-checksum-${algo}`];
      if (given === undefined || given === null) continue;
      if (checksum(algo, data) !== given) {
        throw new ServiceError(
          "BadDigest",
          `The ${algo.toUpperCase()} you specified did not match the calculated checksum.`,
          400,
        );
      }
    }
    return data;
  }

  #checksumsOf(h: Headers, data: Uint8Array): Record<string, string> {
    const out: Record<string, string> = {};
    for (const algo of ["crc32", "crc32c", "sha1", "sha256"]) {
      if (h.has(`x-amz-checksum-${algo}`) || h.get("x-amz-trailer") === `x-amz-checksum-${algo}`) {
        out[algo] = checksum(algo, data)!;
      }
    }
    return out;
  }

  #execute(
    op: string,
    bucket: string,
    key: string,
    q: URLSearchParams,
    h: Headers,
    ctx: CallContext,
  ): Response {
    switch (op) {
      case "ListBuckets":
        return xmlResponse("ListAllMyBucketsResult", {
          Owner: { ID: ctx.accountId, DisplayName: "emulator" },
          Buckets: {
            Bucket: [...this.buckets.values()].map((b) => ({
              Name: b.name,
              CreationDate: b.created,
            })),
          },
        });
      case "CreateBucket":
        return this.#createBucket(bucket, ctx);
      case "HeadBucket": {
        const b = this.#bucket(bucket);
        return new Response(null, { status: 200, headers: { "x-amz-bucket-region": b.region } });
      }
      case "DeleteBucket": {
        const b = this.#bucket(bucket);
        if (b.objects.size > 0) {
          throw new ServiceError(
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty",
            409,
            { extra: { BucketName: bucket } },
          );
        }
        this.buckets.delete(bucket);
        for (const [id, u] of this.#uploads) if (u.bucket === bucket) this.#uploads.delete(id);
        return new Response(null, { status: 204 });
      }
      case "GetBucketLocation": {
        const b = this.#bucket(bucket);
        const loc = b.region === "us-east-1" ? "" : b.region;
        return new Response(
          `${XML_DECL}<LocationConstraint xmlns="${NS}">${loc}</LocationConstraint>`,
          {
            headers: { "content-type": "application/xml" },
          },
        );
      }
      case "PutBucketEncryption": {
        const b = this.#bucket(bucket);
        const data = this.#payload(h, ctx.body);
        const root = parseRoot(data, "ServerSideEncryptionConfiguration");
        const rules = asList(root.Rule as Record<string, unknown> | Record<string, unknown>[]);
        if (rules.length === 0) throw malformed();
        for (const r of rules) {
          const algo = (r.ApplyServerSideEncryptionByDefault as Record<string, string> | undefined)
            ?.SSEAlgorithm;
          if (!["AES256", "aws:kms", "aws:kms:dsse"].includes(algo ?? "")) throw malformed();
        }
        b.config.encryption = new TextDecoder().decode(data);
        return new Response(null, { status: 200 });
      }
      case "GetBucketEncryption": {
        const b = this.#bucket(bucket);
        const doc = b.config.encryption ??
          `<ServerSideEncryptionConfiguration xmlns="${NS}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`;
        return this.#stored(doc);
      }
      case "DeleteBucketEncryption":
        this.#bucket(bucket).config.encryption = undefined;
        return new Response(null, { status: 204 });
      case "PutPublicAccessBlock": {
        const b = this.#bucket(bucket);
        const data = this.#payload(h, ctx.body);
        const root = parseRoot(data, "PublicAccessBlockConfiguration");
        for (const k of Object.keys(root)) {
          if (
            !["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
              .includes(k)
          ) throw malformed();
        }
        b.config.publicAccessBlock = new TextDecoder().decode(data);
        return new Response(null, { status: 200 });
      }
      case "GetPublicAccessBlock": {
        const b = this.#bucket(bucket);
        if (!b.config.publicAccessBlock) {
          throw new ServiceError(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
            404,
            { extra: { BucketName: bucket } },
          );
        }
        return this.#stored(b.config.publicAccessBlock);
      }
      case "DeletePublicAccessBlock":
        this.#bucket(bucket).config.publicAccessBlock = undefined;
        return new Response(null, { status: 204 });
      case "PutBucketPolicy": {
        const b = this.#bucket(bucket);
        const text = new TextDecoder().decode(this.#payload(h, ctx.body));
        try {
          const v = JSON.parse(text);
          if (typeof v !== "object" || v === null || !text.trim().startsWith("{")) {
            throw new Error();
          }
        } catch {
          throw new ServiceError(
            "MalformedPolicy",
            "Policies must be valid JSON and the first byte must be '{'",
            400,
          );
        }
        b.config.policy = text;
        return new Response(null, { status: 204 });
      }
      case "GetBucketPolicy": {
        const b = this.#bucket(bucket);
        if (!b.config.policy) {
          throw new ServiceError("NoSuchBucketPolicy", "The bucket policy does not exist", 404, {
            extra: { BucketName: bucket },
          });
        }
        return new Response(b.config.policy, { headers: { "content-type": "application/json" } });
      }
      case "DeleteBucketPolicy":
        this.#bucket(bucket).config.policy = undefined;
        return new Response(null, { status: 204 });
      case "PutBucketLifecycleConfiguration": {
        const b = this.#bucket(bucket);
        const data = this.#payload(h, ctx.body);
        const root = parseRoot(data, "LifecycleConfiguration");
        const rules = asList(root.Rule as Record<string, unknown> | Record<string, unknown>[]);
        if (rules.length === 0) throw malformed();
        for (const r of rules) {
          if (r.Status !== "Enabled" && r.Status !== "Disabled") throw malformed();
        }
        b.config.lifecycle = new TextDecoder().decode(data);
        return new Response(null, { status: 200 });
      }
      case "GetBucketLifecycleConfiguration": {
        const b = this.#bucket(bucket);
        if (!b.config.lifecycle) {
          throw new ServiceError(
            "NoSuchLifecycleConfiguration",
            "The lifecycle configuration does not exist",
            404,
            { extra: { BucketName: bucket } },
          );
        }
        return this.#stored(b.config.lifecycle);
      }
      case "DeleteBucketLifecycle":
        this.#bucket(bucket).config.lifecycle = undefined;
        return new Response(null, { status: 204 });
      case "PutBucketVersioning": {
        const b = this.#bucket(bucket);
        const data = this.#payload(h, ctx.body);
        parseRoot(data, "VersioningConfiguration");
        b.config.versioning = new TextDecoder().decode(data);
        return new Response(null, { status: 200 });
      }
      case "GetBucketVersioning": {
        const b = this.#bucket(bucket);
        return this.#stored(b.config.versioning ?? `<VersioningConfiguration xmlns="${NS}"/>`);
      }
      case "PutBucketTagging": {
        const b = this.#bucket(bucket);
        b.tags = this.#parseTagging(this.#payload(h, ctx.body));
        return new Response(null, { status: 204 });
      }
      case "GetBucketTagging": {
        const b = this.#bucket(bucket);
        if (!b.tags) {
          throw new ServiceError("NoSuchTagSet", "The TagSet does not exist", 404, {
            extra: { BucketName: bucket },
          });
        }
        return xmlResponse("Tagging", {
          TagSet: { Tag: Object.entries(b.tags).map(([Key, Value]) => ({ Key, Value })) },
        });
      }
      case "DeleteBucketTagging":
        this.#bucket(bucket).tags = undefined;
        return new Response(null, { status: 204 });
      case "ListObjectsV2":
        return this.#list(bucket, q, true);
      case "ListObjects":
        return this.#list(bucket, q, false);
      case "PutObject":
        return this.#put(bucket, key, h, ctx);
      case "CopyObject":
        return this.#copy(bucket, key, h, ctx);
      case "GetObject":
      case "HeadObject":
        return this.#get(bucket, key, h, op === "HeadObject", ctx);
      case "DeleteObject":
        this.#bucket(bucket).objects.delete(key);
        return new Response(null, { status: 204 });
      case "DeleteObjects":
        return this.#deleteMany(bucket, h, ctx);
      case "PutObjectTagging": {
        const o = this.#object(bucket, key);
        o.tags = this.#parseTagging(this.#payload(h, ctx.body));
        return new Response(null, { status: 200 });
      }
      case "GetObjectTagging": {
        const o = this.#object(bucket, key);
        return xmlResponse("Tagging", {
          TagSet: { Tag: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })) },
        });
      }
      case "DeleteObjectTagging":
        this.#object(bucket, key).tags = {};
        return new Response(null, { status: 204 });
      case "CreateMultipartUpload": {
        this.#bucket(bucket);
        const id = crypto.randomUUID().replaceAll("-", "");
        this.#uploads.set(id, {
          bucket,
          key,
          parts: new Map(),
          contentType: h.get("content-type") ?? "binary/octet-stream",
          metadata: this.#meta(h),
          initiated: new Date(),
        });
        return xmlResponse("InitiateMultipartUploadResult", {
          Bucket: bucket,
          Key: key,
          UploadId: id,
        });
      }
      case "UploadPart": {
        const u = this.#upload(bucket, key, q.get("uploadId")!);
        const n = Number(q.get("partNumber"));
        if (!Number.isInteger(n) || n < 1 || n > 10000) {
          throw new ServiceError(
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
            400,
          );
        }
        const data = this.#payload(h, ctx.body);
        const digest = md5(data);
        const etag = `"${hex(digest)}"`;
        u.parts.set(n, { etag, body: data, md5: digest });
        return new Response(null, { status: 200, headers: { etag } });
      }
      case "ListParts": {
        const u = this.#upload(bucket, key, q.get("uploadId")!);
        return xmlResponse("ListPartsResult", {
          Bucket: bucket,
          Key: key,
          UploadId: q.get("uploadId")!,
          IsTruncated: false,
          Part: [...u.parts].sort((a, b) => a[0] - b[0]).map(([n, p]) => ({
            PartNumber: n,
            ETag: p.etag,
            Size: p.body.length,
          })),
        });
      }
      case "AbortMultipartUpload": {
        this.#upload(bucket, key, q.get("uploadId")!);
        this.#uploads.delete(q.get("uploadId")!);
        return new Response(null, { status: 204 });
      }
      case "CompleteMultipartUpload":
        return this.#complete(bucket, key, q.get("uploadId")!, h, ctx);
      case "ListMultipartUploads": {
        this.#bucket(bucket);
        return xmlResponse("ListMultipartUploadsResult", {
          Bucket: bucket,
          IsTruncated: false,
          Upload: [...this.#uploads].filter(([, u]) => u.bucket === bucket).map(([id, u]) => ({
            Key: u.key,
            UploadId: id,
            Initiated: u.initiated,
          })),
        });
      }
      default:
        throw new ServiceError(
          "NotImplemented",
          "A header or query you provided implies functionality that is not implemented",
          501,
        );
    }
  }

  #stored(doc: string): Response {
    const text = doc.trimStart().startsWith("<?xml") ? doc : XML_DECL + doc;
    return new Response(text, { headers: { "content-type": "application/xml" } });
  }

  #parseTagging(data: Uint8Array): Record<string, string> {
    const root = parseRoot(data, "Tagging");
    const set = root.TagSet as Record<string, unknown> | undefined;
    const tags = asList(
      set?.Tag as { Key: string; Value: string } | { Key: string; Value: string }[] | undefined,
    );
    const out: Record<string, string> = {};
    for (const t of tags) {
      if (typeof t.Key !== "string" || t.Key === "") throw malformed();
      if (t.Key in out) {
        throw new ServiceError("InvalidTag", "Cannot provide multiple Tags with the same key", 400);
      }
      out[t.Key] = typeof t.Value === "string" ? t.Value : "";
    }
    if (Object.keys(out).length > 50) {
      throw new ServiceError("InvalidTag", "Object tags cannot be greater than 50", 400);
    }
    return out;
  }

  #createBucket(name: string, ctx: CallContext): Response {
    checkBucketName(name);
    let constraint = "";
    const text = new TextDecoder().decode(ctx.body).trim();
    if (text) {
      const root = parseRoot(ctx.body, "CreateBucketConfiguration");
      constraint = typeof root.LocationConstraint === "string" ? root.LocationConstraint : "";
    }
    if (this.#region === "us-east-1") {
      if (constraint === "us-east-1") {
        throw new ServiceError(
          "InvalidLocationConstraint",
          "The specified location-constraint is not valid",
          400,
          { extra: { LocationConstraint: constraint } },
        );
      }
      if (constraint) {
        throw new ServiceError(
          "IllegalLocationConstraintException",
          `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
          400,
        );
      }
    } else if (constraint !== this.#region) {
      throw new ServiceError(
        "IllegalLocationConstraintException",
        `The ${
          constraint || "unspecified"
        } location constraint is incompatible for the region specific endpoint this request was sent to.`,
        400,
      );
    }
    if (this.buckets.has(name)) {
      if (this.#region !== "us-east-1") {
        throw new ServiceError(
          "BucketAlreadyOwnedByYou",
          "Your previous request to create the named bucket succeeded and you already own it.",
          409,
          { extra: { BucketName: name } },
        );
      }
      return new Response(null, { status: 200, headers: { location: `/${name}` } });
    }
    this.buckets.set(name, {
      name,
      created: new Date(),
      region: this.#region,
      objects: new Map(),
      config: {},
      visibleAt: this.#region === "us-east-1" ? 0 : Date.now() + this.#visibilityMs,
    });
    return new Response(null, { status: 200, headers: { location: `/${name}` } });
  }

  /**
   * GetObject and HeadObject of a key that does not exist: S3 answers 404
   * `NoSuchKey` only to a caller it allows `s3:ListBucket` on the bucket, and
   * 403 `AccessDenied` to any other ("If you don't have the s3:ListBucket
   * permission, Amazon S3 returns an HTTP status code 403 Forbidden error",
   * Permissions in the S3 API reference's GetObject and HeadObject,
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
   * ListBucket is evaluated in the GetObject request's own context, which
   * holds no `s3:prefix` (a ListObjects request's key): a ListBucket allowed
   * only with a `StringLike` on `s3:prefix` does not match, as a condition on
   * a key absent from the request context is false, except with `…IfExists`
   * ("IAM JSON policy elements: Condition operators",
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
   * The message is S3's plain `Access Denied`: which action S3's message names
   * for this refusal is not documented. Only role sessions are evaluated, as
   * in `#authorize`; a HEAD's error has no body, so its 403 is bare.
   */
  #missingKeyDenied(bucket: string, key: string, ctx: CallContext): void {
    if (this.#bucket(bucket).objects.has(key)) return;
    const list = { action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}`, context: {} };
    if (this.#denial(ctx, list) !== undefined) {
      throw new ServiceError("AccessDenied", "Access Denied", 403);
    }
  }

  #object(bucket: string, key: string): S3Object {
    const o = this.#bucket(bucket).objects.get(key);
    if (!o) {
      throw new ServiceError("NoSuchKey", "The specified key does not exist.", 404, {
        extra: { Key: key },
      });
    }
    return o;
  }

  /**
   * A request's user metadata. S3 limits it to 2 KB, the bytes of every key
   * (without `x-amz-meta-`) and value added up
   * (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html>),
   * and refuses more with 400 `MetadataTooLarge`. A header value holds one
   * byte per character here, as it came on the wire.
   */
  #meta(h: Headers): Record<string, string> {
    const m: Record<string, string> = {};
    let bytes = 0;
    for (const [k, v] of h) {
      if (!k.startsWith("x-amz-meta-")) continue;
      m[k.slice(11)] = v;
      bytes += k.length - 11 + v.length;
    }
    if (bytes > METADATA_MAX_BYTES) {
      throw new ServiceError(
        "MetadataTooLarge",
        "Your metadata headers exceed the maximum allowed metadata size",
        400,
      );
    }
    return m;
  }

  #put(bucket: string, key: string, h: Headers, ctx: CallContext): Response {
    const b = this.#bucket(bucket);
    if (key.length > 1024) throw new ServiceError("KeyTooLongError", "Your key is too long", 400);
    const data = this.#payload(h, ctx.body);
    if (h.get("if-none-match") === "*" && b.objects.has(key)) {
      throw new ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        { extra: { Condition: "If-None-Match" } },
      );
    }
    const ifMatch = h.get("if-match");
    if (ifMatch !== null && b.objects.get(key)?.etag !== ifMatch) {
      throw new ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        { extra: { Condition: "If-Match" } },
      );
    }
    const etag = `"${hex(md5(data))}"`;
    const checksums = this.#checksumsOf(h, data);
    b.objects.set(key, {
      key,
      body: data,
      etag,
      lastModified: new Date(),
      contentType: h.get("content-type") ?? "binary/octet-stream",
      metadata: this.#meta(h),
      checksums,
      bytesServed: 0,
      gets: 0,
      tags: {},
    });
    const headers: Record<string, string> = { etag, "x-amz-server-side-encryption": "AES256" };
    for (const [a, v] of Object.entries(checksums)) headers[`x-amz-checksum-${a}`] = v;
    return new Response(null, { status: 200, headers });
  }

  #copy(bucket: string, key: string, h: Headers, ctx: CallContext): Response {
    const b = this.#bucket(bucket);
    const src = decodeURIComponent(h.get("x-amz-copy-source")!.replace(/^\//, ""));
    const i = src.indexOf("/");
    // CopyObject also needs s3:GetObject on the source object.
    this.#authorize(ctx, {
      action: "s3:GetObject",
      resource: `arn:aws:s3:::${src.split("?")[0]}`,
    });
    const o = this.#object(src.slice(0, i), src.slice(i + 1).split("?")[0]!);
    const copy: S3Object = {
      ...o,
      key,
      lastModified: new Date(),
      bytesServed: 0,
      gets: 0,
      tags: { ...o.tags },
    };
    if (h.get("x-amz-metadata-directive") === "REPLACE") {
      copy.metadata = this.#meta(h);
      copy.contentType = h.get("content-type") ?? copy.contentType;
    }
    b.objects.set(key, copy);
    return xmlResponse("CopyObjectResult", { ETag: copy.etag, LastModified: copy.lastModified });
  }

  #get(bucket: string, key: string, h: Headers, head: boolean, ctx: CallContext): Response {
    this.#missingKeyDenied(bucket, key, ctx);
    const o = this.#object(bucket, key);
    const size = o.body.length;
    const headers: Record<string, string> = {
      etag: o.etag,
      "last-modified": httpDate(o.lastModified),
      "content-type": o.contentType,
      "accept-ranges": "bytes",
      "x-amz-server-side-encryption": "AES256",
    };
    for (const [k, v] of Object.entries(o.metadata)) headers[`x-amz-meta-${k}`] = v;
    if (h.get("x-amz-checksum-mode") === "ENABLED" && !h.has("range")) {
      for (const [a, v] of Object.entries(o.checksums)) headers[`x-amz-checksum-${a}`] = v;
    }
    const inm = h.get("if-none-match");
    if (inm !== null && inm === o.etag) return new Response(null, { status: 304, headers });
    const im = h.get("if-match");
    if (im !== null && im !== o.etag) {
      throw new ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        { extra: { Condition: "If-Match" } },
      );
    }
    const range = h.get("range");
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range) {
      const m = range.match(/^bytes=([0-9]*)-([0-9]*)$/);
      if (m && (m[1] !== "" || m[2] !== "")) {
        if (m[1] === "") {
          start = Math.max(0, size - Number(m[2]));
        } else {
          start = Number(m[1]);
          end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
        }
        if (start >= size || start > end) {
          throw new ServiceError("InvalidRange", "The requested range is not satisfiable", 416, {
            extra: { RangeRequested: range, ActualObjectSize: String(size) },
          });
        }
        status = 206;
        headers["content-range"] = `bytes ${start}-${end}/${size}`;
      }
    }
    const slice = o.body.subarray(start, end + 1);
    headers["content-length"] = String(slice.length);
    if (head) return new Response(null, { status, headers });
    o.bytesServed += slice.length;
    o.gets++;
    return new Response(slice.slice() as Uint8Array<ArrayBuffer>, { status, headers });
  }

  #list(bucket: string, q: URLSearchParams, v2: boolean): Response {
    const b = this.#bucket(bucket);
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const maxKeysRaw = q.get("max-keys");
    const maxKeys = maxKeysRaw === null ? 1000 : Number(maxKeysRaw);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      throw new ServiceError(
        "InvalidArgument",
        "Provided max-keys not an integer or within integer range",
        400,
      );
    }
    const url = q.get("encoding-type") === "url";
    if (q.has("encoding-type") && !url) {
      throw new ServiceError(
        "InvalidArgument",
        "Invalid Encoding Method specified in Request",
        400,
      );
    }
    const enc = (s: string) => (url ? encodeURIComponent(s).replace(/%2F/g, "/") : s);
    let after = "";
    const token = q.get("continuation-token");
    if (v2 && token !== null) {
      try {
        after = new TextDecoder().decode(Uint8Array.from(atob(token), (c) => c.charCodeAt(0)));
      } catch {
        throw new ServiceError(
          "InvalidArgument",
          "The continuation token provided is incorrect",
          400,
        );
      }
    } else if (v2) after = q.get("start-after") ?? "";
    else after = q.get("marker") ?? "";
    const keys = [...b.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const contents: S3Object[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last = "";
    for (const k of keys) {
      let entry = k;
      let isPrefix = false;
      if (delimiter) {
        const i = k.indexOf(delimiter, prefix.length);
        if (i >= 0) {
          entry = k.slice(0, i + delimiter.length);
          isPrefix = true;
        }
      }
      if (isPrefix && prefixes.includes(entry)) continue;
      if (isPrefix && entry <= after) continue;
      // S3 API reference, ListObjectsV2, max-keys
      // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html): "By default,
      // the action returns up to 1,000 key names. The response might contain fewer keys but will
      // never contain more." A larger max-keys still gets at most 1,000 keys and prefixes.
      if (contents.length + prefixes.length >= Math.min(maxKeys, 1000)) {
        truncated = true;
        break;
      }
      if (isPrefix) prefixes.push(entry);
      else contents.push(b.objects.get(k)!);
      last = isPrefix ? entry : k;
    }
    const node: XmlNode = {
      Name: bucket,
      Prefix: enc(prefix),
    };
    if (v2) {
      node.KeyCount = contents.length + prefixes.length;
      if (token !== null) node.ContinuationToken = token;
      if (q.has("start-after")) node.StartAfter = enc(q.get("start-after")!);
    } else {
      node.Marker = enc(q.get("marker") ?? "");
    }
    node.MaxKeys = maxKeys;
    if (delimiter) node.Delimiter = enc(delimiter);
    if (url) node.EncodingType = "url";
    node.IsTruncated = truncated;
    if (truncated) {
      if (v2) {
        node.NextContinuationToken = btoa(String.fromCharCode(...new TextEncoder().encode(last)));
      } else if (delimiter) node.NextMarker = enc(last);
    }
    node.Contents = contents.map((o) => ({
      Key: enc(o.key),
      LastModified: o.lastModified,
      ETag: o.etag,
      Size: o.body.length,
      StorageClass: "STANDARD",
    }));
    node.CommonPrefixes = prefixes.map((p) => ({ Prefix: enc(p) }));
    return xmlResponse("ListBucketResult", node);
  }

  #deleteMany(bucket: string, h: Headers, ctx: CallContext): Response {
    const b = this.#bucket(bucket);
    if (
      !h.has("content-md5") && ![...h.keys()].some((k) => k.startsWith("x-amz-checksum-")) &&
      !h.has("x-amz-trailer")
    ) {
      throw new ServiceError(
        "InvalidRequest",
        "Missing required header for this request: Content-MD5",
        400,
      );
    }
    const data = this.#payload(h, ctx.body);
    const root = parseRoot(data, "Delete");
    const objects = asList(root.Object as { Key: string } | { Key: string }[] | undefined);
    if (objects.length === 0 || objects.length > 1000) throw malformed();
    const quiet = root.Quiet === "true";
    const deleted: XmlNode[] = [];
    const errors: XmlNode[] = [];
    for (const o of objects) {
      if (typeof o.Key !== "string") throw malformed();
      // DeleteObjects needs s3:DeleteObject on each key; a denied key is an
      // error of the result, the others are deleted.
      const denied = this.#denial(ctx, {
        action: "s3:DeleteObject",
        resource: `arn:aws:s3:::${bucket}/${o.Key}`,
      });
      if (denied !== undefined) {
        errors.push({ Key: o.Key, Code: "AccessDenied", Message: denied });
        continue;
      }
      b.objects.delete(o.Key);
      if (!quiet) deleted.push({ Key: o.Key });
    }
    return xmlResponse("DeleteResult", {
      Deleted: deleted,
      ...(errors.length > 0 ? { Error: errors } : {}),
    });
  }

  #upload(bucket: string, key: string, id: string): Upload {
    this.#bucket(bucket);
    const u = this.#uploads.get(id);
    if (!u || u.bucket !== bucket || u.key !== key) {
      throw new ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        404,
        { extra: { UploadId: id } },
      );
    }
    return u;
  }

  #complete(bucket: string, key: string, id: string, h: Headers, ctx: CallContext): Response {
    const u = this.#upload(bucket, key, id);
    const data = this.#payload(h, ctx.body);
    const root = parseRoot(data, "CompleteMultipartUpload");
    const parts = asList(
      root.Part as
        | { PartNumber: string; ETag: string }
        | { PartNumber: string; ETag: string }[]
        | undefined,
    );
    if (parts.length === 0) throw malformed();
    let prev = 0;
    const chosen: { body: Uint8Array; md5: Uint8Array }[] = [];
    for (const [i, p] of parts.entries()) {
      const n = Number(p.PartNumber);
      if (n <= prev) {
        throw new ServiceError(
          "InvalidPartOrder",
          "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
          400,
        );
      }
      prev = n;
      const stored = u.parts.get(n);
      const etag = String(p.ETag).startsWith('"') ? p.ETag : `"${p.ETag}"`;
      if (!stored || stored.etag !== etag) {
        throw new ServiceError(
          "InvalidPart",
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          400,
        );
      }
      if (i < parts.length - 1 && stored.body.length < MIN_PART) {
        throw new ServiceError(
          "EntityTooSmall",
          "Your proposed upload is smaller than the minimum allowed object size.",
          400,
        );
      }
      chosen.push(stored);
    }
    const total = chosen.reduce((n, c) => n + c.body.length, 0);
    const body = new Uint8Array(total);
    let off = 0;
    for (const c of chosen) {
      body.set(c.body, off);
      off += c.body.length;
    }
    const md5s = new Uint8Array(chosen.length * 16);
    chosen.forEach((c, i) => md5s.set(c.md5, i * 16));
    const etag = `"${hex(md5(md5s))}-${chosen.length}"`;
    const b = this.#bucket(bucket);
    b.objects.set(key, {
      key,
      body,
      etag,
      lastModified: new Date(),
      contentType: u.contentType,
      metadata: u.metadata,
      checksums: {},
      bytesServed: 0,
      gets: 0,
      tags: {},
    });
    this.#uploads.delete(id);
    return xmlResponse("CompleteMultipartUploadResult", {
      Location: `http://${ctx.headers.get("host")}/${bucket}/${encodeURIComponent(key)}`,
      Bucket: bucket,
      Key: key,
      ETag: etag,
    });
  }
}
