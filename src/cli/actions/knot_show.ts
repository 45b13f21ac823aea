/**
 * `knot show <knot>`: a knot's details and its runs.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/knot_show.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import type { RunCounts } from "../../run/map_run.ts";
import { recordSection } from "../../state/sections.ts";
import { findLocalKnot, localRuns } from "../../targets/local/catalog.ts";
import { runsRootAdvice } from "../../targets/local/errors.ts";
import { cliSettings } from "../common/aws.ts";
import type { CommandContext } from "../common/command.ts";
import { AWS_RUNS_READ } from "../common/options.ts";
import {
  awsFunctionLabel,
  awsKnotJson,
  dockerClobberJson,
  functionLabel,
  knotJson,
  runtimeJson,
  type RuntimeView,
  runtimeView,
  snapshotRuns,
} from "../common/knot_view.ts";
import { cliDocker } from "../common/docker.ts";
import { locateKnot, openAwsKnotReader } from "../common/knots.ts";
import { findOriginalKnot, ORIGINAL_LABEL, originalJson } from "../common/original.ts";
import type { OriginalRecord } from "../../resources/original.ts";
import { readParsRecords } from "../../resources/pars.ts";
import { formatTime, renderTable } from "../common/table.ts";
import type { RunManifest } from "../../job/payload.ts";
import type { AwsKnotRecord } from "../../targets/aws/catalog.ts";
import { definitionRuntime, revisionRuntime } from "../../targets/aws/batch/runtime_check.ts";
import { inCliWords } from "../common/cli_words.ts";
import { dockerClobberState, type DockerKnotRecord } from "../../targets/docker/catalog.ts";
import { readRuntimeProtocol, RUNTIME_PROTOCOL_LABEL } from "../../job/runtime_protocol.ts";

interface RunRow {
  manifest: RunManifest;
  counts?: RunCounts;
  finished?: boolean;
  cutShort?: boolean;
  stopped?: boolean;
  runningContainers?: number;
}

/**
 * A run's status: `finished` (`cut short` when its map() died reading the inputs), `running`, or
 * `stopped` (a local or docker run whose process is gone), for the table `stopped, containers
 * run` when its docker containers still run.
 */
function runStatus(
  { counts, finished, cutShort, stopped, runningContainers }: RunRow,
  table = false,
): string | undefined {
  if (counts === undefined) return undefined;
  if (finished) return cutShort ? "cut short" : "finished";
  if (!stopped) return "running";
  return table && runningContainers !== undefined ? "stopped, containers run" : "stopped";
}

/**
 * What to run to finish the runs whose process is gone, if any: those whose docker containers
 * still run apart, since `results` takes them over and `cancel` or a clobber stops them.
 */
function stoppedAdvice(knot: string, runs: RunRow[]): string | undefined {
  const stopped = runs.filter((row) => row.stopped);
  const said = [false, true].flatMap((containers) => {
    const ids = stopped.filter((row) => (row.runningContainers !== undefined) === containers)
      .map((row) => row.manifest.runId);
    return ids.length === 0 ? [] : [stoppedWords(knot, ids, containers)];
  });
  return said.length === 0 ? undefined : said.join("\n\n");
}

/** What to say of runs whose process is gone, whose docker containers still run or not. */
function stoppedWords(knot: string, runIds: string[], containers: boolean): string {
  const one = runIds.length === 1;
  const run = one ? runIds[0]! : "RUN";
  const head = `${one ? "Run" : "Runs"} ${runIds.join(", ")} stopped: the process that ran ${
    one ? "it" : "them"
  } is gone (killed, or its machine restarted)`;
  if (!containers) {
    return `${head}, and no result was lost. \`cloudknot results ${knot} ${run}\` runs the ` +
      `unfinished items here and prints every result; \`cloudknot cancel ${knot} ${run}\` ends ` +
      `them as cancelled.`;
  }
  return `${head}, but ${one ? "its" : "their"} docker containers still run, and no result ` +
    `was lost. \`cloudknot results ${knot} ${run}\` takes ${one ? "it" : "a run"} over: it ` +
    `waits for the containers, keeps what they record, runs the unfinished items here and ` +
    `prints every result; \`cloudknot cancel ${knot} ${run}\` stops the containers and ends ` +
    `the unfinished items as cancelled; \`cloudknot knot clobber ${knot}\` stops them with the ` +
    `knot.`;
}

/** Where the runs made under another runs directory are, and what to set to read them. */
function elsewhereAdvice(root: string, elsewhere: Map<string, string>): string | undefined {
  const byRoot = Map.groupBy(elsewhere.keys(), (runId) => elsewhere.get(runId)!);
  const lines = [...byRoot].map(([runsRoot, ids]) =>
    `${ids.length === 1 ? "Run" : "Runs"} ${ids.join(", ")} ${ids.length === 1 ? "is" : "are"} ` +
    runsRootAdvice(root, runsRoot, ids.length === 1 ? "it" : "them") + "."
  );
  return lines.length === 0 ? undefined : lines.join("\n");
}

function runJson(row: RunRow) {
  const { manifest, counts } = row;
  return {
    runId: manifest.runId,
    createdAt: new Date(manifest.createdAt).toISOString(),
    // A retry's handle covers the whole input: its counts are of every item.
    items: counts?.total ?? manifest.count,
    attempts: manifest.attempts,
    starmap: manifest.starmap,
    status: runStatus(row) ?? null,
    // A stopped docker run's containers that still run its items.
    ...(row.runningContainers !== undefined ? { runningContainers: row.runningContainers } : {}),
    succeeded: counts?.succeeded ?? null,
    failed: counts?.failed ?? null,
    running: counts?.running ?? null,
    pending: counts?.pending ?? null,
  };
}

function details(
  ctx: CommandContext,
  rows: [string, string][],
  runs: RunRow[],
  note?: string,
  advice?: string,
  none = note === undefined ? "No runs yet" : "No runs",
): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${ctx.out("bold", k.padEnd(width))} ${v}`);
  lines.push("");
  if (runs.length === 0) lines.push(none);
  else {
    lines.push(renderTable(
      ["RUN", "CREATED", "ITEMS", "SUCCEEDED", "FAILED", "STATUS"],
      runs.map((row) => [
        row.manifest.runId,
        formatTime(row.manifest.createdAt),
        String(row.counts?.total ?? row.manifest.count),
        row.counts === undefined ? "-" : String(row.counts.succeeded),
        row.counts === undefined ? "-" : String(row.counts.failed),
        runStatus(row, true) ?? "-",
      ]),
      ctx.out,
    ));
  }
  if (note !== undefined) lines.push("", note);
  if (advice !== undefined) lines.push("", advice);
  return lines.join("\n");
}

/**
 * A docker knot's image and the runtime protocol its label names (one
 * `docker image inspect`); no view when the image is not on this engine.
 */
async function dockerRuntime(
  ctx: CommandContext,
  record: DockerKnotRecord,
): Promise<{ image: string; view?: RuntimeView }> {
  const found = await cliDocker(ctx, { quiet: true }).inspectImage(record.image);
  if (found === undefined) return { image: record.image };
  const protocol = readRuntimeProtocol(found.Config?.Labels?.[RUNTIME_PROTOCOL_LABEL]);
  return { image: record.image, view: runtimeView(record.name, "docker", protocol) };
}

async function showOriginal(ctx: CommandContext, record: OriginalRecord): Promise<number> {
  if (ctx.flag("json")) {
    await ctx.print(JSON.stringify(originalJson(record)));
    return 0;
  }
  const width = 8;
  const rows: [string, string][] = [
    ["knot", record.name],
    ["target", `aws (${record.region}, profile ${record.profile}), made by the ${ORIGINAL_LABEL}`],
    ["stack", `${record.stackName} (${record.stackId})`],
    ["pars", record.pars ?? "-"],
    ["jobs", record.jobIds.length === 0 ? "-" : record.jobIds.join(" ")],
  ];
  await ctx.print(
    [
      ...rows.map(([k, v]) => `${ctx.out("bold", k.padEnd(width))} ${v}`),
      "",
      `This cloudknot does not run it. Remove it (its stack, and with --pars its Pars's) with ` +
      `\`cloudknot knot clobber ${record.name}${record.pars ? " --pars" : ""}\`.`,
    ].join("\n"),
  );
  return 0;
}

async function showAws(ctx: CommandContext, name: string): Promise<number> {
  const reader = await openAwsKnotReader(ctx, name);
  const { record } = reader;
  const image = await cliSettings(ctx).state.section(
    recordSection("docker-image", record.dockerImage),
  );
  const manifests = await reader.runs();
  const runs: RunRow[] = [];
  for (const [i, manifest] of manifests.entries()) {
    if (i < manifests.length - AWS_RUNS_READ) {
      runs.push({ manifest });
      continue;
    }
    const { run, close } = await reader.open(manifest.runId, manifests);
    runs.push({ manifest, counts: run.counts, finished: run.finished });
    await close();
  }
  // What of it is gone or DISABLED (a map says it cannot run, a create with its function heals
  // it), read as a map reads it; one DescribeJobDefinitions gives its revision too.
  const { batchResourceStates, knotResourcesGone, missingPars } = await import(
    "../../targets/aws/aws_knot.ts"
  );
  // Looked at only: a caller who may read the runs but not the roles (IAM) still gets the rest.
  const [states, parsGone] = await Promise.all([
    batchResourceStates(reader.session, record).catch(() => undefined),
    missingPars(reader.session, cliSettings(ctx).state, record).catch(() => undefined),
  ]);
  // As a map decides: by its revision's tag (the record's, if Batch no longer describes it).
  const revision = states === undefined
    ? await revisionRuntime(reader.session.batch, record.jobDefinition)
    : states.jobDefinition && { protocol: definitionRuntime(states.jobDefinition) };
  const protocol = revision === undefined ? record.runtime : revision.protocol;
  const runtime = runtimeView(record.name, "aws", protocol);
  const { missing = [], disabled = [] } = states ?? {};
  // A clobber that has not finished says what it left itself.
  const cannotRun = record.clobberStartedAt === undefined &&
      (missing.length > 0 || disabled.length > 0 || parsGone !== undefined)
    ? inCliWords(knotResourcesGone(record, missing, parsGone, disabled))
    : undefined;
  if (ctx.flag("json")) {
    await ctx.print(JSON.stringify({
      ...awsKnotJson(record, image),
      runtime: runtimeJson(runtime),
      cannotRun: cannotRun ?? null,
      runs: runs.map(runJson),
    }));
    return 0;
  }
  await ctx.print(details(
    ctx,
    [
      ["knot", record.name],
      ["target", `aws (${record.region}, profile ${record.profile})`],
      ["function", awsFunctionLabel(record, image)],
      ["image", record.imageUri],
      ["runtime", runtime.text],
      ["compute", record.compute],
      ["pars", record.pars],
      ["environment", record.computeEnvironment],
      ["queue", record.jobQueue],
      ["definition", record.jobDefinition],
      [
        "job role",
        record.jobRole ?? "the Pars's shared job role (made before knots had their own)",
      ],
      ["data", `s3://${record.bucket}/${record.prefix}/`],
    ],
    runs,
    halfClobbered(
      record,
      (await readParsRecords(cliSettings(ctx).state)).find((p) => p.name === record.pars),
    ) ?? cannotRun,
    runtime.advice,
  ));
  return 0;
}

/**
 * What to say of a knot whose clobber has not finished (an AWS knot's, or a
 * docker knot's): that another process is clobbering it still, or that it
 * stopped part-way and how to finish it (with `--pars` when an AWS knot's
 * Pars's clobber stopped part-way too: a clobber with `--pars` removes the
 * knot's record only once the Pars is gone).
 */
function halfClobbered(
  record: Pick<AwsKnotRecord, "name" | "clobberStartedAt" | "clobberRunning">,
  pars?: { clobberStartedAt?: number; clobberRunning?: boolean },
): string | undefined {
  if (record.clobberStartedAt === undefined) return undefined;
  const began = formatTime(record.clobberStartedAt);
  if (record.clobberRunning) {
    return `Knot ${record.name} is being clobbered by another process (began at ${began}).`;
  }
  return `A clobber of knot ${record.name} stopped part-way (it began at ` +
    `${began} and has not finished): run ` +
    `\`cloudknot knot clobber ${record.name}${
      pars?.clobberStartedAt !== undefined && !pars.clobberRunning ? " --pars" : ""
    }\` again to finish it.`;
}

/**
 * Runs `knotShow` (see its declaration, `../commands/knot_show.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.arg("knot")!;
  const original = await findOriginalKnot(ctx, name);
  if (original !== undefined) return await showOriginal(ctx, original);
  if (await locateKnot(ctx, name) === "aws") return await showAws(ctx, name);
  const knot = await findLocalKnot(name, { env: ctx.io.env });
  const runs = await snapshotRuns(knot);
  const dockerRecord = knot.record as unknown as DockerKnotRecord;
  const docker = dockerRecord.target === "docker"
    ? await dockerRuntime(ctx, dockerRecord)
    : undefined;
  // A docker knot whose clobber was killed part-way keeps its record, with the clobber's mark.
  const clobber = docker === undefined ? undefined : await dockerClobberState(knot.root);
  // Runs made under another runs directory (CLOUDKNOT_LOCAL_RUNS set otherwise then): there, not
  // gone, and read where this process's variable points there.
  const local = docker === undefined ? localRuns(knot) : undefined;
  const elsewhere = local?.runsElsewhere() ?? new Map<string, string>();
  // Runs whose manifest is damaged, which the table cannot list: each with what it says.
  const damaged = new Map(
    [...await local?.damagedRuns() ?? []].map(([runId, run]) => [runId, run.error]),
  );
  if (ctx.flag("json")) {
    await ctx.print(JSON.stringify({
      ...knotJson(knot),
      runsElsewhere: [...elsewhere].map(([runId, root]) => ({ runId, runsDir: `${root}/runs` })),
      damagedRuns: [...damaged].map(([runId, e]) => ({ runId, error: inCliWords(e) })),
      ...(docker === undefined ? {} : {
        image: docker.image,
        runtime: docker.view === undefined ? null : runtimeJson(docker.view),
        ...dockerClobberJson(clobber),
      }),
      runs: runs.map(runJson),
    }));
    return 0;
  }
  const r = knot.record;
  const rows: [string, string][] = [
    ["knot", r.name],
    ["target", r.target],
    ["function", functionLabel(knot)],
  ];
  if (docker !== undefined) {
    rows.push(
      ["image", docker.image],
      ["runtime", docker.view?.text ?? "- (the image is not on this Docker engine)"],
    );
  }
  rows.push(
    ["created", formatTime(r.createdAt)],
    ["updated", formatTime(r.updatedAt)],
    ["dir", knot.root],
    ["runs dir", knot.runsRoot],
  );
  await ctx.print(details(
    ctx,
    rows,
    runs,
    clobber === undefined ? undefined : halfClobbered({ name: r.name, ...clobber }),
    [
      stoppedAdvice(r.name, runs),
      elsewhereAdvice(knot.root, elsewhere),
      ...[...damaged].map(([runId, e]) => `Run ${runId} cannot be listed: ${inCliWords(e)}`),
      docker?.view?.advice,
    ].filter(Boolean).join("\n\n") || undefined,
    elsewhere.size > 0
      ? "No runs where this process looks"
      : damaged.size > 0
      ? "No runs that can be read"
      : undefined,
  ));
  return 0;
}
