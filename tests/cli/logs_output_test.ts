// `cloudknot logs <knot> <run>` prints each item's lines as it reads them, a few at a time,
// where it joined every item's lines into one string (or one JSON.stringify with --json).
// `cloudknot logs <job-id> --attempt N --json` writes its array as it reads the lines too.
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli.ts";
import { recordingIo } from "./helpers.ts";
import { Knot } from "../../mod.ts";
import { encodeItems } from "../../src/job/codec.ts";
import { job, jobsNamed, startTestBed } from "../targets/aws/helpers.ts";

const LINE = 8 * 1024;
const LINES = 40;

Deno.test("logs of a run prints each item's lines as it reads them, in writes of a few lines, with and without --json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-logs-output-" });
  try {
    // The runs stay under the knot's directory, where the library put them.
    const env = { CLOUDKNOT_LOCAL_DIR: join(dir, "knots") };
    const knot = await Knot.create({
      name: "chatty-big",
      func: (n: number) => {
        // 40 lines of 8 KiB: 320 KiB an item.
        for (let i = 0; i < 40; i++) console.log(String(n).repeat(8 * 1024));
        return n;
      },
      dir: env.CLOUDKNOT_LOCAL_DIR,
    });
    const run = await knot.map([1, 2, 3, 4], { progress: false });
    await run.results();
    const expected: { index: number; attempt: number; lines: string[] }[] = [];
    for (let index = 0; index < 4; index++) {
      const lines = await Array.fromAsync(run.logs(index));
      assert.equal(lines.length, LINES);
      assert.equal(lines[0]!.length, LINE);
      expected.push({ index, attempt: 1, lines });
    }
    const itemBytes = LINE * LINES;

    const plain = recordingIo(env);
    assert.equal(await main(["logs", "chatty-big", run.runId], plain.io), 0, plain.out.stderr);
    assert.ok(
      plain.out.stdout ===
        expected.map((e) =>
          `--- item ${e.index} (attempt 1) ---\n` + e.lines.map((l) => `${l}\n`).join("")
        ).join(""),
      "every item's lines under its header, in input order",
    );
    const largest = Math.max(...plain.out.writes);
    assert.ok(largest < itemBytes, `a write of ${largest} characters holds a whole item's lines`);

    const json = recordingIo(env);
    assert.equal(
      await main(["logs", "chatty-big", run.runId, "--json"], json.io),
      0,
      json.out.stderr,
    );
    assert.ok(
      json.out.stdout === JSON.stringify(expected) + "\n",
      "the array of one JSON.stringify",
    );
    const largestJson = Math.max(...json.out.writes);
    assert.ok(largestJson < itemBytes, `a write of ${largestJson} characters holds a whole item`);

    const one = recordingIo(env);
    assert.equal(await main(["logs", "chatty-big", run.runId, "--item", "2", "--json"], one.io), 0);
    assert.equal(one.out.stdout, JSON.stringify([expected[2]]) + "\n");

    // --follow reads an AWS Batch job as it runs: a local knot's is bad usage, saying what to do.
    const follow = recordingIo(env);
    assert.equal(
      await main(["logs", "chatty-big", run.runId, "--item", "2", "--follow"], follow.io),
      2,
    );
    assert.match(
      follow.out.stderr,
      /--follow reads an AWS Batch job as it runs, and knot chatty-big runs on this machine \(target local\): drop --follow, and logs prints what its items have printed so far/,
    );
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("logs of an AWS Batch job with --attempt and --json writes the array as it reads the lines, in writes of a few lines", async () => {
  const bed = await startTestBed(job);
  const home = await Deno.makeTempDir({ prefix: "cloudknot-logs-job-" });
  try {
    // 40 lines of 8 KiB: 320 KiB of output.
    const printed = Array.from({ length: LINES }, (_, i) => String(i % 10).repeat(LINE));
    const run = await bed.target().map<unknown>({
      items: encodeItems([{ log: printed }]),
      starmap: false,
      env: {},
      jobType: "independent",
    });
    await run.done;
    await bed.emu.waitForJobs(30_000);
    const jobId = jobsNamed(bed.emu, `squares-${run.runId}-0`)[0]!.jobId;
    const env = {
      ...bed.emu.env,
      HOME: home,
      CLOUDKNOT_CONFIG_FILE: join(home, "cloudknot.ini"),
      CLOUDKNOT_LOCAL_DIR: join(home, "knots"),
    };

    const json = recordingIo(env);
    assert.equal(
      await main(["logs", jobId, "--attempt", "1", "--json"], json.io),
      0,
      json.out.stderr,
    );
    assert.ok(
      json.out.stdout === JSON.stringify([{ jobId, attempt: 1, lines: printed }]) + "\n",
      "the array of one JSON.stringify",
    );
    const largest = Math.max(...json.out.writes);
    assert.ok(largest < LINE * LINES / 2, `a write of ${largest} characters holds the job's lines`);

    // Without --attempt, the attempt is the one whose stream was read: the same array.
    const latest = recordingIo(env);
    assert.equal(await main(["logs", jobId, "--json"], latest.io), 0, latest.out.stderr);
    assert.equal(latest.out.stdout, json.out.stdout);
  } finally {
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("logs of an AWS Batch job with --json names the attempt it read, the one running now", async () => {
  const bed = await startTestBed(job);
  const home = await Deno.makeTempDir({ prefix: "cloudknot-logs-running-" });
  const run = await bed.target().map<unknown>({
    items: encodeItems([{ sleep: 120_000 }]),
    starmap: false,
    env: {},
    jobType: "independent",
  });
  try {
    const env = {
      ...bed.emu.env,
      HOME: home,
      CLOUDKNOT_CONFIG_FILE: join(home, "cloudknot.ini"),
      CLOUDKNOT_LOCAL_DIR: join(home, "knots"),
    };
    // Until its first attempt runs and has printed its line.
    let jobId: string | undefined;
    let out = "";
    for (let look = 0; look < 600 && !out.includes("sleeping"); look++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      jobId ??= jobsNamed(bed.emu, `squares-${run.runId}-0`)[0]?.jobId;
      if (jobId === undefined) continue;
      const io = recordingIo(env);
      assert.equal(await main(["logs", jobId, "--json"], io.io), 0, io.out.stderr);
      out = io.out.stdout;
    }
    assert.equal(
      out,
      JSON.stringify([{ jobId, attempt: 1, lines: ["sleeping 120000 ms"] }]) + "\n",
    );
  } finally {
    await run.cancel();
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
