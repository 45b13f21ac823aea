/**
 * `knot list`: the knots of both targets, with their function and runs.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/knot_list.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { recordSection } from "../../state/sections.ts";
import { readAwsKnots } from "../../targets/aws/catalog.ts";
import { readOriginalRecords } from "../../resources/original.ts";
import { ORIGINAL_LABEL, originalJson } from "../common/original.ts";
import { listLocalKnots, localKnotsDir } from "../../targets/local/catalog.ts";
import {
  dockerClobberState,
  type UnfinishedDockerKnot,
  unfinishedDockerKnot,
} from "../../targets/docker/catalog.ts";
import { unfinishedKnotWords } from "../common/knots.ts";
import { join } from "node:path";
import { knotRuns } from "../common/knot_view.ts";
import { cliSettings, configReadError } from "../common/aws.ts";
import { inCliWords } from "../common/cli_words.ts";
import { UnsafeDirectoryError } from "../../store/private_dir.ts";
import {
  awsFunctionLabel,
  awsKnotJson,
  dockerClobberJson,
  functionLabel,
  knotJson,
  runIdTime,
} from "../common/knot_view.ts";
import { clobberLabel, printList } from "../common/table.ts";
import { resolveTarget } from "../common/target.ts";
import type { CommandContext } from "../common/command.ts";

/** How a docker knot that was never finished is listed: by what the process holding it does. */
function unfinishedLabel(found: UnfinishedDockerKnot): string {
  if (!found.running) {
    return found.clobberStartedAt === undefined ? "(create unfinished)" : "(clobber unfinished)";
  }
  return found.activity === "creating"
    ? "(being created)"
    : found.activity === "clobbering"
    ? "(being clobbered)"
    : "(in use by another process)";
}

/**
 * Runs `knotList` (see its declaration, `../commands/knot_list.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const target = ctx.string("target") === undefined ? undefined : resolveTarget(ctx);
  const rows: { json: Record<string, unknown>; cells: string[] }[] = [];
  const damaged = new Map<string, Error>();
  const unfinished = new Map<string, UnfinishedDockerKnot>();
  if (target !== "aws") {
    const unrecorded: string[] = [];
    const knots = await listLocalKnots({ env: ctx.io.env }, damaged, unrecorded);
    // A docker knot whose create was killed (or failed) before it recorded it (or a create or a
    // clobber of it runs now), or a local or docker knot whose clobber was killed once it removed
    // the record: listed as such, under its own target.
    for (const name of unrecorded) {
      const found = await unfinishedDockerKnot(join(localKnotsDir({ env: ctx.io.env }), name));
      if (found === undefined || (target !== undefined && target !== (found.target ?? "docker"))) {
        continue;
      }
      unfinished.set(name, found);
      rows.push({
        json: {
          name,
          target: found.target ?? "docker",
          dir: found.root,
          unfinished: true,
          creating: found.activity === "creating",
          // A clobber that removed the knot's record: under way, or stopped part-way.
          clobberStarted: found.clobberStartedAt === undefined
            ? null
            : new Date(found.clobberStartedAt).toISOString(),
          clobberRunning: found.activity === "clobbering",
          runs: 0,
          lastRun: null,
        },
        cells: [
          name,
          `${found.target ?? "docker"} ${unfinishedLabel(found)}`,
          "-",
          "-",
          "-",
        ],
      });
    }
    for (const knot of knots) {
      // Docker knots live in the local knots directory too.
      if (target !== undefined && (knot.record.target as string) !== target) continue;
      // A knot whose directory is no longer private is listed as such, not read, nor let hide the
      // others.
      const runs = await knotRuns(knot).runs().catch((e) => {
        if (!(e instanceof UnsafeDirectoryError)) throw e;
        damaged.set(knot.record.name, e);
        return undefined;
      });
      if (runs === undefined) continue;
      const last = runs.at(-1);
      // A knot whose clobber was killed part-way keeps its record, with the clobber's mark.
      const docker = (knot.record.target as string) === "docker";
      const clobber = await dockerClobberState(knot.root);
      rows.push({
        json: {
          ...knotJson(knot),
          ...(docker || clobber !== undefined ? dockerClobberJson(clobber) : {}),
          runs: runs.length,
          lastRun: last === undefined ? null : {
            runId: last.runId,
            createdAt: new Date(last.createdAt).toISOString(),
            items: last.count,
          },
        },
        cells: [
          knot.record.name,
          `${knot.record.target}${clobberLabel(clobber ?? {})}`,
          functionLabel(knot),
          String(runs.length),
          last?.runId ?? "-",
        ],
      });
    }
  }
  // Listed, with what is wrong, so that no knot is hidden (its command says the same).
  for (const [name, error] of damaged) {
    rows.push({
      json: { name, target: null, error: inCliWords(error) },
      cells: [
        name,
        error instanceof UnsafeDirectoryError ? "? (not private)" : "? (record damaged)",
        "-",
        "-",
        "-",
      ],
    });
  }
  // A config file that cannot be read (it records the knots on AWS): the knots of this machine
  // are listed all the same, then what is wrong with it.
  const unreadable = target === undefined ? await configReadError(ctx) : undefined;
  if ((target === undefined && unreadable === undefined) || target === "aws") {
    const { state } = cliSettings(ctx);
    for (const record of await readOriginalRecords(state, "knot")) {
      rows.push({
        json: { ...originalJson(record), runs: null, lastRun: null },
        cells: [
          record.name,
          `aws ${record.region} (${ORIGINAL_LABEL})`,
          `stack ${record.stackName}`,
          "-",
          "-",
        ],
      });
    }
    for (const record of await readAwsKnots(state)) {
      const image = await state.section(recordSection("docker-image", record.dockerImage));
      const last = record.runs.at(-1);
      const lastTime = last === undefined ? undefined : runIdTime(last);
      rows.push({
        json: {
          ...awsKnotJson(record, image),
          runs: record.runs.length,
          lastRun: last === undefined ? null : {
            runId: last,
            createdAt: lastTime === undefined ? null : new Date(lastTime).toISOString(),
            items: null,
          },
        },
        cells: [
          record.name,
          `aws ${record.region}${clobberLabel(record)}`,
          awsFunctionLabel(record, image),
          String(record.runs.length),
          last ?? "-",
        ],
      });
    }
  }
  rows.sort((a, b) =>
    a.cells[0]!.localeCompare(b.cells[0]!) || a.cells[1]!.localeCompare(b.cells[1]!)
  );
  await printList(ctx, rows, {
    header: ["NAME", "TARGET", "FUNCTION", "RUNS", "LAST RUN"],
    cells: (r) => r.cells,
    json: (r) => r.json,
    empty: "No knots yet: create one with `cloudknot map` or `cloudknot knot create`",
  });
  for (const [name, error] of damaged) {
    await ctx.log(`Knot ${name} cannot be listed: ${inCliWords(error)}`);
  }
  for (const [name, found] of unfinished) await ctx.log(unfinishedKnotWords(name, found));
  if (unreadable !== undefined) {
    // Its error says which line is wrong.
    await ctx.log(
      `The knots on AWS are not listed: ${inCliWords(unreadable)} (run with --target local to ` +
        `list only this machine's)`,
    );
    return 1;
  }
  return 0;
}
