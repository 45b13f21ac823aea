/**
 * The query protocols: awsQuery (IAM, STS) and ec2Query (EC2). Requests are
 * form bodies (`Action`, `Version`, flattened members); responses are XML
 * decoded with per-service shape hints.
 *
 * @module
 */
import type { ErrorInfo } from "../core/request.ts";
import type { Protocol } from "./client.ts";
import { child, decodeXml, parseXml, type ShapeHints, text, type XmlNode } from "./xml.ts";

/** A query-protocol service's constants and shape data. */
export interface QueryServiceInfo {
  /** The API version sent as `Version`. */
  version: string;
  /** Whether this is the EC2 dialect (lists as `Name.N`, no result wrapper). */
  ec2?: boolean;
  /** How to decode response XML. */
  hints: ShapeHints;
  /** Request member name to wire name, where they differ (EC2 `SubnetIds` → `SubnetId`). */
  requestRenames?: Readonly<Record<string, string>>;
  /** Request members that are maps (`Name.entry.N.key` / `.value`). */
  maps?: ReadonlySet<string>;
  /** Response members the wire carries but an operation's output does not model, by operation. */
  unmodeled?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Flattens request members into form pairs the way the query protocols do.
 *
 * @param input The request members.
 * @param service The service's dialect.
 * @returns The form pairs, without `Action` and `Version`.
 */
export function serializeQuery(input: unknown, service: QueryServiceInfo): [string, string][] {
  const out: [string, string][] = [];
  walk(input, "", service, out);
  return out;
}

function scalarString(value: unknown): string {
  if (value instanceof Date) return value.toISOString().replace(/\.000Z$/, "Z");
  return String(value);
}

function walk(value: unknown, prefix: string, service: QueryServiceInfo, out: [string, string][]) {
  if (value === undefined || value === null) return;
  if (typeof value !== "object" || value instanceof Date) {
    out.push([prefix, scalarString(value)]);
    return;
  }
  for (const [member, memberValue] of Object.entries(value)) {
    if (memberValue === undefined || memberValue === null) continue;
    const wire = service.requestRenames?.[member] ?? member;
    const name = prefix ? `${prefix}.${wire}` : wire;
    if (Array.isArray(memberValue)) {
      if (memberValue.length === 0) {
        if (!service.ec2) out.push([name, ""]);
        continue;
      }
      memberValue.forEach((item, i) => {
        walk(item, service.ec2 ? `${name}.${i + 1}` : `${name}.member.${i + 1}`, service, out);
      });
    } else if (service.maps?.has(member) && typeof memberValue === "object") {
      Object.entries(memberValue as Record<string, unknown>).forEach(([k, v], i) => {
        out.push([`${name}.entry.${i + 1}.key`, k]);
        walk(v, `${name}.entry.${i + 1}.value`, service, out);
      });
    } else {
      walk(memberValue, name, service, out);
    }
  }
}

/**
 * Decodes a query-protocol error: `<ErrorResponse><Error><Code>` (awsQuery)
 * or `<Response><Errors><Error><Code>` (EC2).
 *
 * @param status The HTTP status.
 * @param headers The response headers.
 * @param body The response body.
 * @returns The decoded error.
 */
export function parseQueryError(status: number, headers: Headers, body: string): ErrorInfo {
  let doc: Record<string, XmlNode[]> = {};
  try {
    doc = parseXml(body);
  } catch {
    // not XML
  }
  const errorResponse = child(doc, "ErrorResponse");
  const ec2Response = child(doc, "Response");
  const error = errorResponse !== undefined
    ? child(errorResponse, "Error")
    : ec2Response !== undefined
    ? child(child(ec2Response, "Errors"), "Error")
    : child(doc, "Error");
  const requestId = text(errorResponse, "RequestId") ?? text(ec2Response, "RequestID") ??
    text(ec2Response, "RequestId") ?? text(error, "RequestId") ??
    headers.get("x-amzn-requestid") ?? undefined;
  return {
    code: text(error, "Code") || `Http${status}`,
    message: text(error, "Message") ?? body.slice(0, 200),
    ...(requestId ? { requestId } : {}),
  };
}

/**
 * Decodes a successful query-protocol response body.
 *
 * @param operation The operation name.
 * @param body The XML body.
 * @param service The service's dialect and hints.
 * @returns The decoded output members.
 */
export function parseQueryResponse(
  operation: string,
  body: string,
  service: QueryServiceInfo,
): Record<string, unknown> {
  if (!body.trim()) return {};
  const doc = parseXml(body);
  const root = child(doc, `${operation}Response`);
  if (service.ec2) {
    const out = decodeXml(root, service.hints);
    delete out.RequestId;
    for (const member of service.unmodeled?.[operation] ?? []) delete out[member];
    return out;
  }
  return decodeXml(child(root, `${operation}Result`), service.hints);
}

/** The hints that are sets of element names. */
type HintSets = "lists" | "maps" | "numbers" | "booleans" | "timestamps";

/** Shape hints as data (`*.generated.json`): arrays of element names where {@linkcode ShapeHints} has sets. */
export type ShapeHintsData =
  & Omit<ShapeHints, HintSets>
  & {
    [K in HintSets]?: readonly string[];
  };

/**
 * The shape hints that hints as data describe.
 *
 * @param data The hints as data, e.g. from a service's `*.generated.json`.
 * @returns The hints.
 */
export function shapeHints(data: ShapeHintsData): ShapeHints {
  const hints: Record<string, unknown> = { ...data };
  for (const kind of ["lists", "maps", "numbers", "booleans", "timestamps"] satisfies HintSets[]) {
    if (data[kind]) hints[kind] = new Set(data[kind]);
  }
  return hints as unknown as ShapeHints;
}

/**
 * The query protocol of one service: a form body with `Action`, `Version`
 * and the flattened input; an XML response decoded with the service's hints.
 *
 * @param service The dialect and hints.
 * @returns The protocol.
 */
export function queryProtocol(service: QueryServiceInfo): Protocol {
  return {
    request: (operation, input) => ({
      method: "POST",
      path: "/",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body: new URLSearchParams([
        ["Action", operation.name],
        ["Version", service.version],
        ...serializeQuery(input, service),
      ]).toString(),
    }),
    response: async (operation, res) =>
      parseQueryResponse(operation.name, await res.text(), service),
    parseError: parseQueryError,
  };
}
