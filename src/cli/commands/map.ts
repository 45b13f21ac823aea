/**
 * `map` (alias `run`): runs a module's exported function over inputs and
 * prints each result as an NDJSON line.
 *
 * @module
 */
import { Knot } from "../../knot.ts";
import type { MapRun } from "../../run/map_run.ts";
import { localKnotsDir } from "../../targets/local/catalog.ts";
import { showProgress } from "../../ui/progress.ts";
import { defineCommand } from "../command.ts";
import { readInputs } from "../inputs.ts";
import { failureSummary, writeItems } from "../item_output.ts";
import { knotNameFor } from "../knot_name.ts";
import { checkModulePath } from "../module_path.ts";
import { JSON_OPTION, TARGET_OPTION } from "../options.ts";
import { pairs } from "../pairs.ts";
import { resolveTarget } from "../target.ts";

/** The exit code after an interrupt (128 + SIGINT). */
const INTERRUPTED = 130;

/** `map <module> [export]`. */
export const map = defineCommand({
  name: "map",
  aliases: ["run"],
  summary: "Run a module's function over inputs; one JSON line per result",
  description:
    "Bundles the module with everything it imports into the knot (named after the module and " +
    "the export unless --name says otherwise; an existing knot of that name is updated), runs " +
    "the function once per input, and prints one line per item on stdout: " +
    '{"index":i,"value":...} or {"index":i,"error":{"name","message","kind",...}}. ' +
    "Values JSON cannot carry (undefined, BigInt, NaN, Date, Map, ...) print in the job " +
    'codec\'s JSON form, such as {"$":"bigint","v":"12"}; keys starting with $ get one more $.\n' +
    "Inputs are a JSON array, or NDJSON (one JSON value per line) with --ndjson or a .ndjson or " +
    ".jsonl file. Without a module, --name runs an existing knot. Exits with 1 when any item " +
    "failed, after printing every line. Ctrl-C cancels the run.",
  args: [
    {
      name: "module",
      required: false,
      description: "The module's path or URL (optional with --name)",
    },
    { name: "export", required: false, description: 'The export to call (default: "default")' },
  ],
  options: {
    inputs: {
      type: "string",
      value: "FILE",
      description:
        "Read the inputs from FILE, or - for stdin (default: stdin when it is not a terminal)",
    },
    ndjson: { type: "boolean", description: "The inputs are NDJSON: one JSON value per line" },
    starmap: { type: "boolean", description: "Each input is an array of arguments to spread" },
    name: {
      type: "string",
      value: "KNOT",
      description: "The knot's name (default: from the module and export)",
    },
    concurrency: {
      type: "string",
      value: "N",
      description: "Worker processes (default: the number of cores)",
    },
    retries: { type: "string", value: "N", description: "Attempts per item, 1 to 10 (default: 3)" },
    timeout: { type: "string", value: "S", description: "Seconds one attempt may run" },
    memory: {
      type: "string",
      value: "MiB",
      description: "Memory per job; locally, each worker's heap limit",
    },
    env: {
      type: "string",
      value: "K=V",
      multiple: true,
      description: "An environment variable for every job",
    },
    unordered: { type: "boolean", description: "Print results as they finish, not in input order" },
    quiet: {
      type: "boolean",
      short: "q",
      description: "Do not show the run's id and progress on stderr",
    },
    ...JSON_OPTION,
    ...TARGET_OPTION,
  },
  examples: [
    {
      description: "Square three numbers; one JSON line per result, in input order",
      command: "echo '[1, 2, 3]' | cloudknot map examples/jobs.ts square --name squares",
    },
    {
      description: "Add pairs read as NDJSON, printing results as they finish",
      command:
        "printf '[1, 2]\\n[3, 4]\\n' | cloudknot map examples/jobs.ts add --ndjson --starmap --unordered",
    },
  ],
  async run(ctx) {
    resolveTarget(ctx);
    const module = ctx.arg("module");
    const exportName = ctx.arg("export") ?? "default";
    const name = ctx.string("name");
    if (module === undefined && name === undefined) {
      throw ctx.usage("map needs a module, or --name of an existing knot");
    }
    const env = pairs(ctx, "env");
    const concurrency = ctx.integer("concurrency", { min: 1 });
    const retries = ctx.integer("retries", { min: 1 });
    const timeout = ctx.positive("timeout");
    const memory = ctx.integer("memory", { min: 1 });
    const items = await readInputs({
      ...(ctx.string("inputs") !== undefined ? { file: ctx.string("inputs") } : {}),
      ndjson: ctx.flag("ndjson"),
      stdin: ctx.io.stdin,
    });
    if (items === undefined) {
      throw ctx.usage(
        "map needs inputs: pass --inputs FILE, or pipe a JSON array or NDJSON on stdin",
      );
    }
    if (module !== undefined) await checkModulePath(module);
    const knot = await Knot.create({
      name: name ?? knotNameFor(module!, exportName),
      dir: localKnotsDir({ env: ctx.io.env }),
      ...(module !== undefined ? { module, exportName } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
      ...(memory !== undefined ? { memory } : {}),
    });
    const run: MapRun<unknown> = ctx.flag("starmap")
      ? await knot.map(items as unknown[][], { starmap: true, env, progress: false })
      : await knot.map(items, { env, progress: false });
    if (run.total === 0) {
      if (!ctx.flag("quiet")) await ctx.log(`No inputs: knot ${knot.name} ran nothing`);
      if (ctx.flag("json")) await writeItems(run, ctx.io.stdout, { json: true });
      return 0;
    }
    let interrupted = false;
    const onInterrupt = () => {
      if (interrupted) return;
      interrupted = true;
      ctx.log("Cancelling the run (interrupted)").catch(() => {});
      run.cancel("The run was interrupted (SIGINT)").catch(() => {});
    };
    Deno.addSignalListener("SIGINT", onInterrupt);
    let failed: number[];
    try {
      if (!ctx.flag("quiet")) {
        await ctx.log(
          ctx.err("dim", `knot ${knot.name} · run ${run.runId} · ${run.total} items (local)`),
        );
        showProgress(run, {
          isTerminal: ctx.io.stderr.isTerminal(),
          write: (text) => void ctx.io.stderr.write(text).catch(() => {}),
          log: (line) => void ctx.io.stderr.write(`${line}\n`).catch(() => {}),
        });
      }
      failed = await writeItems(run, ctx.io.stdout, {
        unordered: ctx.flag("unordered"),
        json: ctx.flag("json"),
      });
      await run.done;
    } catch (e) {
      await run.cancel("The command line stopped: " + (e instanceof Error ? e.message : String(e)));
      throw e;
    } finally {
      Deno.removeSignalListener("SIGINT", onInterrupt);
    }
    if (failed.length > 0) await ctx.log(ctx.err("red", failureSummary(failed, run.total)));
    if (interrupted) return INTERRUPTED;
    return failed.length > 0 ? 1 : 0;
  },
});
