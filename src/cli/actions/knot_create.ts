/**
 * `knot create <knot> <module> [export]`: packages a module's export as a
 * knot, locally or on AWS Batch.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/knot_create.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { Knot, type KnotOptions } from "../../knot.ts";
import { validateKnotOptions } from "../../knot_options.ts";
import { recordSection } from "../../state/sections.ts";
import { readAwsKnot } from "../../targets/aws/catalog.ts";
import { findLocalKnot } from "../../targets/local/catalog.ts";
import { cliAwsKnot, cliSettings } from "../common/aws.ts";
import { cliWarn } from "../common/cli_words.ts";
import { awsKnotOptions, awsOptionsGiven, DOCKER_TOO } from "../common/aws_options.ts";
import type { CommandContext } from "../common/command.ts";
import { awsFunctionLabel, awsKnotJson, functionLabel, knotJson } from "../common/knot_view.ts";
import { cliKnotEnv, cliLocalKnot, refuseAwsNameClash } from "../common/knots.ts";
import { checkModulePath, cliFiles } from "../common/module_path.ts";
import { cliPermissions } from "../common/permissions.ts";
import type { Permissions } from "../../job/permissions.ts";
import { printPlans } from "../common/plan_output.ts";
import { refuseOriginalKnotAndPars } from "../common/original.ts";
import { pairs } from "../common/pairs.ts";
import { KNOT_RANGES } from "../common/ranges.ts";
import { refuseConcurrencyOnAws } from "../common/options.ts";
import { resolveTarget } from "../common/target.ts";
import { cliDocker } from "../common/docker.ts";
import { untilInterrupted } from "../common/interrupted.ts";
import { defined } from "../../util/defined.ts";

async function createAws(
  ctx: CommandContext,
  spec: {
    name: string;
    module: string;
    exportName: string;
    files?: string[];
    permissions?: Permissions;
  },
): Promise<number> {
  refuseConcurrencyOnAws(ctx);
  const awsOptions = awsKnotOptions(ctx, "aws");
  const retries = ctx.number("retries", KNOT_RANGES.aws.retries!);
  const timeout = ctx.number("timeout", KNOT_RANGES.aws.timeout!);
  const memory = ctx.number("memory", KNOT_RANGES.aws.memory!);
  const tags = pairs(ctx, "tag");
  await checkModulePath(spec.module);
  await refuseOriginalKnotAndPars(ctx, spec.name);
  const settings = cliSettings(ctx);
  const before = await readAwsKnot(settings.state, spec.name);
  const existed = before !== undefined;
  const quiet = ctx.flag("quiet") || ctx.flag("dry-run");
  if (existed && ctx.string("base-image") === undefined) {
    delete awsOptions.baseImage; // from $CLOUDKNOT_BASE_IMAGE: it shapes a new knot only
  }
  const options: KnotOptions = {
    ...spec,
    ...awsOptions,
    ...(retries !== undefined ? { retries } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(memory !== undefined ? { memory } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...await cliAwsKnot(ctx, settings, { quiet }),
  };
  await validateKnotOptions(options);
  if (ctx.flag("dry-run")) {
    await printPlans(ctx, await Knot.create({ ...options, dryRun: true }));
    return 0;
  }
  // A config file that cannot take the records is refused before anything is made.
  await settings.state.assertWritable();
  if (!quiet && !existed) {
    await ctx.log(ctx.err("dim", `Making knot ${spec.name} on AWS Batch (this takes minutes)…`));
  }
  return await untilInterrupted(
    ctx,
    async () => {
      const knot = await Knot.create(options);
      const record = (await readAwsKnot(settings.state, spec.name))!;
      const image = await settings.state.section(recordSection("docker-image", record.dockerImage));
      if (ctx.flag("json")) await ctx.print(JSON.stringify(awsKnotJson(record, image)));
      else {
        const revision = record.jobDefinition.slice(record.jobDefinition.lastIndexOf(":") + 1);
        await ctx.print(
          // A knot made again registers a new job definition too: one whose queue or compute
          // environment was deleted outside cloudknot. A knot another process made (or
          // updated) while this one waited for it is adopted.
          `${
            !existed
              ? knot.aws?.adopted ? "Adopted" : "Created"
              : knot.aws?.updated
              ? "Updated"
              : record.jobDefinition !== before.jobDefinition
              ? "Made again"
              : "Adopted"
          } knot ${spec.name} on AWS Batch (${record.region}): ` +
            `${awsFunctionLabel(record, image)}, ${record.compute}${
              existed && knot.aws?.updated
                ? `, job definition revision ${revision}; runs made before keep their own ` +
                  `function (cloudknot retry ${spec.name} RUN retries one with it)`
                : ""
            }`,
        );
      }
      return 0;
    },
    `knot ${spec.name} may be partly made: run the same cloudknot knot create again to finish it, or cloudknot gc to list what it left`,
  );
}

/**
 * Runs `knotCreate` (see its declaration, `../commands/knot_create.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.arg("knot")!;
  const module = ctx.arg("module")!;
  const exportName = ctx.arg("export") ?? "default";
  const permissions = cliPermissions(ctx);
  const files = cliFiles(ctx, module);
  const target = resolveTarget(ctx);
  if (target === "aws") {
    return await createAws(ctx, {
      name,
      module,
      exportName,
      ...(files !== undefined ? { files } : {}),
      ...(permissions !== undefined ? { permissions } : {}),
    });
  }
  // The docker target builds its image here, and runs its containers with their CPUs.
  const stray = awsOptionsGiven(ctx).filter((o) => target !== "docker" || !DOCKER_TOO.has(o));
  if (stray.length > 0) {
    throw ctx.usage(
      stray.map((o) => `${o} is for --target aws${DOCKER_TOO.has(o) ? " or --target docker" : ""}`)
        .join("; "),
    );
  }
  // The knot keeps them, for the maps that do not give them.
  const ranges = KNOT_RANGES[target];
  const limits = defined({
    concurrency: ctx.number("concurrency", ranges.concurrency!),
    retries: ctx.number("retries", ranges.retries!),
    timeout: ctx.number("timeout", ranges.timeout!),
    memory: ctx.number("memory", ranges.memory!),
  });
  await refuseAwsNameClash(ctx, name);
  await checkModulePath(module);
  const warn = cliWarn(ctx);
  const { baseImage, vcpus } = target === "docker" ? awsKnotOptions(ctx, "docker") : {};
  const docker: Partial<KnotOptions> = target === "docker"
    ? { docker: cliDocker(ctx, { quiet: ctx.flag("quiet") }), ...defined({ baseImage, vcpus }) }
    : {};
  const knotOptions: KnotOptions = {
    ...docker,
    name,
    module,
    exportName,
    ...(files !== undefined ? { files } : {}),
    ...cliLocalKnot(ctx, target === "docker" ? "docker" : "local"),
    ...limits,
    warn,
  };
  if (ctx.flag("dry-run")) {
    await printPlans(ctx, await Knot.create({ ...knotOptions, dryRun: true }));
    return 0;
  }
  const existed = await findLocalKnot(name, { env: ctx.io.env }).then(() => true, () => false);
  await Knot.create({
    ...knotOptions,
    ...(permissions !== undefined ? { permissions } : {}),
  }, cliKnotEnv(ctx));
  const knot = await findLocalKnot(name, { env: ctx.io.env });
  if (ctx.flag("json")) await ctx.print(JSON.stringify(knotJson(knot)));
  else {
    await ctx.print(`${existed ? "Updated" : "Created"} knot ${name}: ${functionLabel(knot)}`);
  }
  return 0;
}
