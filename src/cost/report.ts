/**
 * The cost report of a run: what its attempts used (from their start and
 * stop times, the job's vCPUs and memory and the compute type) and what that
 * cost at the price table's prices, retries included. Locally, the
 * CPU-seconds of its attempts.
 *
 * @module
 */
import { formatSeconds, placeText, RowsTable } from "./format.ts";
import type { ComputeKind, CostRange, PriceTable } from "./prices.ts";
import { formatCost, PRICES, regionPrices, secondCost } from "./prices.ts";
import type { RunUsage } from "./usage.ts";

/** The figures of a {@linkcode CostReport}. */
export interface CostReportFields {
  /** The knot's name. */
  knot: string;
  /** The run's id. */
  runId: string;
  /** Where it ran. */
  target: "aws" | "local" | "docker";
  /** The region (AWS). */
  region?: string;
  /** The compute type (AWS). */
  compute?: ComputeKind;
  /** Attempts that ran (started and stopped). */
  attempts: number;
  /** Of those, attempts that failed and were retried. */
  retried: number;
  /** Attempts not counted: still running, or with no start time. */
  uncounted: number;
  /** Seconds the counted attempts ran, added up. */
  attemptSeconds: number;
  /** Seconds billed: Fargate rounds each attempt up to the second, with a 1-minute minimum. */
  billedSeconds: number;
  /** vCPU-hours (AWS; locally the attempts' CPU-hours). */
  vcpuHours: number;
  /** GB-hours of memory (AWS). */
  gbHours: number;
  /** Locally: the attempts' CPU-seconds. */
  cpuSeconds?: number;
  /** What the compute cost (AWS), when the price table can say. */
  cost?: CostRange;
  /** Why there is no cost, when the price table cannot say. */
  missing?: string;
  /** How the figures were reckoned, one sentence each. */
  assumptions: string[];
}

/**
 * What a run used and cost. Printed, a short table; in a notebook, HTML.
 *
 * @example Usage
 * ```ts
 * import { costReport } from "@cloudknot/cloudknot/cost";
 *
 * const report = costReport({
 *   knot: "k", runId: "r", target: "aws", region: "us-east-1", compute: "FARGATE",
 *   attempts: [{ jobId: "j", index: 0, attempt: 1, startedAt: 0, stoppedAt: 120_000, outcome: "succeeded", vcpus: 1, memoryMiB: 2048 }],
 * });
 * console.log(report.cost); // { low: 0.0016456666666666666, high: 0.0016456666666666666 }
 * ```
 */
export class CostReport extends RowsTable implements CostReportFields {
  /** The knot's name. */
  readonly knot!: string;
  /** The run's id. */
  readonly runId!: string;
  /** Where it ran. */
  readonly target!: "aws" | "local" | "docker";
  /** The region (AWS). */
  readonly region?: string;
  /** The compute type (AWS). */
  readonly compute?: ComputeKind;
  /** Attempts that ran (started and stopped). */
  readonly attempts!: number;
  /** Of those, attempts that failed and were retried. */
  readonly retried!: number;
  /** Attempts not counted: still running, or with no start time. */
  readonly uncounted!: number;
  /** Seconds the counted attempts ran, added up. */
  readonly attemptSeconds!: number;
  /** Seconds billed. */
  readonly billedSeconds!: number;
  /** vCPU-hours. */
  readonly vcpuHours!: number;
  /** GB-hours. */
  readonly gbHours!: number;
  /** Locally: the attempts' CPU-seconds. */
  readonly cpuSeconds?: number;
  /** What the compute cost (AWS). */
  readonly cost?: CostRange;
  /** Why there is no cost. */
  readonly missing?: string;
  /** How the figures were reckoned. */
  readonly assumptions!: string[];

  /**
   * Makes a report from its figures; {@linkcode costReport} computes them.
   *
   * @param fields The figures.
   */
  constructor(fields: CostReportFields) {
    super();
    Object.assign(this, fields);
  }

  /** The figures as `[label, value]` rows. */
  rows(): [string, string][] {
    const rows: [string, string][] = [
      ["attempts", `${this.attempts}${this.retried > 0 ? ` (${this.retried} retried)` : ""}`],
    ];
    if (this.uncounted > 0) rows.push(["not counted", `${this.uncounted} attempts`]);
    rows.push(["attempt time", formatSeconds(this.attemptSeconds)]);
    if (this.target !== "aws") {
      rows.push(["CPU-seconds", (this.cpuSeconds ?? 0).toFixed(1)]);
      return rows;
    }
    if (this.billedSeconds !== this.attemptSeconds) {
      rows.push(["billed time", formatSeconds(this.billedSeconds)]);
    }
    rows.push(["vCPU-hours", this.vcpuHours.toFixed(4)]);
    rows.push(["GB-hours", this.gbHours.toFixed(4)]);
    rows.push([
      `cost (${this.compute ?? "?"})`,
      this.cost ? formatCost(this.cost) : this.missing ?? "?",
    ]);
    return rows;
  }

  /** The first line of the text: `Cost of <knot> run <runId> (<where>):`. */
  protected title(): string {
    return `Cost of ${this.knot} run ${this.runId} (${placeText(this)}):`;
  }

  /** The class of the HTML fragment. */
  protected get htmlClass(): string {
    return "cloudknot-cost";
  }
}

/** Options for {@linkcode costReport}. */
export interface CostReportOptions {
  /** The price table. @default {PRICES} */
  prices?: PriceTable;
}

/**
 * Computes a run's cost report from what its attempts used. Each attempt
 * that started and stopped counts, retries included, at its own job's vCPUs
 * and memory: on Fargate per vCPU-second and GB-second (each attempt rounded
 * up to the second, with a 1-minute minimum), on EC2 as its share of the
 * instance by vCPU (more when its memory needs more of the instance), on
 * Spot within the table's Spot range. Locally it counts CPU-seconds: the
 * time each attempt held a worker process.
 *
 * @example Usage
 * ```ts
 * import { costReport } from "@cloudknot/cloudknot/cost";
 *
 * const report = costReport({
 *   knot: "k", runId: "r", target: "local",
 *   attempts: [{ jobId: "r:0", index: 0, attempt: 1, startedAt: 0, stoppedAt: 1500, outcome: "succeeded" }],
 * });
 * console.log(report.cpuSeconds); // 1.5
 * ```
 *
 * @param usage What the run's attempts used.
 * @param options The price table.
 * @returns The report.
 */
export function costReport(usage: RunUsage, options: CostReportOptions = {}): CostReport {
  const table = options.prices ?? PRICES;
  const counted = usage.attempts.filter((a) =>
    a.startedAt !== undefined && a.stoppedAt !== undefined && a.outcome !== "running"
  );
  const retried = counted.filter((a) => a.outcome === "retried").length;
  const seconds = (a: { startedAt?: number; stoppedAt?: number }) =>
    Math.max(0, a.stoppedAt! - a.startedAt!) / 1000;
  const attemptSeconds = counted.reduce((sum, a) => sum + seconds(a), 0);
  const base = {
    knot: usage.knot,
    runId: usage.runId,
    target: usage.target,
    attempts: counted.length,
    retried,
    uncounted: usage.attempts.length - counted.length,
    attemptSeconds,
  };
  if (usage.target !== "aws") {
    return new CostReport({
      ...base,
      billedSeconds: attemptSeconds,
      vcpuHours: attemptSeconds / 3600,
      gbHours: 0,
      cpuSeconds: attemptSeconds,
      assumptions: [
        `CPU-seconds: the time each attempt held a worker process${
          usage.target === "docker" ? " in a container" : ""
        }, which runs JavaScript on one core`,
        `running ${
          usage.target === "docker" ? "on this machine's Docker engine" : "locally"
        } costs no money`,
      ],
    });
  }
  const compute = usage.compute ?? "EC2";
  const fargate = compute === "FARGATE" || compute === "FARGATE_SPOT";
  const billed = (a: { startedAt?: number; stoppedAt?: number }) =>
    fargate ? Math.max(60, Math.ceil(seconds(a))) : seconds(a);
  let vcpuHours = 0;
  let gbHours = 0;
  let billedSeconds = 0;
  for (const a of counted) {
    vcpuHours += seconds(a) * (a.vcpus ?? 1) / 3600;
    gbHours += seconds(a) * (a.memoryMiB ?? 0) / 1024 / 3600;
    billedSeconds += billed(a);
  }
  const assumptions = [
    "each attempt counts from its start to its stop as AWS Batch reports them, retries included",
  ];
  if (fargate) {
    assumptions.push(
      "Fargate bills from the start of the image pull, a little before Batch's start time; " +
        "each attempt is rounded up to the second with a 1-minute minimum",
    );
  } else {
    assumptions.push(
      "EC2: each attempt's share of its instance (its vCPUs, or more when its memory needs " +
        "more of the instance); idle instance time, instance start-up and EBS volumes are not counted",
    );
  }
  const region = usage.region ?? "";
  const fields: CostReportFields = {
    ...base,
    ...(usage.region !== undefined ? { region: usage.region } : {}),
    compute,
    billedSeconds,
    vcpuHours,
    gbHours,
    assumptions,
  };
  const lookup = regionPrices(table, region);
  if (lookup.prices === undefined) return new CostReport({ ...fields, missing: lookup.missing });
  assumptions.push(`prices from the price table of ${table.date} (see PRICES.sources)`);
  const cost: CostRange = { low: 0, high: 0 };
  const bases = new Set<string>();
  for (const a of counted) {
    const rate = secondCost(table, lookup.prices, {
      compute,
      vcpus: a.vcpus ?? 1,
      memory: a.memoryMiB ?? 2048,
      ...(usage.instanceTypes !== undefined ? { instanceTypes: usage.instanceTypes } : {}),
      ...(usage.bidPercentage !== undefined ? { bidPercentage: usage.bidPercentage } : {}),
    });
    if ("missing" in rate) return new CostReport({ ...fields, missing: rate.missing });
    bases.add(rate.basis);
    cost.low += rate.rate.low * billed(a);
    cost.high += rate.rate.high * billed(a);
  }
  assumptions.push(...bases);
  return new CostReport({ ...fields, cost });
}
