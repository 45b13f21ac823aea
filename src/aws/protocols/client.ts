/**
 * Service clients as data: a service is its typed API (operation name →
 * `[input, output]`), a table of each operation's wire metadata, its
 * paginators and its protocol. {@linkcode createClient} turns that into an
 * object with one method per operation (`SubmitJob` → `submitJob`) and one
 * iterator per paginator (`ListJobs` → `listJobsAll`), in the spirit of
 * aws-lite's plugins.
 *
 * @module
 */
import { paginate, type Paginator } from "../core/paginate.ts";
import type {
  AwsHttpClient,
  CallOptions,
  ErrorParser,
  HttpRequestSpec,
  OperationInfo,
} from "../core/request.ts";

/**
 * A service's typed API: each operation's input and output types, by
 * operation name, and for an operation that pages, the output member that
 * holds each page's items (`ListJobs: [ListJobsRequest, ListJobsResponse,
 * "jobSummaryList"]`; `scripts/gen_aws.ts` checks it against the model).
 */
export type ApiTable = {
  [operation: string]: [input: unknown, output: unknown, items?: string];
};

/** How one protocol builds an operation's request and reads its response. */
export interface Protocol<Op extends OperationInfo = OperationInfo> {
  /** Builds the HTTP request of one call. */
  request(
    operation: Op,
    input: object,
    http: AwsHttpClient,
  ): HttpRequestSpec | Promise<HttpRequestSpec>;
  /** Reads a successful response into the operation's output. */
  response(operation: Op, response: Response): Promise<unknown>;
  /** Decodes an error response. */
  parseError: ErrorParser;
}

/** A service as data: its protocol, its operations' wire metadata and its paginators. */
export interface ServiceDefinition<Api extends ApiTable, Op extends OperationInfo = OperationInfo> {
  /** The wire protocol. */
  protocol: Protocol<Op>;
  /** Every operation of the API, by name. */
  operations: { readonly [K in keyof Api]: Op };
  /** The paginators of the operations that page (those whose API entry names its items), by name. */
  paginators: {
    readonly [K in keyof Api & string as Api[K] extends [unknown, unknown, string] ? K : never]:
      Paginator;
  };
}

/**
 * The client of a service: `submitJob(input, options)` for each operation
 * `SubmitJob` of the API, and `listJobsAll(input, options)` for each
 * operation `ListJobs` that pages, which yields the items of every page; its
 * `signal` aborts the page request in flight and stops it between pages. The
 * input may be left out where it has no required member.
 */
export type ServiceClient<Api extends ApiTable> =
  & {
    [K in keyof Api & string as Uncapitalize<K>]: (
      // `{} extends I` holds exactly when I has no required member.
      // deno-lint-ignore ban-types
      ...args: {} extends Api[K][0] ? [input?: Api[K][0], options?: CallOptions]
        : [input: Api[K][0], options?: CallOptions]
    ) => Promise<Api[K][1]>;
  }
  & {
    [
      K in keyof Api & string as Api[K] extends [unknown, unknown, string] ? `${Uncapitalize<K>}All`
        : never
    ]: (
      // deno-lint-ignore ban-types
      ...args: {} extends Api[K][0] ? [input?: Api[K][0], options?: CallOptions]
        : [input: Api[K][0], options?: CallOptions]
    ) => AsyncGenerator<
      Api[K] extends [unknown, infer Output, infer Items]
        ? Items extends keyof Output
          ? NonNullable<Output[Items]> extends readonly (infer T)[] ? T : never
        : never
        : never,
      void,
      undefined
    >;
  };

function methodName(operation: string): string {
  return operation[0]!.toLowerCase() + operation.slice(1);
}

/**
 * Makes a service's client: each method builds its request with the
 * protocol, sends it through the signed HTTP client (which retries as the
 * operation's idempotency allows) and reads the response with the protocol.
 *
 * @param http The service's signed HTTP client.
 * @param service The service as data.
 * @returns The client.
 */
export function createClient<Api extends ApiTable, Op extends OperationInfo>(
  http: AwsHttpClient,
  service: ServiceDefinition<Api, Op>,
): ServiceClient<Api> {
  const { protocol } = service;
  // The methods live on the client's prototype, as a class's would.
  const methods: Record<string, unknown> = {};
  const calls: Record<string, (input?: object, options?: CallOptions) => Promise<unknown>> = {};
  for (const [name, operation] of Object.entries<Op>(service.operations)) {
    calls[name] = methods[methodName(name)] = async (input: object = {}, options?: CallOptions) => {
      const spec = await protocol.request(operation, input, http);
      const response = await http.send(operation, spec, protocol.parseError, options);
      return await protocol.response(operation, response);
    };
  }
  for (const [name, paginator] of Object.entries(service.paginators as Record<string, Paginator>)) {
    const call = calls[name]!;
    methods[`${methodName(name)}All`] = (input: object = {}, options?: CallOptions) =>
      paginate((page: object) => call(page, options), input, paginator, options);
  }
  return Object.create(methods) as ServiceClient<Api>;
}

/**
 * An operation table from the wire metadata generated from a service's model
 * (`BATCH_WIRE`): each operation named after its key, and idempotent (safe to
 * send again after a lost answer) unless listed.
 *
 * @param wire Each operation's generated wire metadata, by name.
 * @param notIdempotent The operations that must not be sent twice.
 * @returns The table.
 */
export function operationTable<const T extends Record<string, object>>(
  wire: T,
  notIdempotent: readonly (keyof T & string)[] = [],
): { [K in keyof T & string]: T[K] & { name: K; idempotent: boolean } } {
  return Object.fromEntries(
    Object.entries(wire).map((
      [name, operation],
    ) => [name, { name, idempotent: !notIdempotent.includes(name), ...operation }]),
  ) as { [K in keyof T & string]: T[K] & { name: K; idempotent: boolean } };
}

/**
 * A service as data, from its protocol, what was generated from its model
 * and which operations must not be sent twice.
 *
 * @param protocol The wire protocol.
 * @param generated The generated wire metadata and paginators: an operation of
 * the API without its wire metadata, or a paginator the API does not name its
 * items for, is a type error.
 * @param notIdempotent The operations that must not be sent twice.
 * @returns The service.
 */
export function defineService<Api extends ApiTable, Op extends OperationInfo = OperationInfo>(
  protocol: Protocol<Op>,
  generated: {
    wire: { readonly [K in keyof NoInfer<Api>]: object };
    paginators?: ServiceDefinition<NoInfer<Api>>["paginators"];
  },
  notIdempotent: readonly (keyof NoInfer<Api> & string)[] = [],
): ServiceDefinition<Api, Op> {
  return {
    protocol,
    // The generator writes each protocol's members from the model.
    operations: operationTable<Record<string, object>>(
      generated.wire,
      notIdempotent,
    ) as unknown as {
      readonly [K in keyof Api]: Op;
    },
    paginators: (generated.paginators ?? {}) as ServiceDefinition<Api>["paginators"],
  };
}
