/**
 * The price table shipped with the package: AWS's published prices for what
 * a knot's runs use (AWS Batch itself costs nothing; its jobs pay for the EC2
 * instances or Fargate tasks they run on, and for S3), dated, with the page
 * each figure comes from.
 *
 * The package cannot ask AWS for prices (it runs offline and AWS changes
 * Spot prices every few minutes), so the table is data: a region it lacks
 * has no estimate, never a guess, and a caller may pass a table of its own
 * (with current Spot prices, say) wherever a table is taken.
 *
 * What is in it, for each region:
 *
 * - Fargate, Linux/x86: the price per vCPU-hour and per GB-hour;
 * - EC2 On-Demand, Linux: the price per vCPU-hour of the instance families
 *   AWS Batch picks from (`optimal` meant c4, m4, r4, c5, m5 and r5, and
 *   since 2025-11-01 means c6i, m6i, r6i and c7i), with each family's memory
 *   per vCPU. Within one of these families the price is proportional to the
 *   vCPUs (a `.xlarge` costs twice a `.large`), so one figure per family
 *   prices every size;
 * - Spot: AWS publishes no fixed Spot price. The table holds the deepest
 *   discount AWS documents (EC2 Spot "up to 90%" off On-Demand, Fargate Spot
 *   "up to 70%"), so Spot costs are a range: from that discount to the bid
 *   cap (at most the On-Demand price). A table of one's own may hold
 *   observed Spot prices per vCPU-hour instead, which are then used as they
 *   are;
 * - S3 Standard: storage per GB-month and requests per 1,000.
 *
 * @module
 */

/** Where a knot's jobs run on AWS Batch, as the price table knows it. */
export type ComputeKind = "EC2" | "SPOT" | "FARGATE" | "FARGATE_SPOT";

/** One EC2 instance family's On-Demand price. */
export interface FamilyPrice {
  /** USD per vCPU-hour (the price of one size divided by its vCPUs). */
  vcpuHour: number;
  /** GiB of memory per vCPU. */
  gibPerVcpu: number;
  /** USD per vCPU-hour on Spot, when known (observed prices; the shipped table has none). */
  spotVcpuHour?: number;
}

/** What things cost in one region. */
export interface RegionPrices {
  /** Fargate, Linux/x86: USD per vCPU-hour and per GB-hour. */
  fargate: { vcpuHour: number; gbHour: number };
  /** Fargate Spot prices, when known (observed prices; the shipped table has none). */
  fargateSpot?: { vcpuHour: number; gbHour: number };
  /** EC2 On-Demand, Linux, by instance family (such as `"c6i"`). */
  ec2: Record<string, FamilyPrice>;
  /** S3 Standard. */
  s3: {
    /** USD per GB-month stored (the first 50 TB). */
    gbMonth: number;
    /** USD per 1,000 PUT, COPY, POST and LIST requests. */
    putPer1000: number;
    /** USD per 1,000 GET and SELECT requests. */
    getPer1000: number;
  };
}

/** A price table. */
export interface PriceTable {
  /** When the figures were checked, as `YYYY-MM-DD`. */
  date: string;
  /** The currency. */
  currency: "USD";
  /** Where the figures come from, one line each. */
  sources: string[];
  /** The deepest Spot discounts AWS documents, as fractions of the On-Demand price. */
  spotDiscount: { ec2: number; fargate: number };
  /** Prices by region code. */
  regions: Record<string, RegionPrices>;
}

/**
 * The price table shipped with the package.
 *
 * Every figure is a price AWS publishes on the page named in `sources`, for
 * US East (N. Virginia). The EC2 figures are each family's `.large` size
 * (2 vCPUs) divided by 2: c6i.large $0.085, m6i.large $0.096, r6i.large
 * $0.126, c7i.large $0.08925, c5.large $0.085, m5.large $0.096, r5.large
 * $0.126 per hour. Other regions are left out rather than guessed.
 *
 * @example Usage
 * ```ts
 * import { PRICES } from "@cloudknot/cloudknot/cost";
 *
 * console.log(PRICES.regions["us-east-1"]?.fargate.vcpuHour); // 0.04048
 * ```
 */
export const PRICES: PriceTable = {
  date: "2026-12-03",
  currency: "USD",
  sources: [
    "Fargate, Linux/x86, US East (N. Virginia): https://aws.amazon.com/fargate/pricing/ " +
    "($0.04048 per vCPU-hour, $0.004445 per GB-hour; billed per second from the start of the " +
    "image pull, with a 1-minute minimum). The same page's example on " +
    "https://aws.amazon.com/ecs/pricing/ reads $0.000011244 per vCPU-second (= $0.04048 per " +
    "hour); copies of both pages dated 2026-06-17 and 2026-09-20 show these figures.",
    'Fargate Spot: https://aws.amazon.com/fargate/pricing/ ("up to a 70% discount off the ' +
    'regular Fargate price"; the current rate is published there and changes over time).',
    "EC2 On-Demand, Linux, US East (N. Virginia): https://aws.amazon.com/ec2/pricing/on-demand/ " +
    "(per hour: c6i.large $0.085, m6i.large $0.096, r6i.large $0.126, c7i.large $0.08925, " +
    "c5.large $0.085, m5.large $0.096, r5.large $0.126; each .large has 2 vCPUs and 4, 8 or " +
    "16 GiB). Cross-checked on 2026-12-03 against independent snapshots of the same list " +
    "prices in public code, which agree.",
    'EC2 Spot: https://aws.amazon.com/ec2/spot/pricing/ ("a discount of up to 90% off ' +
    'compared to On-Demand pricing"; prices are updated every 5 minutes, so none is shipped).',
    "Which families Batch picks: the AWS Batch API reference for ComputeResource.instanceTypes " +
    "(optimal: c4, m4, r4, c5, m5 and r5; default_x86_64: m6i, c6i, r6i and c7i; optimal " +
    "behaves as default_x86_64 from 2025-11-01).",
    "S3 Standard, US East (N. Virginia): https://aws.amazon.com/s3/pricing/ ($0.023 per GB-month " +
    "for the first 50 TB; $0.005 per 1,000 PUT, COPY, POST or LIST requests; $0.0004 per 1,000 " +
    "GET or SELECT requests); copies dated March and June 2026 show these figures.",
  ],
  spotDiscount: { ec2: 0.9, fargate: 0.7 },
  regions: {
    "us-east-1": {
      fargate: { vcpuHour: 0.04048, gbHour: 0.004445 },
      ec2: {
        c6i: { vcpuHour: 0.0425, gibPerVcpu: 2 },
        m6i: { vcpuHour: 0.048, gibPerVcpu: 4 },
        r6i: { vcpuHour: 0.063, gibPerVcpu: 8 },
        c7i: { vcpuHour: 0.044625, gibPerVcpu: 2 },
        c5: { vcpuHour: 0.0425, gibPerVcpu: 2 },
        m5: { vcpuHour: 0.048, gibPerVcpu: 4 },
        r5: { vcpuHour: 0.063, gibPerVcpu: 8 },
      },
      s3: { gbMonth: 0.023, putPer1000: 0.005, getPer1000: 0.0004 },
    },
  },
};

/** The families `optimal` (and `default_x86_64`) pick from, by memory per vCPU. */
export const OPTIMAL_FAMILIES: readonly string[] = ["c6i", "m6i", "r6i"];

/** An amount that may be known only within bounds (Spot), in USD. */
export interface CostRange {
  /** The least it may be. */
  low: number;
  /** The most it may be. */
  high: number;
}

/**
 * Formats a cost range, such as `$0.12` or `$0.01–$0.12`.
 *
 * @example Usage
 * ```ts
 * import { formatCost } from "@cloudknot/cloudknot/cost";
 *
 * console.log(formatCost({ low: 0.5, high: 0.5 })); // "$0.50"
 * console.log(formatCost({ low: 0.0012, high: 0.012 })); // "$0.0012–$0.0120"
 * ```
 *
 * @param cost The range.
 * @returns The text.
 */
export function formatCost(cost: CostRange): string {
  const small = cost.high > 0 && cost.high < 1;
  const one = (n: number) => `$${n.toFixed(small ? 4 : 2)}`;
  return cost.low === cost.high ? one(cost.low) : `${one(cost.low)}–${one(cost.high)}`;
}

/** What the table says about a region: its prices, or why there are none. */
export type RegionLookup =
  | { prices: RegionPrices; missing?: undefined }
  | { prices?: undefined; missing: string };

/**
 * Looks a region up in a price table.
 *
 * @example Usage
 * ```ts
 * import { PRICES, regionPrices } from "@cloudknot/cloudknot/cost";
 *
 * console.log(regionPrices(PRICES, "eu-west-3").missing);
 * ```
 *
 * @param table The table.
 * @param region The region code.
 * @returns The region's prices, or a sentence saying the table lacks it.
 */
export function regionPrices(table: PriceTable, region: string): RegionLookup {
  const prices = table.regions[region];
  if (prices !== undefined) return { prices };
  return {
    missing:
      `The price table (${table.date}) has no prices for ${region}; it has ${
        Object.keys(table.regions).join(", ")
      }. Pass a price table of your own that has ${region} as the prices option of run.cost(), ` +
      `run.report(), costReport() or estimateRun().`,
  };
}

/**
 * The EC2 family a job's cost is reckoned on: the knot's own instance type or
 * family when it names one, else the cheapest family Batch's `optimal` picks
 * whose memory per vCPU fits the job.
 *
 * @example Usage
 * ```ts
 * import { ec2Family, PRICES } from "@cloudknot/cloudknot/cost";
 *
 * const prices = PRICES.regions["us-east-1"]!;
 * console.log(ec2Family(prices, { vcpus: 1, memory: 3000 }).family); // "m6i"
 * console.log(ec2Family(prices, { vcpus: 2, memory: 2048, instanceTypes: ["c5.xlarge"] }).family); // "c5"
 * ```
 *
 * @param prices The region's prices.
 * @param job The job's vCPUs, memory in MiB and the knot's instance types.
 * @returns The family and its price, or why it has none.
 */
export function ec2Family(
  prices: RegionPrices,
  job: { vcpus: number; memory: number; instanceTypes?: readonly string[] },
): { family: string; price: FamilyPrice; reason: string } | {
  family?: undefined;
  missing: string;
} {
  const named = (job.instanceTypes ?? []).filter((t) =>
    t !== "optimal" && !t.startsWith("default")
  );
  if (named.length > 0) {
    const families = [...new Set(named.map((t) => t.split(".")[0]!))];
    const priced = families.filter((f) => prices.ec2[f] !== undefined);
    if (priced.length === 0) {
      return {
        missing: `The price table has no price for instance type ${named.join(", ")}; ` +
          `it has the families ${Object.keys(prices.ec2).join(", ")}`,
      };
    }
    // Batch may use any of them: the dearest per vCPU bounds the cost.
    const family = priced.sort((a, b) => prices.ec2[b]!.vcpuHour - prices.ec2[a]!.vcpuHour)[0]!;
    return {
      family,
      price: prices.ec2[family]!,
      reason: `the knot's instance types (${named.join(", ")}), priced at ${family}` +
        (priced.length > 1 ? ", the dearest per vCPU of them" : ""),
    };
  }
  const perVcpu = job.memory / 1024 / job.vcpus;
  const fits = OPTIMAL_FAMILIES.filter((f) => prices.ec2[f] !== undefined)
    .filter((f) => prices.ec2[f]!.gibPerVcpu >= perVcpu);
  const family = fits[0] ?? OPTIMAL_FAMILIES.findLast((f) => prices.ec2[f] !== undefined);
  if (family === undefined) {
    return { missing: "The price table has none of the families Batch's optimal picks from" };
  }
  return {
    family,
    price: prices.ec2[family]!,
    reason: `Batch's optimal instance types, priced at ${family} (${
      prices.ec2[family]!.gibPerVcpu
    } GiB per vCPU, the cheapest family where ${perVcpu.toFixed(2)} GiB per vCPU fits)`,
  };
}

/**
 * The vCPUs of EC2 instance time a job holds: its vCPUs, or more when its
 * memory needs a bigger share of the instance than its vCPUs do.
 *
 * @param price The family.
 * @param job The job's vCPUs and memory in MiB.
 * @returns vCPUs, possibly fractional.
 */
export function ec2ShareVcpus(price: FamilyPrice, job: { vcpus: number; memory: number }): number {
  return Math.max(job.vcpus, job.memory / 1024 / price.gibPerVcpu);
}

/**
 * What one second of one job costs on a compute type, as a range (Spot) or
 * an exact amount.
 *
 * @example Usage
 * ```ts
 * import { PRICES, secondCost } from "@cloudknot/cloudknot/cost";
 *
 * const cost = secondCost(PRICES, PRICES.regions["us-east-1"]!, { compute: "FARGATE", vcpus: 1, memory: 2048 });
 * console.log("rate" in cost && cost.rate.high * 3600); // 0.04937
 * ```
 *
 * @param table The table (for the Spot discounts).
 * @param prices The region's prices.
 * @param job The compute type, vCPUs, memory (MiB), instance types and Spot bid.
 * @returns USD per second, and how it was reckoned; or why it cannot be.
 */
export function secondCost(
  table: PriceTable,
  prices: RegionPrices,
  job: {
    compute: ComputeKind;
    vcpus: number;
    memory: number;
    instanceTypes?: readonly string[];
    bidPercentage?: number;
  },
): { rate: CostRange; basis: string } | { missing: string } {
  const perHour = (n: number) => n / 3600;
  if (job.compute === "FARGATE" || job.compute === "FARGATE_SPOT") {
    const gb = job.memory / 1024;
    const onDemand = perHour(job.vcpus * prices.fargate.vcpuHour + gb * prices.fargate.gbHour);
    const what =
      `${job.vcpus} vCPU × $${prices.fargate.vcpuHour} + ${gb} GB × $${prices.fargate.gbHour} per hour`;
    if (job.compute === "FARGATE") {
      return { rate: { low: onDemand, high: onDemand }, basis: `Fargate: ${what}` };
    }
    if (prices.fargateSpot !== undefined) {
      const spot = perHour(
        job.vcpus * prices.fargateSpot.vcpuHour + gb * prices.fargateSpot.gbHour,
      );
      return { rate: { low: spot, high: spot }, basis: "Fargate Spot at the table's Spot price" };
    }
    return {
      rate: { low: onDemand * (1 - table.spotDiscount.fargate), high: onDemand },
      basis: `Fargate Spot: from ${
        Math.round(table.spotDiscount.fargate * 100)
      }% off (the deepest discount AWS documents) to the Fargate price (${what})`,
    };
  }
  const picked = ec2Family(prices, job);
  if (picked.family === undefined) return { missing: picked.missing };
  const share = ec2ShareVcpus(picked.price, job);
  const onDemand = perHour(share * picked.price.vcpuHour);
  const what = `${share} vCPU of ${picked.family} at $${picked.price.vcpuHour} per vCPU-hour`;
  if (job.compute === "EC2") {
    return {
      rate: { low: onDemand, high: onDemand },
      basis: `EC2 On-Demand: ${what}, ${picked.reason}`,
    };
  }
  if (picked.price.spotVcpuHour !== undefined) {
    const spot = perHour(share * picked.price.spotVcpuHour);
    return {
      rate: { low: spot, high: spot },
      basis: `EC2 Spot at the table's Spot price for ${picked.family}`,
    };
  }
  const cap = Math.min(1, (job.bidPercentage ?? 100) / 100);
  const high = onDemand * cap;
  const low = Math.min(high, onDemand * (1 - table.spotDiscount.ec2));
  return {
    rate: { low, high },
    basis:
      `EC2 Spot: from ${Math.round(table.spotDiscount.ec2 * 100)}% off On-Demand (the deepest ` +
      `discount AWS documents) to the bid cap of ${
        Math.round(cap * 100)
      }% of On-Demand (${what}, ${picked.reason})`,
  };
}
