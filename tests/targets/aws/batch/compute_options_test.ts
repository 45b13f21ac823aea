import assert from "node:assert/strict";
import { CloudknotInputError } from "../../../../mod.ts";
import {
  checkArchitecture,
  FARGATE_MEMORY,
  instanceArchitecture,
  validateComputeOptions,
} from "../../../../src/targets/aws/batch/mod.ts";

Deno.test("defaults follow the original on EC2 and the smallest valid size on Fargate", () => {
  assert.deepEqual(validateComputeOptions(), {
    compute: "EC2",
    vcpus: 1,
    memory: 8000,
    gpus: 0,
    retries: 3,
    evaluateOnExit: [],
    instanceTypes: ["optimal"],
    minVcpus: 0,
    desiredVcpus: 0,
    maxVcpus: 256,
    priority: 1,
    jobStateTimeLimitActions: ["COMPUTE_ENVIRONMENT_MAX_RESOURCE", "JOB_RESOURCE_REQUIREMENT"].map(
      (r) => ({
        reason: `MISCONFIGURATION:${r}`,
        state: "RUNNABLE",
        maxTimeSeconds: 600,
        action: "CANCEL",
      }),
    ),
  });
  const fargate = validateComputeOptions({ compute: "FARGATE_SPOT", vcpus: 2 });
  assert.equal(fargate.memory, 4096);
  assert.deepEqual(fargate.instanceTypes, []);
});

Deno.test("every Fargate pair in the table is accepted and its neighbours are not", () => {
  for (const [vcpus, sizes] of FARGATE_MEMORY) {
    for (const memory of sizes) validateComputeOptions({ compute: "FARGATE", vcpus, memory });
    assert.throws(
      () => validateComputeOptions({ compute: "FARGATE", vcpus, memory: sizes.at(-1)! + 1024 }),
      /On Fargate/,
    );
  }
  assert.throws(
    () => validateComputeOptions({ compute: "FARGATE", vcpus: 3 }),
    /vcpus must be one of/,
  );
});

Deno.test("bad compute settings are typed errors that name the option", () => {
  const cases: [Parameters<typeof validateComputeOptions>[0], string, RegExp][] = [
    [{ compute: "LAMBDA" as never }, "compute", /one of EC2, SPOT, FARGATE, FARGATE_SPOT/],
    [{ compute: "FARGATE", gpus: 1 }, "gpus", /Fargate has no GPUs/],
    [
      { compute: "FARGATE", instanceTypes: ["m5.large"] },
      "instanceTypes",
      /EC2 and SPOT compute only/,
    ],
    [{ compute: "FARGATE", minVcpus: 2 }, "minVcpus", /EC2 and SPOT/],
    [{ vcpus: 0 }, "vcpus", /integer from 1 to 256/],
    [{ vcpus: 1.5 }, "vcpus", /integer/],
    [{ vcpus: NaN }, "vcpus", /from 1 to 256, not NaN$/],
    [{ maxVcpus: Infinity }, "maxVcpus", /not Infinity$/],
    [{ memory: 2 }, "memory", /from 4 to 33,554,432/],
    [{ retries: 0 }, "retries", /from 1 to 10/],
    [{ retries: 11 }, "retries", /from 1 to 10/],
    [{ timeout: 30 }, "timeout", /from 60 to 2,147,483/],
    [{ gpus: -1 }, "gpus", /from 0 to 16/],
    [{ minVcpus: 4, maxVcpus: 2 }, "minVcpus", /^minVcpus \(4\) must be at most maxVcpus \(2\)$/],
    [{ desiredVcpus: 3, maxVcpus: 2 }, "desiredVcpus", /minVcpus ≤ desiredVcpus ≤ maxVcpus/],
    [{ vcpus: 8, maxVcpus: 4 }, "maxVcpus", /no job could ever start/],
    [{ compute: "FARGATE", vcpus: 4, maxVcpus: 2 }, "maxVcpus", /no job could ever start/],
    [{ compute: "SPOT", instanceTypes: [] }, "instanceTypes", /at least one instance type/],
    [{ bidPercentage: 50 }, "bidPercentage", /needs compute "SPOT"/],
    [{ compute: "SPOT", bidPercentage: 0 }, "bidPercentage", /from 1 to 100/],
    [{ volumeSize: 100, imageId: "ami-0123456789abcdef0" }, "volumeSize", /not both/],
    [
      { volumeSize: 2 },
      "volumeSize",
      /^volumeSize must be at least 30 \(GiB\), not 2: .*root snapshot is 30 GiB.*pass volumeSize of 30 to 16,384, or leave it out/,
    ],
    [{ volumeSize: 29 }, "volumeSize", /at least 30 \(GiB\), not 29/],
    [{ volumeSize: 0 }, "volumeSize", /from 1 to 16,384, not 0/],
    [{ imageId: "ubuntu" }, "imageId", /AMI id/],
    [{ instanceTypes: ["M5 Large"] }, "instanceTypes", /instance types/],
    [{ priority: 0 }, "priority", /from 1 to 1,000/],
    [{ evaluateOnExit: [{ action: "RETRY" }] }, "evaluateOnExit", /needs onExitCode/],
    [{ evaluateOnExit: [{ onExitCode: "abc", action: "EXIT" }] }, "evaluateOnExit", /digits/],
    [
      { evaluateOnExit: [{ onReason: "x", action: "MAYBE" as never }] },
      "evaluateOnExit",
      /RETRY" or "EXIT/,
    ],
  ];
  for (const [options, field, pattern] of cases) {
    assert.throws(
      () => validateComputeOptions(options),
      (e) => e instanceof CloudknotInputError && e.field === field && pattern.test(e.message),
      JSON.stringify(options),
    );
  }
});

Deno.test("retry rules are kept as given", () => {
  const rules = [
    { onStatusReason: "Host EC2*", action: "RETRY" as const },
    { onExitCode: "1", action: "EXIT" as const },
  ];
  assert.deepEqual(
    validateComputeOptions({ evaluateOnExit: rules, timeout: 3600 }).evaluateOnExit,
    rules,
  );
});

Deno.test("instance types are arm64 when they are AWS Graviton ones, amd64 otherwise", () => {
  const arm = ["a1.large", "m6g", "m6gd.xlarge", "c7gn", "r6g", "t4g.micro", "x2gd", "im4gn"];
  const x86 = ["optimal", "default_x86_64", "m5", "c6i.large", "g4dn", "p3", "x2iedn", "c7a"];
  for (const t of [...arm, "default_arm64", "g5g"]) {
    assert.equal(instanceArchitecture(t), "arm64", t);
  }
  for (const t of x86) assert.equal(instanceArchitecture(t), "amd64", t);
  // Matching hosts are accepted.
  checkArchitecture(validateComputeOptions({ instanceTypes: ["c6i", "m5"] }), "linux/amd64");
  checkArchitecture(validateComputeOptions({ instanceTypes: ["m7g"] }), "linux/arm64");
  checkArchitecture(validateComputeOptions({ compute: "FARGATE" }), "linux/amd64");
  // A GPU job with GPU instance types is fine.
  assert.deepEqual(validateComputeOptions({ gpus: 1, instanceTypes: ["g4dn"] }).gpus, 1);
});
