// AwsTarget's options are checked when the target is made, before map()
// sends anything to AWS: a logLagMs that is negative, NaN or infinite
// would silently turn off the second read of a late CloudWatch tail.
import assert from "node:assert/strict";
import { CloudknotInputError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { ENV_MAX_CHARS } from "../../../src/targets/aws/batch/command.ts";
import { job, startTestBed } from "./helpers.ts";

Deno.test("AWS target: a logLagMs, submitWindowMs, submitGraceMs or cancelStopWaitMs that is not a finite number of 0 or more is refused, naming the option, with zero mutating requests", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    emu.requests.clear();
    for (const logLagMs of [-1, NaN, Infinity, -Infinity, "5000" as unknown as number]) {
      await assert.rejects(
        async () => {
          const target = bed.target({ logLagMs });
          await (await target.map({ items: encodeItems([2]), starmap: false, env: {} })).done;
        },
        (e) =>
          e instanceof CloudknotInputError && e.field === "logLagMs" &&
          /^logLagMs must be a finite number of milliseconds, 0 or more/.test(e.message),
        `logLagMs ${String(logLagMs)}`,
      );
    }
    // A window that is not a number would make a reader wait for ever, or never, for the jobs
    // of a run still being submitted; a wait that is not one, a cancel wait for ever, or never,
    // for the jobs it stopped to write their records.
    for (const option of ["submitWindowMs", "submitGraceMs", "cancelStopWaitMs"] as const) {
      for (const bad of [-1, NaN, Infinity, "60000" as unknown as number]) {
        assert.throws(
          () => bed.target({ [option]: bad }),
          (e) =>
            e instanceof CloudknotInputError && e.field === option &&
            e.message.startsWith(`${option} must be a finite number of milliseconds, 0 or more`),
          `${option} ${String(bad)}`,
        );
      }
    }
    assert.deepEqual(emu.mutatingRequests(), []);
    // 0 (no wait for a late tail) and a whole number are taken.
    bed.target({ logLagMs: 0 });
    bed.target({ logLagMs: 5000 });
    bed.target({ submitWindowMs: 0 });
    bed.target({ submitGraceMs: 0 });
    bed.target({ cancelStopWaitMs: 0 });
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: a map whose env sets the AWS credentials, endpoint or region the job reads its data with is refused, naming them, with zero mutating requests", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    emu.requests.clear();
    const target = bed.target();
    for (
      const env of [
        { AWS_ACCESS_KEY_ID: "AKIA…", AWS_SECRET_ACCESS_KEY: "…" } as Record<string, string>,
        { AWS_ENDPOINT_URL_S3: "http://elsewhere" },
        { AWS_REGION: "eu-west-1" },
        { AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://x" },
        // The image's own: every attempt would fail to start deno.
        { PATH: "/x" },
        { DENO_DIR: "/x" },
      ]
    ) {
      await assert.rejects(
        async () => await (await target.map({ items: encodeItems([2]), starmap: false, env })).done,
        (e) =>
          e instanceof CloudknotInputError && e.field === "env" &&
          e.message.startsWith(`env must not set ${Object.keys(env).join(", ")}:`),
        JSON.stringify(env),
      );
    }
    assert.deepEqual(emu.mutatingRequests(), []);
    // Other AWS_ names are the function's own.
    const run = await target.map({
      items: encodeItems([2]),
      starmap: false,
      env: { AWS_BUCKET_OF_MINE: "b" },
    });
    await run.done;
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: a map whose env passes what ECS lets a job's overrides carry is refused, saying how large it is and what to do, with zero mutating requests", async () => {
  // ECS takes 8,192 characters of container overrides per task: a job whose
  // env passes them fails to start ("Container Overrides length must be at
  // most 8192"), after every input was uploaded.
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    emu.requests.clear();
    const target = bed.target();
    const env = { CONFIG: "x".repeat(7000), MODE: "fast" };
    for (const dryRun of [false, true]) {
      await assert.rejects(
        async () => {
          const request = { items: encodeItems([2]), starmap: false, env };
          if (dryRun) await target.plan(request);
          else await (await target.map(request)).done;
        },
        (e) =>
          e instanceof CloudknotInputError && e.field === "env" &&
          /^env is 7,0\d\d characters as AWS Batch passes it to a job, more than the 6,144 /.test(
            e.message,
          ) && /put them in S3 and pass their location/.test(e.message),
        dryRun ? "dry run" : "map",
      );
    }
    assert.deepEqual(emu.mutatingRequests(), []);
    // The largest env taken leaves room for the command and the variables
    // cloudknot and Batch add: its jobs start (the emulator models ECS's limit).
    const largest = {
      CONFIG: "x".repeat(ENV_MAX_CHARS - '[{"name":"CONFIG","value":""}]CONFIG'.length),
    };
    const run = await target.map<number>({
      items: encodeItems([3, 4]),
      starmap: false,
      env: largest,
    });
    assert.deepEqual(await run.results(), [9, 16]);
  } finally {
    await bed.close();
  }
});
