/**
 * Which options given to a knot on AWS that exists differ from the knot's
 * own, as its record and AWS (its compute environment, job queue and job
 * definition) say: those of its function and its job definition
 * ({@linkcode UPDATED_OPTIONS}) update the knot, the others are ignored. An
 * option whose value the knot keeps nowhere to compare with (its `tags`, or
 * `volumeSize`) counts as differing whenever it is given. Also the knot's
 * own values of the options an update or a heal keeps when they are not
 * given ({@linkcode knotOwnOptions}).
 *
 * @module
 */
import type { AwsSession } from "../../aws/mod.ts";
import type {
  ComputeEnvironmentDetail,
  JobDefinition,
  JobQueueDetail,
  JobStateTimeLimitAction,
} from "../../aws/services/batch.ts";
import { validatePermissions } from "../../job/permissions.ts";
import { type AwsKnotRecord, batchName } from "./catalog.ts";
import { type AwsKnotSpec, SHAPING, validateAwsKnotOptions } from "./knot_options.ts";
import type { ComputeType } from "./batch/compute_options.ts";
import { CAPACITY_REASON, MISCONFIGURATION_REASONS } from "./batch/stuck.ts";

/** What AWS says of an adopted knot's Batch resources, as far as it was read. */
export interface AdoptedBatch {
  /** Its compute environment, when described. */
  computeEnvironment?: ComputeEnvironmentDetail;
  /** Its job queue, when described. */
  jobQueue?: JobQueueDetail;
  /** Its job definition (the revision its record names), when described. */
  jobDefinition?: JobDefinition;
}

/** The knot's job definition: as described already, else described now (`undefined` when it cannot be). */
async function knotDefinition(
  session: AwsSession,
  record: AwsKnotRecord,
  batch: AdoptedBatch,
): Promise<JobDefinition | undefined> {
  return batch.jobDefinition ??
    await session.batch.describeJobDefinitions({ jobDefinitions: [record.jobDefinition] })
      .then((r) => r.jobDefinitions?.[0], () => undefined);
}

/**
 * The options that give a knot its function.
 *
 * @example Usage
 * ```ts ignore
 * const functionGiven = FUNCTION_KEYS.some((key) => spec[key] !== undefined);
 * ```
 */
export const FUNCTION_KEYS: readonly (keyof AwsKnotSpec)[] = [
  "func",
  "module",
  "exportName",
  "files",
];

/** The options whose knot's value is in its job definition. */
const IN_DEFINITION: readonly (keyof AwsKnotSpec)[] = [
  "vcpus",
  "memory",
  "gpus",
  "timeout",
  "evaluateOnExit",
  "permissions",
];

/**
 * The options that, given to a knot that exists with other values than its
 * own, update it: a new image when the function is another, and a new
 * revision of its job definition. The others would need its compute
 * environment or queue made again, and are ignored.
 *
 * @example Usage
 * ```ts
 * import { UPDATED_OPTIONS } from "./adopted_options.ts";
 *
 * console.log(UPDATED_OPTIONS.includes("memory")); // true
 * ```
 */
export const UPDATED_OPTIONS: readonly (keyof AwsKnotSpec)[] = [
  ...FUNCTION_KEYS,
  ...IN_DEFINITION,
  "retries",
];

/** What the knot is known to have beside its record and its Batch resources. */
export interface AdoptedKnotOwn {
  /** The base image of the knot's image, when its record names one. */
  baseImage?: string;
  /** Whether the function given is the one the knot's image was built from. */
  sameFunction: boolean;
}

/**
 * The options given to an adopted knot that differ from the knot's own (or
 * that cannot be compared), in the order of {@linkcode SHAPING}. Reads the
 * knot's job definition only when an option it holds was given.
 *
 * @example Usage
 * ```ts ignore
 * const ignored = await ignoredOptions(session, spec, record, batch, {
 *   baseImage: image.baseImage,
 *   sameFunction: true,
 * });
 * ```
 *
 * @param session The AWS session of the knot's region.
 * @param spec The options given.
 * @param record The knot's record.
 * @param batch Its compute environment and job queue, as described.
 * @param known Its image's base image, and whether the function given is its own.
 * @returns The names of the options ignored.
 */
export async function ignoredOptions(
  session: AwsSession,
  spec: AwsKnotSpec,
  record: AwsKnotRecord,
  batch: AdoptedBatch,
  known: AdoptedKnotOwn,
): Promise<(keyof AwsKnotSpec)[]> {
  const given = SHAPING.filter((key) =>
    spec[key] !== undefined && !(known.sameFunction && FUNCTION_KEYS.includes(key))
  );
  if (given.length === 0) return [];
  // Every option was checked before the knot was looked at: the checks fill in what the knot
  // would have been made with.
  const checked = validateAwsKnotOptions(spec, { compute: record.compute as ComputeType });
  const c = checked.compute;
  const needsDefinition = given.some((key) => IN_DEFINITION.includes(key));
  const definition = needsDefinition ? await knotDefinition(session, record, batch) : undefined;
  const resources = batch.computeEnvironment?.computeResources;
  const queue = batch.jobQueue && (batch.jobQueue.jobStateTimeLimitActions ?? []);
  const requirement = (type: string) =>
    definition?.containerProperties?.resourceRequirements?.find((r) => r.type === type)?.value;
  const env = (name: string) =>
    definition?.containerProperties?.environment?.find((e) => e.name === name)?.value;
  const pars = typeof spec.pars === "object" ? spec.pars.name : spec.pars;
  // The knot's own value of each option and the value given, as comparable text;
  // undefined for what the knot keeps nowhere.
  const own: Partial<Record<keyof AwsKnotSpec, [unknown, unknown]>> = {
    pars: [record.pars, pars],
    repoName: [record.dockerRepo, checked.repoName],
    jobDefinitionName: [record.jobDefinitionName, checked.names.jobDefinition],
    computeEnvironmentName: [
      batchName(record.computeEnvironment),
      checked.names.computeEnvironment,
    ],
    jobQueueName: [batchName(record.jobQueue), checked.names.jobQueue],
    imageTags: [sorted(record.imageTags), sorted(checked.imageTags)],
    baseImage: [known.baseImage, spec.baseImage],
    compute: [record.compute, c.compute],
    retries: [record.retries, c.retries],
    vcpus: [definition && requirement("VCPU"), String(c.vcpus)],
    memory: [definition && requirement("MEMORY"), String(c.memory)],
    gpus: [definition && (requirement("GPU") ?? "0"), String(c.gpus)],
    timeout: [definition && env("CLOUDKNOT_TIMEOUT"), c.timeout && String(c.timeout)],
    evaluateOnExit: [
      definition && rules(definition),
      JSON.stringify(c.evaluateOnExit.map(rule)),
    ],
    permissions: [
      definition && (env("CLOUDKNOT_PERMISSIONS") ??
        JSON.stringify(validatePermissions(undefined))),
      spec.permissions && JSON.stringify(validatePermissions(spec.permissions)),
    ],
    instanceTypes: [
      resources?.instanceTypes && sorted(resources.instanceTypes),
      sorted(c.instanceTypes),
    ],
    minVcpus: [resources?.minvCpus, c.minVcpus],
    maxVcpus: [resources?.maxvCpus, c.maxVcpus],
    // Batch moves desiredvCpus between the bounds with demand: a start within them is kept.
    desiredVcpus: [
      resources && within(c.desiredVcpus, resources) ? c.desiredVcpus : resources?.desiredvCpus,
      c.desiredVcpus,
    ],
    bidPercentage: [resources?.bidPercentage, c.bidPercentage],
    imageId: [
      resources && (resources.ec2Configuration?.[0]?.imageIdOverride ?? ""),
      c.imageId,
    ],
    ec2KeyPair: [resources && (resources.ec2KeyPair ?? ""), c.ec2KeyPair],
    priority: [batch.jobQueue?.priority, c.priority],
    stuckTimeout: [
      queue && limitOf(queue, MISCONFIGURATION_REASONS),
      limitOf(c.jobStateTimeLimitActions, MISCONFIGURATION_REASONS),
    ],
    capacityTimeout: [
      queue && limitOf(queue, [CAPACITY_REASON]),
      limitOf(c.jobStateTimeLimitActions, [CAPACITY_REASON]),
    ],
  };
  return given.filter((key) => {
    const pair = own[key];
    return pair === undefined || pair[0] === undefined || String(pair[0]) !== String(pair[1]);
  });
}

/** The seconds after which a queue's actions cancel a job RUNNABLE for one of `reasons`, or never. */
function limitOf(actions: readonly JobStateTimeLimitAction[], reasons: readonly string[]) {
  return actions.find((a) => reasons.includes(a.reason))?.maxTimeSeconds ?? "never";
}

/** Whether a number of vCPUs is within a compute environment's bounds. */
function within(vcpus: number, r: { minvCpus?: number; maxvCpus?: number }): boolean {
  return (r.minvCpus ?? 0) <= vcpus && vcpus <= (r.maxvCpus ?? Infinity);
}

function sorted(values: readonly string[]): string {
  return JSON.stringify([...values].sort());
}

/** A retry rule with its keys in one order, its action as Batch takes it. */
function rule(
  r: { onExitCode?: string; onReason?: string; onStatusReason?: string; action: string },
) {
  return [r.onExitCode ?? "", r.onReason ?? "", r.onStatusReason ?? "", r.action.toUpperCase()];
}

function rules(definition: JobDefinition): string {
  return JSON.stringify((definition.retryStrategy?.evaluateOnExit ?? []).map(rule));
}

/**
 * Which of the options that differ from a knot's own
 * ({@linkcode ignoredOptions}) update it and which are ignored: those of
 * {@linkcode UPDATED_OPTIONS} update a knot that is whole (its function's
 * only when the function given is another), and a knot that is not whole is
 * healed, or adopted as it is, instead. The one rule of the adoption and its
 * dry run.
 *
 * @example Usage
 * ```ts
 * import { splitUpdates } from "./adopted_options.ts";
 *
 * console.log(splitUpdates(["memory", "maxVcpus"], { whole: true, newFunction: false }));
 * // { updates: [ "memory" ], ignored: [ "maxVcpus" ] }
 * ```
 *
 * @param differ The options that differ from the knot's own.
 * @param knot `whole`: nothing of the knot is gone or disabled; `newFunction`: the function
 *   given is another than the knot's.
 * @returns The options the update takes (the function's left out), and those ignored.
 */
export function splitUpdates(
  differ: readonly (keyof AwsKnotSpec)[],
  knot: { whole: boolean; newFunction: boolean },
): { updates: (keyof AwsKnotSpec)[]; ignored: (keyof AwsKnotSpec)[] } {
  const taken = differ.filter((key) =>
    knot.whole && UPDATED_OPTIONS.includes(key) &&
    (knot.newFunction || !FUNCTION_KEYS.includes(key))
  );
  return {
    updates: taken.filter((key) => !FUNCTION_KEYS.includes(key)),
    ignored: differ.filter((key) => !taken.includes(key)),
  };
}

/**
 * The knot's own values of the options a new revision of its job definition
 * is registered with, and of those its checks need: its compute type and
 * attempts from its record, its vCPUs, memory, GPUs, timeout, retry rules and
 * permissions from its job definition, its instance types and most vCPUs from
 * its compute environment (when described). An update or a heal registers
 * the new revision with these where the options given leave them out. AWS
 * is only read; a job definition that cannot be read gives only the record's.
 *
 * @example Usage
 * ```ts ignore
 * const spec = { ...await knotOwnOptions(session, record, batch), ...given };
 * ```
 *
 * @param session The AWS session of the knot's region.
 * @param record The knot's record.
 * @param batch Its compute environment, as described.
 * @returns The options, as `Knot.create` takes them.
 */
export async function knotOwnOptions(
  session: AwsSession,
  record: AwsKnotRecord,
  batch: AdoptedBatch,
): Promise<Partial<AwsKnotSpec>> {
  const definition = await knotDefinition(session, record, batch);
  const requirement = (type: string) => {
    const value = definition?.containerProperties?.resourceRequirements
      ?.find((r) => r.type === type)?.value;
    return value === undefined ? undefined : Number(value);
  };
  const env = (name: string) =>
    definition?.containerProperties?.environment?.find((e) => e.name === name)?.value;
  const timeout = env("CLOUDKNOT_TIMEOUT");
  const permissions = env("CLOUDKNOT_PERMISSIONS");
  const rules = definition?.retryStrategy?.evaluateOnExit;
  const resources = batch.computeEnvironment?.computeResources;
  const own: Partial<AwsKnotSpec> = {
    compute: record.compute as ComputeType,
    retries: record.retries,
    vcpus: requirement("VCPU"),
    memory: requirement("MEMORY"),
    gpus: requirement("GPU"),
    timeout: timeout === undefined ? undefined : Number(timeout),
    permissions: permissions === undefined ? undefined : JSON.parse(permissions),
    evaluateOnExit: rules?.map((r) => ({
      ...(r.onExitCode !== undefined ? { onExitCode: r.onExitCode } : {}),
      ...(r.onReason !== undefined ? { onReason: r.onReason } : {}),
      ...(r.onStatusReason !== undefined ? { onStatusReason: r.onStatusReason } : {}),
      action: r.action.toUpperCase() as "RETRY" | "EXIT",
    })),
    instanceTypes: resources?.instanceTypes?.length ? [...resources.instanceTypes] : undefined,
    maxVcpus: resources?.maxvCpus,
  };
  return Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined));
}
