/**
 * Internal: the bookkeeping of a create that may have to be rolled back, and
 * the error-code helpers create and clobber share.
 *
 * @module
 */
import { AwsError } from "../aws/core/error.ts";

/** Error codes that mean "that resource is already gone". */
export const GONE_CODES: readonly string[] = [
  "NoSuchEntity",
  "InvalidGroup.NotFound",
  "InvalidVpcID.NotFound",
  "InvalidSubnetID.NotFound",
  "InvalidInternetGatewayID.NotFound",
  "InvalidRouteTableID.NotFound",
  "InvalidAssociationID.NotFound",
  "Gateway.NotAttached",
];

/**
 * Whether an error is an `AwsError` with one of the codes.
 */
export function isAwsCode(error: unknown, ...codes: string[]): error is AwsError {
  return error instanceof AwsError && codes.includes(error.code);
}

/**
 * Runs a delete and treats "already gone" as success.
 */
export async function ignoreGone(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (!isAwsCode(e, ...GONE_CODES)) throw e;
  }
}

/** The result of {@linkcode createOrFind}. */
export interface Found<T> {
  /** The resource. */
  value: T;
  /** Whether this call created it (false: it existed and was adopted). */
  created: boolean;
}

/**
 * How many times a resource of a unique name is created when each attempt's
 * outcome is unknown (a server error or a lost answer) and it is not found.
 */
export const CREATE_ATTEMPTS = 3;

/**
 * Creates a resource; when the answer was lost (`OutcomeUnknown`) or the
 * resource already exists (one of `existsCodes`, e.g. another process made it
 * a moment ago), looks it up with `find` instead of failing. A resource whose
 * key is unique (`existsCodes` names the error a second one gets) and that is
 * not found after an unknown outcome is created again, up to
 * {@linkcode CREATE_ATTEMPTS} times in all: a second create cannot make a
 * second resource. One without such a key (a VPC) is not: that could.
 */
export async function createOrFind<T>(
  create: () => Promise<T>,
  find: () => Promise<T | undefined>,
  existsCodes: string[],
): Promise<Found<T>> {
  for (let attempt = 1;; attempt++) {
    try {
      return { value: await create(), created: true };
    } catch (e) {
      if (isAwsCode(e, "OutcomeUnknown")) {
        const value = await find();
        if (value !== undefined) return { value, created: true };
        if (existsCodes.length > 0 && attempt < CREATE_ATTEMPTS) continue;
      } else if (isAwsCode(e, ...existsCodes)) {
        const value = await find();
        // After an unknown outcome, what exists is this call's own.
        if (value !== undefined) return { value, created: attempt > 1 };
      }
      throw e;
    }
  }
}

export async function adoptOrCreate<T>(
  existing: T | undefined,
  create: () => Promise<T>,
  find: () => Promise<T | undefined>,
  existsCodes: string[],
  made: { ledger: Ledger; what: (value: T) => string; undo: (value: T) => Promise<void> },
): Promise<Found<T>> {
  if (existing) return { value: existing, created: false };
  const found = await createOrFind(create, find, existsCodes);
  if (found.created) made.ledger.add(made.what(found.value), () => made.undo(found.value));
  return found;
}

/** One step that can be undone. */
interface Step {
  what: string;
  undo: () => Promise<void>;
}

/**
 * What one create call made, so that a failure part-way can undo exactly
 * that, newest first.
 */
export class Ledger {
  #steps: Step[] = [];

  /**
   * Records a step.
   *
   * @param what What was made, for messages.
   * @param undo Undoes it, tolerating "already gone".
   */
  add(what: string, undo: () => Promise<void>): void {
    this.#steps.push({ what, undo });
  }

  /**
   * Drops a step, which a rollback then leaves as it is (something else has
   * come to use what it made).
   *
   * @param what The step, as recorded.
   * @returns Whether there was such a step.
   */
  forget(what: string): boolean {
    const before = this.#steps.length;
    this.#steps = this.#steps.filter((s) => s.what !== what);
    return this.#steps.length < before;
  }

  /** What was recorded, oldest first. */
  get made(): string[] {
    return this.#steps.map((s) => s.what);
  }

  /**
   * Undoes every step, newest first, going on past failures.
   *
   * @returns The steps that could not be undone, with why.
   */
  async rollback(): Promise<string[]> {
    const failed: string[] = [];
    for (const step of [...this.#steps].reverse()) {
      try {
        await step.undo();
      } catch (e) {
        failed.push(`${step.what} (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    this.#steps = [];
    return failed;
  }
}
