/**
 * Jobs stuck in RUNNABLE: the reasons AWS Batch gives when a job at the head
 * of a queue cannot be placed, what each means for a knot and what to do.
 *
 * @module
 */

/** What each blocked reason means for a knot, and what to do about it. */
const ADVICE: Readonly<Record<string, string>> = {
  "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY":
    "AWS has no capacity now for the knot's instance types: wait, or make the knot again (a new " +
    "knot, or this one clobbered and created again) with more instanceTypes in Knot.create (or " +
    '"optimal"), with compute "EC2" instead of "SPOT", or in another region',
  "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE":
    "one job needs more vCPUs than the compute environment's maxVcpus: lower vcpus in " +
    "Knot.create (which updates the knot's job definition), or make the knot again (a new knot, " +
    "or this one clobbered and created again) with a larger maxVcpus in Knot.create",
  "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT":
    "no instance type the compute environment may launch has the vCPUs, memory or GPUs one job " +
    "asks for: lower vcpus, memory or gpus in Knot.create (which updates the knot's job " +
    "definition; leave some memory to the ECS agent: an 8 GiB instance offers jobs a little " +
    "under 8 GiB), or make the knot again (a new knot, or this one clobbered and created again) " +
    "with larger instanceTypes in Knot.create",
  "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS":
    "the AWS Batch service role of the knot's Pars lacks permissions: check that role, or " +
    "clobber the Pars and let cloudknot make it again",
  "ACTION_REQUIRED":
    "the knot's compute environment is INVALID: its status reason says why (`cloudknot knot " +
    "show`, or the AWS Batch console for knot.aws.computeEnvironment); clobber the knot and " +
    "create it again",
};

/** The reasons a queue's `jobStateTimeLimitActions` can act on. */
export const MISCONFIGURATION_REASONS: readonly string[] = [
  "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
  "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
];

/** The capacity reason a queue's `jobStateTimeLimitActions` can act on. */
export const CAPACITY_REASON = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY";

/**
 * A retry's words for the reasons its own options answer: a retry runs on its
 * knot's compute environment as it is, with the vCPUs and memory the retry
 * gives (`run.retry({ vcpus, memory })`), so what it can lower is those, and
 * what only a knot made again changes is the environment's.
 */
const RETRY_ADVICE: Readonly<Record<string, string>> = {
  "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY":
    "AWS has no capacity now for the instance types of the knot's compute environment, which a " +
    "retry runs on as it is: wait, or map the items on a knot made with more instanceTypes in " +
    'Knot.create (or "optimal"), with compute "EC2" instead of "SPOT", or in another region',
  "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE":
    "one job of the retry needs more vCPUs than the compute environment's maxVcpus: give the " +
    "retry fewer vCPUs with the vcpus option of run.retry(), or map the items on a knot with a " +
    "larger maxVcpus in Knot.create (a new knot, or this one clobbered and created again)",
  "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT":
    "no instance type the compute environment may launch has the vCPUs, memory or GPUs one job " +
    "of the retry asks for: give the retry fewer vCPUs or less memory with the vcpus and memory " +
    "options of run.retry() (leave some memory to the ECS agent: an 8 GiB instance offers jobs " +
    "a little under 8 GiB), or map the items on a knot with larger instanceTypes in " +
    "Knot.create (a new knot, or this one clobbered and created again)",
};

/** Options of {@linkcode stuckReason}. */
export interface StuckReasonOptions {
  /**
   * Whose jobs are stuck, for the advice: a run's (the knot's options) or a
   * retry's (`run.retry({ vcpus, memory })`, as `checkJobFits` words it for a
   * retry). @default {"knot"}
   */
  caller?: "knot" | "retry";
}

const CODE_RE = /^(?:Canceled by JobStateTimeLimit action due to reason: )?([A-Z_]+(?::[A-Z_]+)?)/;

/**
 * What a job's `statusReason` says when Batch cannot place it (or cancelled
 * it for that): the reason's code and what to do. `undefined` for any other
 * status reason.
 *
 * @example Usage
 * ```ts
 * import { stuckReason } from "./stuck.ts";
 *
 * const stuck = stuckReason(
 *   "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue.",
 * );
 * console.log(stuck?.code); // "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"
 * ```
 *
 * @param statusReason A job's `statusReason`.
 * @param options Whose jobs they are, for the advice.
 * @returns The code, whether Batch cancelled the job for it, and the advice.
 */
export function stuckReason(
  statusReason: string | undefined,
  options: StuckReasonOptions = {},
): { code: string; cancelled: boolean; advice: string } | undefined {
  const match = CODE_RE.exec(statusReason ?? "");
  const code = match?.[1];
  if (code === undefined) return undefined;
  const advice = (options.caller === "retry" ? RETRY_ADVICE[code] : undefined) ?? ADVICE[code];
  if (advice === undefined) return undefined;
  return { code, cancelled: statusReason!.startsWith("Canceled by JobStateTimeLimit"), advice };
}

/**
 * Where to look when every job of a run waits in RUNNABLE and AWS Batch says
 * nothing: the account's vCPU quota for the compute type (Service Quotas;
 * new accounts start low), and the compute environment's `maxvCpus`, which
 * the knot's other runs may fill.
 *
 * @example Usage
 * ```ts
 * import { waitingAdvice } from "./stuck.ts";
 *
 * console.log(waitingAdvice("EC2", "squares")); // "… L-1216C47A …"
 * ```
 *
 * @param compute The knot's compute type (`EC2`, `SPOT`, `FARGATE`, `FARGATE_SPOT`).
 * @param knot The knot's name, for the command that shows its compute environment.
 * @returns What to check, in a sentence.
 */
export function waitingAdvice(compute: string, knot: string): string {
  const quota = compute === "SPOT"
    ? `EC2's "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"`
    : compute === "FARGATE" || compute === "FARGATE_SPOT"
    ? `AWS Fargate's "Fargate ${compute === "FARGATE" ? "On-Demand" : "Spot"} vCPU resource count"`
    : `EC2's "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" (L-1216C47A; ` +
      `"Running On-Demand G and VT instances" or "… P instances" for GPU types)`;
  return `the account's vCPU quota may be too low (new accounts start low): see ${quota} in the ` +
    `Service Quotas console for this region, and request more there; or the knot's compute ` +
    `environment may be full of other jobs up to its maxvCpus: see it in the AWS Batch console ` +
    `(knot.aws.computeEnvironment names it, as \`cloudknot knot show ${knot}\` does)`;
}
