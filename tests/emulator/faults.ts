/**
 * Fault injection for the emulator's HTTP front: throttling, 5xx answers,
 * connection resets, latency and lost responses, per service and operation.
 *
 * @module
 */

/** The kinds of HTTP faults. */
export type FaultKind =
  | "throttle"
  | "500"
  | "503"
  | "reset"
  | "latency"
  | "lost-response"
  | "200-error";

/** A fault to inject. */
export interface FaultSpec {
  /** The service (`batch`, `ecr`, `iam`, `sts`, `s3`, `ec2`, `logs`); any when omitted. */
  service?: string;
  /** The operation (`SubmitJob`, `PutObject`, …); any when omitted. */
  operation?: string;
  /**
   * What happens:
   * - `throttle`: the throttling error the service really sends;
   * - `500` / `503`: a server error in the service's protocol;
   * - `reset`: the connection is closed before the request is processed;
   * - `latency`: the answer is delayed by `delayMs`, then processed normally;
   * - `lost-response`: the request IS processed, then the connection is closed
   *   before the answer;
   * - `200-error`: S3's 200 answer whose body is an error (`InternalError`),
   *   the request not carried out: "a 200 OK response can contain either a
   *   success or an error" (CompleteMultipartUpload, CopyObject and
   *   UploadPartCopy in the S3 API reference, the operations AWS says it of;
   *   on any other it does nothing).
   */
  kind: FaultKind;
  /** How many matching requests it hits; unlimited when omitted. */
  times?: number;
  /** The chance (0..1) that a matching request is hit; 1 when omitted. */
  probability?: number;
  /** For `latency`: the delay in ms (default 200). */
  delayMs?: number;
  /**
   * For `latency`: the answer waits until this settles instead of `delayMs`,
   * so that a test keeps a request pending for exactly as long as its own
   * steps take (settle it in a `finally` too, or the request never ends).
   */
  until?: Promise<unknown>;
}

/** A registered fault with its hit count. */
export interface ActiveFault extends FaultSpec {
  /** The id `add` returned. */
  readonly id: number;
  /** How many requests it hit so far. */
  hits: number;
}

/**
 * The fault table of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * emu.faults.add({ service: "batch", operation: "SubmitJob", kind: "throttle", times: 2 });
 * ```
 */
export class Faults {
  #faults: ActiveFault[] = [];
  #next = 1;

  /**
   * Adds a fault and returns its id.
   *
   * @param spec What to inject and where.
   */
  add(spec: FaultSpec): number {
    const id = this.#next++;
    this.#faults.push({ ...spec, id, hits: 0 });
    return id;
  }

  /**
   * Removes one fault by id, or every fault when no id is given.
   *
   * @param id The id `add` returned.
   */
  clear(id?: number): void {
    this.#faults = id === undefined ? [] : this.#faults.filter((f) => f.id !== id);
  }

  /** The registered faults with their hit counts. */
  list(): readonly ActiveFault[] {
    return this.#faults;
  }

  /**
   * Picks the faults that hit this request (at most one of each kind) and
   * counts the hits.
   *
   * @param service The service.
   * @param operation The operation.
   */
  match(service: string, operation: string): ActiveFault[] {
    const hit: ActiveFault[] = [];
    for (const f of this.#faults) {
      if (f.service && f.service !== service) continue;
      if (f.operation && f.operation !== operation) continue;
      if (f.times !== undefined && f.hits >= f.times) continue;
      if (f.probability !== undefined && Math.random() >= f.probability) continue;
      if (hit.some((h) => h.kind === f.kind)) continue;
      f.hits++;
      hit.push(f);
    }
    return hit;
  }
}
