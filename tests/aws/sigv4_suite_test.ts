/**
 * The SigV4 test suite (as shipped in `@aws-sdk/signature-v4@3.310.0`) signed
 * through our `signRequest`, the one path every call of the aws layer uses.
 * The suite signs every header, so `allHeaders` is on; `get-utf8` assumes a
 * path encoded once (see reference/aws-protocols.md §5).
 */
import assert from "node:assert/strict";
import { sigv4Suite } from "./deps.ts";
import { encodeRfc3986, signRequest } from "../../src/aws/core/request.ts";

interface SuiteCase {
  name: string;
  request: {
    method: string;
    hostname: string;
    path: string;
    query: Record<string, string | string[]>;
    headers: Record<string, string>;
    body?: string;
  };
  authorization: string;
}

const cases = sigv4Suite.requests as SuiteCase[];

Deno.test("the suite is there", () => {
  assert.ok(cases.length >= 20, `only ${cases.length} cases`);
});

for (const c of cases) {
  Deno.test(`SigV4 suite: ${c.name}`, async () => {
    const url = new URL(`https://${c.request.hostname}`);
    url.pathname = c.request.path;
    const pairs: string[] = [];
    for (const [k, v] of Object.entries(c.request.query)) {
      for (const value of Array.isArray(v) ? v : [v]) {
        pairs.push(`${encodeRfc3986(k)}=${encodeRfc3986(value)}`);
      }
    }
    url.search = pairs.join("&");
    const headers = { ...c.request.headers };
    const datetime = headers["x-amz-date"]!;
    const signed = await signRequest({
      method: c.request.method,
      url,
      headers,
      body: c.request.body ?? null,
      credentials: sigv4Suite.credentials,
      service: sigv4Suite.service,
      region: sigv4Suite.region,
      datetime,
      allHeaders: true,
      singleEncode: c.name === "get-utf8",
    });
    assert.equal(signed.headers.get("authorization"), c.authorization);
  });
}
