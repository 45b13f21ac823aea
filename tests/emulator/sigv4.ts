/**
 * SigV4 verification with an independent signer (`@smithy/signature-v4`).
 *
 * @module
 */
import { Sha256, SignatureV4 } from "./deps.ts";

/** The parts of an `Authorization: AWS4-HMAC-SHA256 …` header. */
export interface ParsedAuthorization {
  /** The access key id. */
  accessKeyId: string;
  /** The scope date, `YYYYMMDD`. */
  scopeDate: string;
  /** The scope region. */
  region: string;
  /** The scope service. */
  service: string;
  /** The signed header names, lower case, as listed. */
  signedHeaders: string[];
  /** The hex signature. */
  signature: string;
}

/**
 * Parses a SigV4 `Authorization` header; undefined when it is not one.
 *
 * @example Usage
 * ```ts ignore
 * parseAuthorization("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/batch/aws4_request, SignedHeaders=host, Signature=ab");
 * ```
 */
export function parseAuthorization(header: string | null): ParsedAuthorization | undefined {
  if (!header) return undefined;
  const m = header.match(
    /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/([0-9]{8})\/([^/,\s]*)\/([^/,\s]*)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/,
  );
  if (!m) return undefined;
  return {
    accessKeyId: m[1]!,
    scopeDate: m[2]!,
    region: m[3]!,
    service: m[4]!,
    signedHeaders: m[5]!.split(";"),
    signature: m[6]!,
  };
}

/**
 * Parses an `X-Amz-Date` value (`20240102T030405Z`) into a Date.
 *
 * @example Usage
 * ```ts ignore
 * parseAmzDate("20240102T030405Z");
 * ```
 */
export function parseAmzDate(value: string | null): Date | undefined {
  const m = value?.match(/^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$/);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** The request as it arrived on the wire. */
export interface WireRequest {
  /** The HTTP method. */
  method: string;
  /** The raw (still percent-encoded) path. */
  path: string;
  /** The raw query string without `?`. */
  rawQuery: string;
  /** The headers. */
  headers: Headers;
  /** The body bytes. */
  body: Uint8Array;
}

/**
 * Splits a raw query string into decoded pairs without treating `+` as a
 * space (SigV4 canonicalisation).
 *
 * @example Usage
 * ```ts ignore
 * rawQueryPairs("a=1&b"); // [["a","1"],["b",""]]
 * ```
 */
export function rawQueryPairs(rawQuery: string): [string, string][] {
  if (!rawQuery) return [];
  return rawQuery.split("&").filter((p) => p !== "").map((p) => {
    const i = p.indexOf("=");
    const k = i < 0 ? p : p.slice(0, i);
    const v = i < 0 ? "" : p.slice(i + 1);
    return [safeDecode(k), safeDecode(v)];
  });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Computes the signature the client should have sent, with smithy's signer,
 * using exactly the header names the client listed in `SignedHeaders`.
 *
 * @example Usage
 * ```ts ignore
 * const sig = await expectedSignature(wire, auth, { secretAccessKey: "s" });
 * ```
 */
export async function expectedSignature(
  wire: WireRequest,
  auth: ParsedAuthorization,
  credentials: { secretAccessKey: string; sessionToken?: string },
): Promise<string> {
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
    },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: auth.service !== "s3",
  });
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = wire.headers.get(name);
    if (v !== null) headers[name] = v;
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of rawQueryPairs(wire.rawQuery)) {
    const prev = query[k];
    if (prev === undefined) query[k] = v;
    else query[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const host = wire.headers.get("host") ?? "127.0.0.1";
  const [hostname, port] = host.split(":");
  const date = parseAmzDate(wire.headers.get("x-amz-date"))!;
  const signed = await signer.sign({
    method: wire.method,
    protocol: "http:",
    hostname: hostname!,
    port: port ? Number(port) : undefined,
    path: wire.path,
    query,
    headers,
    body: wire.body.length > 0 ? wire.body : undefined,
  }, { signingDate: date, signableHeaders: new Set(auth.signedHeaders) });
  const authz = String(signed.headers["authorization"] ?? signed.headers["Authorization"] ?? "");
  const got = parseAuthorization(authz);
  if (!got) return "";
  if (got.signedHeaders.join(";") !== auth.signedHeaders.join(";")) return "";
  return got.signature;
}

/**
 * Hex SHA-256 of bytes.
 *
 * @example Usage
 * ```ts ignore
 * await sha256Hex(new Uint8Array());
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
