/**
 * `Knot`: a function, and the place its items run. `Knot.create()` packages
 * the function; `knot.map(inputs)` runs it over the inputs and returns a
 * {@linkcode MapRun} handle.
 *
 * @module
 */
import { CloudknotInputError } from "./util/errors.ts";
import { BucketDeleteDeniedError } from "./resources/errors.ts";
import type { FunctionArtifact } from "./job/function_artifact.ts";
import { encodeInputs } from "./job/inputs.ts";
import type { Permissions } from "./job/permissions.ts";
import type { RunManifest } from "./job/payload.ts";
import type { MapRun } from "./run/map_run.ts";
import type {
  AwsClobberOptions,
  AwsKnotOptions,
  AwsKnotResources,
  PackagedFunction,
} from "./targets/aws/aws_knot.ts";
import { measureItems, type OpenedKnot, type Target } from "./targets/target.ts";
import type { JobsView } from "./targets/aws/batch/jobs_view.ts";
import type { BatchJob } from "./targets/aws/batch/batch_job.ts";
import { type ProgressOptions, showProgress } from "./run/progress.ts";
import {
  validateClobberOptions,
  validateCollectOptions,
  validateInputs,
  validateKnotOptions,
  validateMapOptions,
} from "./knot_options.ts";
import { showSummary } from "./util/summary.ts";
import type { Estimate } from "./cost/estimate.ts";
import type { Plan } from "./plan/plan.ts";
import { defined } from "./util/defined.ts";
import { explainProcessPermission } from "./util/process_permission.ts";
import { validateOptionKeys } from "./util/validate.ts";

/** Any function a knot can run: its arguments and result cross between processes. */
// deno-lint-ignore no-explicit-any
export type JobFunction = (...args: any[]) => unknown;

/**
 * Options for {@linkcode Knot.create}. The AWS options (compute, Pars, image,
 * names, tags, session…) apply with `target: "aws"`.
 */
export interface KnotOptions<F extends JobFunction = JobFunction> extends AwsKnotOptions {
  /**
   * The knot's name: a letter, then letters, digits and hyphens, at most 55
   * characters. Creating a knot with the name of an existing one adopts it.
   */
  name: string;
  /**
   * A self-contained function. Its source is shipped, so it must import what
   * it needs inside itself with `await import(...)`.
   */
  func?: F;
  /** A module path or URL whose export is the function; its whole graph is shipped. */
  module?: string | URL;
  /** The export of `module` to call. @default {"default"} */
  exportName?: string;
  /**
   * Data files and folders the function reads beside its module at run time
   * (`new URL("./model.json", import.meta.url)`), as paths relative to the
   * module's folder, inside it (`["./model.json", "./data/"]`; a folder is
   * taken whole): shipped beside the function, at the same paths, on every
   * target. Their contents are part of the function's hash, so a changed file
   * is a changed function. Only with `module`. @default {[]}
   */
  files?: string[];
  /**
   * Where the items run: `"local"` (worker processes on this machine),
   * `"aws"` (AWS Batch) or `"docker"` (the knot's image on the local Docker
   * engine, with the job contract of AWS Batch: see docs/docker.md).
   * @default {"local"}
   */
  target?: "local" | "aws" | "docker";
  /**
   * Worker processes on the local target; containers at once on the docker
   * target. A local or docker knot keeps it, as `retries`, `timeout`,
   * `memory` (and a docker knot's `vcpus` and `network`): adopting the knot
   * by name without one runs with its own, and another value given replaces
   * it (as an AWS knot's job definition keeps them).
   * @default {navigator.hardwareConcurrency}
   */
  concurrency?: number;
  /**
   * Attempts per item, 1 to 10 (AWS Batch's `retryStrategy.attempts`); an
   * attempt refused a permission (`kind` `"refused"`), or whose function runs a
   * program that is not where the item runs, is final at once.
   * @default {3}
   */
  retries?: number;
  /** Seconds one attempt may run before it is stopped (at least 60 on AWS). */
  timeout?: number;
  /**
   * Memory per job in MiB; on the local target, each worker's V8 heap limit;
   * on the docker target, each container's memory limit (no swap).
   */
  memory?: number;
  /** The Docker network of the docker target's containers. @default {"bridge"} */
  network?: string;
  /** The directory of the local and docker targets' knots. @default {"$CLOUDKNOT_LOCAL_DIR or ~/.cloudknot/local"} */
  dir?: string;
  /**
   * What the function may do, as Deno permission descriptors (`read`,
   * `write`, `net`, `env`, `run`, `ffi`, `sys`, `import`): `true` for all,
   * or a list of paths, hosts, names. Anything not granted fails in the item
   * with Deno's `NotCapable` error. Adopting a knot keeps its permissions
   * unless new ones are given (on AWS, other ones update the knot). On AWS
   * and the docker target the job's container applies them to the worker
   * processes that run the items (see docs/local.md, docs/aws.md and
   * docs/docker.md).
   * @default {{ net: true }}
   */
  permissions?: Permissions;
}

/** The option that makes `Knot.create()` and `knot.map()` a dry run. */
export interface DryRun {
  /**
   * Change nothing: check every option, find out with read-only requests
   * what would be created, adopted, written or submitted, and return that
   * {@linkcode Plan} instead (a knot's on AWS with the estimated cost of
   * one job running an hour; a map's with an estimate when `itemSeconds`
   * is given). Needs no Docker engine
   * and builds nothing.
   */
  dryRun: true;
}

/** Options for {@linkcode Knot.map}. */
export interface MapOptions {
  /** Spread each item, an array, into the function's arguments. @default {false} */
  starmap?: boolean;
  /** Environment variables for every job. */
  env?: Record<string, string>;
  /**
   * Cancels the run. While `map()` reads the inputs, its abort stops the
   * reading (the run is the items read); one aborted already makes `map()`
   * reject at once with its reason, with no input read and nothing made.
   */
  signal?: AbortSignal;
  /** `"array"` submits array jobs; `"independent"` one job per item (AWS). @default {"array"} */
  jobType?: "array" | "independent";
  /**
   * Items each Batch job (or array child) runs, side by side in one
   * container, as many at once as the job has vCPUs (AWS and docker): a
   * number, or `"auto"` for at most 2 × (the compute environment's maxvCpus
   * ÷ the job's vCPUs) children on AWS, and at most 2 × `concurrency`
   * containers on the docker target. `1` starts one container per item.
   * Each item keeps its own record, error, retries and logs (see docs/aws.md
   * and docs/docker.md).
   * @default {"auto"}
   */
  itemsPerJob?: number | "auto";
  /** Show progress on stderr; `false` silences it. @default {true} */
  progress?: boolean | ProgressOptions;
}

/** Options of a dry run of {@linkcode Knot.map}. */
export interface MapPlanOptions extends MapOptions, DryRun {
  /** Seconds one item runs, for the plan's cost estimate (none without it). */
  itemSeconds?: number;
}

/** Where a knot's items run: either target; on AWS, with the knot's resources. */
type KnotTarget = Target<AwsClobberOptions> & { readonly resources?: AwsKnotResources };

/** The first argument of a function. */
export type Arg<F> = F extends (arg: infer A, ...rest: never[]) => unknown ? A : unknown;
/** What a function's promise resolves to. */
export type Result<F> = F extends (...args: never[]) => infer R ? Awaited<R> : unknown;

/**
 * A function and the place its items run.
 *
 * `console.log` and a Jupyter notebook show it as a short summary: its name,
 * target, function and resources, never its source.
 *
 * @example Usage
 * ```ts
 * import { Knot } from "@cloudknot/cloudknot";
 *
 * const dir = await Deno.makeTempDir();
 * const knot = await Knot.create({ name: "squares", func: (x: number) => x * x, dir, concurrency: 1 });
 * const run = await knot.map([1, 2, 3], { progress: false });
 * console.log(await run.results()); // [ 1, 4, 9 ]
 * await knot.clobber();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Knot<F extends JobFunction = JobFunction> {
  /** The knot's name. */
  readonly name: string;
  /** Where its items run. */
  readonly target: "local" | "aws" | "docker";
  /** The packaged function. */
  readonly artifact: FunctionArtifact;
  #target: KnotTarget;
  #clobbered = false;

  private constructor(name: string, opened: OpenedKnot<KnotTarget>) {
    this.name = name;
    this.target = opened.target.kind;
    this.artifact = opened.artifact;
    this.#target = opened.target;
  }

  /**
   * Creates a knot, or adopts the knot of that name. Every option is checked
   * before anything is created.
   *
   * On AWS, creating a knot builds the function's image and pushes it to ECR,
   * creates or adopts the Pars (roles, network) and the bucket, then creates
   * the compute environment (waiting until it is VALID), the job queue and
   * the job definition, and records it all in the cloudknot config file.
   * Creating it again by name adopts everything and warns about each option
   * that was ignored: given with another value than the knot's own. Given
   * another function, or other options of its job definition (`memory`,
   * `vcpus`, `gpus`, `retries`, `timeout`, `evaluateOnExit`, `permissions`),
   * it updates the knot instead: a new image for a new function and a new
   * revision of its job definition, its compute environment and queue kept;
   * runs made before, and their retries, keep their own function.
   *
   * With `dryRun: true` nothing is created: the options are checked, what
   * would be created or adopted is found out with read-only requests, and
   * that {@linkcode Plan} is returned instead.
   *
   * @param options The name, the function and where to run it.
   * @returns The knot.
   */
  static async create<F extends JobFunction = JobFunction>(
    options: KnotOptions<F> & DryRun,
  ): Promise<Plan>;
  /**
   * Creates a knot, or adopts the knot of that name.
   *
   * @param options The name, the function and where to run it.
   * @param packaged For the command line: `packaged` is the function of
   *   `func` or `module`, packaged already by the caller (which compared it
   *   with an AWS knot's own), so an AWS knot adopting it or updated with it
   *   does not package it again; `deno` is the deno binary an AWS knot
   *   packages it with otherwise; `env` is the command line's environment,
   *   whose `CLOUDKNOT_LOCAL_RUNS` says where a local knot's runs go (a
   *   command line run in a program with an environment of its own).
   *   @default {"packaged here, with Deno.execPath(), and Deno.env"}
   * @returns The knot.
   */
  static async create<F extends JobFunction = JobFunction>(
    options: KnotOptions<F>,
    packaged?: {
      packaged?: PackagedFunction;
      deno?: string;
      env?: (name: string) => string | undefined;
    },
  ): Promise<Knot<F>>;
  static async create<F extends JobFunction = JobFunction>(
    options: KnotOptions<F> & Partial<DryRun>,
    packaged: {
      packaged?: PackagedFunction;
      deno?: string;
      env?: (name: string) => string | undefined;
    } = {},
  ): Promise<Knot<F> | Plan> {
    try {
      return await Knot.#create<F>(options, packaged);
    } catch (e) {
      throw explainProcessPermission(e, "Knot.create()");
    }
  }

  static async #create<F extends JobFunction>(
    options: KnotOptions<F> & Partial<DryRun>,
    packaged: {
      packaged?: PackagedFunction;
      deno?: string;
      env?: (name: string) => string | undefined;
    },
  ): Promise<Knot<F> | Plan> {
    const o = await validateKnotOptions(options);
    if (options.dryRun === true) {
      return await (await import("./knot_plan.ts")).planKnot(options, o);
    }
    const source = defined({
      func: options.func,
      module: options.module,
      exportName: options.exportName,
      files: options.files,
      dir: options.dir,
    });
    // Only those given: a local or docker knot adopted without one runs with its own.
    const limits = defined({
      concurrency: options.concurrency !== undefined ? o.concurrency : undefined,
      attempts: options.retries !== undefined ? o.retries : undefined,
      timeout: o.timeout,
      memory: o.memory,
    });
    // Each target loads when a knot uses it, so a knot on this machine loads no AWS module.
    const opened: OpenedKnot<KnotTarget> = o.target === "aws"
      ? await (await import("./targets/aws/aws_knot.ts")).openAwsKnot({
        ...options,
        name: o.name,
        // Only a given value: adopting warns about each option passed.
        ...(options.retries !== undefined ? { retries: o.retries } : {}),
        ...defined({ deno: packaged.deno }),
      }, defined({ packaged: packaged.packaged }))
      : o.target === "docker"
      ? await (await import("./targets/docker/docker_knot.ts")).openDockerKnot({
        name: o.name,
        ...source,
        ...limits,
        ...defined({
          vcpus: o.vcpus,
          network: options.network,
          permissions: o.permissions,
          baseImage: options.baseImage,
          noImageCache: options.noImageCache,
          docker: options.docker,
          cloudknotDir: options.cloudknotDir,
          warn: options.warn,
        }),
      })
      : await (await import("./targets/local/local_knot.ts")).openLocalKnot({
        name: o.name,
        ...source,
        ...limits,
        ...defined({ permissions: o.permissions, warn: options.warn, env: packaged.env }),
      });
    return new Knot<F>(o.name, opened);
  }

  /** The knot's AWS resources; `undefined` on the local target. */
  get aws(): AwsKnotResources | undefined {
    return this.#target.resources;
  }

  /** Whether the knot was clobbered. */
  get clobbered(): boolean {
    return this.#clobbered;
  }

  static {
    showSummary(Knot, (knot) => [`Knot ${knot.name}${knot.#clobbered ? " (clobbered)" : ""}`, [
      ["target", knot.target],
      ["function", `${knot.artifact.name} (${knot.artifact.kind})`],
      ...knot.#target.summary(),
    ]]);
  }

  /**
   * Runs the function over the inputs. Inputs are read lazily (an async
   * iterable is never collected first) and each item is checked and encoded
   * as it is read: a bad item rejects here, naming its index. On AWS every
   * item is checked before anything is sent; locally the first items start
   * while later ones are still read, and a bad item stops the run and
   * removes it. Resolves to the run's handle once every input is recorded.
   *
   * @param inputs The items; with `starmap`, each item is an array of arguments.
   * @param options Starmap, environment, cancellation and progress.
   * @returns The run's handle.
   */
  async map(
    inputs: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapPlanOptions,
  ): Promise<Plan>;
  /**
   * Runs the function over the inputs.
   *
   * @param inputs The items.
   * @param options Starmap, environment, cancellation and progress.
   * @returns The run's handle.
   */
  async map(
    inputs: Iterable<Arg<F>> | AsyncIterable<Arg<F>>,
    options?: MapOptions & { starmap?: false },
  ): Promise<MapRun<Result<F>>>;
  /**
   * Runs the function over argument lists, spreading each into its arguments.
   *
   * @param inputs The argument lists.
   * @param options `starmap: true`, plus environment, cancellation and progress.
   * @returns The run's handle.
   */
  async map(
    inputs: Iterable<Parameters<F>> | AsyncIterable<Parameters<F>>,
    options: MapOptions & { starmap: true },
  ): Promise<MapRun<Result<F>>>;
  async map(
    inputs: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapOptions & Partial<MapPlanOptions> = {},
  ): Promise<MapRun<Result<F>> | Plan> {
    this.#checkLive();
    validateMapOptions(options, this.target, this.name);
    validateInputs(inputs);
    const { starmap = false, env = {}, jobType, itemsPerJob } = options;
    if (options.dryRun === true) {
      // A plan needs every item's size: the target reads and encodes the
      // inputs a chunk at a time, as the run would, and keeps none of them.
      return await this.#target.plan({
        items: encodeInputs(inputs, { starmap }),
        starmap,
        env,
        ...(jobType !== undefined ? { jobType } : {}),
        ...(itemsPerJob !== undefined ? { itemsPerJob } : {}),
      }, options.itemSeconds !== undefined ? { itemSeconds: options.itemSeconds } : {});
    }
    let stop: (() => void) | undefined;
    const show = (run: MapRun<unknown>) => {
      if (options.progress === false || stop !== undefined) return;
      stop = showProgress(run, typeof options.progress === "object" ? options.progress : {});
    };
    const mapping = this.#target.map<Result<F>>({
      items: encodeInputs(inputs, { starmap }),
      starmap,
      env,
      ...(jobType !== undefined ? { jobType } : {}),
      ...(itemsPerJob !== undefined ? { itemsPerJob } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      // A stream's run shows its id and progress while the stream is read, not after it (on
      // the local target, whose items run meanwhile); an array's once it is stored, as before.
      ...(Array.isArray(inputs) ? {} : { started: show }),
    });
    // A stream that failed while it was read rejects the map, and takes its run with it: the
    // progress shown of that run stops.
    const run = await mapping.catch((e) => {
      stop?.();
      throw e;
    });
    if (run.total > 0) show(run);
    return run;
  }

  /**
   * Estimates a run of this knot before it runs: how long it takes, the
   * vCPU-hours and GB-hours it uses, and what that costs on the knot's
   * compute (on AWS, from the dated price table shipped with the package),
   * with the assumptions printed beside it. Nothing runs.
   *
   * @param inputs The items (checked and encoded, for their size), or how many there are.
   * @param options `itemSeconds`: how long one item runs; `itemsPerJob`: as
   * for {@linkcode Knot.map} (AWS; default `"auto"`), which sets how many
   * containers start and how many objects the records make.
   * @returns The estimate.
   */
  async estimate(
    inputs: number | Iterable<unknown> | AsyncIterable<unknown>,
    options: { itemSeconds: number; itemsPerJob?: number | "auto" },
  ): Promise<Estimate> {
    this.#checkLive();
    validateOptionKeys(options, { itemSeconds: true, itemsPerJob: true }, "estimate()");
    if (options.itemsPerJob !== undefined) {
      validateMapOptions({ itemsPerJob: options.itemsPerJob }, this.target);
    }
    if (typeof inputs === "number") return await this.#target.estimate(inputs, options);
    const { count, bytes } = await measureItems(encodeInputs(inputs, { starmap: false }));
    return await this.#target.estimate(count, { ...options, inputBytes: bytes });
  }

  /**
   * Re-opens an earlier run of this knot to collect its results, from any
   * process.
   *
   * A run that is not finished shows its progress on stderr, as `map()`'s
   * does: the items done so far counted, the rate and ETA of the rest.
   *
   * @param runId The run's id, from {@linkcode Knot.runs} or `run.runId`.
   * @param options `signal` stops waiting (or finishing) the run, and the
   * handle stays unfinished; `progress` as for {@linkcode Knot.map}
   * (`false` silences it).
   * @returns The run's handle.
   */
  async collect(
    runId: string,
    options: { signal?: AbortSignal; progress?: boolean | ProgressOptions } = {},
  ): Promise<MapRun<Result<F>>> {
    this.#checkLive();
    validateCollectOptions(runId, options);
    const run = await this.#target.collect<Result<F>>(
      runId,
      options.signal !== undefined ? { signal: options.signal } : {},
    );
    if (options.progress !== false && !run.finished) {
      showProgress(run, typeof options.progress === "object" ? options.progress : {});
    }
    return run;
  }

  /**
   * The knot's runs, oldest first.
   *
   * @returns Each run's manifest.
   */
  runs(): Promise<RunManifest[]> {
    this.#checkLive();
    return this.#target.runs();
  }

  /**
   * The knot's jobs on AWS Batch as a table (array children summarised):
   * text in a terminal, HTML in a notebook.
   *
   * @returns The view.
   */
  async viewJobs(): Promise<JobsView> {
    this.#checkLive();
    return await this.#target.viewJobs();
  }

  /**
   * The ids of the knot's AWS Batch jobs, oldest first: one per `map()` of
   * up to 10,000 items (an array job), or one per item with
   * `jobType: "independent"`, and one per {@linkcode Knot.submit}. The
   * Python original's `knot.job_ids`. Reads the config file only.
   *
   * @example Usage
   * ```ts ignore
   * const knot = await Knot.create({ name: "squares", target: "aws" });
   * console.log(await knot.jobIds());
   * ```
   *
   * @returns The job ids.
   * @throws {CloudknotInputError} On the local target, which has runs but no Batch jobs.
   */
  jobIds(): Promise<string[]> {
    this.#checkLive();
    return this.#target.jobIds();
  }

  /**
   * The knot's AWS Batch jobs as {@linkcode BatchJob} handles, oldest (so
   * the newest last), as the Python original's `knot.jobs`: its FAQ pattern
   * `knot.jobs[i].result()` is `(await knot.jobs())[i].result()` here. Jobs
   * AWS Batch has forgotten (some days after they end) are left out.
   *
   * @example Usage
   * ```ts ignore
   * const jobs = await knot.jobs();
   * console.log(await jobs.at(-1)!.result()); // the newest job's results
   * ```
   *
   * @returns The jobs.
   * @throws {CloudknotInputError} On the local target, which has runs but no Batch jobs.
   */
  jobs(): Promise<BatchJob[]> {
    this.#checkLive();
    return this.#target.jobs();
  }

  /**
   * Submits one input as a job of its own, as the Python original's
   * `BatchJob(...)` did, and returns its handle at once: `result()` waits
   * for it. It is recorded like a run of one item (see {@linkcode Knot.runs}).
   *
   * @example Usage
   * ```ts ignore
   * const job = await knot.submit(7);
   * console.log(job.jobId, await job.result()); // 49
   * ```
   *
   * @param input The item; with `starmap`, the array of arguments.
   * @param options Starmap and environment variables.
   * @returns The job.
   * @throws {CloudknotInputError} For an item that cannot be encoded, and on the local target.
   */
  async submit(
    input: Arg<F> | Parameters<F>,
    options: Pick<MapOptions, "starmap" | "env"> = {},
  ): Promise<BatchJob> {
    this.#checkLive();
    // One job, one item: the options of a map that shape its jobs (jobType, itemsPerJob) or show
    // its progress are not submit()'s.
    validateOptionKeys(options, { starmap: true, env: true }, "submit()");
    validateMapOptions(options, "aws", this.name);
    const { starmap = false, env = {} } = options;
    if (starmap && !Array.isArray(input)) {
      throw new CloudknotInputError(
        "With starmap, the input is the array of arguments for the call",
        { field: "input" },
      );
    }
    const [item] = (await Array.fromAsync(encodeInputs([input], { starmap }))).flat();
    return await this.#target.submit({ item: item!, starmap, env });
  }

  /**
   * Deletes everything the knot made. Locally: its runs, its function and
   * its record. On AWS, in this order: its running jobs are stopped, its
   * queue and compute environment are disabled and deleted, its job
   * definitions deregistered, its job data deleted from S3 (unless
   * `keepData`), then the repository, image and Pars when asked, and its
   * record removed.
   *
   * @param options On AWS: `pars`, `repo`, `image`, `keepData`, `bucket`; a knot elsewhere takes
   *   none. Each is checked before anything is deleted.
   * @throws {CloudknotInputError} For an unknown option, or one a knot not on AWS does not take.
   */
  async clobber(options: AwsClobberOptions = {}): Promise<void> {
    // A misspelt keepData must not delete the data it meant to keep.
    validateClobberOptions(options, this.target);
    if (this.#clobbered) return;
    try {
      await this.#target.clobber(options);
    } catch (e) {
      // Everything but the bucket is gone; the error says how to delete it.
      if (e instanceof BucketDeleteDeniedError) this.#clobbered = true;
      throw e;
    }
    this.#clobbered = true;
  }

  #checkLive(): void {
    if (this.#clobbered) {
      throw new CloudknotInputError(
        `Knot ${this.name} was clobbered: create it again with Knot.create()`,
      );
    }
  }
}
