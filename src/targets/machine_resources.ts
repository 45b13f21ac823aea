/**
 * The one rule for the resources of a knot, or of some items of its run, on
 * this machine (the local and docker targets): its memory, its vCPUs and its
 * timeout, and the least Docker takes. `Knot.create` checks a knot's options
 * with it, and each of those targets' `checkResources` a retry's.
 *
 * @module
 */
import { MAX_TIMEOUT_SECONDS } from "./aws/batch/compute_options.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { describeValue } from "../util/validate.ts";
import { defined } from "../util/defined.ts";

/**
 * The most worker processes of a local knot. Each is a Deno process with its
 * own V8 heap (tens of MiB at rest), so more than this is a mistake, such as
 * a byte count.
 */
export const MAX_CONCURRENCY: number = 1024;

/** The attempts per item of a knot given no `retries` (and that keeps none of its own). */
export const DEFAULT_RETRIES = 3;

/**
 * The worker processes of a local knot, or containers at once of a docker
 * knot, given no `concurrency` (and that keeps none of its own): one per CPU
 * of this machine.
 *
 * @example Usage
 * ```ts
 * import { defaultConcurrency } from "./machine_resources.ts";
 *
 * console.log(defaultConcurrency() >= 1); // true
 * ```
 *
 * @returns The number.
 */
export function defaultConcurrency(): number {
  return navigator.hardwareConcurrency ?? 1;
}

/**
 * The options of `Knot.create` that a local or docker knot keeps in its
 * record, as {@linkcode knotLimits} reads them (a local knot has no `vcpus`).
 */
export interface KeptLimits {
  /** Worker processes (containers at once on the docker target). */
  concurrency?: number;
  /** Attempts per item. */
  retries?: number;
  /** Seconds per attempt. */
  timeout?: number;
  /** Each worker's V8 heap limit, MiB (each container's memory limit on the docker target). */
  memory?: number;
  /** Each container's CPUs (docker). */
  vcpus?: number;
}

/**
 * The limits a local or docker knot runs with: each one given, else the
 * knot's own (its record's), else its default ({@linkcode defaultConcurrency}
 * workers, {@linkcode DEFAULT_RETRIES} attempts, no timeout, memory or vCPU
 * limit).
 *
 * @example Usage
 * ```ts
 * import { knotLimits } from "./machine_resources.ts";
 *
 * console.log(knotLimits({ retries: 2, timeout: 60 }, { timeout: 30 }).timeout); // 30
 * console.log(knotLimits({ retries: 2 }).attempts); // 2
 * ```
 *
 * @param own The knot's own, as its record keeps them. @default {none}
 * @param given Those given now, which replace its own. @default {none}
 * @returns The workers (or containers at once) and attempts, and each limit there is.
 */
export function knotLimits(
  own: KeptLimits = {},
  given: { [K in keyof KeptLimits]?: number | undefined } = {},
): { concurrency: number; attempts: number; timeout?: number; memory?: number; vcpus?: number } {
  const pick = (key: keyof KeptLimits) => given[key] ?? own[key];
  return {
    concurrency: pick("concurrency") ?? defaultConcurrency(),
    attempts: pick("retries") ?? DEFAULT_RETRIES,
    ...defined({ timeout: pick("timeout"), memory: pick("memory"), vcpus: pick("vcpus") }),
  };
}

/** Docker refuses a container memory limit below 6 MiB. */
export const MIN_CONTAINER_MIB = 6;

/** Docker's least `--cpus` the docker target takes. */
export const MIN_CONTAINER_CPUS = 0.01;

/** What bounds the resources of a target on this machine (default: this machine's). */
export interface MachineBounds {
  /** This machine's memory in MiB. @default {Deno.systemMemoryInfo().total} */
  totalMemoryMiB?: number;
  /** The CPUs Docker can give a container. @default {navigator.hardwareConcurrency} */
  cores?: number;
}

/**
 * The one rule for the resources of a knot, or of some items of its run,
 * on this machine (the local and docker targets): `timeout` a positive
 * number of seconds up to the timers' limit; `memory` an integer of MiB from
 * 1 (on docker, Docker's least, {@linkcode MIN_CONTAINER_MIB}) to this
 * machine's memory; on docker `vcpus` from 0.01 to this machine's CPUs.
 * `Knot.create` checks the knot's options with it, and each target's
 * `checkResources` a retry's.
 *
 * @example Usage
 * ```ts
 * import { checkMachineResources } from "./machine_resources.ts";
 *
 * checkMachineResources("docker", { memory: 512, vcpus: 1, timeout: 60 });
 * try {
 *   checkMachineResources("docker", { memory: 4 });
 * } catch (e) {
 *   console.log((e as Error).message.startsWith("memory must be an integer of MiB from 6")); // true
 * }
 * ```
 *
 * @param kind The target.
 * @param resources The resources given (any of them).
 * @param machine What bounds them. @default {this machine}
 * @throws {CloudknotInputError} Naming the option and the range it takes.
 */
export function checkMachineResources(
  kind: "local" | "docker",
  resources: { memory?: unknown; vcpus?: unknown; timeout?: unknown },
  machine: MachineBounds = {},
): void {
  const { memory, vcpus, timeout } = resources;
  if (timeout !== undefined) {
    if (typeof timeout !== "number" || !(timeout > 0) || timeout > MAX_TIMEOUT_SECONDS) {
      throw new CloudknotInputError(
        `timeout must be a positive number of seconds, at most ${
          MAX_TIMEOUT_SECONDS.toLocaleString("en-US")
        } (24.8 days), not ${describeValue(timeout)}`,
        { field: "timeout" },
      );
    }
  }
  if (memory !== undefined) {
    const total = machine.totalMemoryMiB ?? Math.floor(Deno.systemMemoryInfo().total / 2 ** 20);
    const least = kind === "docker" ? MIN_CONTAINER_MIB : 1;
    if (!Number.isInteger(memory) || (memory as number) < least || (memory as number) > total) {
      throw new CloudknotInputError(
        `memory must be an integer of MiB from ${least} to this machine's ${
          total.toLocaleString("en-US")
        } (${
          kind === "docker" ? "each container's memory limit" : "each worker's heap limit"
        }), not ${describeValue(memory)}`,
        { field: "memory" },
      );
    }
  }
  if (vcpus !== undefined && kind === "docker") {
    const cores = machine.cores ?? navigator.hardwareConcurrency ?? 1;
    if (typeof vcpus !== "number" || !(vcpus >= MIN_CONTAINER_CPUS) || vcpus > cores) {
      throw new CloudknotInputError(
        `vcpus must be a number of CPUs from ${MIN_CONTAINER_CPUS} to this machine's ${cores} ` +
          `(each container's --cpus), not ${describeValue(vcpus)}`,
        { field: "vcpus" },
      );
    }
  }
}

/**
 * Refuses to open a local or docker knot whose record keeps a limit this
 * machine cannot give (`Knot.create` checks a value given; one the knot
 * kept from another machine, or from this one before it changed, is
 * checked here): its `memory` above this machine's, its `vcpus` (docker)
 * above its CPUs, its `concurrency` above {@linkcode MAX_CONCURRENCY} (a
 * concurrency above the CPUs is allowed, as when given). Only a kept value
 * that no value given replaces is checked, before anything is made or run.
 *
 * @example Usage
 * ```ts
 * import { checkKeptResources } from "./machine_resources.ts";
 *
 * try {
 *   checkKeptResources("docker", "squares", { vcpus: 16 }, {}, { cores: 4 });
 * } catch (e) {
 *   console.log((e as Error).message.endsWith("give Knot.create vcpus: 4 or less, which the knot then keeps")); // true
 * }
 * ```
 *
 * @param kind The knot's target.
 * @param knot The knot's name.
 * @param kept The options its record keeps.
 * @param given The options given now, which replace the kept ones.
 * @param machine What bounds them. @default {this machine}
 * @throws {CloudknotInputError} Naming the kept value, this machine's limit and the option to give.
 */
export function checkKeptResources(
  kind: "local" | "docker",
  knot: string,
  kept: { concurrency?: number; memory?: number; vcpus?: number },
  given: { concurrency?: number; memory?: number; vcpus?: number },
  machine: MachineBounds = {},
): void {
  const over = (option: "concurrency" | "memory" | "vcpus", limit: number, what: string) => {
    const value = kept[option];
    if (value === undefined || given[option] !== undefined || !(value > limit)) return;
    throw new CloudknotInputError(
      `${kind === "docker" ? "Docker" : "Local"} knot ${knot} keeps ${option} ${value}, as it ` +
        `was given before, but ${what}: give Knot.create ${option}: ${limit} or less, which ` +
        `the knot then keeps`,
      { field: option },
    );
  };
  over("concurrency", MAX_CONCURRENCY, `a knot runs at most ${MAX_CONCURRENCY}`);
  // The machine's memory is asked only of a kept memory to check. Reading it takes
  // `--allow-sys=systemMemoryInfo`, which the command line's documented flags add only with a
  // `--memory`: without it, a kept memory (checked where it was given) goes unchecked.
  const total = kept.memory === undefined || given.memory !== undefined
    ? undefined
    : machine.totalMemoryMiB ?? machineMemoryMiB();
  if (total !== undefined) {
    over(
      "memory",
      total,
      `this machine has ${total.toLocaleString("en-US")} MiB of memory (${
        kind === "docker" ? "each container's memory limit" : "each worker's heap limit"
      })`,
    );
  }
  if (kind === "docker") {
    const cores = machine.cores ?? navigator.hardwareConcurrency ?? 1;
    over("vcpus", cores, `this machine has ${cores} CPUs (each container's --cpus)`);
  }
}

/** This machine's memory in MiB, or `undefined` when this process may not read it. */
function machineMemoryMiB(): number | undefined {
  try {
    return Math.floor(Deno.systemMemoryInfo().total / 2 ** 20);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) return undefined;
    throw e;
  }
}
