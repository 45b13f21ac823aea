/**
 * `map` (alias `run`): runs a module's exported function over inputs and
 * prints each result as an NDJSON line.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/map.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { Knot, type KnotOptions } from "../../knot.ts";
import { validateKnotOptions, validateMapOptions } from "../../knot_options.ts";
import type { MapRun } from "../../run/map_run.ts";
import { readAwsKnot } from "../../targets/aws/catalog.ts";
import { findLocalKnot, type LocalKnotInfo } from "../../targets/local/catalog.ts";
import { checkJobEnvironment } from "../../targets/aws/batch/command.ts";
import { checkContainerEnv } from "../../job/container_env.ts";
import { cliAwsKnot, cliSettings } from "../common/aws.ts";
import { cliWarn } from "../common/cli_words.ts";
import { awsKnotOptions, awsOptionsGiven, DOCKER_TOO } from "../common/aws_options.ts";
import { cliDocker } from "../common/docker.ts";
import { readInputs } from "../common/inputs.ts";
import { followRun } from "../common/follow_run.ts";
import { writeItems } from "../common/item_output.ts";
import { knotNameFor } from "../common/knot_name.ts";
import { functionLabel } from "../common/knot_view.ts";
import { cliKnotEnv, cliLocalKnot, locateKnot, refuseAwsNameClash } from "../common/knots.ts";
import { checkModulePath, cliFiles } from "../common/module_path.ts";
import { refuseConcurrencyOnAws, refuseUnorderedJson } from "../common/options.ts";
import { cliPermissions } from "../common/permissions.ts";
import { planMap, printPlans } from "../common/plan_output.ts";
import { refuseOriginalKnotAndPars } from "../common/original.ts";
import { pairs } from "../common/pairs.ts";
import { KNOT_RANGES, POSITIVE_NUMBER } from "../common/ranges.ts";
import { resolveTarget, type TargetName } from "../common/target.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Says on stderr that the knot of this machine a map opened had another
 * function, which it now replaces, in `knot show`'s words for both: a name
 * derived from the module and export may be another module's knot's. A
 * warning, so `--quiet` keeps it, as it keeps an AWS knot's update's.
 */
async function sayFunctionReplaced(
  ctx: CommandContext,
  before: LocalKnotInfo,
  knot: Knot,
  derived: boolean,
): Promise<void> {
  if (before.record.hash === knot.artifact.hash) return;
  const after = await findLocalKnot(knot.name, { env: ctx.io.env });
  await ctx.log(ctx.err(
    "yellow",
    `Updated knot ${knot.name}: its function was ${functionLabel(before)}, now ` +
      `${functionLabel(after)}${derived ? "; pass --name to map into a knot of its own" : ""}`,
  ));
}

/**
 * Runs `map` (see its declaration, `../commands/map.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const module = ctx.arg("module");
  const exportName = ctx.arg("export") ?? "default";
  const name = ctx.string("name");
  if (module === undefined && name === undefined) {
    throw ctx.usage("map needs a module, or --name of an existing knot");
  }
  refuseUnorderedJson(ctx);
  // A new knot goes where --target says; an existing one is found by its name.
  let target: TargetName = resolveTarget(ctx);
  if (module === undefined && ctx.string("target") === undefined) {
    target = await locateKnot(ctx, name!);
  }
  const env = pairs(ctx, "env");
  const tags = pairs(ctx, "tag");
  const jobType = ctx.string("job-type");
  if (jobType !== undefined && jobType !== "array" && jobType !== "independent") {
    throw ctx.usage(`--job-type must be "array" or "independent", not "${jobType}"`);
  }
  const perJob = ctx.string("items-per-job");
  // What the target does not take is refused first, then each value out of its range there.
  if (target === "docker") {
    const stray = [
      ...awsOptionsGiven(ctx).filter((o) => !DOCKER_TOO.has(o)),
      ...(jobType !== undefined ? ["--job-type"] : []),
    ];
    if (stray.length > 0) {
      throw ctx.usage(
        `${stray.join(", ")} ${stray.length > 1 ? "are" : "is"} not for --target docker`,
      );
    }
  } else if (target === "local") {
    const stray = [
      ...awsOptionsGiven(ctx),
      ...(jobType !== undefined ? ["--job-type"] : []),
      ...(perJob !== undefined ? ["--items-per-job"] : []),
    ];
    if (stray.length > 0) {
      const awsOnly = stray.filter((o) => !DOCKER_TOO.has(o));
      const dockerToo = stray.filter((o) => DOCKER_TOO.has(o));
      const isFor = (flags: string[], targets: string) =>
        `${flags.join(", ")} ${flags.length > 1 ? "are" : "is"} for ${targets}`;
      throw ctx.usage([
        ...(awsOnly.length > 0 ? [isFor(awsOnly, "--target aws")] : []),
        ...(dockerToo.length > 0 ? [isFor(dockerToo, "--target aws or --target docker")] : []),
      ].join("; "));
    }
  } else refuseConcurrencyOnAws(ctx);
  const ranges = KNOT_RANGES[target];
  const concurrency = target === "aws" ? undefined : ctx.number("concurrency", ranges.concurrency!);
  const retries = ctx.number("retries", ranges.retries!);
  const timeout = ctx.number("timeout", ranges.timeout!);
  const memory = ctx.number("memory", ranges.memory!);
  const itemsPerJob = target === "local"
    ? undefined
    : ctx.numberOrWord("items-per-job", ranges["items-per-job"]!) as number | "auto" | undefined;
  // Read by the plan of --dry-run only: a run would ignore it.
  if (ctx.number("item-seconds", POSITIVE_NUMBER) !== undefined && !ctx.flag("dry-run")) {
    throw ctx.usage(
      "--item-seconds is read only by --dry-run, for its cost estimate: add --dry-run, or drop " +
        "--item-seconds",
    );
  }
  const aws = target !== "local" ? awsKnotOptions(ctx, target) : {};
  const permissions = cliPermissions(ctx);
  const files = cliFiles(ctx, module);
  // The map's own options are checked before the knot is made or updated, as its inputs are.
  validateMapOptions({ env, ...(itemsPerJob !== undefined ? { itemsPerJob } : {}) }, target);
  if (target === "aws") checkJobEnvironment(env);
  if (target === "docker") checkContainerEnv(env);
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
  const notArguments = ctx.flag("starmap") ? items.findIndex((item) => !Array.isArray(item)) : -1;
  if (notArguments >= 0) {
    throw ctx.usage(
      `with --starmap, each input must be an array of arguments; input ${notArguments} is not`,
    );
  }
  if (module !== undefined) await checkModulePath(module);
  const common: KnotOptions = {
    name: name ?? await knotNameFor(module!, exportName),
    ...(module !== undefined ? { module, exportName } : {}),
    ...(files !== undefined ? { files } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(memory !== undefined ? { memory } : {}),
    // Such as a module's code that reaches files beside it, in the command's words.
    warn: cliWarn(ctx),
  };
  if (target === "aws") await refuseOriginalKnotAndPars(ctx, common.name);
  else if (module !== undefined) await refuseAwsNameClash(ctx, common.name);
  const docker: KnotOptions = {
    ...common,
    ...cliLocalKnot(ctx, "docker"),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(aws.vcpus !== undefined ? { vcpus: aws.vcpus } : {}),
    ...(aws.baseImage !== undefined ? { baseImage: aws.baseImage } : {}),
    ...(permissions !== undefined ? { permissions } : {}),
    // Docker's build output goes to stderr: stdout is the results'.
    docker: cliDocker(ctx, { quiet: ctx.flag("quiet") }),
  };
  if (ctx.flag("dry-run")) {
    await printPlans(
      ctx,
      ...await planMap(ctx, {
        target: target === "aws" || target === "docker" ? target : "local",
        common: target === "docker" ? docker : common,
        aws: { ...aws, ...(Object.keys(tags).length > 0 ? { tags } : {}) },
        items,
        env,
        ...(jobType !== undefined ? { jobType: jobType as "array" | "independent" } : {}),
        ...(itemsPerJob !== undefined ? { itemsPerJob } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
      }),
    );
    return 0;
  }
  // A knot of this machine given another function than its own is updated (an AWS knot's
  // update says so itself): said below, as what it replaced.
  const before = target === "aws" || module === undefined
    ? undefined
    : await findLocalKnot(common.name, { env: ctx.io.env }).catch(() => undefined);
  let knot: Knot;
  if (target === "aws") {
    const settings = cliSettings(ctx);
    const quiet = ctx.flag("quiet");
    const existing = await readAwsKnot(settings.state, common.name);
    // An AWS knot given its own function is adopted as it is, with no image built; given
    // another, it is updated (a new image and job definition revision) before the map, of
    // the function packaged here (bundled once).
    const { functionChange } = await import("../../targets/aws/aws_knot.ts");
    const compared = existing !== undefined && module !== undefined
      ? await functionChange(
        {
          module,
          exportName,
          ...(files !== undefined ? { files } : {}),
          ...(ctx.io.deno !== undefined ? { deno: ctx.io.deno } : {}),
        },
        existing,
        settings.state,
      )
      : undefined;
    if (compared?.change === "same") {
      delete common.module;
      delete common.exportName;
      delete common.files;
    }
    if (existing !== undefined && ctx.string("base-image") === undefined) {
      delete aws.baseImage; // from $CLOUDKNOT_BASE_IMAGE: it shapes a new knot only
    }
    const options: KnotOptions = {
      ...common,
      ...aws,
      ...(permissions !== undefined ? { permissions } : {}),
      ...(Object.keys(tags).length > 0 ? { tags } : {}),
      ...await cliAwsKnot(ctx, settings, { quiet }),
    };
    await validateKnotOptions(options);
    // A config file that cannot take the records is refused before anything is made.
    await settings.state.assertWritable();
    if (!quiet) {
      await ctx.log(ctx.err("dim", `Opening knot ${common.name} on AWS Batch…`));
    }
    knot = await Knot.create(options, {
      ...(compared?.packaged !== undefined && options.module !== undefined
        ? { packaged: compared.packaged }
        : {}),
      ...(ctx.io.deno !== undefined ? { deno: ctx.io.deno } : {}),
    });
  } else if (target === "docker") {
    // Its options are refused before a word of the image.
    await validateKnotOptions(docker);
    if (!ctx.flag("quiet")) {
      await ctx.log(
        ctx.err("dim", `Opening knot ${common.name} on docker (its image is built if it changed)…`),
      );
    }
    knot = await Knot.create(docker, cliKnotEnv(ctx));
  } else {
    knot = await Knot.create({
      ...common,
      ...cliLocalKnot(ctx, "local"),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(permissions !== undefined ? { permissions } : {}),
    }, cliKnotEnv(ctx));
  }
  if (before !== undefined) await sayFunctionReplaced(ctx, before, knot, name === undefined);
  const mapOptions = {
    env,
    progress: false as const,
    ...(jobType !== undefined ? { jobType: jobType as "array" | "independent" } : {}),
    ...(itemsPerJob !== undefined ? { itemsPerJob } : {}),
  };
  const run: MapRun<unknown> = ctx.flag("starmap")
    ? await knot.map(items as unknown[][], { ...mapOptions, starmap: true })
    : await knot.map(items, mapOptions);
  if (run.total === 0) {
    if (!ctx.flag("quiet")) await ctx.log(`No inputs: knot ${knot.name} ran nothing`);
    if (ctx.flag("json")) await writeItems(run, ctx.io.stdout, { json: true });
    return 0;
  }
  return await followRun(ctx, run, {
    unordered: ctx.flag("unordered"),
    json: ctx.flag("json"),
    ...(ctx.flag("quiet")
      ? {}
      : { header: `knot ${knot.name} · run ${run.runId} · ${run.total} items (${target})` }),
  });
}
