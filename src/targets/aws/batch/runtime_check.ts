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
  otherRuntimeWords,
  readRuntimeProtocol,
  RUNTIME_PROTOCOL,
  RUNTIME_PROTOCOL_TAG,
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

/**
 * The tag of a job definition revision registered when its knot was created
 * again with its own function and options because its image ran another
 * cloudknot version's job runtime: the ARN of the revision it was rebuilt
 * from, which runs the same function with the same options on the older
 * runtime. A retry of a run made on that revision runs on this one instead.
 *
 * @example Usage
 * ```ts
 * import { REBUILT_FROM_TAG } from "@cloudknot/cloudknot/batch";
 *
 * console.log(REBUILT_FROM_TAG); // "cloudknot:rebuilt-from"
 * ```
 */
export const REBUILT_FROM_TAG = "cloudknot:rebuilt-from";

/**
 * The revision that runs what `jobDefinition` runs on this version's job
 * runtime: the ACTIVE revision of its job definition tagged
 * {@linkcode REBUILT_FROM_TAG} with it (or with the revision rebuilt from it,
 * and so on), whose runtime protocol is this version's; `undefined` when the
 * knot was not rebuilt so (its function or options changed with the update,
 * or no update was made). One DescribeJobDefinitions of the job definition's
 * ACTIVE revisions (a page per 100).
 *
 * @example Usage
 * ```ts ignore
 * import { rebuiltRevision } from "@cloudknot/cloudknot/batch";
 *
 * const now = await rebuiltRevision(session.batch, "arn:aws:batch:…:job-definition/squares-ck-jd:1");
 * ```
 *
 * @param batch The Batch client.
 * @param jobDefinition The revision's ARN.
 * @returns The ARN of the rebuilt revision.
 */
export async function rebuiltRevision(
  batch: Pick<Batch, "describeJobDefinitionsAll">,
  jobDefinition: string,
): Promise<string | undefined> {
  const name = /:job-definition\/(.+):\d+$/.exec(jobDefinition)?.[1];
  if (name === undefined) return undefined;
  const from = new Map<string, JobDefinition>();
  for await (
    const definition of batch.describeJobDefinitionsAll({
      jobDefinitionName: name,
      status: "ACTIVE",
    })
  ) {
    const rebuilt = definition.tags?.[REBUILT_FROM_TAG];
    if (rebuilt !== undefined) from.set(rebuilt, definition);
  }
  // A rebuild of a rebuild (another protocol since) is followed; each revision once.
  const seen = new Set<string>();
  for (let at = from.get(jobDefinition); at !== undefined; at = from.get(at.jobDefinitionArn)) {
    if (seen.has(at.jobDefinitionArn)) return undefined;
    seen.add(at.jobDefinitionArn);
    if (definitionRuntime(at) === RUNTIME_PROTOCOL) return at.jobDefinitionArn;
  }
  return undefined;
}

/**
 * What makes an AWS knot whose image runs another cloudknot version's job
 * runtime run again, in a library user's words (the command line turns them
 * into its `cloudknot knot create` command).
 *
 * @example Usage
 * ```ts
 * import { rebuildAdvice } from "@cloudknot/cloudknot/batch";
 *
 * console.log(rebuildAdvice("squares").startsWith("create the knot with Knot.create")); // true
 * ```
 *
 * @param knot The knot's name.
 * @returns The advice, starting in lower case.
 */
export function rebuildAdvice(knot: string): string {
  return `create the knot with Knot.create({ name: "${knot}", func }) (or module and ` +
    `exportName): that rebuilds its image with this version's runtime under a new job ` +
    `definition revision, and keeps its runs`;
}

/**
 * The runtime protocol of a job definition revision, read from its tag as a
 * map's check ({@linkcode runtimeCheck}) reads it: one DescribeJobDefinitions.
 *
 * @example Usage
 * ```ts ignore
 * import { revisionRuntime } from "@cloudknot/cloudknot/batch";
 *
 * const revision = await revisionRuntime(session.batch, "squares-ck-jd:3");
 * console.log(revision?.protocol); // 1
 * ```
 *
 * @param batch The Batch client.
 * @param jobDefinition The revision (its ARN, or `name:revision`).
 * @returns Its protocol (`undefined` for one registered before runtime
 *   protocols); `undefined` when Batch does not describe the revision.
 */
export async function revisionRuntime(
  batch: Pick<Batch, "describeJobDefinitions">,
  jobDefinition: string,
): Promise<{ protocol: number | undefined } | undefined> {
  const { jobDefinitions } = await batch.describeJobDefinitions({
    jobDefinitions: [jobDefinition],
  });
  const definition = jobDefinitions?.[0];
  return definition === undefined ? undefined : { protocol: definitionRuntime(definition) };
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
      const revision = await revisionRuntime(batch, jobDefinition);
      // A revision Batch does not describe is refused by SubmitJob in its own words.
      if (revision === undefined) return;
      read.set(jobDefinition, revision.protocol);
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
  const runtime = `runs ${otherRuntimeWords(protocol)}`;
  const create = rebuildAdvice(knot);
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
