/**
 * Finding a knot by name on either target, and reading an AWS knot's runs
 * from its record in the config file.
 *
 * A knot lives on one target: an AWS knot in `[knot <name>]` of the config
 * file (`target = aws`), a local knot in the local knots directory. Commands
 * on an existing knot find it by name; `--target` picks one when a name is
 * on both.
 *
 * Reading an AWS knot's runs (`results`, `jobs`, `logs`, `knot show`) needs
 * only its record, its bucket and Batch: not its image or build files, so it
 * works from any machine with the config file and credentials.
 *
 * @module
 */
import type { Plan } from "../../plan/plan.ts";
import type { MapRequest } from "../../targets/target.ts";
import type { AwsSession } from "../../aws/session.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import type { RunManifest } from "../../job/payload.ts";
import { RegionMismatchError } from "../../resources/errors.ts";
import type { MapRun } from "../../run/map_run.ts";
import type { StateFile } from "../../state/state_file.ts";
import { AwsTarget } from "../../targets/aws/aws_target.ts";
import { findLocalKnot } from "../../targets/local/catalog.ts";
import { cliSession, cliSettings } from "./aws.ts";
import type { CommandContext } from "./command.ts";
import type { TargetName } from "./target.ts";

/** An AWS knot as its `[knot <name>]` record has it. */
export interface AwsKnotRecord {
  /** The name. */
  name: string;
  /** The region. */
  region: string;
  /** The profile it was made with. */
  profile: string;
  /** The Pars' name. */
  pars: string;
  /** The image's name. */
  dockerImage: string;
  /** The ECR repository's name. */
  dockerRepo: string;
  /** The image, by digest. */
  imageUri: string;
  /** The compute type. */
  compute: string;
  /** The compute environment's ARN. */
  computeEnvironment: string;
  /** The job queue's ARN. */
  jobQueue: string;
  /** The job definition's ARN. */
  jobDefinition: string;
  /** The bucket of its job data. */
  bucket: string;
  /** The key prefix of its job data. */
  prefix: string;
  /** Its objects' encryption. */
  sse: "AES256" | "aws:kms";
  /** Attempts per item. */
  retries: number;
  /** The run ids the record remembers, oldest first. */
  runs: string[];
}

function recordOf(name: string, keys: Map<string, string>): AwsKnotRecord {
  const get = (key: string) => keys.get(key) ?? "";
  return {
    name,
    region: get("region"),
    profile: get("profile"),
    pars: get("pars"),
    dockerImage: get("docker-image"),
    dockerRepo: get("docker-repo"),
    imageUri: get("image-uri"),
    compute: get("compute") || "EC2",
    computeEnvironment: get("compute-environment"),
    jobQueue: get("job-queue"),
    jobDefinition: get("job-definition"),
    bucket: get("bucket"),
    prefix: get("prefix"),
    sse: get("sse") === "aws:kms" ? "aws:kms" : "AES256",
    retries: Number(get("retries")) || 1,
    runs: get("runs").split(/\s+/).filter((id) => id !== ""),
  };
}

/**
 * Every AWS knot of the config file.
 *
 * @example Usage
 * ```ts ignore
 * for (const knot of await readAwsKnots(state)) console.log(knot.name, knot.region);
 * ```
 *
 * @param state The config file.
 * @returns The records, sorted by name.
 */
export async function readAwsKnots(state: StateFile): Promise<AwsKnotRecord[]> {
  const out: AwsKnotRecord[] = [];
  for (const [section, keys] of await state.read()) {
    if (section.startsWith("knot ") && keys.get("target") === "aws") {
      out.push(recordOf(section.slice("knot ".length), keys));
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Where the knot of a name lives: `--target` when given; otherwise AWS when
 * the config file records it, else local.
 *
 * @example Usage
 * ```ts ignore
 * if (await locateKnot(ctx, "squares") === "aws") console.log("on AWS Batch");
 * ```
 *
 * @param ctx The running command (its `--target`, environment and config file).
 * @param name The knot's name.
 * @returns The target.
 * @throws {UsageError} When `--target` is neither `local` nor `aws`.
 * @throws {CloudknotInputError} When the name is on both targets and `--target` does not pick one.
 */
export async function locateKnot(ctx: CommandContext, name: string): Promise<TargetName> {
  const target = ctx.string("target");
  if (target !== undefined && target !== "local" && target !== "aws") {
    throw ctx.usage(`--target must be "local" or "aws", not "${target}"`);
  }
  if (target !== undefined) return target;
  const { state } = cliSettings(ctx);
  if ((await state.get(`knot ${name}`, "target")) !== "aws") return "local";
  const local = await findLocalKnot(name, { env: ctx.io.env }).then(() => true, () => false);
  if (local) {
    throw new CloudknotInputError(
      `There is a local knot and an AWS knot named "${name}": pass --target local or --target aws`,
      { field: "target" },
    );
  }
  return "aws";
}

/** The runs of an AWS knot, read from its record. */
export interface AwsKnotReader {
  /** The knot's record. */
  record: AwsKnotRecord;
  /** The AWS session. */
  session: AwsSession;
  /** The knot's runs, oldest first. */
  runs(): Promise<RunManifest[]>;
  /**
   * Opens a run and follows it (results arrive as the jobs finish).
   *
   * @param runId The run's id.
   * @param options `signal` stops following (the jobs go on).
   */
  collect(runId: string, options?: { signal?: AbortSignal }): Promise<MapRun<unknown>>;
  /**
   * Opens a run and follows it, resolving once one round of polling has read
   * every job's status and every record written so far (so the run stands
   * as it is now).
   *
   * @param runId The run's id.
   * @returns The run, and how to stop following it (the jobs go on).
   */
  open(runId: string): Promise<{ run: MapRun<unknown>; close(): void }>;
  /**
   * What mapping these items would write and submit, with nothing done.
   *
   * @param request The encoded items and the map options.
   * @param options `itemSeconds` adds an estimate.
   */
  plan(request: MapRequest, options?: { itemSeconds?: number }): Promise<Plan>;
}

/**
 * Opens an AWS knot's runs from its record in the config file.
 *
 * @example Usage
 * ```ts ignore
 * const reader = await openAwsKnotReader(ctx, "squares");
 * const { run, close } = await reader.open((await reader.runs()).at(-1)!.runId);
 * console.log(run.counts);
 * close();
 * ```
 *
 * @param ctx The running command.
 * @param name The knot's name.
 * @returns The reader.
 * @throws {CloudknotInputError} When the config file has no AWS knot of that name.
 * @throws {RegionMismatchError} When the knot is in another region than the settings'.
 */
export async function openAwsKnotReader(
  ctx: CommandContext,
  name: string,
): Promise<AwsKnotReader> {
  const settings = cliSettings(ctx);
  const keys = await settings.state.section(`knot ${name}`);
  if (keys === undefined || keys.get("target") !== "aws") {
    throw new CloudknotInputError(
      `There is no AWS knot named "${name}" in ${settings.state.path}: see \`cloudknot knot list\``,
      { field: "knot" },
    );
  }
  const record = recordOf(name, keys);
  const session = await cliSession(ctx, settings);
  if (record.region !== session.region) {
    throw new RegionMismatchError("Knot", name, {
      resourceRegion: record.region,
      currentRegion: session.region,
    });
  }
  const rounds = new Map<string, () => void>();
  const target = new AwsTarget({
    session,
    state: settings.state,
    knot: name,
    bucket: record.bucket,
    prefix: record.prefix,
    sse: record.sse,
    jobQueue: record.jobQueue,
    jobDefinition: record.jobDefinition,
    attempts: record.retries,
    profile: record.profile,
    region: record.region,
    onPoll: (runId) => rounds.get(runId)?.(),
  });
  return {
    record,
    session,
    runs: () => target.runs(),
    collect: (runId, options = {}) => target.collect(runId, options),
    plan: (request, options = {}) => target.plan(request, options),
    async open(runId) {
      const stop = new AbortController();
      const polled = new Promise<void>((resolve) => rounds.set(runId, resolve));
      const run = await target.collect(runId, { signal: stop.signal });
      await Promise.race([polled, run.done]);
      rounds.delete(runId);
      return { run, close: () => stop.abort() };
    },
  };
}
