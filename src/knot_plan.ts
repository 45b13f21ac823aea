/**
 * What `Knot.create()` would do, as a {@linkcode Plan}, when it is given
 * `dryRun: true`: loaded only for a dry run, with the packaging it shows.
 *
 * @module
 */
import type { KnotOptions } from "./knot.ts";
import type { ValidKnotOptions } from "./knot_options.ts";
import { Plan } from "./plan/plan.ts";
import { artifactOf } from "./job/artifact_of.ts";
import { describeShippedFiles } from "./job/shipped_files.ts";
import { localKnotsDir } from "./store/local_knots.ts";
import { defined } from "./util/defined.ts";
import { join } from "node:path";
import { LocalStore } from "./store/local.ts";
import { readLocalKnotRecord } from "./targets/local/catalog.ts";
import { knotLimits } from "./targets/machine_resources.ts";

/**
 * The plan of `Knot.create` with `dryRun: true`, for the target its options
 * name.
 *
 * @example Usage
 * ```ts
 * import { planKnot } from "./knot_plan.ts";
 * import { validateKnotOptions } from "./knot_options.ts";
 *
 * const options = { name: "squares", func: (x: number) => x * x };
 * console.log(String(await planKnot(options, await validateKnotOptions(options))));
 * ```
 *
 * @param options The options as given.
 * @param o The options, checked.
 * @returns The plan.
 */
export async function planKnot(options: KnotOptions, o: ValidKnotOptions): Promise<Plan> {
  if (o.target === "aws") {
    const { planAwsKnot } = await import("./targets/aws/aws_plan.ts");
    return await planAwsKnot({
      ...options,
      name: o.name,
      ...(options.retries !== undefined ? { retries: o.retries } : {}),
    });
  }
  const artifact = await artifactOf(options, defined({ warn: options.warn }));
  const dir = localKnotsDir(options.dir !== undefined ? { dir: options.dir } : {});
  const docker = o.target === "docker";
  // The options not given are the knot's own when it exists, as the create would keep them.
  const saved = await readLocalKnotRecord(new LocalStore(join(dir, o.name))).catch(() => undefined);
  const { concurrency, attempts, memory, vcpus, timeout } = knotLimits(
    saved?.target === o.target ? saved.options : undefined,
    {
      concurrency: options.concurrency,
      retries: options.retries,
      timeout: o.timeout,
      memory: o.memory,
      vcpus: o.vcpus,
    },
  );
  const fn: Record<string, string> = artifact
    ? {
      function: `${artifact.kind} ${artifact.name} (${artifact.hash.slice(0, 12)})`,
      ...(artifact.files ? { files: describeShippedFiles(artifact.files.files) } : {}),
    }
    : {};
  let image: string | undefined;
  if (docker && artifact) {
    const { dockerKnotImage } = await import("./targets/docker/docker_knot.ts");
    image = await dockerKnotImage({ name: o.name, dir });
  }
  return new Plan({
    title: `Knot ${o.name} on this machine${docker ? "'s Docker engine" : ""}`,
    steps: [
      ...(image !== undefined
        ? [{ action: "build" as const, kind: "image", name: image, details: fn }]
        : []),
      {
        action: "write",
        kind: docker ? "docker knot" : "local knot",
        name: `${dir}/${o.name}`,
        details: {
          ...fn,
          [docker ? "containers" : "workers"]: concurrency,
          attempts,
          ...(memory !== undefined ? { [docker ? "memory MiB" : "heap limit MiB"]: memory } : {}),
          ...(vcpus !== undefined ? { vcpus } : {}),
          ...(timeout !== undefined ? { timeout } : {}),
        },
      },
    ],
    notes: artifact ? [] : ["no func or module: the knot of that name would be adopted"],
  });
}
