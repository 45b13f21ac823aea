// Cost reports checked against figures worked out by hand.
import assert from "node:assert/strict";
import { costReport, type RunUsage } from "../../src/cost/mod.ts";

const close = (actual: number | undefined, expected: number) =>
  assert.ok(Math.abs((actual ?? NaN) - expected) < 1e-9, `${actual} ≠ ${expected}`);

const T0 = Date.UTC(2026, 0, 1);

function usage(compute: RunUsage["compute"], extra: Partial<RunUsage> = {}): RunUsage {
  return {
    knot: "k",
    runId: "r",
    target: "aws",
    region: "us-east-1",
    compute,
    attempts: [
      // Item 0 ran out of memory after 30 s at 2 GB, then succeeded in 90 s at 4 GB.
      {
        jobId: "a:0",
        index: 0,
        attempt: 1,
        startedAt: T0,
        stoppedAt: T0 + 30_000,
        outcome: "retried",
        vcpus: 1,
        memoryMiB: 2048,
      },
      {
        jobId: "a:0",
        index: 0,
        attempt: 2,
        startedAt: T0 + 40_000,
        stoppedAt: T0 + 130_000,
        outcome: "succeeded",
        vcpus: 1,
        memoryMiB: 4096,
      },
      // Item 1 ran 120.4 s and failed for good.
      {
        jobId: "a:1",
        index: 1,
        attempt: 1,
        startedAt: T0,
        stoppedAt: T0 + 120_400,
        outcome: "failed",
        vcpus: 1,
        memoryMiB: 2048,
      },
      // Item 2 was cancelled before it ran.
      { jobId: "a:2", index: 2, attempt: 1, outcome: "cancelled" },
    ],
    ...extra,
  };
}

Deno.test("a Fargate report bills each attempt per second with a 1-minute minimum, retries included", () => {
  const r = costReport(usage("FARGATE"));
  assert.equal(r.attempts, 3);
  assert.equal(r.retried, 1);
  assert.equal(r.uncounted, 1);
  close(r.attemptSeconds, 30 + 90 + 120.4);
  close(r.billedSeconds, 60 + 90 + 121);
  close(r.vcpuHours, (30 + 90 + 120.4) / 3600);
  close(r.gbHours, (30 * 2 + 90 * 4 + 120.4 * 2) / 3600);
  const perHour = (gb: number) => 0.04048 + gb * 0.004445;
  const expected = (60 * perHour(2) + 90 * perHour(4) + 121 * perHour(2)) / 3600;
  close(r.cost?.low, expected);
  close(r.cost?.high, expected);
  assert.match(String(r), /attempts\s+3 \(1 retried\)/);
});

Deno.test("an EC2 report counts each attempt's share of its instance; Spot is a range", () => {
  const r = costReport(usage("EC2"));
  // 2 GB per vCPU fits c6i; 4 GB on 1 vCPU fits m6i.
  const expected = (30 * 0.0425 + 90 * 0.048 + 120.4 * 0.0425) / 3600;
  close(r.cost?.low, expected);
  close(r.billedSeconds, 240.4);
  const spot = costReport(usage("SPOT", { bidPercentage: 60 }));
  close(spot.cost?.high, expected * 0.6);
  close(spot.cost?.low, expected * 0.1);
});

Deno.test("a report in a region the table lacks has its figures but no cost, and says why", () => {
  const r = costReport(usage("FARGATE", { region: "ap-south-2" }));
  assert.equal(r.cost, undefined);
  assert.match(r.missing!, /no prices for ap-south-2/);
  close(r.vcpuHours, (30 + 90 + 120.4) / 3600);
});

Deno.test("a local report counts CPU-seconds", () => {
  const r = costReport({
    knot: "k",
    runId: "r",
    target: "local",
    attempts: [
      {
        jobId: "r:0",
        index: 0,
        attempt: 1,
        startedAt: T0,
        stoppedAt: T0 + 1500,
        outcome: "succeeded",
      },
      {
        jobId: "r:1",
        index: 1,
        attempt: 1,
        startedAt: T0,
        stoppedAt: T0 + 250,
        outcome: "retried",
      },
      {
        jobId: "r:1",
        index: 1,
        attempt: 2,
        startedAt: T0 + 300,
        stoppedAt: T0 + 800,
        outcome: "succeeded",
      },
    ],
  });
  close(r.cpuSeconds, 2.25);
  assert.equal(r.retried, 1);
  assert.equal(r.cost, undefined);
  assert.match(String(r), /CPU-seconds\s+2\.3/);
});
