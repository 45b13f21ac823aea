/**
 * Declarative pagination: a paginator names the request token, the response
 * token, the items and an optional "more results" flag; {@linkcode paginate}
 * turns any operation into an async iterator of items.
 *
 * @module
 */

/** How an operation pages, as data. */
export interface Paginator {
  /** The request member that carries the token, e.g. `nextToken`, `Marker`. */
  inputToken: string;
  /** The response member with the next token, e.g. `nextToken`, `nextForwardToken`. */
  outputToken: string;
  /** The response member holding this page's items. */
  items: string;
  /** A response flag that must be true for another page, e.g. IAM `IsTruncated`. */
  moreResults?: string;
}

/**
 * Yields every item of every page. Stops when the response has no token, when
 * the `moreResults` flag is false, or when a token repeats (CloudWatch Logs
 * GetLogEvents returns the same `nextForwardToken` at the end of a stream).
 *
 * @param call Sends one page's request (with `options.signal`, which aborts it).
 * @param input The first request.
 * @param paginator How the operation pages.
 * @param options `signal` stops the listing: no page is requested once it is
 *   aborted, and the iterator throws its reason.
 * @returns The items, page after page.
 */
export async function* paginate<I extends object, O, T>(
  call: (input: I) => Promise<O>,
  input: I,
  paginator: Paginator,
  options: { signal?: AbortSignal | undefined } = {},
): AsyncGenerator<T, void, undefined> {
  const seen = new Set<string>();
  let request: I = input;
  const first = (input as Record<string, unknown>)[paginator.inputToken];
  if (typeof first === "string") seen.add(first);
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await call(request) as Record<string, unknown>;
    const items = page[paginator.items];
    if (Array.isArray(items)) yield* items as T[];
    if (paginator.moreResults !== undefined && page[paginator.moreResults] !== true) return;
    const token = page[paginator.outputToken];
    if (typeof token !== "string" || token === "" || seen.has(token)) return;
    seen.add(token);
    request = { ...request, [paginator.inputToken]: token };
  }
}
