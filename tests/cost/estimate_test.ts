// Estimates checked against figures worked out by hand from the price table.
import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import { estimateRun, PRICES } from "../../src/cost/mod.ts";
import { FARGATE_MEMORY } from "../../src/targets/aws/batch/compute_options.ts";

const close = (actual: number | undefined, expected: number) =>
  assert.ok(Math.abs((actual ?? NaN) - expected) < 1e-9, `${actual} ≠ ${expected}`);

Deno.test("a Fargate estimate: 1,000 items of 30 s on 1 vCPU and 2 GB, one item per job", () => {
  const e = estimateRun({
    count: 1000,
    itemSeconds: 30,
    compute: "FARGATE",
    vcpus: 1,
    memory: 2048,
    itemsPerJob: 1,
  });
  assert.equal(e.containers, 1000);
  assert.equal(e.concurrency, 256); // maxVcpus 256 ÷ 1 vCPU
  assert.equal(e.durationSeconds, 120); // ⌈1000 ÷ 256⌉ = 4 waves of 30 s
  close(e.vcpuHours, 1000 * 30 / 3600);
  close(e.gbHours, 1000 * 30 * 2 / 3600);
  // $0.04048 per vCPU-hour + 2 GB × $0.004445; each task billed its 1-minute minimum.
  close(e.computeCost?.low, 1000 * 60 * (0.04048 + 2 * 0.004445) / 3600);
  close(e.computeCost?.high, e.computeCost!.low);
  // 1,003 PUTs and 61 LISTs at $0.005 per 1,000; 3,000 GETs at $0.0004 per 1,000.
  // Each job reads its index entry and its item and writes one record, which the client reads.
  assert.deepEqual([e.s3?.puts, e.s3?.gets, e.s3?.lists], [1003, 3000, 61]);
  assert.deepEqual(e.s3?.recordObjects, { expected: 1000, fewest: 1000, most: 1000 });
  close(e.s3?.requestCost, 1064 / 1000 * 0.005 + 3 * 0.0004);
  close(e.total?.low, e.computeCost!.low + e.s3!.requestCost);
  assert.match(String(e), /Fargate bills each task per second/);
  assert.match(String(e), /total\s+\$0\.8294/);
});

Deno.test("a Fargate estimate without memory takes the least the vCPUs take, as a knot does", () => {
  for (const [vcpus, memory] of [[0.25, 512], [1, 2048], [4, 8192], [16, 32768]] as const) {
    const e = estimateRun({ count: 1, itemSeconds: 3600, compute: "FARGATE", vcpus });
    close(e.gbHours, memory / 1024);
  }
  // The same as a knot's default, Fargate's table's least memory for each vCPU count.
  for (const [vcpus, sizes] of FARGATE_MEMORY) {
    const e = estimateRun({ count: 1, itemSeconds: 3600, compute: "FARGATE", vcpus });
    close(e.gbHours, sizes[0]! / 1024);
  }
});

Deno.test("an EC2 estimate prices the job's share of the family its memory fits, and Spot as a range up to the bid", () => {
  const ec2 = estimateRun({
    count: 100,
    itemSeconds: 60,
    compute: "EC2",
    vcpus: 2,
    memory: 4096,
    maxVcpus: 20,
    itemsPerJob: 1,
  });
  assert.equal(ec2.concurrency, 10);
  assert.equal(ec2.durationSeconds, 600);
  assert.match(ec2.capacity, /20 vCPUs .*\(c6i\)/); // 2 GiB per vCPU fits c6i
  close(ec2.computeCost?.low, 100 * 60 * 2 * 0.0425 / 3600);
  const spot = estimateRun({
    count: 100,
    itemSeconds: 60,
    compute: "SPOT",
    vcpus: 2,
    memory: 4096,
    maxVcpus: 20,
    bidPercentage: 50,
    itemsPerJob: 1,
  });
  const onDemand = 100 * 60 * 2 * 0.0425 / 3600;
  close(spot.computeCost?.high, onDemand * 0.5);
  close(spot.computeCost?.low, onDemand * (1 - PRICES.spotDiscount.ec2));
  assert.match(String(spot), /90% off On-Demand .* bid cap of 50%/);
  // Memory beyond r6i's 8 GiB per vCPU is priced by the share of the instance it needs.
  const big = estimateRun({ count: 1, itemSeconds: 3600, vcpus: 1, memory: 16384 });
  close(big.computeCost?.low, 2 * 0.063);
});

Deno.test('"auto" slices as a run does: 10,000 items of 50 ms on 64 vCPUs start 127 containers and write their records in segments', () => {
  const e = estimateRun({
    count: 10_000,
    itemSeconds: 0.05,
    compute: "EC2",
    memory: 2048,
    maxVcpus: 64,
  });
  // 2 × 64 children at most: 126 of 79 items and one of 46, 64 at once.
  assert.equal(e.containers, 127);
  assert.equal(e.itemsPerJob, 79);
  assert.equal(e.concurrency, 64);
  close(e.durationSeconds, 2 * 79 * 0.05);
  close(e.vcpuHours, (126 * 79 + 46) * 0.05 / 3600);
  close(e.computeCost?.low, (126 * 79 + 46) * 0.05 * 0.0425 / 3600);
  // A child of 79 items of 50 ms runs 3.95 s: a segment per second of it (4), 3 for the last
  // (2.3 s); at fewest one per child, at most one per item.
  assert.deepEqual(e.s3?.recordObjects, { expected: 126 * 4 + 3, fewest: 127, most: 10_000 });
  // Each child reads its index entries and its inputs; the client reads each segment once.
  assert.deepEqual([e.s3?.puts, e.s3?.gets, e.s3?.lists], [3 + 507, 2 * 127 + 507, 4 + 1]);
  assert.match(String(e), /127 jobs \(containers\) .* 79 items each \(the last 46\)/);
  assert.match(String(e), /507 record objects \(127 to 10000/);
  // Two vCPUs per job run two items at once: half the rounds, the same vCPU time per item.
  const two = estimateRun({ count: 100, itemSeconds: 60, vcpus: 2, maxVcpus: 20 });
  assert.deepEqual([two.containers, two.itemsPerJob], [20, 5]);
  assert.equal(two.durationSeconds, 2 * 3 * 60); // 10 at once: two waves of 3 rounds

  close(two.vcpuHours, 20 * 3 * 60 * 2 / 3600);
  // A slice of 2,500 results of 1 KiB makes 3 segments at fewest (by count), whatever the timing.
  const big = estimateRun({ count: 2500, itemSeconds: 0.001, itemsPerJob: 2500 });
  assert.deepEqual(big.s3?.recordObjects, { expected: 3, fewest: 3, most: 2500 });
  assert.throws(
    () => estimateRun({ count: 10, itemSeconds: 1, itemsPerJob: 0 }),
    (e: unknown) => e instanceof CloudknotInputError && e.field === "itemsPerJob",
  );
});

Deno.test("a region the price table lacks says so instead of guessing", () => {
  const e = estimateRun({ count: 10, itemSeconds: 5, region: "eu-west-3" });
  assert.equal(e.computeCost, undefined);
  assert.equal(e.total, undefined);
  assert.match(e.missing!, /no prices for eu-west-3; it has us-east-1/);
  assert.match(String(e), /no prices for eu-west-3/);
  // Its duration and resources are still estimated.
  assert.equal(e.durationSeconds, 5);
});

Deno.test("a local estimate counts CPU-hours and workers, and costs nothing", () => {
  const e = estimateRun({ target: "local", count: 10, itemSeconds: 2, concurrency: 4 });
  assert.equal(e.durationSeconds, 6); // ⌈10 ÷ 4⌉ × 2 s
  close(e.vcpuHours, 20 / 3600);
  assert.equal(e.computeCost, undefined);
  assert.match(String(e), /costs no money/);
});

Deno.test("an estimate refuses a count or an item time it cannot use", () => {
  assert.throws(() => estimateRun({ count: -1, itemSeconds: 1 }), CloudknotInputError);
  assert.throws(
    () => estimateRun({ count: 1, itemSeconds: 0 }),
    (e) =>
      e instanceof CloudknotInputError && /itemSeconds must be a positive number/.test(e.message),
  );
});

Deno.test("an estimate refuses a compute type, vCPUs, memory or maxVcpus it cannot price, naming the option", () => {
  for (
    const [options, field] of [
      [{ compute: "LAMBDA" }, "compute"],
      [{ vcpus: 0 }, "vcpus"],
      [{ memory: -1 }, "memory"],
      [{ maxVcpus: 0 }, "maxVcpus"],
      [{ vcpus: NaN }, "vcpus"],
    ] as const
  ) {
    assert.throws(
      () => estimateRun({ count: 100, itemSeconds: 30, ...options } as never),
      (e) => e instanceof CloudknotInputError && e.field === field,
      JSON.stringify(options),
    );
  }
});

Deno.test("the price table says where each figure comes from and when", () => {
  assert.match(PRICES.date, /^\d{4}-\d{2}-\d{2}$/);
  for (
    const what of ["fargate/pricing", "ec2/pricing/on-demand", "ec2/spot/pricing", "s3/pricing"]
  ) {
    assert.ok(PRICES.sources.some((s) => s.includes(what)), what);
  }
  // Every EC2 figure is the .large price in the sources divided by its 2 vCPUs.
  const sources = PRICES.sources.join("\n");
  for (const [family, price] of Object.entries(PRICES.regions["us-east-1"]!.ec2)) {
    const large = new RegExp(`${family}\\.large \\$(\\d+\\.\\d+)`).exec(sources);
    assert.ok(large, family);
    close(price.vcpuHour, Number(large[1]) / 2);
  }
});

Deno.test("itemsPerJob auto gives Fargate jobs of less than a vCPU one item each while 2 × maxVcpus ÷ vCPUs children hold them, and the estimate says how many run at once", () => {
  // maxVcpus 4 ÷ 0.25 vCPU: 16 jobs at once, and auto makes up to 32 children.
  const small = estimateRun({
    count: 20,
    itemSeconds: 60,
    compute: "FARGATE",
    vcpus: 0.25,
    memory: 512,
    maxVcpus: 4,
    itemsPerJob: "auto",
  });
  assert.equal(small.containers, 20);
  assert.equal(small.concurrency, 16);
  assert.match(String(small), /at most 16 jobs run at once \(maxVcpus 4 ÷ 0\.25 vCPU per job\)/);
  const many = estimateRun({
    count: 1000,
    itemSeconds: 60,
    compute: "FARGATE",
    vcpus: 0.25,
    memory: 512,
    itemsPerJob: "auto",
  });
  assert.equal(many.containers, 1000); // 2 × 256 ÷ 0.25 = 2,048 children at most
  // Fewer jobs than slots: all of them run at once, which the line says as it is.
  const few = estimateRun({
    count: 3,
    itemSeconds: 60,
    compute: "EC2",
    vcpus: 1,
    memory: 2048,
    maxVcpus: 16,
    itemsPerJob: 1,
  });
  assert.equal(few.concurrency, 3);
  assert.match(
    String(few),
    /all 3 jobs run at once \(maxVcpus 16 ÷ 1 vCPU per job leaves room for 16\)/,
  );
});
