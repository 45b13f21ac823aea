/**
 * The error an emulated service answers with, and how each wire protocol
 * renders it.
 *
 * @module
 */
import { xmlEscape } from "./xml.ts";

/** The wire protocols the emulator speaks. */
export type Protocol = "rest-json" | "json" | "query" | "ec2" | "rest-xml";

/**
 * An error answer of an emulated AWS service: a code, an HTTP status and a
 * message, rendered in the protocol of the service that raised it.
 *
 * @example Usage
 * ```ts ignore
 * throw new ServiceError("ClientException", "Job queue not found", 400);
 * ```
 */
export class ServiceError extends Error {
  /** The AWS error code, e.g. `ClientException`. */
  readonly code: string;
  /** The HTTP status. */
  readonly status: number;
  /** Extra XML elements (S3) or JSON members to add to the error body. */
  readonly extra: Record<string, string>;
  /** Extra response headers. */
  readonly headers: Record<string, string>;

  /**
   * Makes an error answer.
   *
   * @param code The AWS error code.
   * @param message The message.
   * @param status The HTTP status (default 400).
   * @param options Extra body members and headers.
   */
  constructor(
    code: string,
    message: string,
    status = 400,
    options: { extra?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ServiceError";
    this.code = code;
    this.status = status;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

/** Options for rendering an error. */
export interface RenderErrorOptions {
  /** The request id to put in the body and headers. */
  requestId: string;
  /** The query protocols' namespace for `ErrorResponse`. */
  xmlNamespace?: string;
  /** For S3 HEAD requests: no body. */
  head?: boolean;
}

/**
 * Renders an error the way the given protocol puts it on the wire.
 *
 * @example Usage
 * ```ts ignore
 * renderError("json", new ServiceError("RepositoryNotFoundException", "x"), { requestId: "r" });
 * ```
 */
export function renderError(
  protocol: Protocol,
  err: ServiceError,
  options: RenderErrorOptions,
): Response {
  const { requestId } = options;
  const headers = new Headers(err.headers);
  switch (protocol) {
    case "rest-json":
      headers.set("content-type", "application/json");
      headers.set("x-amzn-RequestId", requestId);
      headers.set(
        "x-amzn-ErrorType",
        `${err.code}:http://internal.amazon.com/coral/com.amazonaws.batch/`,
      );
      return new Response(JSON.stringify({ message: err.message, ...err.extra }), {
        status: err.status,
        headers,
      });
    case "json":
      headers.set("content-type", "application/x-amz-json-1.1");
      headers.set("x-amzn-RequestId", requestId);
      return new Response(
        JSON.stringify({ __type: err.code, message: err.message, ...err.extra }),
        {
          status: err.status,
          headers,
        },
      );
    case "query": {
      headers.set("content-type", "text/xml");
      headers.set("x-amzn-RequestId", requestId);
      const type = err.status >= 500 ? "Receiver" : "Sender";
      const ns = options.xmlNamespace ? ` xmlns="${options.xmlNamespace}"` : "";
      const body = `<ErrorResponse${ns}>\n  <Error>\n    <Type>${type}</Type>\n    <Code>${
        xmlEscape(err.code)
      }</Code>\n    <Message>${
        xmlEscape(err.message)
      }</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
      return new Response(body, { status: err.status, headers });
    }
    case "ec2": {
      headers.set("content-type", "text/xml;charset=UTF-8");
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${
        xmlEscape(err.code)
      }</Code><Message>${
        xmlEscape(err.message)
      }</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
      return new Response(body, { status: err.status, headers });
    }
    case "rest-xml": {
      headers.set("x-amz-request-id", requestId);
      headers.set("x-amz-id-2", btoa(requestId));
      if (options.head) return new Response(null, { status: err.status, headers });
      headers.set("content-type", "application/xml");
      let extra = "";
      for (const [k, v] of Object.entries(err.extra)) extra += `<${k}>${xmlEscape(v)}</${k}>`;
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${
        xmlEscape(err.code)
      }</Code><Message>${
        xmlEscape(err.message)
      }</Message>${extra}<RequestId>${requestId}</RequestId><HostId>${
        btoa(requestId)
      }</HostId></Error>`;
      return new Response(body, { status: err.status, headers });
    }
  }
}
