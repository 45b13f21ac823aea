// The suite's runner (scripts/test.ts) ends with the errors of every failing
// file, so that a run's last lines (all a CI excerpt may show) say which test
// failed and why, however long the output before them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { failureExcerpt } from "../../scripts/test.ts";

const RUNNER = fileURLToPath(new URL("../../scripts/test.ts", import.meta.url));

/** Runs the runner on `files`, giving its exit code and its stdout and stderr together. */
function runner(files: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(Deno.execPath(), ["run", "-A", RUNNER, ...files], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...Deno.env.toObject(), NO_COLOR: "1", CLOUDKNOT_TEST_JOBS: "2" },
  });
  let output = "";
  child.stdout.on("data", (chunk) => output += chunk);
  child.stderr.on("data", (chunk) => output += chunk);
  return new Promise((done) => child.on("close", (code) => done({ code, output })));
}

Deno.test("the test runner's last lines name each failing file with its failing test and error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const failing = join(dir, "fails_test.ts");
    await Deno.writeTextFile(
      failing,
      `Deno.test("passes", () => {});\n` +
        `Deno.test("compares two numbers", () => { throw new Error("1 is not 2, as the test wanted"); });\n`,
    );
    const passing = join(dir, "passes_test.ts");
    await Deno.writeTextFile(passing, `Deno.test("passes too", () => {});\n`);
    const { code, output } = await runner([failing, passing]);
    assert.equal(code, 1, output);
    const summary = output.slice(output.lastIndexOf("failing files:"));
    assert.match(summary, /fails_test\.ts \(1 failed\)/);
    assert.match(summary, /compares two numbers => .*fails_test\.ts/);
    assert.match(summary, /1 is not 2, as the test wanted/);
    assert.doesNotMatch(summary, /passes_test/);
    assert.match(summary, /\nFAILED \| 2 passed \(0 steps\) \| 1 failed /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failure excerpt is the errors section, cut to its length, or the output's end after a crash", () => {
  const errors = ` ERRORS \n\nt => ./a_test.ts:1:1\nerror: boom\n${"    at x\n".repeat(50)}`;
  const output = `running 1 test\nt ... FAILED\n\n${errors}\n FAILURES \n\nt => ./a_test.ts:1:1\n`;
  const excerpt = failureExcerpt(output, 10).split("\n");
  assert.equal(excerpt.length, 11);
  assert.equal(excerpt[0], "    ERRORS");
  assert.equal(excerpt[3], "    error: boom");
  assert.match(excerpt[10]!, /^ {4}… \(44 more lines/);
  assert.doesNotMatch(failureExcerpt(output), /FAILURES/);
  // No ERRORS section (a crash, a kill): the output's last lines.
  const crashed = `${"line\n".repeat(100)}a_test.ts: killed after 900 s\n`;
  const end = failureExcerpt(crashed, 5).split("\n");
  assert.equal(end.length, 5);
  assert.equal(end[4], "    a_test.ts: killed after 900 s");
});
