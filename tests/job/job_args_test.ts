// The job's command line, declared once: the entry point's strict parser
// against node:util's parseArgs (what the job used before) over the same
// options, and the Batch command read back with the same parser.
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { JOB_OPTIONS, parseJobArgs } from "../../src/job/job_args.ts";
import { jobCommand, parseJobCommand } from "../../src/targets/aws/batch/command.ts";

const options = Object.fromEntries(
  Object.entries(JOB_OPTIONS).map(([name, type]) => [
    name,
    type === "boolean" ? { type, default: false } : { type },
  ]),
) as Parameters<typeof parseArgs>[0] extends infer C ? C extends { options?: infer O } ? O : never
  : never;

const cases: string[][] = [
  [],
  ["--run", "s3://b/r", "--index", "4"],
  [
    "--run=s3://b/r",
    "--offset=0",
    "--starmap",
    "--slice",
    "3",
    "--end",
    "10",
    "--concurrency",
    "2",
  ],
  ["--function", "file:///app/f.js", "--run", "s3://b/r", "--index", "0", "--index", "7"],
  ["--run", "s3://b/r", "--index=-1"],
  ["--run=", "--index", "0"],
  ["--run", "a=b", "--index", "0"],
  ["--bogus"],
  ["--bogus=1", "--run", "x"],
  ["-A", "--run", "x"],
  ["positional", "--run", "x"],
  ["--run"],
  ["--run", "--index", "0"],
  ["--index", "-1"],
  ["--starmap=yes"],
  ["--run", "x", "--", "--index", "0"],
  ["--run", "x", "--"],
  ["-"],
];

Deno.test("the job's parser reads every command line as node:util's parseArgs did, or fails where it did", () => {
  for (const args of cases) {
    let expected: unknown;
    try {
      expected = { ...parseArgs({ args, options, strict: true }).values };
    } catch {
      expected = "throws";
    }
    let actual: unknown;
    try {
      actual = { ...parseJobArgs(args) };
    } catch (e) {
      assert.ok(e instanceof TypeError);
      actual = "throws";
    }
    assert.deepEqual(actual, expected, JSON.stringify(args));
  }
});

Deno.test("leniently, it keeps the job options parseArgs kept and skips the rest", () => {
  for (const args of cases) {
    const loose = parseArgs({ args, options, strict: false, allowPositionals: true }).values;
    const kept = Object.fromEntries(
      Object.entries(loose).filter(([name, value]) =>
        JOB_OPTIONS[name as keyof typeof JOB_OPTIONS] === "string"
          ? typeof value === "string"
          : name in JOB_OPTIONS && value === true
      ),
    );
    assert.deepEqual(
      { ...parseJobArgs(args, { strict: false }) },
      { starmap: false, ...kept },
      JSON.stringify(args),
    );
  }
});

Deno.test("a Batch job's command reads back as the job reads it", () => {
  const fields = {
    run: "s3://b/k/runs/r",
    offset: 5,
    starmap: true,
    slice: 4,
    end: 99,
    concurrency: 2,
  };
  const command = jobCommand(fields);
  // The job reads the numbers as written; parseJobCommand reads them as numbers.
  const written = Object.fromEntries(
    Object.entries(fields).map((
      [name, value],
    ) => [name, typeof value === "number" ? `${value}` : value]),
  );
  assert.deepEqual({ ...parseJobArgs(command) }, written);
  assert.deepEqual(parseJobCommand(["deno", "run", "-A", "/app/runtime.js", ...command]), fields);
});
