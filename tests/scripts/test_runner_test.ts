// The suite's runner (scripts/test.ts) ends with the errors of every failing
// file, so that a run's last lines (all a CI excerpt may show) say which test
// failed and why, however long the output before them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { docTestJob, failureExcerpt, type Job, runJobs } from "../../scripts/test.ts";
import { examples } from "../../scripts/examples.ts";

const RUNNER = fileURLToPath(new URL("../../scripts/test.ts", import.meta.url));

/** Runs the runner on `files`, giving its exit code and its stdout and stderr together. */
function runner(
  files: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawn(Deno.execPath(), ["run", "-A", RUNNER, ...files], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...Deno.env.toObject(), NO_COLOR: "1", CLOUDKNOT_TEST_JOBS: "2", ...env },
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

Deno.test("examples are the fenced blocks of JavaScript or TypeScript in doc comments, less those marked ignore, with their fences' lines", () => {
  const source = [
    "/**",
    " * ```ts",
    " * one();",
    " *   indented();",
    " * ```",
    " * ```ts ignore",
    " * notRun();",
    " * ```",
    " * ```sh",
    " * deno run -A cli.ts",
    " * ```",
    " * ```",
    " * two(); // no language: the module's own",
    " * ```",
    " * ```js",
    " * three();",
    " * ```",
    " */",
    "// ```ts",
    "// notInADocComment();",
    "// ```",
    'const glob = "src/**/*.ts";',
    "/* ```ts */",
  ].join("\n");
  assert.deepEqual(examples(source), [
    { open: 2, close: 5, code: "one();\n  indented();" },
    { open: 12, close: 14, code: "two(); // no language: the module's own" },
    { open: 15, close: 17, code: "three();" },
  ]);
  assert.deepEqual(examples("export const x = 1;\n"), []);
});

Deno.test("a whole run starts the doc tests, before the ready file, then the test files from the largest down; given paths, their test files alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "sub"));
    await Deno.writeTextFile(join(dir, "small_test.ts"), "Deno.test('s', () => {});\n");
    await Deno.writeTextFile(join(dir, "sub", "large_test.ts"), `${"// x\n".repeat(50)}\n`);
    await Deno.writeTextFile(join(dir, "lib.ts"), "/**\n * ```ts\n * 1;\n * ```\n */\n");
    const whole = runJobs(dir, []);
    assert.deepEqual(whole.map((j) => j.name), [
      "doc tests",
      join("sub", "large_test.ts"),
      "small_test.ts",
    ]);
    assert.deepEqual(whole.map((j) => j.early === true), [true, false, false]);
    const some = runJobs(dir, [], [join(dir, "sub")]);
    assert.deepEqual(some.map((j) => j.name), [join("sub", "large_test.ts")]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs a job of the runner as the runner would, and gives its exit code and output. */
async function runJob(job: Job): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: job.args,
    cwd: job.cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, output };
}

Deno.test("the doc test process runs every example of every module once, named as deno test --doc names it, and no test file's tests", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "marks"));
    await Deno.mkdir(join(dir, "tests"));
    // Each example appends a line to a file of its own name, so a file of two lines ran twice.
    const example = (mark: string) => [
      " * ```ts",
      ` * Deno.writeTextFileSync("marks/${mark}", "ran\\n", { append: true });`,
      " * ```",
    ];
    const modules: Record<string, number> = { "a.ts": 3, "b.ts": 2, "sub/c.ts": 1, "sub/d.ts": 1 };
    const marks: string[] = [];
    for (const [path, count] of Object.entries(modules)) {
      const lines = ["/**"];
      for (let i = 0; i < count; i++) {
        marks.push(`${path.replace("/", "-")}-${i}`);
        lines.push(...example(marks.at(-1)!));
      }
      await Deno.mkdir(join(dir, path, ".."), { recursive: true });
      await Deno.writeTextFile(
        join(dir, path),
        [...lines, " */", "export const x = 1;", ""].join("\n"),
      );
    }
    const testFile = join(dir, "sub", "e_test.ts");
    await Deno.writeTextFile(
      testFile,
      `/**\n${example("test-module-example").join("\n")}\n */\n` +
        `Deno.test("t", () => Deno.writeTextFileSync("marks/test-module-test", "ran\\n"));\n`,
    );
    const job = docTestJob(dir, []);
    // The doc test process never waits for CI's ready file: it needs no Docker.
    assert.equal(job.early, true);
    const { code, output } = await runJob(job);
    assert.equal(code, 0, output);
    assert.equal(Number(output.match(/^ok \| (\d+) passed/m)?.[1]), marks.length);
    assert.match(output, /^\.\/sub\/c\.ts#2-5\.ts \.\.\. ok/m);
    const ran = (await Array.fromAsync(Deno.readDir(join(dir, "marks")))).map((e) => e.name);
    assert.deepEqual(ran.sort(), [...marks].sort());
    for (const mark of marks) {
      assert.equal(await Deno.readTextFile(join(dir, "marks", mark)), "ran\n", `${mark} ran twice`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an example resolves its imports as beside its module, and fails its test when it throws, uses a name it does not import, or leaks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "lib"));
    await Deno.writeTextFile(join(dir, "lib", "two.ts"), "export const two = 2;\n");
    const module = (code: string[]) =>
      ["/**", " * ```ts", ...code.map((line) => ` * ${line}`), " * ```", " */", ""].join("\n");
    await Deno.writeTextFile(
      join(dir, "lib", "good.ts"),
      module([
        'import { two } from "./two.ts";',
        'import { decode } from "@cloudknot/cloudknot/codec";',
        'const { two: again } = await import("./two.ts");',
        'if (two + again !== 4 || typeof decode !== "function") throw new Error("wrong");',
      ]),
    );
    await Deno.writeTextFile(
      join(dir, "throws.ts"),
      module(['throw new Error("this example is wrong");']),
    );
    await Deno.writeTextFile(
      join(dir, "unimported.ts"),
      module(["console.log(two);"]) + "export const two = 2;\n",
    );
    await Deno.writeTextFile(
      join(dir, "leaks.ts"),
      module(["setTimeout(() => {}, 60_000);"]),
    );
    const { code, output } = await runJob(docTestJob(dir, []));
    assert.equal(code, 1, output);
    assert.match(output, /^\.\/lib\/good\.ts#2-8\.ts \.\.\. ok/m);
    assert.match(output, /^\.\/throws\.ts#2-5\.ts \.\.\. FAILED/m);
    assert.match(output, /this example is wrong/);
    assert.match(output, /^\.\/unimported\.ts#2-5\.ts \.\.\. FAILED/m);
    assert.match(output, /ReferenceError: two is not defined/);
    assert.match(output, /^\.\/leaks\.ts#2-5\.ts \.\.\. FAILED/m);
    assert.match(output, /^FAILED \| 1 passed \| 3 failed/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// CI installs Docker and Debian's packages while the gates and doc tests run:
// the test files wait for the ready file it writes once dockerd answers.
Deno.test("the test files start only once the ready file exists, and not at all when it holds a reason", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const mark = join(dir, "ran");
    const file = join(dir, "marks_test.ts");
    await Deno.writeTextFile(
      file,
      `Deno.test("marks", () => Deno.writeTextFileSync(${JSON.stringify(mark)}, "ran"));\n`,
    );
    const readyFile = join(dir, "ready");
    const absent = async () => await Deno.stat(mark).then(() => false, () => true);

    await t.step("an empty ready file lets them run", async () => {
      const run = runner([file], { CLOUDKNOT_TEST_READY_FILE: readyFile });
      // Long enough for the runner to have started the file, had it not waited.
      await new Promise((wake) => setTimeout(wake, 3000));
      assert.ok(await absent(), "the test file ran before the ready file existed");
      await Deno.writeTextFile(readyFile, "");
      const { code, output } = await run;
      assert.equal(code, 0, output);
      assert.equal(await Deno.readTextFile(mark), "ran");
      assert.match(
        output,
        /\nthe ready file came [1-9]\d*s into the run: the test files started then\n/,
      );
      assert.match(output, /\nok \| 1 passed/);
    });

    await t.step("a reason in it fails the run with that reason, no test file run", async () => {
      await Deno.remove(mark);
      await Deno.writeTextFile(readyFile, "dockerd did not start\n");
      const { code, output } = await runner([file], { CLOUDKNOT_TEST_READY_FILE: readyFile });
      assert.equal(code, 1, output);
      assert.ok(await absent(), "the test file ran");
      assert.match(output, /none of the 1 test files ran: dockerd did not start/);
      assert.match(output, /\nFAILED \| 0 passed \(0 steps\) \| 1 failed /);
    });

    await t.step("a ready file that never appears fails the run once its time is up", async () => {
      await Deno.remove(readyFile);
      const { code, output } = await runner([file], {
        CLOUDKNOT_TEST_READY_FILE: readyFile,
        CLOUDKNOT_TEST_READY_TIMEOUT: "1",
      });
      assert.equal(code, 1, output);
      assert.ok(await absent(), "the test file ran");
      assert.match(output, /test files ran: .*ready did not appear within 1 s/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
