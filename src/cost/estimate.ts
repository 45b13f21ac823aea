/**
 * A cost and duration estimate before a run: how many jobs run at once, how
 * long the run takes, the vCPU-hours and GB-hours it uses, what that costs
 * on its compute type (from the price table), and its S3 requests and
 * storage; with the assumptions it rests on printed beside it.
 *
 * @module
 */
import {
  type ComputeKind,
  type CostRange,
  ec2Family,
  formatCost,
  PRICES,
  type PriceTable,
  regionPrices,
  secondCost,
} from "./prices.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { formatBytes, formatSeconds, placeText, RowsTable } from "./format.ts";
import { sliceRun } from "../job/slicing.ts";
import { RECORD_FLUSH } from "../job/record_writer.ts";

/** What an estimate is made from. */
export interface EstimateOptions {
  /** How many items. */
  count: number;
  /** Seconds one item runs (its function's run time, on one job's resources). */
  itemSeconds: number;
  /** Where the items run (`docker`: this machine's Docker engine). @default {"aws"} */
  target?: "aws" | "local" | "docker";
  /** Local: worker processes; docker: items in flight in all containers. @default {1} */
  concurrency?: number;
  /** AWS: the compute type. @default {"EC2"} */
  compute?: ComputeKind;
  /** AWS: vCPUs per job. @default {1} */
  vcpus?: number;
  /**
   * AWS: MiB per job. @default {8000 on EC2; on Fargate the least its vCPUs take, 2048 per vCPU}
   */
  memory?: number;
  /** AWS: the most vCPUs the compute environment runs. @default {256} */
  maxVcpus?: number;
  /**
   * AWS: items per job (array child), as `map`'s `itemsPerJob`: `"auto"`
   * makes at most 2 × (maxVcpus ÷ vCPUs) children.
   * @default {"auto"}
   */
  itemsPerJob?: number | "auto";
  /** AWS: the knot's instance types. @default {["optimal"]} */
  instanceTypes?: readonly string[];
  /** AWS SPOT: the bid as a percentage of On-Demand. @default {100} */
  bidPercentage?: number;
  /** AWS: the region. @default {"us-east-1"} */
  region?: string;
  /** Bytes of all the encoded inputs (for S3 storage). @default {0} */
  inputBytes?: number;
  /** Bytes of one item's result record, on average (for S3 storage). @default {1024} */
  resultBytes?: number;
  /** The price table. @default {PRICES} */
  prices?: PriceTable;
  /** Seconds between the client's poll rounds. @default {2} */
  pollSeconds?: number;
}

/**
 * The objects a run's jobs write their records in: each job writes what it
 * holds at 1,000 records or 1 MiB, once the oldest has waited 1 s, and at its
 * end (`RECORD_FLUSH`), so how many depends on when its items end.
 */
export interface RecordObjects {
  /** The count expected when items take the time estimated. */
  expected: number;
  /** The fewest: every job's records within the wait, split only by count and size. */
  fewest: number;
  /** The most: one object per item (items ending more than the wait apart). */
  most: number;
}

/** S3 requests and storage of a run. */
export interface S3Usage {
  /** PUT requests (inputs, index, manifest, the record objects expected). */
  puts: number;
  /**
   * GET requests (each job reads its index entries and its inputs; the
   * client reads each record object expected).
   */
  gets: number;
  /** The objects the jobs write their records in. */
  recordObjects: RecordObjects;
  /** LIST requests (the client's poll rounds). */
  lists: number;
  /** Bytes the run keeps in S3. */
  bytes: number;
  /** What the requests cost. */
  requestCost: number;
  /** What keeping the bytes costs per month. */
  storagePerMonth: number;
}

/** The figures of an {@linkcode Estimate}. */
export interface EstimateFields {
  /** Where the items run. */
  target: "aws" | "local" | "docker";
  /** The region (AWS). */
  region?: string;
  /** The compute type (AWS). */
  compute?: ComputeKind;
  /** How many items. */
  count: number;
  /** Seconds one item runs. */
  itemSeconds: number;
  /** Jobs (or local workers) running at once. */
  concurrency: number;
  /** Containers started in all (AWS): one per job or array child, each running a slice of items. */
  containers?: number;
  /** Items each container runs (AWS), the last fewer. */
  itemsPerJob?: number;
  /** Seconds from the first job starting to the last ending, not counting start-up. */
  durationSeconds: number;
  /** vCPU-hours of the jobs (locally: CPU-hours of the workers). */
  vcpuHours: number;
  /** GB-hours of the jobs' memory (AWS). */
  gbHours: number;
  /** Fargate tasks in all, and at once; or EC2 vCPUs at once and the family priced. */
  capacity: string;
  /** What the compute costs; `undefined` when the table cannot say. */
  computeCost?: CostRange;
  /** S3 requests and storage (AWS). */
  s3?: S3Usage;
  /** Compute plus S3 requests (storage is per month, apart). */
  total?: CostRange;
  /** What the estimate assumes, one sentence each. */
  assumptions: string[];
  /** Why there is no cost, when the price table cannot say. */
  missing?: string;
}

/**
 * An estimate of a run: its duration, resources and cost, and what it
 * assumes. Printed, it is a short table; in a notebook, an HTML table.
 *
 * @example Usage
 * ```ts
 * import { estimateRun } from "@cloudknot/cloudknot/cost";
 *
 * const estimate = estimateRun({ count: 1000, itemSeconds: 30, compute: "FARGATE", vcpus: 1, memory: 2048 });
 * console.log(estimate.vcpuHours); // 8.333333333333334
 * console.log(String(estimate));
 * ```
 */
export class Estimate extends RowsTable implements EstimateFields {
  /** Where the items run. */
  readonly target!: "aws" | "local" | "docker";
  /** The region (AWS). */
  readonly region?: string;
  /** The compute type (AWS). */
  readonly compute?: ComputeKind;
  /** How many items. */
  readonly count!: number;
  /** Seconds one item runs. */
  readonly itemSeconds!: number;
  /** Jobs (or local workers) running at once. */
  readonly concurrency!: number;
  /** Containers started in all (AWS): one per job or array child, each running a slice of items. */
  readonly containers?: number;
  /** Items each container runs (AWS), the last fewer. */
  readonly itemsPerJob?: number;
  /** Seconds from the first job starting to the last ending, not counting start-up. */
  readonly durationSeconds!: number;
  /** vCPU-hours of the jobs (locally: CPU-hours of the workers). */
  readonly vcpuHours!: number;
  /** GB-hours of the jobs' memory (AWS). */
  readonly gbHours!: number;
  /** Fargate tasks in all, and at once; or EC2 vCPUs at once and the family priced. */
  readonly capacity!: string;
  /** What the compute costs; `undefined` when the table cannot say. */
  readonly computeCost?: CostRange;
  /** S3 requests and storage (AWS). */
  readonly s3?: S3Usage;
  /** Compute plus S3 requests (storage is per month, apart). */
  readonly total?: CostRange;
  /** What the estimate assumes, one sentence each. */
  readonly assumptions!: string[];
  /** Why there is no cost, when the price table cannot say. */
  readonly missing?: string;

  /**
   * Makes an estimate from its figures; {@linkcode estimateRun} computes them.
   *
   * @param fields The figures.
   */
  constructor(fields: EstimateFields) {
    super();
    Object.assign(this, fields);
  }

  /** The figures as `[label, value]` rows. */
  rows(): [string, string][] {
    const rows: [string, string][] = [
      ["items", `${this.count} × ${this.itemSeconds}s`],
      ["at once", String(this.concurrency)],
      ["duration", formatSeconds(this.durationSeconds)],
    ];
    if (this.target !== "aws") {
      rows.push(["CPU-hours", this.vcpuHours.toFixed(3)]);
      return rows;
    }
    rows.push(["capacity", this.capacity]);
    rows.push(["vCPU-hours", this.vcpuHours.toFixed(3)]);
    rows.push(["GB-hours", this.gbHours.toFixed(3)]);
    if (this.computeCost) rows.push([`compute (${this.compute})`, formatCost(this.computeCost)]);
    if (this.s3) {
      rows.push([
        "S3 requests",
        `${this.s3.puts} PUT, ${this.s3.gets} GET, ${this.s3.lists} LIST: ${
          formatCost({ low: this.s3.requestCost, high: this.s3.requestCost })
        }`,
      ]);
      rows.push([
        "S3 storage",
        `${formatBytes(this.s3.bytes)}: ${
          formatCost({ low: this.s3.storagePerMonth, high: this.s3.storagePerMonth })
        } per month kept`,
      ]);
    }
    if (this.total) rows.push(["total", formatCost(this.total)]);
    if (this.missing) rows.push(["cost", this.missing]);
    return rows;
  }

  /** The first line of the text: `Estimate (<where>):`. */
  protected title(): string {
    return `Estimate (${placeText(this)}):`;
  }

  /** The class of the HTML fragment. */
  protected get htmlClass(): string {
    return "cloudknot-estimate";
  }

  /** The line before the assumptions in the text. */
  protected override get notesHeading(): string {
    return "Assumptions:";
  }
}

/** A positive finite number, or a {@linkcode CloudknotInputError} naming the option. */
function positive(field: string, value: unknown, what: string): number {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new CloudknotInputError(
      `${field} must be a positive number (${what}), not ${String(value)}`,
      { field },
    );
  }
  return value;
}

/**
 * Estimates a run's duration, resources and cost from how many items it has
 * and how long one takes. Every assumption is in the result.
 *
 * @example Usage
 * ```ts
 * import { estimateRun } from "@cloudknot/cloudknot/cost";
 *
 * const e = estimateRun({ count: 100, itemSeconds: 60, compute: "EC2", vcpus: 2, memory: 4096, maxVcpus: 20 });
 * console.log(e.concurrency, e.durationSeconds); // 10 600
 * ```
 *
 * @param options The items, their run time and the knot's resources.
 * @returns The estimate.
 */
export function estimateRun(options: EstimateOptions): Estimate {
  const { count, itemSeconds } = options;
  if (!Number.isInteger(count) || count < 0) {
    throw new CloudknotInputError(`count must be a whole number of items, not ${count}`, {
      field: "count",
    });
  }
  if (typeof itemSeconds !== "number" || !(itemSeconds > 0) || !Number.isFinite(itemSeconds)) {
    throw new CloudknotInputError(
      `itemSeconds must be a positive number: how long one item runs, in seconds, not ${itemSeconds}`,
      { field: "itemSeconds" },
    );
  }
  const target = options.target ?? "aws";
  if (target !== "aws") {
    const workers = options.concurrency ?? 1;
    const concurrency = Math.max(1, Math.min(workers, count));
    const docker = target === "docker";
    return new Estimate({
      target,
      count,
      itemSeconds,
      concurrency,
      durationSeconds: Math.ceil(count / concurrency) * itemSeconds,
      vcpuHours: count * itemSeconds / 3600,
      gbHours: 0,
      capacity: `${concurrency} worker processes`,
      assumptions: [
        `each item runs ${itemSeconds}s on one worker process${
          docker ? " in a container" : ""
        }, which runs JavaScript on one core`,
        `${workers} worker processes run items side by side${
          docker ? " (the containers at once × the items in flight in each)" : ""
        }; ${docker ? "container and " : ""}worker start-up is not counted`,
        `running ${
          docker ? "on this machine's Docker engine" : "locally"
        } costs no money: CPU-hours are what the items use of this machine`,
      ],
    });
  }
  const compute = options.compute ?? "EC2";
  const kinds: ComputeKind[] = ["EC2", "SPOT", "FARGATE", "FARGATE_SPOT"];
  if (!kinds.includes(compute)) {
    throw new CloudknotInputError(
      `compute must be one of ${kinds.join(", ")}, not ${JSON.stringify(compute)}`,
      { field: "compute" },
    );
  }
  const fargate = compute === "FARGATE" || compute === "FARGATE_SPOT";
  const vcpus = positive("vcpus", options.vcpus ?? 1, "vCPUs of one job");
  // As a knot's default: on Fargate the least its vCPUs take, 2 GiB per vCPU (FARGATE_MEMORY in
  // targets/aws/batch/compute_options.ts, a layer above this one).
  const memory = positive(
    "memory",
    options.memory ?? (fargate ? 2048 * vcpus : 8000),
    "MiB of one job",
  );
  const maxVcpus = positive(
    "maxVcpus",
    options.maxVcpus ?? 256,
    "vCPUs of the compute environment",
  );
  const region = options.region ?? "us-east-1";
  const table = options.prices ?? PRICES;
  const itemsPerJob = options.itemsPerJob ?? "auto";
  if (
    itemsPerJob !== "auto" && (!Number.isInteger(itemsPerJob) || (itemsPerJob as number) < 1)
  ) {
    throw new CloudknotInputError(
      `itemsPerJob must be "auto" or a whole number of items per job, not ${itemsPerJob}`,
      { field: "itemsPerJob" },
    );
  }
  // The slicing a run makes (job/slicing.ts), and what each child does.
  const { slice, concurrency: inFlight } = sliceRun({ vcpus, maxVcpus }, count, itemsPerJob);
  const work = sliceWork(count, slice, inFlight, itemSeconds, options.resultBytes ?? 1024);
  const slots = Math.max(1, Math.floor(maxVcpus / vcpus));
  const concurrency = Math.max(1, Math.min(slots, work.containers));
  const waves = Math.ceil(work.containers / concurrency);
  const gb = memory / 1024;
  const sliced = slice > 1;
  const assumptions = [
    sliced
      ? `the ${count} items run in ${work.containers} jobs (containers) of ${vcpus} vCPU and ` +
        `${memory} MiB, ${slice} items each${
          count % slice > 0 ? ` (the last ${count % slice})` : ""
        } (itemsPerJob ${itemsPerJob}), ${inFlight} at a time in each, each item taking ` +
        `${itemSeconds}s and succeeding at its first attempt`
      : `each item runs ${itemSeconds}s in its own job (container) of ${vcpus} vCPU and ` +
        `${memory} MiB, and succeeds at its first attempt: ${work.containers} containers`,
    concurrency === slots
      ? `at most ${concurrency} jobs run at once (maxVcpus ${maxVcpus} ÷ ${vcpus} vCPU per job)`
      : `all ${concurrency} jobs run at once (maxVcpus ${maxVcpus} ÷ ${vcpus} vCPU per job ` +
        `leaves room for ${slots})`,
    `the duration leaves out queueing, instance or task start-up and image pulls (often a few ` +
    `minutes), and the start of each of the ${work.containers} containers`,
  ];
  const lookup = regionPrices(table, region);
  let capacity: string;
  if (fargate) {
    capacity = `${work.containers} Fargate tasks, ${concurrency} at once`;
    assumptions.push(
      "Fargate bills each task per second from the start of its image pull, with a 1-minute minimum",
    );
  } else {
    const family = lookup.prices
      ? ec2Family(lookup.prices, { vcpus, memory, ...types(options) })
      : undefined;
    capacity = `${concurrency * vcpus} vCPUs of EC2 instances at once` +
      (family?.family ? ` (${family.family})` : "");
    assumptions.push(
      "EC2 counts each job's share of its instance (its vCPUs, or more when its memory needs " +
        "more of the instance) for the time it runs; idle instance time, instance start-up and " +
        "EBS volumes are not counted",
    );
  }
  const pollSeconds = options.pollSeconds ?? 2;
  const durationSeconds = waves * work.longestSeconds;
  const resultBytes = options.resultBytes ?? 1024;
  const s3Bytes = (options.inputBytes ?? 0) + 16 * count + resultBytes * count;
  const records = work.recordObjects;
  const s3Counts = {
    puts: count === 0 ? 0 : 3 + records.expected,
    gets: 2 * work.containers + records.expected,
    lists: count === 0
      ? 0
      : Math.ceil(durationSeconds / pollSeconds) + Math.ceil(records.expected / 1000),
  };
  assumptions.push(
    `S3: the client writes the inputs, the index and the manifest; each of the ` +
      `${work.containers} containers reads its index entries and its inputs and writes its ` +
      `records in segments (at ${RECORD_FLUSH.maxRecords} records, ` +
      `${RECORD_FLUSH.maxBytes / 2 ** 20} MiB, ${RECORD_FLUSH.maxWaitMs / 1000}s after the ` +
      `oldest, and at its end): ${records.expected} record objects (${records.fewest} to ` +
      `${records.most}, as the items' timing decides); the client reads each once and lists new ` +
      `ones every ${pollSeconds}s; results average ${formatBytes(resultBytes)}`,
  );
  const fields: EstimateFields = {
    target: "aws",
    region,
    compute,
    count,
    itemSeconds,
    concurrency,
    containers: work.containers,
    itemsPerJob: slice,
    durationSeconds,
    vcpuHours: work.jobSeconds * vcpus / 3600,
    gbHours: work.jobSeconds * gb / 3600,
    capacity,
    assumptions,
  };
  if (lookup.prices === undefined) {
    return new Estimate({ ...fields, missing: lookup.missing });
  }
  const prices = lookup.prices;
  const rate = secondCost(table, prices, {
    compute,
    vcpus,
    memory,
    ...types(options),
    ...(options.bidPercentage !== undefined ? { bidPercentage: options.bidPercentage } : {}),
  });
  const requestCost = s3Counts.puts / 1000 * prices.s3.putPer1000 +
    s3Counts.lists / 1000 * prices.s3.putPer1000 + s3Counts.gets / 1000 * prices.s3.getPer1000;
  const s3: S3Usage = {
    ...s3Counts,
    recordObjects: records,
    bytes: s3Bytes,
    requestCost,
    storagePerMonth: s3Bytes / 1e9 * prices.s3.gbMonth,
  };
  assumptions.push(`prices from the price table of ${table.date} (see PRICES.sources)`);
  if ("missing" in rate) return new Estimate({ ...fields, s3, missing: rate.missing });
  assumptions.push(rate.basis);
  const billed = fargate ? work.fargateSeconds : work.jobSeconds;
  const computeCost = { low: rate.rate.low * billed, high: rate.rate.high * billed };
  return new Estimate({
    ...fields,
    computeCost,
    s3,
    total: { low: computeCost.low + requestCost, high: computeCost.high + requestCost },
  });
}

/** What the children of a sliced run do, by the rules a job follows. */
interface SliceWork {
  /** Children (containers). */
  containers: number;
  /** Seconds the longest child runs. */
  longestSeconds: number;
  /** Seconds all children run, together. */
  jobSeconds: number;
  /** The same as Fargate bills it: at least a minute per task. */
  fargateSeconds: number;
  /** The objects their records are written in. */
  recordObjects: RecordObjects;
}

/**
 * The children of `count` items in slices of `slice`, each running
 * `inFlight` items at a time of `itemSeconds` each, and how many objects
 * their records make under the writer's rule (`RECORD_FLUSH`).
 */
function sliceWork(
  count: number,
  slice: number,
  inFlight: number,
  itemSeconds: number,
  resultBytes: number,
): SliceWork {
  const out: SliceWork = {
    containers: 0,
    longestSeconds: 0,
    jobSeconds: 0,
    fargateSeconds: 0,
    recordObjects: { expected: 0, fewest: 0, most: 0 },
  };
  const full = Math.floor(count / slice);
  const sizes: [number, number][] = [[slice, full]];
  if (count % slice > 0) sizes.push([count % slice, 1]);
  for (const [items, children] of sizes) {
    if (children === 0) continue;
    const rounds = Math.ceil(items / inFlight);
    const seconds = rounds * itemSeconds;
    // A record of maxBytes or more goes alone; otherwise the count and the
    // size make the fewest flushes, and the wait one per round of items that
    // end more than the wait apart, or one per wait.
    const fewest = resultBytes >= RECORD_FLUSH.maxBytes ? items : Math.max(
      Math.ceil(items / RECORD_FLUSH.maxRecords),
      Math.ceil(items * resultBytes / RECORD_FLUSH.maxBytes),
    );
    const timed = Math.min(rounds, Math.ceil(seconds * 1000 / RECORD_FLUSH.maxWaitMs));
    out.containers += children;
    out.longestSeconds = Math.max(out.longestSeconds, seconds);
    out.jobSeconds += children * seconds;
    out.fargateSeconds += children * Math.max(60, seconds);
    out.recordObjects.expected += children * Math.min(items, Math.max(fewest, timed));
    out.recordObjects.fewest += children * fewest;
    out.recordObjects.most += children * items;
  }
  return out;
}

function types(
  options: { instanceTypes?: readonly string[] },
): { instanceTypes?: readonly string[] } {
  return options.instanceTypes !== undefined ? { instanceTypes: options.instanceTypes } : {};
}
