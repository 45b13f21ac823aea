/**
 * Loopback servers for the aws layer tests, and an independent SigV4 check
 * of what they receive (`@smithy/signature-v4`, not aws4fetch).
 *
 * @module
 */
import { HttpRequest, Sha256Js, SignatureV4 } from "./deps.ts";

/** Runs `fn` with a server on 127.0.0.1 and shuts it down afterwards. */
export async function withServer<T>(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (url: string) => Promise<T>,
): Promise<T> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    return await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

/** What {@linkcode verifySigV4} found. */
export interface SigV4Check {
  accessKeyId: string;
  region: string;
  service: string;
  signedHeaders: string[];
  valid: boolean;
}

/**
 * Re-signs a received request with `@smithy/signature-v4` and compares the
 * signature with the one in its Authorization header.
 */
export async function verifySigV4(
  req: Request,
  body: string | Uint8Array,
  secretAccessKey: string,
): Promise<SigV4Check> {
  const auth = req.headers.get("authorization") ?? "";
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]*)\/([^/]*)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/
      .exec(auth);
  if (!m) throw new Error(`Not a SigV4 Authorization header: ${auth}`);
  const [, accessKeyId, , region, service, signedHeaderList, signature] = m;
  const signedHeaders = signedHeaderList!.split(";");
  const url = new URL(req.url);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    headers[name] = name === "host" ? url.host : req.headers.get(name) ?? "";
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const amzDate = req.headers.get("x-amz-date")!;
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${
      amzDate.slice(11, 13)
    }:${amzDate.slice(13, 15)}Z`,
  );
  const request = new HttpRequest({
    method: req.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers,
    body,
  });
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: accessKeyId!,
      secretAccessKey,
      ...(req.headers.get("x-amz-security-token")
        ? { sessionToken: req.headers.get("x-amz-security-token")! }
        : {}),
    },
    region: region!,
    service: service!,
    sha256: Sha256Js,
    applyChecksum: false,
    uriEscapePath: service !== "s3",
  });
  const signed = await signer.sign(request, { signingDate });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers["authorization"]))?.[1];
  return {
    accessKeyId: accessKeyId!,
    region: region!,
    service: service!,
    signedHeaders,
    valid: expected === signature,
  };
}
