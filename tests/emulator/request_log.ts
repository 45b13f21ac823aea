/**
 * The record of every request the emulator answered.
 *
 * @module
 */

/** One logged request. */
export interface LoggedRequest {
  /** Sequence number, from 1. */
  seq: number;
  /** When it arrived (epoch ms). */
  time: number;
  /** The service, or `unknown` when it could not be told. */
  service: string;
  /** The operation, or `unknown`. */
  operation: string;
  /** The parameters as the emulator parsed them. */
  params: Record<string, unknown>;
  /** Whether the operation changes state (anything but Describe/List/Get/Head/Filter). */
  mutating: boolean;
  /** The HTTP status answered (0 for a reset connection). */
  status: number;
  /** The error code answered, if any. */
  errorCode?: string;
  /** The injected fault kind, if one hit. */
  fault?: string;
  /** The access key id that signed it. */
  accessKeyId?: string;
}

const READ_ONLY = /^(Describe|List|Get|Head|Filter|Lookup|Select)/;
// Getting credentials changes no resource.
const ALSO_READ_ONLY = new Set([
  "AssumeRole",
  "AssumeRoleWithWebIdentity",
  "CreateToken",
  "GetCallerIdentity",
]);

/**
 * Tells whether an operation changes state.
 *
 * @example Usage
 * ```ts ignore
 * isMutating("SubmitJob"); // true
 * ```
 */
export function isMutating(operation: string): boolean {
  if (operation === "unknown") return false;
  return !READ_ONLY.test(operation) && !ALSO_READ_ONLY.has(operation);
}

/** A query over the log. */
export interface RequestFilter {
  /** Only this service. */
  service?: string;
  /** Only this operation. */
  operation?: string;
  /** Only mutating (true) or read-only (false) requests. */
  mutating?: boolean;
  /** Only requests answered with success (true) or an error (false). */
  ok?: boolean;
}

/**
 * The request log of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * emu.requests.filter({ service: "batch", operation: "SubmitJob" }).length;
 * ```
 */
export class RequestLog {
  #entries: LoggedRequest[] = [];

  /**
   * Appends an entry.
   *
   * @param entry The entry without its sequence number.
   */
  record(entry: Omit<LoggedRequest, "seq">): LoggedRequest {
    const e = { ...entry, seq: this.#entries.length + 1 };
    this.#entries.push(e);
    return e;
  }

  /** Every entry, oldest first. */
  get entries(): readonly LoggedRequest[] {
    return this.#entries;
  }

  /**
   * The entries matching a filter.
   *
   * @param f The filter.
   */
  filter(f: RequestFilter = {}): LoggedRequest[] {
    return this.#entries.filter((e) =>
      (f.service === undefined || e.service === f.service) &&
      (f.operation === undefined || e.operation === f.operation) &&
      (f.mutating === undefined || e.mutating === f.mutating) &&
      (f.ok === undefined || (e.status >= 200 && e.status < 300) === f.ok)
    );
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries = [];
  }
}
