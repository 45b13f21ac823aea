/**
 * Runs every test of the repository, several test files at once, each in a `deno test` process of
 * its own with the suite's sanitizers, and the doc tests (the TypeScript blocks of the code's doc
 * comments) in one more. It prints each file's output whole as the file ends, the slowest files,
 * each failing file's errors again, and one last line in `deno test`'s words:
 * `ok | N passed (N steps) | N failed (time)`.
 *
 * Why the doc tests are not `deno test --doc`: that runs each example as a test module of its own,
 * in a new worker, which costs about 0.3 s of CPU whatever the example does (162 CPU-seconds of a
 * CPU-bound run for 375 examples, in three processes of two minutes each). They run in one process
 * instead, each example a test that imports it (`scripts/doc_examples.ts`): 4 CPU-seconds.
 *
 * The longest files start first, so that none is left to run alone at the end: the doc tests,
 * then the test files by size, which stands for length. (Ordering by the seconds each
 * file took in an earlier run would end a run about 2% sooner, as simulated on a CI run's times:
 * not worth a table to keep up to date.)
 *
 * Why processes and not `deno test --parallel`: `--parallel` runs test files as worker threads of
 * one process, which share its environment variables, working directory and signal handlers, and
 * some tests set environment variables or kill processes on purpose. A process per file keeps each
 * file as alone as it is in a serial run. Most of the suite's time is spent waiting (on containers,
 * child processes and the emulator's Batch timings), so files run well side by side even on two
 * cores.
 *
 * The type check is not repeated here (`--no-check`): `deno task test` runs the gates first, whose
 * `deno check --doc` checks every module, test and doc block. (Run beside the tests instead, as one
 * more process, the gates saved nothing: a CI-like run took 23 min 43 s that way, 23 min 38 s this
 * way, since the suite is CPU-bound and Debian's packages are in before the gates end anyway.)
 *
 * Why a ready file: on a new machine, `.ci/run` installs Docker and Debian's other packages while
 * the gates and the doc tests, which need neither, run (on a slow mirror, instead of before). The
 * test files wait for the file `CLOUDKNOT_TEST_READY_FILE` names, which `.ci/run` writes once the
 * packages are installed and dockerd answers: empty, the test files start; holding a reason (the
 * install failed), they never start and the run fails with that reason.
 *
 * Usage: `deno run -A scripts/test.ts [path ...]` (default: the whole repository, with the doc
 * tests). Environment: `CLOUDKNOT_TEST_JOBS`, how many files run at once (default 4);
 * `CLOUDKNOT_TEST_FILE_TIMEOUT`, seconds after which a file's process is killed and the file
 * counts as failed (default 900); `CLOUDKNOT_TEST_READY_FILE`, a file the test files (not the doc
 * tests) wait for, at most `CLOUDKNOT_TEST_READY_TIMEOUT` seconds (default 1200).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { examples } from "./examples.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const jobs = Number(Deno.env.get("CLOUDKNOT_TEST_JOBS") ?? 4);
const fileTimeout = Number(Deno.env.get("CLOUDKNOT_TEST_FILE_TIMEOUT") ?? 900) * 1000;
const readyFile = Deno.env.get("CLOUDKNOT_TEST_READY_FILE");
const readyTimeout = Number(Deno.env.get("CLOUDKNOT_TEST_READY_TIMEOUT") ?? 1200) * 1000;
const denoArgs = ["test", "-A", "--lock=tests/deno.lock", "--no-check"];
const sanitizers = ["--sanitize-ops", "--sanitize-resources"];
/** The test module that runs the examples of the modules it is given. */
const DOC_EXAMPLES = fileURLToPath(new URL("doc_examples.ts", import.meta.url));

/** `deno test`'s own rule for a test module's name: `test.ts`, `*_test.ts` or `*.test.ts`. */
const TEST_MODULE = /^(?:.*[._])?test\.(?:[cm]?[jt]s|[jt]sx)$/;

/** The paths `deno.json` keeps out of tests: its `exclude` and `test.exclude`, as absolute paths. */
function excludedPaths(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(join(root, "deno.json")));
  const paths: string[] = [...(config.exclude ?? []), ...(config.test?.exclude ?? [])];
  return [".git", ...paths].map((p) => resolve(root, p));
}

/** The test modules under `dir`, as `deno test` finds them (it never looks in `node_modules`). */
function testModules(dir: string, excluded: string[], out: string[] = []): string[] {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.name === "node_modules") continue;
    if (excluded.some((e) => path === e || path.startsWith(e + "/"))) continue;
    if (entry.isDirectory) testModules(path, excluded, out);
    else if (entry.isFile && TEST_MODULE.test(entry.name)) out.push(path);
  }
  return out;
}

/** The modules `deno test --doc` reads examples from: TypeScript and JavaScript files. */
const DOC_MODULE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/** The modules under `dir` that are not test modules (the ones with doc tests to run). */
function sourceModules(dir: string, excluded: string[], out: string[] = []): string[] {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.name === "node_modules") continue;
    if (excluded.some((e) => path === e || path.startsWith(e + "/"))) continue;
    if (entry.isDirectory) sourceModules(path, excluded, out);
    else if (entry.isFile && DOC_MODULE.test(entry.name) && !TEST_MODULE.test(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

/**
 * The doc test process of the modules under `dir`: one `deno test` of `scripts/doc_examples.ts`,
 * given every module that has examples and is not a test module (whose tests, examples aside,
 * run in processes of their own) nor excluded.
 */
export function docTestJob(dir: string, excluded: string[]): Job {
  const modules = sourceModules(dir, excluded)
    .filter((path) => examples(Deno.readTextFileSync(path)).length > 0)
    .map((path) => relative(dir, path)).sort();
  return {
    name: "doc tests",
    args: [...denoArgs, ...sanitizers, DOC_EXAMPLES, "--", ...modules],
    cwd: dir,
    weight: Infinity,
    early: true,
  };
}

/**
 * One `deno test` process to run: its name in the output, its arguments, its size in bytes, and
 * whether it runs before the ready file comes (`early`: the doc tests need neither Docker nor
 * Debian's packages).
 */
export type Job = { name: string; args: string[]; weight: number; cwd?: string; early?: boolean };
type Outcome = {
  job: Job;
  code: number | null;
  seconds: number;
  output: string;
  passed: number;
  failed: number;
  steps: number;
};

/**
 * The processes of a run, in the order they start: for the whole of `dir` (no `paths`), the doc
 * tests, then every test file from the largest down; else the test files of `paths` (files, or
 * folders to look in) alone.
 */
export function runJobs(dir: string, excluded: string[], paths: string[] = []): Job[] {
  const modules = (paths.length > 0 ? paths : [dir]).flatMap((p) =>
    Deno.statSync(p).isDirectory ? testModules(p, excluded) : [p]
  );
  const jobs: Job[] = modules.map((path) => ({
    name: relative(dir, path),
    args: [...denoArgs, ...sanitizers, path],
    weight: Deno.statSync(path).size,
  }));
  if (paths.length === 0) jobs.push(docTestJob(dir, excluded));
  // Largest first, the doc tests (of infinite weight) before all.
  return jobs.sort((a, b) => Number(b.weight > a.weight) - Number(b.weight < a.weight));
}

/** Runs one `deno test` process, its stdout and stderr in one file so their lines keep their order. */
function run(job: Job, logDir: string): Promise<Outcome> {
  const log = join(logDir, `${crypto.randomUUID()}.log`);
  const fd = openSync(log, "w");
  const started = performance.now();
  const child = spawn(Deno.execPath(), job.args, {
    cwd: job.cwd ?? root,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const timer = setTimeout(() => child.kill("SIGKILL"), fileTimeout);
  return new Promise((done) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      let output = Deno.readTextFileSync(log);
      if (code === null) output += `\n${job.name}: killed after ${fileTimeout / 1000} s\n`;
      const summary = output.match(
        /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed/m,
      );
      const passed = Number(summary?.[1] ?? 0);
      const steps = Number(summary?.[2] ?? 0);
      let failed = Number(summary?.[3] ?? 0);
      // A process that failed without a failed test (a load error, a crash, a kill) counts as one.
      if (code !== 0 && failed === 0) failed = 1;
      done({ job, code, seconds, output, passed, failed, steps });
    });
  });
}

/**
 * The errors part of a failed file's output (`deno test`'s `ERRORS` section, or the output's last
 * lines when it has none, as after a crash or a kill), at most `lines` lines: the summary repeats
 * it so that the run's last lines say why it failed, however long the output before them.
 */
export function failureExcerpt(output: string, lines = 40): string {
  const start = output.lastIndexOf(" ERRORS ");
  const end = start < 0 ? -1 : output.indexOf(" FAILURES ", start);
  const part = start < 0
    ? output.trimEnd().split("\n").slice(-lines)
    : output.slice(start, end < 0 ? undefined : end).trim().split("\n");
  const kept = part.slice(0, lines);
  if (part.length > lines) kept.push(`… (${part.length - lines} more lines in the output above)`);
  return kept.map((line) => `    ${line}`.trimEnd()).join("\n");
}

/**
 * Waits for the ready file at `path`: `undefined` once it exists and is empty, or why the test
 * files cannot run (its text, or that it did not appear within `timeoutMs`). Looked at every
 * half second.
 */
async function waitForReady(
  path: string,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const text = (await Deno.readTextFile(path)).trim();
      return text === "" ? undefined : text;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (performance.now() >= deadline) {
      return `${path} did not appear within ${Math.round(timeoutMs / 1000)} s`;
    }
    await new Promise((wake) => setTimeout(wake, 500));
  }
}

/** `deno test`'s way of writing a duration: `42s`, `3m7s`. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

if (import.meta.main) {
  const started = performance.now();
  const excluded = excludedPaths();
  const paths = Deno.args.map((a) => resolve(a));
  const queue = runJobs(root, excluded, paths);
  const testFiles = queue.filter((job) => !job.early);
  const logDir = Deno.makeTempDirSync({ prefix: "cloudknot-tests-" });
  const outcomes: Outcome[] = [];
  const encoder = new TextEncoder();
  // The test files wait for the ready file, once for all of them (the doc tests do not).
  let ready: Promise<string | undefined> | undefined;
  let notReady: string | undefined;
  /** When the ready file came, in seconds from the start, for the summary. */
  let readyAt: number | undefined;
  await Promise.all(
    Array.from({ length: Math.max(1, jobs) }, async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        if (readyFile !== undefined && !job.early) {
          notReady ??= await (ready ??= waitForReady(readyFile, readyTimeout).finally(() => {
            readyAt = (performance.now() - started) / 1000;
          }));
          if (notReady !== undefined) break;
        }
        const outcome = await run(job, logDir);
        outcomes.push(outcome);
        Deno.stdout.writeSync(encoder.encode(outcome.output));
      }
    }),
  );
  Deno.removeSync(logDir, { recursive: true });
  if (notReady !== undefined) {
    // No test file ran: they all wait for the same file.
    outcomes.push({
      job: { name: "test files", args: [], weight: 0 },
      code: 1,
      seconds: 0,
      output: `\nnone of the ${testFiles.length} test files ran: ${notReady}\n`,
      passed: 0,
      failed: 1,
      steps: 0,
    });
    Deno.stdout.writeSync(encoder.encode(outcomes.at(-1)!.output));
  }

  const sum = (key: "passed" | "failed" | "steps") => outcomes.reduce((n, o) => n + o[key], 0);
  const slowest = [...outcomes].sort((a, b) => b.seconds - a.seconds).slice(0, 10);
  console.log("\nslowest files:");
  for (const o of slowest) console.log(`  ${duration(o.seconds).padStart(6)}  ${o.job.name}`);
  if (readyAt !== undefined) {
    console.log(
      `\nthe ready file came ${duration(readyAt)} into the run: the test files started then`,
    );
  }
  const failing = outcomes.filter((o) => o.failed > 0);
  if (failing.length > 0) {
    console.log("\nfailing files:");
    for (const o of failing) {
      console.log(`  ${o.job.name} (${o.failed} failed)`);
      console.log(failureExcerpt(o.output));
    }
  }
  const failed = sum("failed");
  console.log(
    `\n${failed === 0 ? "ok" : "FAILED"} | ${sum("passed")} passed (${sum("steps")} steps) | ` +
      `${failed} failed (${duration((performance.now() - started) / 1000)}, ` +
      `${outcomes.length} processes, ${jobs} at once)`,
  );
  Deno.exit(failed === 0 ? 0 : 1);
}
