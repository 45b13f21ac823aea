/**
 * `knot list`: the knots of both targets, with their function and runs.
 *
 * @module
 */
import { recordSection } from "../../state/sections.ts";
import { readAwsKnots } from "../../targets/aws/catalog.ts";
import { readOriginalRecords } from "../../resources/original.ts";
import { ORIGINAL_LABEL, originalJson } from "../common/original.ts";
import { listLocalKnots } from "../../targets/local/catalog.ts";
import { dockerClobberState } from "../../targets/docker/docker_knot.ts";
import { knotRuns } from "../common/knot_view.ts";
import { cliSettings } from "../common/aws.ts";
import { defineCommand } from "../common/command.ts";
import {
  awsFunctionLabel,
  awsKnotJson,
  dockerClobberJson,
  functionLabel,
  knotJson,
  runIdTime,
} from "../common/knot_view.ts";
import { JSON_OPTION } from "../common/options.ts";
import { clobberLabel, printList } from "../common/table.ts";
import { resolveTarget } from "../common/target.ts";

/** `knot list`. */
export const knotList = defineCommand({
  group: "knot",
  name: "list",
  summary: "List the knots, local and on AWS: target, function, runs and the latest run",
  description: "Local knots come from the local knots directory, AWS knots from the config file " +
    "(no AWS call). --target shows one target only. With --json, an array of " +
    '{"name","target","function","runs","lastRun",...}; an AWS knot adds its region, compute, ' +
    "Pars, image and Batch resources. Knots the Python cloudknot made show as such, with their " +
    'CloudFormation stack ({"madeBy":"python","stack",...}): `knot clobber` removes them. ' +
    "A knot whose clobber stopped part-way shows `(clobber unfinished)` after its target " +
    "(`(being clobbered)` while another process clobbers it): `knot clobber` again finishes it.",
  args: [],
  options: {
    ...JSON_OPTION,
    target: {
      type: "string",
      value: "local|aws|docker",
      description: "Only the knots of this target (default: every target)",
    },
  },
  examples: [{ description: "List the knots", command: "cloudknot knot list" }],
  async run(ctx) {
    const target = ctx.string("target") === undefined ? undefined : resolveTarget(ctx);
    const rows: { json: Record<string, unknown>; cells: string[] }[] = [];
    if (target !== "aws") {
      for (const knot of await listLocalKnots({ env: ctx.io.env })) {
        // Docker knots live in the local knots directory too.
        if (target !== undefined && (knot.record.target as string) !== target) continue;
        const runs = await knotRuns(knot).runs();
        const last = runs.at(-1);
        // A docker knot whose clobber was killed part-way keeps its record, with the clobber's mark.
        const docker = (knot.record.target as string) === "docker";
        const clobber = docker ? await dockerClobberState(knot.root) : undefined;
        rows.push({
          json: {
            ...knotJson(knot),
            ...(docker ? dockerClobberJson(clobber) : {}),
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
    if (target === undefined || target === "aws") {
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
    return await printList(ctx, rows, {
      header: ["NAME", "TARGET", "FUNCTION", "RUNS", "LAST RUN"],
      cells: (r) => r.cells,
      json: (r) => r.json,
      empty: "No knots yet: create one with `cloudknot map` or `cloudknot knot create`",
    });
  },
});
