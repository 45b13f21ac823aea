/**
 * The Pars and knots the Python cloudknot made. Each is a CloudFormation
 * stack (`<name>-pars`, `<name>-knot`) and a `[pars <name>]` or
 * `[knot <name>]` record with a `stack-id` in the config file, which both
 * tools share. cloudknot for Deno does not adopt them (it makes its
 * resources without CloudFormation), but it recognises them, says what they
 * are, and removes them through CloudFormation: {@linkcode clobberOriginal}.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import { AwsError } from "../aws/core/error.ts";
import { CloudknotError, CloudknotInputError, CloudknotTimeoutError } from "../util/errors.ts";
import { sleep } from "../util/sleep.ts";
import { jobsSection, recordName, recordSection } from "../state/sections.ts";
import type { StateFile } from "../state/state_file.ts";
import { CannotDeleteResourceError, ProfileMismatchError, RegionMismatchError } from "./errors.ts";
import { sessionFromSettings, type SettingsOptions, settingsState } from "./settings.ts";
import { SETTINGS_SESSION_OPTION_KEYS, settingsOf } from "./settings_keys.ts";
import { validateOptionKeys, validateOptionType } from "../util/validate.ts";

/** A Pars or knot the Python cloudknot made, as its config file record has it. */
export interface OriginalRecord {
  /** `pars` or `knot`. */
  kind: "pars" | "knot";
  /** The name. */
  name: string;
  /** The CloudFormation stack's id (an ARN). */
  stackId: string;
  /** The stack's name, such as `lab-knot`. */
  stackName: string;
  /** The region. */
  region: string;
  /** The profile it was made with (`from-env` for the credential chain). */
  profile: string;
  /** A knot's Pars, by name. */
  pars?: string;
  /** A knot's Batch jobs (`job_ids`), oldest first. */
  jobIds: string[];
}

/**
 * The Python cloudknot's record of a Pars or knot, if the section is one:
 * the original writes a `stack-id` in each, which this library never does.
 *
 * @example Usage
 * ```ts
 * import { originalRecord } from "@cloudknot/cloudknot/resources";
 *
 * const keys = new Map([["stack-id", "arn:aws:cloudformation:us-east-1:1:stack/lab-knot/9f"], ["region", "us-east-1"]]);
 * console.log(originalRecord("knot", "lab", keys)?.stackName); // "lab-knot"
 * ```
 *
 * @param kind `pars` or `knot`.
 * @param name The record's name.
 * @param keys The section's keys.
 * @returns The record, or `undefined` for a record this library made.
 */
export function originalRecord(
  kind: "pars" | "knot",
  name: string,
  keys: Map<string, string>,
): OriginalRecord | undefined {
  const stackId = keys.get("stack-id")?.trim();
  if (!stackId) return undefined;
  const pars = keys.get("pars");
  return {
    kind,
    name,
    stackId,
    stackName: /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? stackId,
    region: keys.get("region") ?? "",
    profile: keys.get("profile") ?? "",
    ...(kind === "knot" && pars ? { pars } : {}),
    jobIds: (keys.get("job_ids") ?? "").split(/\s+/).filter((id) => id !== ""),
  };
}

/**
 * Whether a `[docker-image <name>]` record is the Python cloudknot's: it
 * writes `script-path` (its generated Python script), which this library
 * never does.
 *
 * @example Usage
 * ```ts
 * import { isOriginalImageRecord } from "@cloudknot/cloudknot/resources";
 *
 * console.log(isOriginalImageRecord(new Map([["script-path", "/home/ada/x/square.py"]]))); // true
 * ```
 *
 * @param keys The section's keys.
 * @returns Whether the original wrote it.
 */
export function isOriginalImageRecord(keys: Map<string, string>): boolean {
  return keys.has("script-path");
}

/**
 * Every Pars and knot of the config file the Python cloudknot made.
 *
 * @example Usage
 * ```ts ignore
 * import { readOriginalRecords } from "@cloudknot/cloudknot/resources";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * for (const r of await readOriginalRecords(new StateFile())) console.log(r.kind, r.name, r.stackName);
 * ```
 *
 * @param state The config file.
 * @param kind Only records of this kind.
 * @returns The records, sorted by kind and name.
 */
export async function readOriginalRecords(
  state: StateFile,
  kind?: "pars" | "knot",
): Promise<OriginalRecord[]> {
  const out: OriginalRecord[] = [];
  for (const [section, keys] of await state.read()) {
    for (const k of kind === undefined ? ["knot", "pars"] as const : [kind]) {
      const name = recordName(k, section);
      const record = name === undefined ? undefined : originalRecord(k, name, keys);
      if (record !== undefined) out.push(record);
    }
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/**
 * The Python cloudknot's Pars or knot of a name, if the config file has one.
 *
 * @example Usage
 * ```ts ignore
 * import { readOriginalRecord } from "@cloudknot/cloudknot/resources";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * console.log(await readOriginalRecord(new StateFile(), "knot", "lab"));
 * ```
 *
 * @param state The config file.
 * @param kind `pars` or `knot`.
 * @param name The name.
 * @returns The record, or `undefined`.
 */
export async function readOriginalRecord(
  state: StateFile,
  kind: "pars" | "knot",
  name: string,
): Promise<OriginalRecord | undefined> {
  const keys = await state.section(recordSection(kind, name));
  return keys === undefined ? undefined : originalRecord(kind, name, keys);
}

/**
 * A Pars or knot of that name was made by the Python cloudknot: it is a
 * CloudFormation stack, which this library does not adopt. The message says
 * how to remove it ({@linkcode clobberOriginal}) or to keep using it from
 * Python.
 *
 * @example Usage
 * ```ts
 * import { OriginalResourceError } from "@cloudknot/cloudknot";
 *
 * const e = new OriginalResourceError({ kind: "knot", name: "lab", stackName: "lab-knot" });
 * console.log(e.stackName, /clobberOriginal\("knot", "lab"\)/.test(e.message)); // "lab-knot" true
 * ```
 */
export class OriginalResourceError extends CloudknotError {
  /** `pars` or `knot`. */
  readonly kind: "pars" | "knot";
  /** The name. */
  readonly resourceName: string;
  /** The CloudFormation stack it is. */
  readonly stackName: string;

  /**
   * Makes the error.
   *
   * @param record The kind, name and stack of the original's resource.
   */
  constructor(record: Pick<OriginalRecord, "kind" | "name" | "stackName">) {
    const what = record.kind === "knot" ? "Knot" : "Pars";
    super(
      `${what} "${record.name}" was made by the Python cloudknot: it is the CloudFormation stack ` +
        `${record.stackName}, which cloudknot for Deno does not adopt. Remove it with ` +
        `clobberOriginal("${record.kind}", "${record.name}") and make it again here, choose ` +
        `another name, or keep using it from Python`,
    );
    this.kind = record.kind;
    this.resourceName = record.name;
    this.stackName = record.stackName;
  }
}

/** A resource of a stack that CloudFormation could not delete. */
export interface FailedStackResource {
  /** The template's name for it. */
  logicalId: string;
  /** Its id in its service. */
  physicalId?: string;
  /** Its type, such as `AWS::EC2::SecurityGroup`. */
  type: string;
  /** What its service said. */
  reason: string;
}

/**
 * CloudFormation could not delete a stack. The stack is left as
 * CloudFormation left it, and its record in the config file is kept, so
 * clobbering again finishes the job once the cause is gone.
 *
 * @example Usage
 * ```ts
 * import { StackDeletionError } from "@cloudknot/cloudknot";
 *
 * const e = new StackDeletionError("lab-pars", "DELETE_FAILED", "The following resource(s) failed to delete: [SecurityGroup]. ", []);
 * console.log(e.status); // "DELETE_FAILED"
 * ```
 */
export class StackDeletionError extends CloudknotError {
  /** The stack. */
  readonly stackName: string;
  /** Its status, such as `DELETE_FAILED`. */
  readonly status: string;
  /** CloudFormation's reason. */
  readonly reason: string;
  /** The resources that could not be deleted. */
  readonly failed: FailedStackResource[];

  /**
   * Makes the error.
   *
   * @param stackName The stack.
   * @param status Its status.
   * @param reason CloudFormation's reason.
   * @param failed The resources that could not be deleted.
   */
  constructor(stackName: string, status: string, reason: string, failed: FailedStackResource[]) {
    const details = failed.map((r) =>
      `${r.logicalId}${r.physicalId ? ` ${r.physicalId}` : ""} (${r.type}): ${r.reason}`
    );
    const keep = failed.length > 0
      ? `, or leave them in place: aws cloudformation delete-stack --stack-name ${stackName} ` +
        `--retain-resources ${failed.map((r) => r.logicalId).join(" ")}`
      : "";
    super(
      `CloudFormation could not delete stack ${stackName} (${status}: ${reason.trim()})` +
        `${details.length > 0 ? `; ${details.join("; ")}` : ""}. Remove what still uses them, ` +
        `then clobber again${keep}`,
    );
    this.stackName = stackName;
    this.status = status;
    this.reason = reason.trim();
    this.failed = failed;
  }
}

/** Options of {@linkcode clobberOriginal}. */
export interface ClobberOriginalOptions extends SettingsOptions {
  /** The AWS session (default: one made from the settings, with the record's profile and region). */
  session?: AwsSession;
  /** With a knot: its Pars too, unless another knot of the config file uses it. @default {false} */
  pars?: boolean;
  /**
   * The longest wait between two looks at a stack being deleted, in
   * milliseconds; the first look is after 250 ms, and each wait doubles up
   * to this. @default {5000}
   */
  pollIntervalMs?: number;
  /** How long to wait for one stack, in milliseconds. @default {1800000} */
  timeoutMs?: number;
  /**
   * How long to go on deleting a knot's Pars stack again while AWS still
   * holds its network for the knot's compute environment deleted a moment
   * before, in milliseconds. @default {300000}
   */
  networkWaitMs?: number;
  /** Told each step, for progress output. */
  onProgress?: (message: string) => void;
  /** Told each time a Pars stack is deleted again because its network is still in use. @default {console.warn} */
  onWait?: (message: string) => void;
}

const CLOBBER_ORIGINAL_OPTION_KEYS: Readonly<Record<keyof ClobberOriginalOptions, true>> = {
  ...SETTINGS_SESSION_OPTION_KEYS,
  pars: true,
  pollIntervalMs: true,
  timeoutMs: true,
  networkWaitMs: true,
  onProgress: true,
  onWait: true,
};

/** What {@linkcode clobberOriginal} removed. */
export interface ClobberOriginalResult {
  /** The stacks deleted (or found gone), in order. */
  stacks: string[];
  /** The config file sections removed. */
  records: string[];
}

/**
 * The statuses the AWS SDKs' `StackDeleteComplete` waiter stops on as a
 * failure (`UPDATE_COMPLETE` is where a stack returns when an export it
 * holds is still imported).
 */
const DELETE_FAILURES = new Set([
  "DELETE_FAILED",
  "CREATE_FAILED",
  "ROLLBACK_FAILED",
  "UPDATE_ROLLBACK_IN_PROGRESS",
  "UPDATE_ROLLBACK_FAILED",
  "UPDATE_ROLLBACK_COMPLETE",
  "UPDATE_COMPLETE",
]);

function isMissingStack(e: unknown): boolean {
  return e instanceof AwsError && e.code === "ValidationError" &&
    /does not exist/.test(e.awsMessage);
}

/**
 * The status of a Python cloudknot's stack now (one DescribeStacks call), or
 * `undefined` when it is gone.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { originalStackStatus } from "@cloudknot/cloudknot/resources";
 *
 * console.log(await originalStackStatus(await AwsSession.create(), record.stackId)); // { status: "CREATE_COMPLETE", reason: "" }
 * ```
 *
 * @param session The AWS session.
 * @param stackId The stack's id.
 * @returns Its status and CloudFormation's reason, or `undefined`.
 */
export async function originalStackStatus(
  session: AwsSession,
  stackId: string,
): Promise<{ status: string; reason: string } | undefined> {
  try {
    const stack = (await session.cloudformation.describeStacks({ StackName: stackId })).Stacks?.[0];
    if (stack === undefined || stack.StackStatus === "DELETE_COMPLETE") return undefined;
    return { status: stack.StackStatus, reason: stack.StackStatusReason ?? "" };
  } catch (e) {
    if (isMissingStack(e)) return undefined;
    throw e;
  }
}

/**
 * Removes a Pars or knot the Python cloudknot made: deletes its
 * CloudFormation stack and waits until CloudFormation has deleted every
 * resource in it, then removes its record (for a knot, also its jobs from
 * `[batch-jobs <profile> <region>]`; deleting its job queue stops them).
 * With `pars`, a knot's Pars goes next, as the original's
 * `knot.clobber(clobber_pars=True)` does; while AWS still holds the Pars's
 * network for the knot's compute environment deleted a moment before, the
 * Pars stack is deleted again, with a warning through `onWait`, for up to
 * `networkWaitMs`. The knot's image and repository records are left, as the
 * original leaves them.
 *
 * Everything is checked before the first deletion: the record, its region
 * and profile, that no other knot of the config file uses a Pars about to
 * go, and that no other stack imports its exports.
 *
 * @example Usage
 * ```ts ignore
 * import { clobberOriginal } from "@cloudknot/cloudknot";
 *
 * const { stacks } = await clobberOriginal("knot", "lab", { pars: true });
 * console.log(stacks); // [ "lab-knot", "lab-pars" ]
 * ```
 *
 * @param kind `knot` or `pars`.
 * @param name The name.
 * @param options The session, the config file, `pars`, and how to wait.
 * @returns The stacks deleted and the records removed.
 * @throws {CloudknotInputError} When the config file has no such record of the original.
 * @throws {CannotDeleteResourceError} When another knot or stack still uses a Pars.
 * @throws {StackDeletionError} When CloudFormation could not delete a stack (its record is kept).
 * @throws {CloudknotTimeoutError} When a stack is still being deleted after `timeoutMs`.
 */
export async function clobberOriginal(
  kind: "pars" | "knot",
  name: string,
  options: ClobberOriginalOptions = {},
): Promise<ClobberOriginalResult> {
  validateOptionKeys(options, CLOBBER_ORIGINAL_OPTION_KEYS, "clobberOriginal()");
  validateOptionType(options, "pars", "boolean");
  const state = settingsState(options);
  const record = await readOriginalRecord(state, kind, name);
  if (record === undefined) {
    throw new CloudknotInputError(
      `${state.path} has no ${kind} "${name}" made by the Python cloudknot (a [${kind} ${name}] ` +
        `record with a stack-id)`,
      { field: "name" },
    );
  }
  const targets = [record];
  if (kind === "knot" && options.pars && record.pars) {
    const pars = await readOriginalRecord(state, "pars", record.pars);
    if (pars === undefined) {
      throw new CloudknotInputError(
        `Knot "${name}"'s Pars "${record.pars}" has no record of the Python cloudknot in ` +
          `${state.path}: clobber the knot without pars`,
        { field: "pars" },
      );
    }
    targets.push(pars);
  }
  const session = options.session ?? await sessionFromSettings({
    ...settingsOf(options),
    state,
    recorded: { profile: record.profile, region: record.region },
  });
  for (const r of targets) {
    const what = r.kind === "knot" ? "Knot" : "Pars";
    if (r.region !== session.region) {
      throw new RegionMismatchError(what, r.name, {
        resourceRegion: r.region,
        currentRegion: session.region,
      });
    }
    if (!session.sameProfile(r.profile)) {
      throw new ProfileMismatchError(what, r.name, {
        resourceProfile: r.profile,
        currentProfile: session.profile,
      });
    }
  }
  // A Pars goes only when nothing else uses it: knots of the config file
  // (the original's and ours name it), and stacks importing its exports.
  const going = new Set(targets.map((t) => t.stackName));
  for (const pars of targets.filter((t) => t.kind === "pars")) {
    const users: string[] = [];
    for (const [section, keys] of await state.read()) {
      const knot = recordName("knot", section);
      if (
        knot !== undefined && keys.get("pars") === pars.name && !(kind === "knot" && knot === name)
      ) {
        users.push(`knot ${knot}`);
      }
    }
    let outputs: { ExportName?: string }[] = [];
    try {
      const { Stacks } = await session.cloudformation.describeStacks({ StackName: pars.stackId });
      outputs = Stacks?.[0]?.StackStatus === "DELETE_COMPLETE" ? [] : Stacks?.[0]?.Outputs ?? [];
    } catch (e) {
      if (!isMissingStack(e)) throw e;
    }
    for (const output of outputs) {
      if (!output.ExportName) continue;
      try {
        for await (
          const importer of session.cloudformation.listImportsAll({ ExportName: output.ExportName })
        ) {
          if (!going.has(importer) && !users.includes(`stack ${importer}`)) {
            users.push(`stack ${importer}`);
          }
        }
      } catch (e) {
        // "Export 'x' is not imported by any stack."
        if (!(e instanceof AwsError && e.code === "ValidationError")) throw e;
      }
    }
    if (users.length > 0) {
      throw new CannotDeleteResourceError(
        `Pars "${pars.name}" (stack ${pars.stackName}) is still used by ${users.join(", ")}: ` +
          `clobber ${users.length > 1 ? "those" : "that"} first`,
        { users },
      );
    }
  }

  const done: ClobberOriginalResult = { stacks: [], records: [] };
  let knotDeleted = false;
  for (const r of targets) {
    if (r.kind === "pars" && knotDeleted) {
      await deleteParsAfterKnot(session, r.stackName, r.stackId, options);
    } else {
      const deleted = await deleteStack(session, r.stackName, r.stackId, options);
      if (r.kind === "knot") knotDeleted = deleted;
    }
    const section = recordSection(r.kind, r.name);
    await state.update((doc) => {
      doc.delete(section);
      const jobs = doc.get(jobsSection(r.profile, r.region));
      for (const id of r.jobIds) jobs?.delete(id);
      if (jobs?.size === 0) doc.delete(jobsSection(r.profile, r.region));
    });
    done.stacks.push(r.stackName);
    done.records.push(section);
  }
  return done;
}

/**
 * Deletes a Pars stack right after this call deleted its knot's stack. AWS
 * keeps a deleted compute environment's instances and network interfaces
 * for a while (cloud-barista/cb-spider#460;
 * opensearch-project/opensearch-migrations#2913), so the Pars's security
 * group or subnets answer `DependencyViolation` and the stack goes
 * `DELETE_FAILED`. Only then is it deleted again (CloudFormation accepts
 * DeleteStack on a `DELETE_FAILED` stack), with a warning each time and
 * backoff from `pollIntervalMs` doubling up to 30 s, for at most
 * `networkWaitMs`; any other failure is thrown at once.
 */
async function deleteParsAfterKnot(
  session: AwsSession,
  stackName: string,
  stackId: string,
  options: ClobberOriginalOptions,
): Promise<void> {
  const waitMs = options.networkWaitMs ?? 300_000;
  const deadline = Date.now() + waitMs;
  let pause = options.pollIntervalMs ?? 5000;
  for (let attempt = 1;; attempt++) {
    try {
      await deleteStack(session, stackName, stackId, options);
      return;
    } catch (e) {
      const inUse = e instanceof StackDeletionError && e.status === "DELETE_FAILED" &&
        e.failed.length > 0 && e.failed.every((f) => f.reason.includes("DependencyViolation"));
      if (!inUse || Date.now() + pause > deadline) throw e;
      (options.onWait ?? console.warn)(
        `cloudknot: stack ${stackName} is DELETE_FAILED because its network is still in use ` +
          `(${e.failed.map((f) => `${f.logicalId}: ${f.reason}`).join("; ")}): AWS holds it ` +
          `a while for the instances and network interfaces of the knot's compute environment ` +
          `deleted a moment ago, so it is deleted again in ${Math.ceil(pause / 1000)} s (try ${
            attempt + 1
          }, for up to ${Math.round(waitMs / 60_000)} minutes)`,
      );
      await sleep(pause);
      pause = Math.min(pause * 2, 30_000);
    }
  }
}

/**
 * Deletes one stack and waits as the SDKs' `StackDeleteComplete` waiter
 * does; answers whether it deleted it (`false`: it was already gone).
 */
async function deleteStack(
  session: AwsSession,
  stackName: string,
  stackId: string,
  options: ClobberOriginalOptions,
): Promise<boolean> {
  const cfn = session.cloudformation;
  const before = await originalStackStatus(session, stackId);
  if (before === undefined) {
    options.onProgress?.(`Stack ${stackName} is already gone`);
    return false;
  }
  options.onProgress?.(`Deleting stack ${stackName} (${before.status})`);
  await cfn.deleteStack({ StackName: stackId });
  const longest = options.pollIntervalMs ?? 5000;
  let wait = Math.min(250, longest);
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  for (;;) {
    const now = await originalStackStatus(session, stackId);
    if (now === undefined) {
      options.onProgress?.(`Stack ${stackName} is deleted`);
      return true;
    }
    if (DELETE_FAILURES.has(now.status)) {
      const failed: FailedStackResource[] = [];
      for await (const r of cfn.listStackResourcesAll({ StackName: stackId })) {
        if (r.ResourceStatus === "DELETE_FAILED") {
          failed.push({
            logicalId: r.LogicalResourceId,
            ...(r.PhysicalResourceId ? { physicalId: r.PhysicalResourceId } : {}),
            type: r.ResourceType,
            reason: r.ResourceStatusReason ?? "no reason given",
          });
        }
      }
      throw new StackDeletionError(stackName, now.status, now.reason, failed);
    }
    if (Date.now() > deadline) {
      throw new CloudknotTimeoutError(
        `Stack ${stackName} is still ${now.status} after ${
          Math.round((options.timeoutMs ?? 30 * 60_000) / 60_000)
        } min; look at it in the CloudFormation console, and clobber again to finish`,
      );
    }
    await sleep(wait);
    wait = Math.min(wait * 2, longest);
  }
}
