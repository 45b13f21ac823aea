/**
 * The restXml protocol pieces S3 needs: object-key paths, XML bodies, the
 * request checksum S3 requires on configuration calls, and error decoding.
 *
 * @module
 */
import type { ErrorInfo } from "../core/request.ts";
import { encodeRfc3986 } from "../core/request.ts";
import { child, escapeXml, parseXml, text, type XmlNode } from "./xml.ts";

/** The S3 XML namespace. */
export const S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";

/**
 * Encodes an object key as a path, one segment at a time, so `/` stays a
 * separator and everything else (including `+`) is percent-encoded.
 *
 * @example Usage
 * ```ts ignore
 * keyPath("dir/a b+c.txt"); // "/dir/a%20b%2Bc.txt"
 * ```
 *
 * @param key The object key.
 * @returns The path, starting with `/`.
 */
export function keyPath(key: string): string {
  return "/" + key.split("/").map(encodeRfc3986).join("/");
}

/** An XML element to write: name, then text or children. */
export type XmlElement = [name: string, content: string | number | boolean | XmlElement[]];

/**
 * Writes an XML document with one root element in the S3 namespace.
 *
 * @example Usage
 * ```ts ignore
 * toXml(["Tagging", [["TagSet", [["Tag", [["Key", "a"], ["Value", "b"]]]]]]]);
 * ```
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
 * @example Usage
 * ```ts ignore
 * await checksumHeaders("<Tagging/>");
 * ```
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
 * @example Usage
 * ```ts ignore
 * parseS3Error(404, new Headers({ "x-amz-request-id": "r" }), "");
 * // { code: "NotFound", message: "...", requestId: "r" }
 * ```
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
