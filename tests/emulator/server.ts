/**
 * The emulator's HTTP pipeline: tell the service from the request, check the
 * SigV4 signature, parse and validate the request against the official model,
 * apply faults, dispatch, render the answer in the service's protocol, and log.
 *
 * @module
 */
import type { CredentialStore, KnownCredentials } from "./credentials.ts";
import { renderError, ServiceError } from "./errors.ts";
import type { Faults } from "./faults.ts";
import type { TokenBucket } from "./rate_limit.ts";
import { type ModelOperation, modelOperation, strictJsonTypes, validateParams } from "./models.ts";
import { parseForm, parseFormBody, renderXmlMembers } from "./query.ts";
import { isMutating, type LoggedRequest, type RequestLog } from "./request_log.ts";
import {
  type CallContext,
  cannedError,
  type ModeledService,
  SERVICE_SPECS,
  type ServiceSpec,
  sleep,
} from "./service.ts";
import {
  expectedSignature,
  parseAmzDate,
  parseAuthorization,
  sha256Hex,
  type WireRequest,
} from "./sigv4.ts";

/**
 * The S3 operations AWS says may answer 200 with an error in the body
 * (CompleteMultipartUpload, CopyObject, UploadPartCopy in the S3 API
 * reference), which the `200-error` fault makes them do.
 */
const ERROR_IN_200: ReadonlySet<string> = new Set([
  "CompleteMultipartUpload",
  "CopyObject",
  "UploadPartCopy",
]);

/** An S3-style service that routes and executes requests itself. */
export interface RoutedService {
  /**
   * Names the operation and its parameters from the request.
   *
   * @param method The HTTP method.
   * @param url The URL.
   * @param headers The headers.
   */
  route(
    method: string,
    url: URL,
    headers: Headers,
  ): { operation: string; params: Record<string, unknown> };
  /**
   * Executes a routed request.
   *
   * @param operation The operation `route` named.
   * @param params The parameters `route` returned.
   * @param ctx The call context.
   */
  execute(operation: string, params: Record<string, unknown>, ctx: CallContext): Promise<Response>;
}

/** What the pipeline needs from the emulator. */
export interface PipelineOptions {
  /** The region. */
  region: string;
  /** The account id. */
  accountId: string;
  /** The credential store. */
  credentials: CredentialStore;
  /** The fault table. */
  faults: Faults;
  /** The request log. */
  log: RequestLog;
  /** The modeled services by signing name. */
  services: Record<string, ModeledService>;
  /** S3. */
  s3: RoutedService;
  /** Extra routes under `/_emulator/` (container credentials). */
  internal: (url: URL, headers: Headers) => Response | Promise<Response>;
  /** Drops the client connection of the request whose remote port is given. */
  drop: (remotePort: number) => void;
  /** Allowed clock skew in ms (default 15 minutes). */
  maxSkewMs?: number;
  /**
   * Request-rate quotas by service name: a request that finds its service's
   * bucket empty gets the service's own throttling error.
   */
  rateLimits?: Record<string, TokenBucket>;
}

interface Identified {
  spec: ServiceSpec;
  operation: string;
  form?: Map<string, string>;
}

const FORM = "application/x-www-form-urlencoded";

function identify(method: string, url: URL, headers: Headers, body: Uint8Array): Identified {
  const target = headers.get("x-amz-target");
  if (target) {
    const [prefix, op] = target.split(".");
    for (const spec of Object.values(SERVICE_SPECS)) {
      if (spec.targetPrefix && spec.targetPrefix === prefix) {
        return { spec, operation: op ?? "unknown" };
      }
    }
    return { spec: SERVICE_SPECS.ecr!, operation: "unknown" };
  }
  const ct = headers.get("content-type") ?? "";
  const formText = method === "POST" && url.pathname === "/" && ct.startsWith(FORM)
    ? new TextDecoder().decode(body)
    : (method === "GET" && url.pathname === "/" && url.searchParams.has("Action"))
    ? url.search.slice(1)
    : undefined;
  if (formText !== undefined) {
    const form = parseFormBody(formText);
    const version = form.get("Version");
    const spec = Object.values(SERVICE_SPECS).find((s) =>
      s.apiVersion && s.apiVersion === version && (s.protocol === "query" || s.protocol === "ec2")
    ) ?? SERVICE_SPECS.iam!;
    return { spec, operation: form.get("Action") ?? "unknown", form };
  }
  if (url.pathname.startsWith("/v1/")) {
    return { spec: SERVICE_SPECS.batch!, operation: "unknown" };
  }
  // The IAM Identity Center portal and OIDC, each on a host of its own on AWS.
  if (url.pathname.startsWith("/federation/")) {
    return { spec: SERVICE_SPECS.sso!, operation: "unknown" };
  }
  if (method === "POST" && url.pathname === "/token" && ct.startsWith("application/json")) {
    return { spec: SERVICE_SPECS.ssooidc!, operation: "unknown" };
  }
  return { spec: SERVICE_SPECS.s3!, operation: "unknown" };
}

function rawParts(requestUrl: string): { path: string; rawQuery: string } {
  const m = requestUrl.match(/^[a-z]+:\/\/[^/?#]*([^?#]*)(?:\?([^#]*))?/i);
  return { path: m?.[1] || "/", rawQuery: m?.[2] ?? "" };
}

/** Auth-layer errors by protocol family. */
function authError(
  spec: ServiceSpec,
  kind:
    | "missing"
    | "unknownKey"
    | "badToken"
    | "expiredToken"
    | "signature"
    | "scope"
    | "skew"
    | "malformed",
  message: string,
): ServiceError {
  const p = spec.protocol;
  const json = p === "json" || p === "rest-json";
  switch (kind) {
    case "missing":
      if (p === "rest-xml") return new ServiceError("AccessDenied", "Access Denied", 403);
      if (json) {
        return new ServiceError(
          "MissingAuthenticationTokenException",
          "Missing Authentication Token",
          403,
        );
      }
      if (p === "ec2") {
        return new ServiceError(
          "AuthFailure",
          "AWS was not able to validate the provided access credentials",
          401,
        );
      }
      return new ServiceError(
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
        403,
      );
    case "malformed":
      if (p === "rest-xml") return new ServiceError("AuthorizationHeaderMalformed", message, 400);
      if (json) return new ServiceError("IncompleteSignatureException", message, 403);
      return new ServiceError("IncompleteSignature", message, 403);
    case "unknownKey":
      if (p === "rest-xml") {
        return new ServiceError(
          "InvalidAccessKeyId",
          "The AWS Access Key Id you provided does not exist in our records.",
          403,
        );
      }
      if (json) {
        return new ServiceError(
          "UnrecognizedClientException",
          "The security token included in the request is invalid.",
          403,
        );
      }
      if (p === "ec2") {
        return new ServiceError(
          "AuthFailure",
          "AWS was not able to validate the provided access credentials",
          401,
        );
      }
      return new ServiceError(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
      );
    case "badToken":
      if (p === "rest-xml") {
        return new ServiceError(
          "InvalidToken",
          "The provided token is malformed or otherwise invalid.",
          400,
        );
      }
      if (json) {
        return new ServiceError(
          "UnrecognizedClientException",
          "The security token included in the request is invalid.",
          403,
        );
      }
      if (p === "ec2") {
        return new ServiceError(
          "AuthFailure",
          "AWS was not able to validate the provided access credentials",
          401,
        );
      }
      return new ServiceError(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
      );
    case "expiredToken":
      if (p === "rest-xml") {
        return new ServiceError("ExpiredToken", "The provided token has expired.", 400);
      }
      if (json) {
        return new ServiceError(
          "ExpiredTokenException",
          "The security token included in the request is expired",
          403,
        );
      }
      if (p === "ec2") return new ServiceError("RequestExpired", "Request has expired.", 400);
      return new ServiceError(
        "ExpiredToken",
        "The security token included in the request is expired",
        403,
      );
    case "signature":
      if (p === "rest-xml") {
        return new ServiceError(
          "SignatureDoesNotMatch",
          "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
          403,
        );
      }
      if (json) {
        return new ServiceError(
          "InvalidSignatureException",
          "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
          403,
        );
      }
      return new ServiceError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        403,
      );
    case "scope":
      if (p === "rest-xml") return new ServiceError("AuthorizationHeaderMalformed", message, 400);
      if (json) return new ServiceError("InvalidSignatureException", message, 403);
      return new ServiceError("SignatureDoesNotMatch", message, 403);
    case "skew":
      if (p === "rest-xml") {
        return new ServiceError(
          "RequestTimeTooSkewed",
          "The difference between the request time and the current time is too large.",
          403,
        );
      }
      if (json) return new ServiceError("InvalidSignatureException", message, 403);
      if (p === "ec2") return new ServiceError("RequestExpired", "Request has expired.", 400);
      return new ServiceError("SignatureDoesNotMatch", message, 403);
  }
}

function amzDateString(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.[0-9]{3}/, "");
}

/**
 * Formats validation problems the way the service's protocol reports them.
 */
function validationError(
  spec: ServiceSpec,
  problems: { code: string; message: string }[],
): ServiceError {
  const missing = problems.filter((p) => p.code === "MissingRequiredParameter");
  const unknown = problems.filter((p) => p.code === "UnexpectedParameter");
  if (spec.protocol === "ec2") {
    if (missing.length > 0) {
      const name = missing[0]!.message.match(/'([^']+)'/)?.[1] ?? "?";
      return new ServiceError(
        "MissingParameter",
        `The request must contain the parameter ${name}`,
        400,
      );
    }
    if (unknown.length > 0) {
      const name = unknown[0]!.message.match(/'([^']+)'/)?.[1] ?? "?";
      return new ServiceError("UnknownParameter", `The parameter ${name} is not recognized`, 400);
    }
    return new ServiceError(
      "InvalidParameterValue",
      problems.map((p) => p.message).join("; "),
      400,
    );
  }
  const parts = problems.map((p) => {
    if (p.code === "MissingRequiredParameter") {
      const m = p.message.match(/Missing required key '([^']+)' in (.*)$/);
      const path = m
        ? (m[2] === "params" ? m[1]! : `${m[2]!.replace(/^params\./, "")}.${m[1]}`)
        : "?";
      return `Value null at '${path}' failed to satisfy constraint: Member must not be null`;
    }
    return p.message;
  });
  const msg = `${parts.length} validation error${parts.length > 1 ? "s" : ""} detected: ${
    parts.join("; ")
  }`;
  return new ServiceError(spec.validationCode, msg, 400);
}

function jsonReplacerSeconds(_k: string, v: unknown): unknown {
  return v;
}

function jsonBody(value: unknown, dateAsSeconds: boolean): string {
  return JSON.stringify(value ?? {}, function (this: Record<string, unknown>, k, v) {
    const raw = this[k];
    if (raw instanceof Date) return dateAsSeconds ? raw.getTime() / 1000 : raw.getTime();
    return jsonReplacerSeconds(k, v);
  });
}

interface Prepared {
  operation: string;
  params: Record<string, unknown>;
  error?: ServiceError;
  run: (ctx: CallContext) => Promise<Response>;
}

/**
 * The request pipeline of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * const pipeline = new Pipeline(options);
 * Deno.serve({ hostname: "127.0.0.1", port: 0 }, (req, info) => pipeline.handle(req, info));
 * ```
 */
export class Pipeline {
  #o: PipelineOptions;

  /**
   * Makes a pipeline.
   *
   * @param options What it dispatches to.
   */
  constructor(options: PipelineOptions) {
    this.#o = options;
  }

  /**
   * Handles one HTTP request.
   *
   * @param req The request.
   * @param info The connection info (for dropping the connection).
   */
  async handle(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const url = new URL(req.url);
    const body = new Uint8Array(await req.arrayBuffer());
    if (url.pathname.startsWith("/_emulator/")) return await this.#o.internal(url, req.headers);
    const requestId = crypto.randomUUID();
    const { path, rawQuery } = rawParts(req.url);
    const wire: WireRequest = { method: req.method, path, rawQuery, headers: req.headers, body };
    const id = identify(req.method, url, req.headers, body);
    const entry: Omit<LoggedRequest, "seq"> = {
      time: Date.now(),
      service: id.spec.name,
      operation: id.operation,
      params: {},
      mutating: false,
      status: 0,
    };
    const head = req.method === "HEAD";
    try {
      const unsigned = id.spec.unsigned === true || id.spec.unsigned?.includes(id.operation);
      const creds = unsigned && !req.headers.has("authorization")
        ? this.#anonymous()
        : await this.#authenticate(id.spec, wire, entry);
      const prepared = this.#prepare(id, req.method, url, req.headers, body);
      entry.operation = prepared.operation;
      entry.params = prepared.params;
      entry.mutating = isMutating(prepared.operation);
      // The quota is counted at the front door, before the request is checked.
      if (this.#o.rateLimits?.[id.spec.name]?.take() === false) {
        throw cannedError(id.spec.throttle);
      }
      const faults = this.#o.faults.match(id.spec.name, prepared.operation);
      const latency = faults.find((f) => f.kind === "latency");
      if (latency) {
        entry.fault = "latency";
        if (latency.until) await latency.until.catch(() => {});
        else await sleep(latency.delayMs ?? 200);
      }
      if (faults.some((f) => f.kind === "reset")) {
        entry.fault = "reset";
        entry.status = 0;
        this.#o.drop(info.remoteAddr.port);
        return new Response(null, { status: 500 });
      }
      for (const kind of ["throttle", "500", "503"] as const) {
        if (faults.some((f) => f.kind === kind)) {
          entry.fault = kind;
          throw cannedError(
            kind === "throttle"
              ? id.spec.throttle
              : kind === "500"
              ? id.spec.internal
              : id.spec.unavailable,
          );
        }
      }
      if (
        faults.some((f) => f.kind === "200-error") && id.spec.name === "s3" &&
        ERROR_IN_200.has(prepared.operation)
      ) {
        entry.fault = "200-error";
        entry.status = 200;
        return new Response(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>` +
            `<Message>We encountered an internal error. Please try again.</Message>` +
            `<RequestId>${requestId}</RequestId></Error>`,
          {
            status: 200,
            headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
          },
        );
      }
      if (prepared.error) throw prepared.error;
      const ctx: CallContext = {
        requestId,
        principal: creds.principal,
        credentials: creds,
        accountId: this.#o.accountId,
        region: this.#o.region,
        url,
        method: req.method,
        headers: req.headers,
        body,
      };
      const res = await prepared.run(ctx);
      if (faults.some((f) => f.kind === "lost-response")) {
        entry.fault = "lost-response";
        entry.status = 0;
        this.#o.drop(info.remoteAddr.port);
        await res.body?.cancel();
        return new Response(null, { status: 500 });
      }
      entry.status = res.status;
      if (res.status >= 300) {
        entry.errorCode = res.headers.get("x-emulator-error-code") ?? undefined;
      }
      return res;
    } catch (e) {
      let err: ServiceError;
      if (e instanceof ServiceError) err = e;
      else {
        console.error("emulator: internal error", e);
        err = cannedError(id.spec.internal);
      }
      entry.status = err.status;
      entry.errorCode = err.code;
      return renderError(id.spec.protocol, err, {
        requestId,
        xmlNamespace: id.spec.xmlNamespace,
        head,
      });
    } finally {
      this.#o.log.record(entry);
    }
  }

  /** Who an unsigned call (AssumeRoleWithWebIdentity, the SSO portal) is: nobody yet. */
  #anonymous(): KnownCredentials {
    return {
      accessKeyId: "",
      secretAccessKey: "",
      principal: {
        arn: "anonymous",
        userId: "anonymous",
        account: this.#o.accountId,
        kind: "user",
      },
    };
  }

  async #authenticate(
    spec: ServiceSpec,
    wire: WireRequest,
    entry: Omit<LoggedRequest, "seq">,
  ): Promise<KnownCredentials> {
    const authz = wire.headers.get("authorization");
    if (!authz) throw authError(spec, "missing", "");
    const auth = parseAuthorization(authz);
    if (!auth) {
      throw authError(
        spec,
        "malformed",
        "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters of AWS4-HMAC-SHA256",
      );
    }
    entry.accessKeyId = auth.accessKeyId;
    const creds = this.#o.credentials.lookup(auth.accessKeyId);
    if (!creds) throw authError(spec, "unknownKey", "");
    if (creds.sessionToken !== undefined) {
      const token = wire.headers.get("x-amz-security-token");
      if (token !== creds.sessionToken) throw authError(spec, "badToken", "");
      if (creds.expiration && creds.expiration.getTime() < Date.now()) {
        throw authError(spec, "expiredToken", "");
      }
    }
    if (!auth.signedHeaders.includes("host")) {
      throw authError(spec, "signature", "");
    }
    if (auth.service !== spec.name) {
      if (spec.protocol === "rest-xml") {
        throw authError(
          spec,
          "scope",
          `The authorization header is malformed; incorrect service '${auth.service}'. This endpoint belongs to 's3'.`,
        );
      }
      throw authError(
        spec,
        "scope",
        `Credential should be scoped to correct service: '${spec.name}'. `,
      );
    }
    const expectedRegion = spec.fixedRegion ?? this.#o.region;
    if (auth.region !== expectedRegion) {
      if (spec.protocol === "rest-xml") {
        throw authError(
          spec,
          "scope",
          `The authorization header is malformed; the region '${auth.region}' is wrong; expecting '${expectedRegion}'`,
        );
      }
      throw authError(
        spec,
        "scope",
        spec.fixedRegion
          ? `Credential should be scoped to a valid region, not '${auth.region}'. `
          : "Credential should be scoped to a valid region. ",
      );
    }
    const date = parseAmzDate(wire.headers.get("x-amz-date"));
    if (!date) {
      throw authError(
        spec,
        "malformed",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      );
    }
    if (amzDateString(date).slice(0, 8) !== auth.scopeDate) {
      throw authError(
        spec,
        "scope",
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${
          amzDateString(date).slice(0, 8)
        }', from '${amzDateString(date)}'.`,
      );
    }
    const skew = this.#o.maxSkewMs ?? 15 * 60_000;
    const now = Date.now();
    if (date.getTime() < now - skew) {
      throw authError(
        spec,
        "skew",
        `Signature expired: ${amzDateString(date)} is now earlier than ${
          amzDateString(new Date(now - skew))
        } (${amzDateString(new Date(now))} - 15 min.)`,
      );
    }
    if (date.getTime() > now + skew) {
      throw authError(
        spec,
        "skew",
        `Signature not yet current: ${amzDateString(date)} is still later than ${
          amzDateString(new Date(now + skew))
        } (${amzDateString(new Date(now))} + 15 min.)`,
      );
    }
    const contentSha = wire.headers.get("x-amz-content-sha256");
    if (spec.protocol === "rest-xml" && !contentSha) {
      throw new ServiceError(
        "InvalidRequest",
        "Missing required header for this request: x-amz-content-sha256",
        400,
      );
    }
    if (
      contentSha && spec.protocol !== "rest-xml" &&
      (contentSha === "UNSIGNED-PAYLOAD" || contentSha.startsWith("STREAMING-"))
    ) {
      throw authError(spec, "signature", "");
    }
    if (contentSha && contentSha !== "UNSIGNED-PAYLOAD" && !contentSha.startsWith("STREAMING-")) {
      const actual = await sha256Hex(wire.body);
      if (actual !== contentSha) {
        if (spec.protocol === "rest-xml") {
          throw new ServiceError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
            { extra: { ClientComputedContentSHA256: contentSha, S3ComputedContentSHA256: actual } },
          );
        }
        throw authError(spec, "signature", "");
      }
    }
    const expected = await expectedSignature(wire, auth, creds);
    if (expected !== auth.signature) throw authError(spec, "signature", "");
    return creds;
  }

  #prepare(id: Identified, method: string, url: URL, headers: Headers, body: Uint8Array): Prepared {
    const spec = id.spec;
    if (spec.protocol === "rest-xml") {
      const routed = this.#o.s3.route(method, url, headers);
      return {
        ...routed,
        run: (ctx) => this.#o.s3.execute(routed.operation, routed.params, ctx),
      };
    }
    const service = this.#o.services[spec.name]!;
    const fail = (
      operation: string,
      error: ServiceError,
      params: Record<string, unknown> = {},
    ) => ({
      operation,
      params,
      error,
      run: () => Promise.reject(error),
    });
    if (spec.protocol === "json") {
      const op = modelOperation(spec.name, id.operation);
      if (!op || !service.operations[op.name]) {
        return fail(id.operation, new ServiceError("UnknownOperationException", "", 400));
      }
      if (method !== "POST") {
        return fail(op.name, new ServiceError("UnknownOperationException", "", 400));
      }
      const ct = headers.get("content-type") ?? "";
      if (!ct.startsWith("application/x-amz-json-1.1")) {
        return fail(
          op.name,
          new ServiceError("SerializationException", `Unexpected content type '${ct}'`, 400),
        );
      }
      let params: Record<string, unknown>;
      try {
        params = JSON.parse(new TextDecoder().decode(body) || "null");
        if (params === null || typeof params !== "object" || Array.isArray(params)) {
          throw new Error();
        }
      } catch {
        return fail(
          op.name,
          new ServiceError(
            "SerializationException",
            "Start of structure or map found where not expected.",
            400,
          ),
        );
      }
      return this.#modeled(spec, op, service, params, (out) =>
        new Response(jsonBody(out, true), {
          status: 200,
          headers: { "content-type": "application/x-amz-json-1.1" },
        }), true);
    }
    if (spec.protocol === "rest-json") {
      return this.#restJson(spec, method, url, headers, body, service, fail);
    }
    // query and ec2
    const form = id.form!;
    const op = modelOperation(spec.name, id.operation);
    const ec2 = spec.protocol === "ec2";
    if (!op || !service.operations[op.name]) {
      return fail(
        id.operation,
        new ServiceError(
          "InvalidAction",
          `Could not find operation ${id.operation} for version ${form.get("Version")}`,
          400,
        ),
      );
    }
    const { params, unknownKeys } = parseForm(form, op.input, ec2);
    if (unknownKeys.length > 0) {
      const error = ec2
        ? new ServiceError(
          "UnknownParameter",
          `The parameter ${unknownKeys[0]} is not recognized`,
          400,
        )
        : new ServiceError(
          "ValidationError",
          `Unexpected key '${unknownKeys[0]}' found in params`,
          400,
        );
      return fail(op.name, error, params);
    }
    return this.#modeled(spec, op, service, params, (out, requestId) => {
      const result = renderXmlMembers(
        op.output ?? { type: "structure" },
        (out ?? {}) as Record<string, unknown>,
      );
      let xml: string;
      if (ec2) {
        const members = op.output?.members && Object.keys(op.output.members).length > 0
          ? result
          : "<return>true</return>";
        xml =
          `<?xml version="1.0" encoding="UTF-8"?>\n<${op.name}Response xmlns="${spec.xmlNamespace}"><requestId>${requestId}</requestId>${members}</${op.name}Response>`;
      } else {
        const wrapper = op.output?.resultWrapper;
        xml = `<${op.name}Response xmlns="${spec.xmlNamespace}">${
          wrapper ? `<${wrapper}>${result}</${wrapper}>` : ""
        }<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${op.name}Response>`;
      }
      return new Response(xml, {
        status: 200,
        headers: { "content-type": "text/xml", "x-amzn-RequestId": requestId },
      });
    }, false);
  }

  #modeled(
    spec: ServiceSpec,
    op: ModelOperation,
    service: ModeledService,
    params: Record<string, unknown>,
    render: (out: unknown, requestId: string) => Response,
    strictJson: boolean,
  ): Prepared {
    const problems = validateParams(op.input, params);
    if (strictJson && problems.length === 0) {
      const typeErrors = strictJsonTypes(op.input, params);
      if (typeErrors.length > 0) {
        problems.push(...typeErrors.map((m) => ({ code: "InvalidParameterType", message: m })));
      }
    }
    const error = problems.length > 0 ? validationError(spec, problems) : undefined;
    return {
      operation: op.name,
      params,
      error,
      run: async (ctx) => {
        const out = await service.operations[op.name]!(params, ctx);
        const res = render(out, ctx.requestId);
        if (spec.protocol === "json" || spec.protocol === "rest-json") {
          res.headers.set("x-amzn-RequestId", ctx.requestId);
        }
        return res;
      },
    };
  }

  #restJson(
    spec: ServiceSpec,
    method: string,
    url: URL,
    headers: Headers,
    body: Uint8Array,
    service: ModeledService,
    fail: (op: string, e: ServiceError, p?: Record<string, unknown>) => Prepared,
  ): Prepared {
    const path = url.pathname;
    let found: { op: ModelOperation; uri: Record<string, string> } | undefined;
    for (const name of Object.keys(service.operations)) {
      const op = modelOperation(spec.name, name);
      if (!op || op.httpMethod !== method) continue;
      const names: string[] = [];
      const re = new RegExp(
        "^" + op.httpPath.replace(/\{([^}]+)\}/g, (_m, n) => {
          names.push(n);
          return "([^/]+)";
        }) + "$",
      );
      const m = path.match(re);
      if (!m) continue;
      const uri: Record<string, string> = {};
      names.forEach((n, i) => (uri[n] = decodeURIComponent(m[i + 1]!)));
      found = { op, uri };
      break;
    }
    if (!found) {
      return fail(
        "unknown",
        new ServiceError(
          "UnknownOperationException",
          `No operation matches ${method} ${path}`,
          404,
        ),
      );
    }
    const { op, uri } = found;
    let params: Record<string, unknown> = {};
    const text = new TextDecoder().decode(body);
    if (text.trim() !== "") {
      try {
        params = JSON.parse(text);
        if (params === null || typeof params !== "object" || Array.isArray(params)) {
          throw new Error();
        }
      } catch {
        return fail(
          op.name,
          new ServiceError("ClientException", "Unable to parse the request body as JSON", 400),
        );
      }
    } else if (method === "POST" && Object.keys(uri).length === 0) {
      return fail(op.name, new ServiceError("ClientException", "Request body is required", 400));
    }
    for (const [memberName, m] of Object.entries(op.input.members ?? {})) {
      if (m.location === "uri") {
        const v = uri[m.name ?? memberName];
        if (v !== undefined) params[memberName] = v;
      } else if (m.location === "querystring") {
        const all = url.searchParams.getAll(m.name ?? memberName);
        if (all.length > 0) params[memberName] = m.type === "list" ? all : all[0];
      } else if (m.location === "header") {
        const v = headers.get(m.name ?? memberName);
        if (v !== null) params[memberName] = v;
      }
    }
    return this.#modeled(spec, op, service, params, (out) =>
      new Response(jsonBody(out, false), {
        status: 200,
        headers: { "content-type": "application/json" },
      }), true);
  }
}
