/**
 * Shared helpers for the aws layer tests: capture the request the official
 * AWS SDK v3 sends, feed it canned responses, record the requests our
 * session sends, and compare the two.
 *
 * @module
 */
import assert from "node:assert/strict";
import { XMLParser } from "./deps.ts";
import { HttpResponse } from "./deps.ts";
import type { HttpRequest } from "./deps.ts";
import { AwsSession, type AwsSessionOptions } from "../../src/aws/mod.ts";
import { createClient } from "../../src/aws/protocols/client.ts";
import { AwsHttpClient } from "../../src/aws/core/request.ts";
import { resolveEndpoint, SERVICES } from "../../src/aws/core/endpoints.ts";
import { type Sso, SSO_SERVICE } from "../../src/aws/services/sso.ts";

/** Fixed test credentials. */
export const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
/** The region both sides use. */
export const REGION = "eu-west-1";

// deno-lint-ignore no-explicit-any
type AnyClient = any;
// deno-lint-ignore no-explicit-any
type AnyCtor = new (config: any) => AnyClient;

/**
 * Captures the HTTP request an SDK client would send for a command.
 */
export async function sdkRequest(
  Client: AnyCtor,
  command: unknown,
  extra: object = {},
): Promise<HttpRequest> {
  let captured: HttpRequest | undefined;
  const client = new Client({
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...extra,
    requestHandler: {
      handle: (r: HttpRequest) => {
        captured = r;
        return Promise.resolve({
          response: new HttpResponse({ statusCode: 200, headers: {}, body: new Uint8Array() }),
        });
      },
    },
  });
  await client.send(command).catch(() => {});
  client.destroy?.();
  if (!captured) throw new Error("The SDK sent no request");
  return captured;
}

/**
 * Runs an SDK command against a canned response and returns its output or error.
 */
export async function sdkParse(
  Client: AnyCtor,
  command: unknown,
  response: { status: number; headers: Record<string, string>; body: string },
  extra: object = {},
): Promise<{ output?: Record<string, unknown>; error?: Record<string, unknown> }> {
  const client = new Client({
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...extra,
    requestHandler: {
      handle: () =>
        Promise.resolve({
          response: new HttpResponse({
            statusCode: response.status,
            headers: response.headers,
            body: new TextEncoder().encode(response.body),
          }),
        }),
    },
  });
  try {
    const output = await client.send(command);
    delete output.$metadata;
    return { output };
  } catch (error) {
    return { error: error as Record<string, unknown> };
  } finally {
    client.destroy?.();
  }
}

/** A request our session sent, with its body read. */
export interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** A fetch that records requests and answers from a handler. */
export function recordingFetch(
  answer: (req: Recorded) => Response = () => new Response("", { status: 200 }),
): { fetch: typeof fetch; requests: Recorded[] } {
  const requests: Recorded[] = [];
  const fakeFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const rec: Recorded = {
      method: req.method,
      url: new URL(req.url),
      headers: req.headers,
      body: req.body ? await req.text() : "",
    };
    requests.push(rec);
    return answer(rec);
  };
  return { fetch: fakeFetch as typeof fetch, requests };
}

/** A session with fixed credentials, no files, no environment, and the given fetch. */
export function testSession(
  fetchFn: typeof fetch,
  extra: AwsSessionOptions = {},
): Promise<AwsSession> {
  return AwsSession.create({
    region: REGION,
    credentials: CREDENTIALS,
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
    fetch: fetchFn,
    retry: { maxAttempts: 1 },
    ...extra,
  });
}

/** The SSO portal client of {@linkcode REGION}, with the given fetch and no retries. */
export function ssoClient(fetchFn: typeof fetch): Sso {
  const endpoint = resolveEndpoint(SERVICES.sso, {
    region: REGION,
    env: () => undefined,
    profile: new Map(),
  });
  const http = new AwsHttpClient({
    service: SERVICES.sso,
    endpoint,
    credentials: () => Promise.reject(new Error("the SSO portal is not signed")),
    fetch: fetchFn,
    now: Date.now,
    clock: { offsetMs: 0 },
    retry: { maxAttempts: 1 },
  });
  return createClient(http, SSO_SERVICE);
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function formPairs(body: string): string[] {
  return [...new URLSearchParams(body)].map(([k, v]) => `${k}=${v}`).sort();
}

const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: () => true });

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return "";
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  throw new Error(`Unexpected SDK body type ${typeof body}`);
}

function normalizeContentType(value: string | undefined): string | undefined {
  return value?.split(";")[0]?.trim().toLowerCase();
}

/**
 * Asserts that our request equals the SDK's: method, host, path, query,
 * content-type, X-Amz-Target, and the body compared as JSON, form pairs or XML.
 */
export function assertSameRequest(ours: Recorded, sdk: HttpRequest, label: string): void {
  assert.equal(ours.method, sdk.method, `${label}: method`);
  assert.equal(ours.url.hostname, sdk.hostname, `${label}: host`);
  assert.equal(ours.url.pathname, sdk.path, `${label}: path`);
  const sdkQuery: string[] = [];
  for (const [k, v] of Object.entries(sdk.query ?? {})) {
    if (k === "x-id") continue;
    for (const value of Array.isArray(v) ? v : [v]) sdkQuery.push(`${k}=${value ?? ""}`);
  }
  const ourQuery = [...ours.url.searchParams].map(([k, v]) => `${k}=${v}`);
  assert.deepEqual(ourQuery.sort(), sdkQuery.sort(), `${label}: query`);
  const sdkType = normalizeContentType(headerOf(sdk.headers, "content-type"));
  const ourType = normalizeContentType(ours.headers.get("content-type") ?? undefined);
  const sdkBody = bodyText(sdk.body);
  if (sdkBody !== "" || ours.body !== "") {
    assert.equal(ourType, sdkType, `${label}: content-type`);
  }
  assert.equal(
    ours.headers.get("x-amz-target") ?? undefined,
    headerOf(sdk.headers, "x-amz-target"),
    `${label}: x-amz-target`,
  );
  // Both signed, or both not (STS AssumeRoleWithWebIdentity, the SSO portal).
  assert.equal(
    ours.headers.has("authorization"),
    headerOf(sdk.headers, "authorization") !== undefined,
    `${label}: signed`,
  );
  for (
    const name of [
      "x-amz-sso_bearer_token",
      "range",
      "x-amz-server-side-encryption",
      "x-amz-server-side-encryption-aws-kms-key-id",
    ]
  ) {
    assert.equal(
      ours.headers.get(name) ?? undefined,
      headerOf(sdk.headers, name),
      `${label}: ${name}`,
    );
  }
  if (sdkType?.includes("json")) {
    assert.deepEqual(
      JSON.parse(ours.body || "{}"),
      JSON.parse(sdkBody || "{}"),
      `${label}: JSON body`,
    );
  } else if (sdkType === "application/x-www-form-urlencoded") {
    assert.deepEqual(formPairs(ours.body), formPairs(sdkBody), `${label}: form body`);
  } else if (sdkType?.includes("xml")) {
    assert.deepEqual(xml.parse(ours.body), xml.parse(sdkBody), `${label}: XML body`);
  } else {
    assert.equal(ours.body, sdkBody, `${label}: body`);
  }
}
