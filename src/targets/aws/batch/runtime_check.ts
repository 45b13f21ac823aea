/**
 * The runtime protocol of a job definition revision (its `cloudknot:runtime`
 * tag, `job/runtime_protocol.ts`), and the refusal to submit jobs to a
 * revision whose image runs the job runtime of another cloudknot version: an
 * image keeps the runtime of the version that built it, and a later client's
 * jobs would fail on it, or misread their items. Checked before a map or a
 * retry uploads or submits anything.
 *
 * @module
 */
import type { Batch, JobDefinition } from "../../../aws/services/batch.ts";
import {
  readRuntimeProtocol,
  RUNTIME_PROTOCOL,
  RUNTIME_PROTOCOL_TAG,
  runtimeProtocolWords,
} from "../../../job/runtime_protocol.ts";
import { CloudknotError } from "../../../util/errors.ts";

/**
 * A map or retry was refused before anything was uploaded or submitted: the
 * job definition revision it would run on runs an image whose job runtime is
 * of another cloudknot version (another runtime protocol, or one from before
 * runtime protocols). The message says what to do: create the knot again
 * with its function, which rebuilds its image with this version's runtime;
 * for a retry, map the run's failed items again.
 *
 * @example Usage
 * ```ts
 * import { RuntimeMismatchError } from "@cloudknot/cloudknot/batch";
 *
 * const e = new RuntimeMismatchError("Knot squares runs another runtime", {
 *   knot: "squares",
 *   jobDefinition: "squares-ck-jd:1",
 *   protocol: undefined,
 * });
 * console.log(e.expected); // 1
 * ```
 */
export class RuntimeMismatchError extends CloudknotError {
  /** The knot. */
  readonly knot: string;
  /** The job definition revision refused. */
  readonly jobDefinition: string;
  /** Its runtime protocol; `undefined` for an image built before runtime protocols. */
  readonly protocol: number | undefined;
  /** This version's runtime protocol. */
  readonly expected: number;

  /**
   * Makes the error.
   *
   * @param message What happened and what to do.
   * @param options The knot, the revision and its runtime protocol.
   */
  constructor(
    message: string,
    options: { knot: string; jobDefinition: string; protocol: number | undefined },
  ) {
    super(message);
    this.knot = options.knot;
    this.jobDefinition = options.jobDefinition;
    this.protocol = options.protocol;
    this.expected = RUNTIME_PROTOCOL;
  }
}

/**
 * The runtime protocol a job definition revision's tag names, or
 * `undefined` when it has none (registered before runtime protocols).
 *
 * @example Usage
 * ```ts
 * import { definitionRuntime } from "@cloudknot/cloudknot/batch";
 *
 * console.log(definitionRuntime({ tags: { "cloudknot:runtime": "1" } })); // 1
 * ```
 *
 * @param definition The revision, as DescribeJobDefinitions gives it.
 * @returns The protocol.
 */
export function definitionRuntime(
  definition: Pick<JobDefinition, "tags"> | undefined,
): number | undefined {
  return readRuntimeProtocol(definition?.tags?.[RUNTIME_PROTOCOL_TAG]);
}

/** What {@linkcode runtimeCheck}'s check is told of a map. */
export interface RuntimeCheckRequest {
  /** The revision the map submits to. */
  jobDefinition: string;
  /** The run a retry retries; `undefined` for a map. */
  retryOf?: { runId: string };
}

/**
 * The check an AWS target runs before a map or a retry uploads or submits
 * anything: it reads the runtime protocol of the revision the jobs would run
 * on (one DescribeJobDefinitions, once per revision; `known` gives those
 * already read) and throws a {@linkcode RuntimeMismatchError} when it differs
 * from this version's.
 *
 * @example Usage
 * ```ts ignore
 * import { runtimeCheck } from "@cloudknot/cloudknot/batch";
 *
 * const check = runtimeCheck(session.batch, "squares");
 * await check({ jobDefinition: "squares-ck-jd:3" });
 * ```
 *
 * @param batch The Batch client.
 * @param knot The knot's name, for the message.
 * @param known Revisions whose runtime protocol is known already (their ARN, and their protocol).
 * @returns The check.
 */
export function runtimeCheck(
  batch: Pick<Batch, "describeJobDefinitions">,
  knot: string,
  known: ReadonlyMap<string, number | undefined> = new Map(),
): (request: RuntimeCheckRequest) => Promise<void> {
  const read = new Map(known);
  return async ({ jobDefinition, retryOf }) => {
    if (!read.has(jobDefinition)) {
      const { jobDefinitions } = await batch.describeJobDefinitions({
        jobDefinitions: [jobDefinition],
      });
      // A revision Batch does not describe is refused by SubmitJob in its own words.
      if (jobDefinitions?.[0] === undefined) return;
      read.set(jobDefinition, definitionRuntime(jobDefinitions[0]));
    }
    const protocol = read.get(jobDefinition);
    if (protocol === RUNTIME_PROTOCOL) return;
    throw runtimeMismatch(knot, jobDefinition, protocol, retryOf);
  };
}

/** The error of a map or retry refused for its revision's runtime protocol. */
function runtimeMismatch(
  knot: string,
  jobDefinition: string,
  protocol: number | undefined,
  retryOf: { runId: string } | undefined,
): RuntimeMismatchError {
  const runtime = `runs the job runtime of another cloudknot version (${
    runtimeProtocolWords(protocol)
  }; this version's is ${runtimeProtocolWords(RUNTIME_PROTOCOL)})`;
  const create = `create the knot with Knot.create({ name: "${knot}", func }) (or module and ` +
    `exportName): that rebuilds its image with this version's runtime under a new job ` +
    `definition revision, and keeps its runs`;
  const message = retryOf === undefined
    ? `Knot ${knot}'s image ${runtime}, as its job definition ${jobDefinition} says: its jobs ` +
      `would fail or misread their items, so nothing was uploaded or submitted. To run it, ${create}`
    : `Run ${retryOf.runId} of knot ${knot} ran on job definition ${jobDefinition}, whose image ` +
      `${runtime}, and a retry runs on its run's revision: its jobs would fail or misread their ` +
      `items, so nothing was uploaded or submitted. Map the run's failed items again on knot ` +
      `${knot} with knot.map() of their inputs instead (if the knot's own image runs another ` +
      `version's runtime too, first ${create}), or retry the run with the cloudknot version ` +
      `that made it`;
  return new RuntimeMismatchError(message, { knot, jobDefinition, protocol });
}
