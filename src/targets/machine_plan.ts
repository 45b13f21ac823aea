/**
 * The dry run and the estimate of a map on this machine, which the local and
 * docker targets share: loaded by their `plan()` and `estimate()` only, so a
 * run does not load the planner and the cost tables.
 *
 * @module
 */
import { join } from "node:path";
import { type Estimate, estimateRun } from "../cost/estimate.ts";
import { INDEX_ENTRY_BYTES, RUN_KEYS } from "../job/payload.ts";
import { Plan, type PlanStep } from "../plan/plan.ts";
import { type MapRequest, measureItems } from "./target.ts";

/** Where a map on this machine (the local or docker target) runs, for its dry run. */
export interface MachinePlace {
  /** Which target. */
  kind: "local" | "docker";
  /** The knot's name. */
  knot: string;
  /** The folder whose `runs/` holds the knot's runs. */
  root: string;
  /** How many items run at once, for the estimate. */
  concurrency: number;
  /** The step that runs the request's `count` items. */
  run: (count: number) => PlanStep;
}

/**
 * The dry run of a map on this machine (the local and docker targets): the
 * run's inputs and index written to its folder, then the target's own step
 * that runs them, and with `itemSeconds` an estimate of the run.
 *
 * @example Usage
 * ```ts
 * import { planMachineMap } from "./machine_plan.ts";
 *
 * const plan = await planMachineMap({ items: [new Uint8Array([1])], starmap: false, env: {} }, {
 *   kind: "local",
 *   knot: "squares",
 *   root: "/tmp/squares",
 *   concurrency: 2,
 *   run: (count) => ({ action: "run", kind: "worker processes", name: "1", details: { items: count } }),
 * }, { itemSeconds: 1 });
 * console.log(plan.title); // Map 1 items on knot squares (local)
 * ```
 *
 * @param request The map request; its items are read and let go.
 * @param place Where the run would be.
 * @param options `itemSeconds` adds an estimate.
 * @returns The plan.
 */
export async function planMachineMap(
  request: MapRequest,
  place: MachinePlace,
  options: { itemSeconds?: number } = {},
): Promise<Plan> {
  const { count, bytes } = await measureItems(request.items);
  const run = join(place.root, "runs", "<run id>");
  return new Plan({
    title: `Map ${count} items on knot ${place.knot} (${place.kind})`,
    steps: [
      { action: "write", kind: "file", name: join(run, RUN_KEYS.inputs), details: { bytes } },
      {
        action: "write",
        kind: "file",
        name: join(run, RUN_KEYS.index),
        details: { bytes: count * INDEX_ENTRY_BYTES },
      },
      place.run(count),
    ],
    ...(options.itemSeconds !== undefined && count > 0
      ? {
        estimate: await estimateMachineRun(
          count,
          options.itemSeconds,
          place.concurrency,
          place.kind,
        ),
      }
      : {}),
  });
}

/**
 * An estimate of a run on this machine: its duration with `concurrency`
 * items at once, and its CPU-hours.
 *
 * @example Usage
 * ```ts
 * import { estimateMachineRun } from "./machine_plan.ts";
 *
 * console.log((await estimateMachineRun(10, 60, 2, "local")).durationSeconds); // 300
 * ```
 *
 * @param count How many items.
 * @param itemSeconds Seconds one item runs.
 * @param concurrency How many items run at once.
 * @param target The local target's worker processes, or the docker target's containers.
 * @returns The estimate.
 */
export function estimateMachineRun(
  count: number,
  itemSeconds: number,
  concurrency: number,
  target: "local" | "docker",
): Promise<Estimate> {
  return Promise.resolve(estimateRun({ target, count, itemSeconds, concurrency }));
}
