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
import { validateKnotName } from "../../util/validate.ts";
import type { RunManifest } from "../../job/payload.ts";
import type { MapRun } from "../../run/map_run.ts";
import {
  type AwsKnotRecord,
  awsTargetOptions,
  readAwsKnot,
  requireRegion,
} from "../../targets/aws/catalog.ts";
import { findLocalKnot, localKnotsDir } from "../../targets/local/catalog.ts";
import { type UnfinishedDockerKnot, unfinishedDockerKnot } from "../../targets/docker/catalog.ts";
import { join } from "node:path";
import type { StateFile } from "../../state/state_file.ts";
import { cliCloudknotDir, cliSettings, configReadError } from "./aws.ts";
import { sessionFromSettings } from "../../resources/settings.ts";
import type { CommandContext } from "./command.ts";
import { resolveTarget, type TargetName } from "./target.ts";
import { refuseOriginal } from "./original.ts";
import { inCliWords } from "./cli_words.ts";
import { formatTime } from "./table.ts";

/**
 * What `Knot.create` needs to make or open a knot of this machine (the local
 * or docker target) from the command line, from the command line's
 * environment, as a process of its own would have it: the knots directory
 * (`$CLOUDKNOT_LOCAL_DIR`, else `~/.cloudknot/local` of its `HOME`), and a
 * docker knot's `~/.cloudknot` (where its runtime is cached). A command line
 * run in a program with an environment of its own
 * (`runCommandLine(args, { io })`) keeps its knots where that environment
 * says; `Knot.create`'s second argument, {@linkcode cliKnotEnv}, says where
 * their runs go.
 *
 * @example Usage
 * ```ts ignore
 * const knot = await Knot.create({ name, ...cliLocalKnot(ctx, "local") }, cliKnotEnv(ctx));
 * ```
 *
 * @param ctx The running command.
 * @param target The knot's target.
 * @returns The options to spread into `Knot.create`.
 */
export function cliLocalKnot(
  ctx: CommandContext,
  target: "local" | "docker",
): { dir: string } | { target: "docker"; dir: string; cloudknotDir?: string } {
  const dir = localKnotsDir({ env: ctx.io.env });
  return target === "docker" ? { target, dir, ...cliCloudknotDir({ env: ctx.io.env }) } : { dir };
}

/**
 * The second argument of `Knot.create` from the command line: its
 * environment, whose `CLOUDKNOT_LOCAL_RUNS` says where a local knot's runs go.
 *
 * @example Usage
 * ```ts ignore
 * const knot = await Knot.create({ name, ...cliLocalKnot(ctx, "local") }, cliKnotEnv(ctx));
 * ```
 *
 * @param ctx The running command.
 * @returns The command line's environment.
 */
export function cliKnotEnv(ctx: CommandContext): { env: (name: string) => string | undefined } {
  return { env: ctx.io.env };
}

/**
 * The knot of this machine of that name, if there is one. One that cannot be read (a directory of
 * it that is not private, a damaged record) is refused with its own error, never taken for no
 * knot: only "there is no such knot" is.
 */
async function localKnotIfAny(ctx: CommandContext, name: string) {
  return await findLocalKnot(name, { env: ctx.io.env }).catch((e) => {
    if (!(e instanceof CloudknotInputError)) throw e;
    return undefined;
  });
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
 * @throws {CloudknotInputError} When the name is on both targets and `--target` does not pick one,
 *   when `--target` names the other target of this machine than its knot of that name's,
 *   or when the AWS knot of that name is the Python cloudknot's (its commands are `knot list`,
 *   `knot show` and `knot clobber`).
 */
export async function locateKnot(ctx: CommandContext, name: string): Promise<TargetName> {
  const target = ctx.string("target");
  if (target !== undefined) resolveTarget(ctx);
  const { state } = cliSettings(ctx);
  // A config file that cannot be read (it records the knots on AWS, and the Python cloudknot's)
  // leaves a knot of this machine readable, as if --target named it.
  if (target === undefined && await configReadError(ctx) !== undefined) {
    const local = await localKnotIfAny(ctx, name);
    if (local !== undefined) {
      return (local.record.target as string) === "docker" ? "docker" : "local";
    }
  }
  if (target === "aws" || target === undefined) await refuseOriginal(ctx, "knot", name);
  if (target === "aws") return target;
  if (target !== undefined) {
    // A knot of this machine runs on one target: --target naming the other is a mistake.
    const found = await localKnotIfAny(ctx, name);
    const actual = (found?.record.target as string) === "docker" ? "docker" : "local";
    if (found === undefined) await refuseUnfinished(ctx, name);
    if (found !== undefined && actual !== target) {
      throw new CloudknotInputError(
        `Knot "${name}" on this machine runs on the ${actual} target, not ${target}: pass ` +
          `--target ${actual}, or leave --target out`,
        { field: "target" },
      );
    }
    return target as TargetName;
  }
  if ((await readAwsKnot(state, name)) === undefined) {
    // A knot in the local knots directory runs locally, or on Docker as its record says.
    const local = await localKnotIfAny(ctx, name);
    if (local === undefined) {
      // No knot can have a name that is not one: say so, not how to create a knot of that name.
      validateKnotName(name);
      await refuseUnfinished(ctx, name);
      // Neither here nor on AWS: an AWS create stopped before its record leaves only AWS's side.
      throw new CloudknotInputError(
        `There is no knot named "${name}" on this machine (${
          localKnotsDir({ env: ctx.io.env })
        }) or recorded on AWS in ${state.path}: list the knots with \`cloudknot knot list\`. ` +
          `A \`cloudknot knot create ${name} … --target aws\` stopped before it recorded the ` +
          `knot finishes when run again, and \`cloudknot gc\` lists what it left`,
        { field: "name" },
      );
    }
    return (local.record.target as string) === "docker" ? "docker" : "local";
  }
  if (await localKnotIfAny(ctx, name) !== undefined) {
    throw new CloudknotInputError(
      `There is a local knot and an AWS knot named "${name}": pass --target local or --target aws`,
      { field: "target" },
    );
  }
  return "aws";
}

/**
 * Refuses a name whose folder holds a docker knot that was never finished
 * (a create of it killed before it recorded the knot, or one under way),
 * saying so and what to do, where it would be said that there is no knot.
 */
async function refuseUnfinished(ctx: CommandContext, name: string): Promise<void> {
  validateKnotName(name);
  const root = join(localKnotsDir({ env: ctx.io.env }), name);
  const unfinished = await unfinishedDockerKnot(root);
  if (unfinished !== undefined) throw new UnfinishedKnotError(name, unfinished);
}

/**
 * A docker knot that was never finished (`unfinishedDockerKnot`): a create
 * of it stopped before it recorded the knot, or a create or a clobber of it
 * runs now. Its message
 * says which, and what to do ({@linkcode unfinishedKnotWords}).
 *
 * @example Usage
 * ```ts ignore
 * throw new UnfinishedKnotError("squares", { root, running: false });
 * ```
 */
export class UnfinishedKnotError extends CloudknotInputError {
  /** Its folder, and whether a process creates or clobbers it now. */
  readonly unfinished: UnfinishedDockerKnot;

  /**
   * Makes the error.
   *
   * @param name The knot's name.
   * @param unfinished Its folder, and whether a process creates or clobbers it now.
   */
  constructor(name: string, unfinished: UnfinishedDockerKnot) {
    super(unfinishedKnotWords(name, unfinished), { field: "name" });
    this.name = "UnfinishedKnotError";
    this.unfinished = unfinished;
  }
}

/**
 * What to say of a docker knot that was never finished: that another
 * process creates it now (or clobbers it, its record removed already, or
 * holds it doing something else), or that a create of it stopped (or a clobber
 * that removed its record already), and what makes it or removes what it left,
 * in the command line's words.
 *
 * @example Usage
 * ```ts ignore
 * await ctx.log(unfinishedKnotWords("squares", { root, running: false }));
 * ```
 *
 * @param name The knot's name.
 * @param unfinished Its folder, and whether a process creates or clobbers it now.
 * @returns The words.
 */
export function unfinishedKnotWords(name: string, unfinished: UnfinishedDockerKnot): string {
  const { root, running, activity, holder } = unfinished;
  if (running) {
    const where = `(in ${root}${
      holder === undefined
        ? ""
        : `: process ${holder.pid}, since ${new Date(holder.since).toISOString()}`
    })`;
    if (activity === "clobbering") {
      return `Docker knot ${name} is being clobbered by another process ${where}: it is gone ` +
        `once that process has finished`;
    }
    return activity === "creating"
      ? `Docker knot ${name} is being created by another process ${where}: run this again ` +
        `once it has finished`
      : `Docker knot ${name} has no record (knot.json) while another process holds its lock ` +
        `${where}${holder === undefined ? "" : `, which ${holder.doing}`}: run this again once ` +
        `it has finished`;
  }
  if (unfinished.clobberStartedAt !== undefined) {
    return `A clobber of ${
      unfinished.target ?? "docker"
    } knot ${name} stopped part-way (it began at ` +
      `${formatTime(unfinished.clobberStartedAt)} and has not finished), after it removed the ` +
      `knot's record, leaving its folder ${root}: run \`cloudknot knot clobber ${name}\` again ` +
      `to finish it`;
  }
  return `Docker knot ${name} was never finished: a \`cloudknot knot create\` or \`cloudknot ` +
    `map\` of it stopped (it was killed, or failed) before it recorded the knot, leaving its folder ${root}. ` +
    `\`cloudknot knot create ${name} MODULE EXPORT --target docker\` makes it there anew; ` +
    `\`cloudknot knot clobber ${name}\` removes what it left (its folder, and its image if ` +
    `it was built)`;
}

/**
 * Refuses to make a knot on this machine (the default target of `map` with a
 * module and of `knot create`) under the name of a knot the config file
 * records on AWS, unless `--target` asked for it: the user most likely meant
 * the AWS knot, and a second knot of the name would make every later command
 * on it ask for `--target`.
 *
 * @example Usage
 * ```ts ignore
 * await refuseAwsNameClash(ctx, "squares");
 * ```
 *
 * @param ctx The running command (its `--target` and config file).
 * @param name The name of the knot it would make or update.
 * @throws {CloudknotInputError} When `--target` is not given and an AWS knot has the name.
 */
export async function refuseAwsNameClash(ctx: CommandContext, name: string): Promise<void> {
  if (ctx.string("target") !== undefined) return;
  // A config file that cannot be read says so (it may record an AWS knot of this name), unless
  // the knot is this machine's already: then it is the one meant.
  if (await configReadError(ctx) !== undefined && await localKnotIfAny(ctx, name) !== undefined) {
    return;
  }
  const { state } = cliSettings(ctx);
  if ((await readAwsKnot(state, name)) === undefined) return;
  // `map` names its knot with --name; `knot create` with its first argument.
  const another = "name" in ctx.command.options ? "another --name" : "another name";
  throw new CloudknotInputError(
    `Knot ${name} is on AWS (recorded in ${state.path}): pass --target aws to use it, or ` +
      `${another} for a knot on this machine (or --target local for one of the same name)`,
    { field: "name" },
  );
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
   * The runs `pickRun` may pick for a run id, the start of one, or (without)
   * the latest, with only their manifests read (see `AwsTarget.runsNamed`).
   *
   * @param runId The run's id or the start of it; the latest run when omitted.
   */
  runsNamed(runId?: string): Promise<RunManifest[]>;
  /**
   * Its runs, and the ids of the run folders of its job data without a
   * manifest (maps stopped while they uploaded their inputs).
   */
  runData(): Promise<{ runs: RunManifest[]; unfinished: string[] }>;
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
   * @param manifests Run manifests read already (as `runsNamed` or `runs`
   *   gave them): the run's, and those of the runs it retries, found here are
   *   not read again.
   * @returns The run, and how to stop following it (the jobs go on): `close()`
   *   resolves once its handle has stopped polling, no request of it left.
   */
  open(
    runId: string,
    manifests?: readonly RunManifest[],
  ): Promise<{ run: MapRun<unknown>; close(): Promise<void> }>;
  /**
   * The AWS Batch job (`<id>:<child>` for an array child) that runs an item
   * of a run this reader opened, waiting while its handle looks for a job
   * still on its way (see `AwsTarget.itemJob`).
   *
   * @param run The run, as `open` or `collect` gave it.
   * @param index The item.
   * @param options `wait: false` gives the job known now, if any, without
   *   waiting (`wait` @default {true}); `signal` stops waiting.
   * @returns The job's id, or `undefined` when the item ended without one
   *   (or, with `wait: false`, has none yet).
   * @throws The signal's reason, once it aborts.
   */
  itemJob(
    run: MapRun<unknown>,
    index: number,
    options?: { wait?: boolean; signal?: AbortSignal },
  ): Promise<string | undefined>;
  /**
   * What mapping these items would write and submit, with nothing done.
   *
   * @param request The encoded items and the map options.
   * @param options `itemSeconds` adds an estimate.
   */
  plan(request: MapRequest, options?: { itemSeconds?: number }): Promise<Plan>;
}

/**
 * The config file's record of an AWS knot, or an error naming the command
 * that lists the knots there are.
 *
 * @example Usage
 * ```ts ignore
 * const record = await requireAwsKnot(cliSettings(ctx).state, "squares");
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @returns The record.
 * @throws {CloudknotInputError} When the config file has no AWS knot of that name.
 */
export async function requireAwsKnot(state: StateFile, name: string): Promise<AwsKnotRecord> {
  const record = await readAwsKnot(state, name);
  if (record === undefined) {
    throw new CloudknotInputError(
      `There is no AWS knot named "${name}" in ${state.path}: see \`cloudknot knot list\``,
      { field: "knot" },
    );
  }
  return record;
}

/**
 * Opens an AWS knot's runs from its record in the config file.
 *
 * @example Usage
 * ```ts ignore
 * const reader = await openAwsKnotReader(ctx, "squares");
 * const { run, close } = await reader.open((await reader.runs()).at(-1)!.runId);
 * console.log(run.counts);
 * await close();
 * ```
 *
 * @param ctx The running command.
 * @param name The knot's name.
 * @param options `warn`: where the runs' handles' warnings go (such as that
 *   a handle waits for jobs still on their way), in the command line's
 *   words (@default stderr, as `ctx.warn` writes them).
 * @returns The reader.
 * @throws {CloudknotInputError} When the config file has no AWS knot of that name.
 * @throws {RegionMismatchError} When the knot is in another region than the settings'.
 * @throws {CloudknotError} When its record has no region.
 */
export async function openAwsKnotReader(
  ctx: CommandContext,
  name: string,
  options: { warn?: (message: string) => void } = {},
): Promise<AwsKnotReader> {
  const warn = options.warn ?? ((message: string) => ctx.warn(message));
  const settings = cliSettings(ctx);
  const record = await requireAwsKnot(settings.state, name);
  const session = await sessionFromSettings(settings);
  requireRegion(record, session.region, settings.state.path);
  // The AWS target loads when a command reads an AWS knot: a local one never loads it.
  const [{ AwsTarget }, { waitWarnings }] = await Promise.all([
    import("../../targets/aws/aws_target.ts"),
    import("../../targets/aws/aws_knot.ts"),
  ]);
  // How many looks at AWS each run's poll loop has made, and who waits for one.
  const rounds = new Map<string, number>();
  const waiters = new Set<() => void>();
  // Such as a run's items whose jobs it waits for: in the command line's words.
  const cliWarn = (message: string) => warn(inCliWords(new Error(message)));
  const target = new AwsTarget(awsTargetOptions(record, {
    session,
    state: settings.state,
    warn: cliWarn,
    // Jobs a retry or a wait finds stuck in RUNNABLE, as a map's knot tells of them.
    ...waitWarnings(record, cliWarn),
    onPoll: (runId) => {
      rounds.set(runId, (rounds.get(runId) ?? 0) + 1);
      for (const wake of waiters) wake();
    },
  }));
  return {
    record,
    session,
    runs: () => target.runs(),
    runsNamed: (runId) => target.runsNamed(runId),
    runData: () => target.runData(),
    collect: (runId, options = {}) => target.collect(runId, options),
    plan: (request, options = {}) => target.plan(request, options),
    itemJob: (run, index, options = {}) => target.itemJob(run, index, options),
    async open(runId, read = []) {
      const stop = new AbortController();
      const before = new Map(rounds);
      // Each manifest read once: those read to pick the run, then those collect reads.
      const manifests = new Map(read.map((manifest) => [manifest.runId, manifest]));
      const run = await target.collect(runId, { signal: stop.signal, manifests });
      // A retry's handle holds the results of the runs it retries too: one look at each.
      const chain = [runId];
      for (let id = run.retryOf?.runId; id !== undefined;) {
        chain.push(id);
        id = manifests.get(id)?.retryOf?.runId;
      }
      const looked = () => chain.every((id) => (rounds.get(id) ?? 0) > (before.get(id) ?? 0));
      let wake = () => {};
      const polled = new Promise<void>((resolve) => {
        wake = () => {
          if (looked()) resolve();
        };
        waiters.add(wake);
        wake();
      });
      await Promise.race([polled, run.done]);
      waiters.delete(wake);
      // What that look settled reaches the handle in promise callbacks: let them run.
      await new Promise((resolve) => setTimeout(resolve, 0));
      return {
        run,
        close: async () => {
          stop.abort();
          await target.stopped(run);
          // A round's wait for credentials ends with the loop, but their resolution (a
          // credential_process helper) goes on: nothing of the command runs after it.
          await session.settled();
        },
      };
    },
  };
}
