/**
 * The restXml protocol as S3 speaks it: each operation carries its own
 * request builder and response reader (S3 maps members to paths, query
 * parameters, headers and XML one operation at a time), plus the pieces they
 * share: object-key paths, XML bodies, the request checksum S3 requires on
 * configuration calls, and error decoding.
 *
 * @module
 */
import { AwsError } from "../core/error.ts";
import {
  encodeRfc3986,
  type ErrorInfo,
  type HttpRequestSpec,
  type OperationInfo,
} from "../core/request.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import type { Protocol } from "./client.ts";
import { child, escapeXml, parseXml, text, type XmlNode } from "./xml.ts";

/** An S3 operation as data: its name, its idempotency, and how it maps input and output. */
export interface S3Operation<I = never, O = unknown> extends OperationInfo {
  /** Builds the request; `region` is the session's (CreateBucket's location constraint). */
  request(input: I, region: string): HttpRequestSpec | Promise<HttpRequestSpec>;
  /** Reads a successful response. */
  response(response: Response, operation: OperationInfo): Promise<O>;
}

/**
 * The restXml protocol: runs each operation's own request builder and
 * response reader.
 */
export const REST_XML: Protocol<S3Operation> = {
  // S3 is regional: its signing region is the session's region.
  request: (operation, input, http) =>
    operation.request(input as never, http.endpoint.signingRegion),
  response: (operation, res) => operation.response(res, operation),
  parseError: parseS3Error,
};

/**
 * Reads an XML response body and returns its root element; S3 can answer 200
 * and still fail (CompleteMultipartUpload), so an `<Error>` root is thrown as
 * an {@linkcode AwsError}.
 *
 * @param res The response.
 * @param operation The operation, named in the error.
 * @returns The root element, or `undefined` for an empty body.
 * @throws {AwsError} When the body is an S3 error.
 */
export async function readXml(
  res: Response,
  operation: OperationInfo,
): Promise<XmlNode | undefined> {
  const body = await res.text();
  if (!body.trim()) return undefined;
  const doc = parseXml(body);
  if (child(doc, "Error") !== undefined) {
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

/** The S3 XML namespace. */
export const S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";

/**
 * Encodes an object key as a path, one segment at a time, so `/` stays a
 * separator and everything else (including `+`) is percent-encoded.
 *
 * A key with a `.` or `..` segment (`a/../b/./c`) is refused: the URL
 * Standard, which `fetch` and the signer (aws4fetch) parse every URL with,
 * removes such segments, and removes them percent-encoded too (`%2E` and
 * `%2e%2E` are dot segments to it), so the request would read or write
 * another object (`b/c`) on S3, which takes the path as it is (the Rust SDK
 * tests that `a/.././b.txt` is sent unchanged: aws-sdk-s3
 * tests/normalize-uri-path.rs). Sending it would need an HTTP client and a
 * signer that keep the raw path.
 *
 * @param key The object key.
 * @returns The path, starting with `/`.
 * @throws {CloudknotInputError} For a key with a `.` or `..` segment.
 */
export function keyPath(key: string): string {
  const segments = key.split("/");
  if (segments.some((s) => s === "." || s === "..")) {
    const rewritten = new URL(`http://h/${segments.join("/")}`).pathname.slice(1);
    throw new CloudknotInputError(
      `S3 key "${key}" has a "." or ".." segment, which URL normalisation would rewrite ` +
        `(to "${rewritten}"), so another object would be read or written: ` +
        `use a key without such segments`,
      { field: "Key" },
    );
  }
  return "/" + segments.map(encodeRfc3986).join("/");
}

/** An XML element to write: name, then text or children. */
export type XmlElement = [name: string, content: string | number | boolean | XmlElement[]];

/**
 * Writes an XML document with one root element in the S3 namespace.
 *
 * @param root The root element.
 * @returns The XML text.
 */
export function toXml(root: XmlElement): string {
  const write = ([name, content]: XmlElement, attrs = ""): string =>
    Array.isArray(content)
      ? `<${name}${attrs}>${content.map((c) => write(c)).join("")}</${name}>`
      : `<${name}${attrs}>${escapeXml(String(content))}</${name}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>` + write(root, ` xmlns="${S3_XMLNS}"`);
}

/**
 * The `x-amz-checksum-sha256` headers S3 accepts in place of `Content-MD5`
 * on calls that require a body checksum.
 *
 * @param body The request body.
 * @returns The headers to add.
 */
export async function checksumHeaders(
  body: string | Uint8Array<ArrayBuffer>,
): Promise<Record<string, string>> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let binary = "";
  for (const b of digest) binary += String.fromCharCode(b);
  return { "x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": btoa(binary) };
}

const STATUS_CODES: Record<number, string> = {
  301: "PermanentRedirect",
  304: "NotModified",
  307: "TemporaryRedirect",
  400: "BadRequest",
  403: "Forbidden",
  404: "NotFound",
  412: "PreconditionFailed",
};

/**
 * Decodes an S3 error: `<Error><Code>`; HEAD errors have no body and get a
 * code from the status (`NotFound`, `Forbidden`, …).
 *
 * @param status The HTTP status.
 * @param headers The response headers.
 * @param body The response body.
 * @returns The decoded error.
 */
export function parseS3Error(status: number, headers: Headers, body: string): ErrorInfo {
  let error: XmlNode | undefined;
  if (body.trim()) {
    try {
      error = child(parseXml(body), "Error");
    } catch {
      // not XML
    }
  }
  const requestId = text(error, "RequestId") ?? headers.get("x-amz-request-id") ?? undefined;
  const code = text(error, "Code") || STATUS_CODES[status] || `Http${status}`;
  let message = text(error, "Message") ?? (body.trim() ? body.slice(0, 200) : `HTTP ${status}`);
  const region = headers.get("x-amz-bucket-region");
  if ((status === 301 || status === 307) && region) {
    message += `; the bucket is in ${region}, use that region`;
  }
  return { code, message, ...(requestId ? { requestId } : {}) };
}
