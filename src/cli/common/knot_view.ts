/**
 * How the command line shows a knot and its runs, as text and as JSON.
 *
 * @module
 */
import type { RunManifest } from "../../job/payload.ts";
import type { MapRun, RunCounts } from "../../run/map_run.ts";
import { type LocalKnotInfo, localRuns } from "../../targets/local/catalog.ts";
import {
  type DockerClobberState,
  type DockerKnotRecord,
  dockerRuns,
} from "../../targets/docker/catalog.ts";
import type { AwsKnotRecord } from "../../targets/aws/catalog.ts";
import {
  otherRuntimeWords,
  RUNTIME_PROTOCOL,
  runtimeProtocolWords,
} from "../../job/runtime_protocol.ts";
import { rebuildAdvice } from "../../targets/aws/batch/runtime_check.ts";
import { inCliWords } from "./cli_words.ts";
import { describeShippedFiles } from "../../job/shipped_files.ts";
import type { Docker } from "../../docker/docker.ts";

/**
 * A knot's function as text, such as `square (module, 1a2b3c4d)`.
 *
 * @example Usage
 * ```ts ignore
 * console.log(functionLabel(knot)); // "square (module, 1a2b3c4d)"
 * ```
 *
 * @param knot The knot.
 * @returns The text.
 */
export function functionLabel(knot: LocalKnotInfo): string {
  const { functionName, kind, hash, files } = knot.record;
  const shipped = files === undefined ? "" : `, with ${describeShippedFiles(files)}`;
  return `${functionName} (${kind}, ${hash.slice(0, 8)}${shipped})`;
}

/**
 * A knot as JSON.
 *
 * @example Usage
 * ```ts ignore
 * console.log(JSON.stringify(knotJson(knot)));
 * ```
 *
 * @param knot The knot.
 * @returns Its name, target, function, directories and times.
 */
export function knotJson(knot: LocalKnotInfo): Record<string, unknown> {
  const r = knot.record;
  return {
    name: r.name,
    target: r.target,
    function: {
      name: r.functionName,
      kind: r.kind,
      hash: r.hash,
      ...(r.files !== undefined ? { files: r.files } : {}),
    },
    dir: knot.root,
    runsDir: knot.runsRoot,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

/** A run's manifest and how its items stand. */
export interface RunSnapshot {
  /** The run's manifest. */
  manifest: RunManifest;
  /** Its counts when it was read. */
  counts: RunCounts;
  /** Whether every item has ended. */
  finished: boolean;
  /** Its `map()` died while it still read the inputs (see `MapRun.cutShort`). */
  cutShort?: boolean;
  /**
   * Not finished, and no process runs it: the one that did was killed, and a `collect()` (the
   * command line's `results`) finishes it.
   */
  stopped?: boolean;
  /**
   * A stopped docker run's containers that still run its items (which the command line's
   * `results` takes over); none: `undefined`.
   */
  runningContainers?: number;
}

/**
 * The runs of a knot of the local knots directory: a local knot's, or a
 * docker knot's (its record says which), without adopting it.
 *
 * @example Usage
 * ```ts ignore
 * const runs = await knotRuns(await findLocalKnot("squares")).runs();
 * ```
 *
 * @param knot The knot.
 * @returns Its runs' reader.
 */
export function knotRuns(knot: LocalKnotInfo, docker?: Docker): {
  runs(): Promise<RunManifest[]>;
  collect(
    runId: string,
    options?: {
      signal?: AbortSignal;
      finish?: boolean;
      running?: () => Promise<ReadonlyMap<string, readonly unknown[]>>;
    },
  ): Promise<MapRun<unknown>>;
  isLive(runId: string): Promise<boolean>;
  /** A docker knot's: the containers of each run that run now (`dockerRuns`). */
  runningContainers?(): Promise<ReadonlyMap<string, readonly unknown[]>>;
} {
  const record = knot.record as unknown as DockerKnotRecord;
  return record.target === "docker"
    ? dockerRuns({ root: knot.root, record }, docker)
    : localRuns(knot);
}

/**
 * Reads how each run of a knot stands, without waiting for runs that are
 * still going.
 *
 * @example Usage
 * ```ts ignore
 * for (const { manifest, counts } of await snapshotRuns(knot)) console.log(manifest.runId, counts);
 * ```
 *
 * @param knot The knot.
 * @param options `docker`, the driver a docker knot's runs are read with.
 * @returns One snapshot per run, oldest first.
 */
export async function snapshotRuns(
  knot: LocalKnotInfo,
  options: { docker?: Docker } = {},
): Promise<RunSnapshot[]> {
  const reader = knotRuns(knot, options.docker);
  const snapshots: RunSnapshot[] = [];
  // A docker knot's running containers, listed once for all its runs (at the first one no
  // process drives): each run's reading takes its own from there, however many runs there are.
  let listed: Promise<ReadonlyMap<string, readonly unknown[]>> | undefined;
  const listing = reader.runningContainers && (() => listed ??= reader.runningContainers!());
  for (const manifest of await reader.runs()) {
    const stop = new AbortController();
    // Asked first: a run that ends meanwhile reads as finished, never as stopped.
    const live = await reader.isLive(manifest.runId);
    const run = await reader.collect(manifest.runId, {
      signal: stop.signal,
      finish: false,
      ...(listing ? { running: listing } : {}),
    });
    const stopped = !run.finished && !live;
    const containers = stopped
      ? (await lookedUp(listing?.())).get(manifest.runId)?.length
      : undefined;
    snapshots.push({
      manifest,
      counts: run.counts,
      finished: run.finished,
      ...(run.cutShort ? { cutShort: true } : {}),
      ...(stopped ? { stopped: true } : {}),
      ...(containers !== undefined ? { runningContainers: containers } : {}),
    });
    stop.abort();
  }
  return snapshots;
}

/** A docker knot's running containers by run, or none when Docker cannot say (a look only). */
async function lookedUp(
  listing: Promise<ReadonlyMap<string, readonly unknown[]>> | undefined,
): Promise<ReadonlyMap<string, readonly unknown[]>> {
  return await listing?.catch(() => undefined) ?? new Map();
}

/**
 * When a run id was made, from its `YYYYMMDDTHHMMSSZ-xxxxxx` form.
 *
 * @example Usage
 * ```ts ignore
 * console.log(runIdTime("20261126T120102Z-ab12cd")); // 1795608062000
 * ```
 *
 * @param runId The run's id.
 * @returns Epoch milliseconds, or `undefined` for another form.
 */
export function runIdTime(runId: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(runId);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

/**
 * An AWS knot's function as text, such as `image squares (module, 1a2b3c4d)`,
 * from its image's record.
 *
 * @example Usage
 * ```ts ignore
 * const image = await state.section(recordSection("docker-image", record.dockerImage));
 * console.log(awsFunctionLabel(record, image));
 * ```
 *
 * @param record The knot's record.
 * @param image The `[docker-image <name>]` section of its image, when there is one.
 * @returns The text.
 */
export function awsFunctionLabel(
  record: AwsKnotRecord,
  image: Map<string, string> | undefined,
): string {
  const kind = image?.get("kind") || "function";
  // The knot's record names the function its job definition runs (an update stopped part-way
  // may have built another in the image's directory); a record of an earlier version does not.
  const hash = (record.functionHash ?? image?.get("function-hash"))?.slice(0, 8);
  const shipped = record.files === undefined ? "" : `, with ${describeShippedFiles(record.files)}`;
  return `image ${record.dockerImage} (${kind}${hash ? `, ${hash}` : ""}${shipped})`;
}

/**
 * An AWS knot as JSON, from its record.
 *
 * @example Usage
 * ```ts ignore
 * console.log(JSON.stringify(awsKnotJson(record, imageSection)));
 * ```
 *
 * @param record The knot's record.
 * @param image The `[docker-image <name>]` section of its image, when there is one.
 * @returns Its name, target, region, function, resources (its own job role, or `null` on the
 *   Pars's shared one) and data location.
 */
export function awsKnotJson(
  record: AwsKnotRecord,
  image: Map<string, string> | undefined,
): Record<string, unknown> {
  return {
    name: record.name,
    target: "aws",
    region: record.region,
    profile: record.profile,
    function: {
      image: record.dockerImage,
      kind: image?.get("kind") ?? null,
      hash: record.functionHash ?? image?.get("function-hash") ?? null,
      ...(record.files !== undefined ? { files: record.files } : {}),
    },
    compute: record.compute,
    pars: record.pars,
    imageUri: record.imageUri,
    repository: record.dockerRepo,
    computeEnvironment: record.computeEnvironment,
    jobQueue: record.jobQueue,
    jobDefinition: record.jobDefinition,
    jobRole: record.jobRole ?? null,
    data: `s3://${record.bucket}/${record.prefix}/`,
    // A clobber that has not finished: when it began.
    clobberStarted: record.clobberStartedAt === undefined
      ? null
      : new Date(record.clobberStartedAt).toISOString(),
    // Whether that clobber still runs in another process (`false`: it stopped part-way).
    clobberRunning: record.clobberStartedAt === undefined ? null : record.clobberRunning === true,
  };
}

/** The runtime protocol of a knot's image, as `knot show` gives it. */
export interface RuntimeView {
  /** The protocol; `undefined` for an image built before runtime protocols. */
  protocol: number | undefined;
  /** Whether it is this version's. */
  current: boolean;
  /** The row's text: the protocol, and this version's when it differs. */
  text: string;
  /** When it differs: what that means and what to do, in command-line words. */
  advice?: string;
}

/**
 * How a knot's runtime protocol shows: an AWS knot's (its job definition
 * revision's tag, as a map decides) or a docker knot's (its image's label).
 * When it is not this version's, the advice says what maps and retries do
 * and, for an AWS knot, the command that rebuilds its image.
 *
 * @example Usage
 * ```ts ignore
 * console.log(runtimeView("squares", "aws", undefined).advice);
 * // "Knot squares's image runs the job runtime of another cloudknot version (...)"
 * ```
 *
 * @param knot The knot's name.
 * @param target Its target.
 * @param protocol Its image's runtime protocol; `undefined` for one built before runtime protocols.
 * @returns The view.
 */
export function runtimeView(
  knot: string,
  target: "aws" | "docker",
  protocol: number | undefined,
): RuntimeView {
  const words = runtimeProtocolWords(protocol);
  if (protocol === RUNTIME_PROTOCOL) return { protocol, current: true, text: words };
  const ours = runtimeProtocolWords(RUNTIME_PROTOCOL);
  const runs = `Knot ${knot}'s image runs ${otherRuntimeWords(protocol)}`;
  const advice = target === "aws"
    ? inCliWords(
      new Error(`${runs}: maps and retries on it are refused. To run it, ${rebuildAdvice(knot)}.`),
    )
    : `${runs}: the next map or retry on it builds it again from its build directory with ` +
      `this version's runtime first, and keeps its runs.`;
  return { protocol, current: false, text: `${words}, not this version's ${ours}`, advice };
}

/**
 * A runtime view as JSON: `protocol` (`null` for an image built before
 * runtime protocols), `current` and `advice` (`null` when current).
 *
 * @example Usage
 * ```ts ignore
 * console.log(runtimeJson(runtimeView("squares", "aws", 1))); // { protocol: 1, current: true, advice: null }
 * ```
 *
 * @param view The view.
 * @returns The JSON.
 */
export function runtimeJson(view: RuntimeView): Record<string, unknown> {
  return { protocol: view.protocol ?? null, current: view.current, advice: view.advice ?? null };
}

/**
 * A docker knot's clobber in `--json`, as an AWS knot's (`awsKnotJson`):
 * when it began (`null`: none unfinished) and whether it still runs.
 *
 * @example Usage
 * ```ts ignore
 * console.log(dockerClobberJson(await dockerClobberState(knot.root)));
 * ```
 *
 * @param state How its clobber stands, when it has not finished.
 * @returns The fields.
 */
export function dockerClobberJson(
  state: DockerClobberState | undefined,
): { clobberStarted: string | null; clobberRunning: boolean | null } {
  return {
    clobberStarted: state === undefined ? null : new Date(state.clobberStartedAt).toISOString(),
    clobberRunning: state === undefined ? null : state.clobberRunning,
  };
}
