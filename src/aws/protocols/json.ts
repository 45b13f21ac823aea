/**
 * The JSON protocols: awsJson1_1 (ECR, CloudWatch Logs) and restJson1
 * (Batch), with their error decoding.
 *
 * @module
 */
import type { ErrorInfo, HttpRequestSpec, OperationInfo } from "../core/request.ts";
import type { Protocol } from "./client.ts";

/**
 * The error code of a JSON error: the `x-amzn-ErrorType` header, then the
 * body's `__type`, then `code`, with any `namespace#` prefix and `:suffix`
 * removed.
 *
 * @param status The HTTP status.
 * @param headers The response headers.
 * @param body The response body.
 * @returns The decoded error.
 */
export function parseJsonError(status: number, headers: Headers, body: string): ErrorInfo {
  let data: Record<string, unknown> = {};
  try {
    const parsed = body.trim() ? JSON.parse(body) : {};
    if (parsed && typeof parsed === "object") data = parsed;
  } catch {
    // not JSON: fall back to the status
  }
  const raw = headers.get("x-amzn-errortype") ??
    (typeof data.__type === "string" ? data.__type : undefined) ??
    (typeof data.code === "string" ? data.code : undefined) ??
    (typeof data.Code === "string" ? data.Code : undefined);
  const code = raw ? sanitizeCode(raw) : `Http${status}`;
  const message = typeof data.message === "string"
    ? data.message
    : typeof data.Message === "string"
    ? data.Message
    : typeof data.errorMessage === "string"
    ? data.errorMessage
    : body.slice(0, 200);
  const requestId = headers.get("x-amzn-requestid") ?? undefined;
  return { code, message, ...(requestId ? { requestId } : {}) };
}

function sanitizeCode(raw: string): string {
  let code = raw;
  if (code.includes(":")) code = code.split(":")[0]!;
  if (code.includes("#")) code = code.slice(code.lastIndexOf("#") + 1);
  return code.trim();
}

/** An awsJson1_1 service's constants. */
export interface JsonServiceInfo {
  /** The `X-Amz-Target` prefix, e.g. `AmazonEC2ContainerRegistry_V20150921`. */
  targetPrefix: string;
  /** Response member names whose numbers are epoch seconds (turned into `Date`s). */
  timestamps?: ReadonlySet<string>;
}

function reviveTimestamps(value: unknown, keys: ReadonlySet<string> | undefined): unknown {
  if (!keys || keys.size === 0) return value;
  if (Array.isArray(value)) return value.map((v) => reviveTimestamps(v, keys));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = keys.has(k) && typeof v === "number"
        ? new Date(Math.round(v * 1000))
        : reviveTimestamps(v, keys);
    }
    return out;
  }
  return value;
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  return text.trim() ? JSON.parse(text) : {};
}

/**
 * The awsJson1_1 protocol of one service: `POST /` with `X-Amz-Target` and a
 * JSON body; epoch-second timestamps in the response become `Date`s.
 *
 * @param service The protocol constants.
 * @returns The protocol.
 */
export function jsonProtocol(service: JsonServiceInfo): Protocol {
  return {
    request: (operation, input) => ({
      method: "POST",
      path: "/",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `${service.targetPrefix}.${operation.name}`,
      },
      body: JSON.stringify(input ?? {}),
    }),
    response: async (_, res) => reviveTimestamps(await readJson(res), service.timestamps),
    parseError: parseJsonError,
  };
}

/** A restJson1 operation as data. */
export interface RestJsonOperation extends OperationInfo {
  /** The HTTP method. */
  method: "GET" | "POST" | "DELETE" | "PUT";
  /** The path template, e.g. `/v1/tags/{resourceArn}`. */
  path: string;
  /** Input members sent as query parameters (lists repeat the key). */
  query?: Readonly<Record<string, string>>;
  /** Input members sent as headers, by header name. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Builds a restJson1 request: path labels and query members are taken out of
 * the input, the rest is the JSON body (none for GET and DELETE).
 *
 * @param operation The operation.
 * @param input The request members.
 * @returns The request spec.
 */
export function restJsonRequest(
  operation: RestJsonOperation,
  input: Record<string, unknown>,
): HttpRequestSpec {
  const rest: Record<string, unknown> = { ...input };
  const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(String(value ?? ""));
  });
  const query: [string, string][] = [];
  for (const [member, key] of Object.entries(operation.query ?? {})) {
    const value = rest[member];
    delete rest[member];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) query.push([key, String(v)]);
  }
  const headers: Record<string, string> = {};
  for (const [member, name] of Object.entries(operation.headers ?? {})) {
    const value = rest[member];
    delete rest[member];
    if (value !== undefined) headers[name] = String(value);
  }
  const spec: HttpRequestSpec = { method: operation.method, path, query };
  if (operation.method === "POST" || operation.method === "PUT") {
    headers["content-type"] = "application/json";
    spec.body = JSON.stringify(rest);
  }
  if (Object.keys(headers).length > 0) spec.headers = headers;
  return spec;
}

/**
 * The restJson1 protocol (Batch, the SSO portal): path labels, query and
 * header members come out of the input, the rest is the JSON body.
 */
export const REST_JSON: Protocol<RestJsonOperation> = {
  request: (operation, input) => restJsonRequest(operation, input as Record<string, unknown>),
  response: (_, res) => readJson(res),
  parseError: parseJsonError,
};
