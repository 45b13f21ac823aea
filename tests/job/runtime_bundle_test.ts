// bundleRuntime: the job entry point as one self-contained file, the same
// bytes for the same sources, cached by content.
import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "../../src/job/codec.ts";
import {
  artifactFromFunc,
  bundleRuntime,
  RuntimeBundleError,
  writePayload,
} from "../../src/job/mod.ts";
import { LocalStore } from "../../src/store/mod.ts";
import { readRecord } from "../support/records.ts";

const moduleUrl = new URL("../../src/job/runtime_bundle.ts", import.meta.url).href;

/** Bundles in another process, so that nothing is shared with this one but the disk cache. */
async function bundleElsewhere(
  options: { entry?: string; cacheDir: string },
): Promise<{ hash: string; key: string; tail: string; workerTail?: string }> {
  const code = `
    import { bundleRuntime } from ${JSON.stringify(moduleUrl)};
    const b = await bundleRuntime(${JSON.stringify(options)});
    console.log(JSON.stringify({
      hash: b.hash, key: b.key, tail: b.source.slice(-60), workerTail: b.worker?.slice(-60),
    }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.ok(out.success, text.decode(out.stderr));
  return JSON.parse(text.decode(out.stdout));
}

/**
 * Lays out an app folder as an image does (runtime.js, worker.js when given,
 * function.js), writes a run of `inputs`, and runs runtime.js on it with
 * `args` after `--run`, with no network and an empty DENO_DIR.
 */
async function runBundled(
  dir: string,
  files: { runtime: string; worker: string; func: (x: never) => unknown },
  inputs: unknown[],
  args: string[],
  env: Record<string, string> = {},
): Promise<{ run: LocalStore; app: string }> {
  const app = join(dir, "app");
  await Deno.mkdir(app);
  await Deno.writeTextFile(join(app, "runtime.js"), files.runtime);
  await Deno.writeTextFile(join(app, "worker.js"), files.worker);
  await Deno.writeTextFile(join(app, "function.js"), (await artifactFromFunc(files.func)).source);
  const run = new LocalStore(join(dir, "run"));
  await writePayload(run, inputs.map((x) => encode(x)), {
    version: 1,
    runId: "r",
    knot: "k",
    count: inputs.length,
    starmap: false,
    createdAt: 0,
    attempts: 1,
  });
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", "--no-remote", "--no-npm", join(app, "runtime.js")]
      .concat(["--run", run.url, ...args]),
    cwd: dir,
    env: { DENO_DIR: join(dir, "deno_dir"), ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return { run, app };
}

Deno.test("the bundled entry point is deterministic and runs a job with only its worker beside it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-runtime-test-" });
  try {
    const bundle = await bundleRuntime({ cacheDir: join(dir, "cache-a") });
    const elsewhere = await bundleElsewhere({ cacheDir: join(dir, "cache-b") });
    assert.equal(elsewhere.hash, bundle.hash);
    assert.equal(elsewhere.key, bundle.key);
    // One file with no static import at all: the first node: import of a
    // process loads Deno's Node layer (BENCHMARKS.md, "Job start"). What is
    // left is imported when called (node:path and node:url on Windows).
    const imports = [
      ...bundle.source.matchAll(/(?:^|[;}])\s*import\s*(?:[\w{*][^;"]*?from\s*)?"([^"]+)"/gm),
    ]
      .map((m) => m[1]);
    assert.deepEqual(imports, []);
    const later = [...bundle.source.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]);
    assert.ok(later.length > 0 && later.every((s) => s!.startsWith("node:")), later.join(", "));

    // runtime.js and worker.js next to function.js run a job, with no network and an empty DENO_DIR.
    const { run } = await runBundled(
      dir,
      {
        runtime: bundle.source,
        worker: bundle.worker!,
        func: (x: { n: number }) => ({ twice: x.n * 2 }),
      },
      [{ n: 1 }, { n: 21 }],
      ["--offset", "1"],
      { AWS_BATCH_JOB_ARRAY_INDEX: "0" },
    );
    const record = (await readRecord(run, 1, 1))!;
    assert.deepEqual(record.status === "ok" && record.value, { twice: 42 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a job runs its items in worker.js beside runtime.js, which loads none of Deno's Node layer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-runtime-worker-" });
  try {
    const bundle = await bundleRuntime({ cacheDir: join(dir, "cache") });
    // Not one import: no node: built-in, whose first import loads Deno's Node layer.
    assert.ok(bundle.worker !== undefined);
    assert.deepEqual(
      // An import statement starts a statement (the string "import", a permission kind, does not).
      [
        ...bundle.worker.matchAll(/(?:^|[;}\n])\s*import\s*(?:[\w{*][^;"]*?from\s*)?"([^"]+)"/g),
        ...bundle.worker.matchAll(/\bimport\(\s*["'`]([^"'`]+)/g),
      ].map((m) => m[1]),
      [],
    );
    assert.ok(bundle.worker.length * 2 < bundle.source.length);
    // The disk cache gives both files back.
    const cached = await bundleElsewhere({ cacheDir: join(dir, "cache") });
    assert.equal(cached.hash, bundle.hash);
    assert.equal(cached.workerTail, bundle.worker.slice(-60));

    // The function tells which program its worker process runs.
    const { run, app } = await runBundled(
      dir,
      { runtime: bundle.source, worker: bundle.worker, func: (_: number) => Deno.mainModule },
      [0],
      ["--index", "0"],
    );
    const record = (await readRecord(run, 0, 1))!;
    assert.deepEqual(
      record.status === "ok" && record.value,
      new URL(`file://${join(app, "worker.js")}`).href,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The most bytes runtime.js may have: it is in every image and read by every job. */
const RUNTIME_BUDGET = 150_000;

Deno.test("the job runtime holds only what a job runs, within its byte budget", async () => {
  const bundle = await bundleRuntime({ cacheDir: false });
  const bytes = new TextEncoder().encode(bundle.source).length;
  assert.ok(
    bytes <= RUNTIME_BUDGET,
    `runtime.js is ${bytes} bytes, over its budget of ${RUNTIME_BUDGET}: ` +
      "look for a new import of the job entry point's module graph (deno info src/job/main.ts)",
  );
  // What the bundle was made from: the S3 store's client, never another
  // service's, nor the AwsSession that builds them all.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../../src/job/main.ts", import.meta.url).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
    npmPackages?: Record<string, unknown>;
  };
  const files = graph.modules.map((m) => m.specifier.replace(/^.*\/src\//, "src/"));
  assert.ok(files.includes("src/aws/services/s3.ts"));
  for (const unneeded of ["batch", "ecr", "iam", "ec2", "logs"]) {
    assert.ok(!files.includes(`src/aws/services/${unneeded}.ts`), `the job loads ${unneeded}.ts`);
  }
  assert.ok(!files.includes("src/aws/session.ts"), "the job loads the whole AwsSession");
  assert.deepEqual(
    Object.keys(graph.npmPackages ?? {}).map((p) => p.replace(/@[^@]*$/, "")).sort(),
    ["@rgrove/parse-xml", "aws4fetch"],
  );
});

Deno.test("bundles are cached by the content of their module graph", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-runtime-cache-" });
  try {
    const cacheDir = join(dir, "cache");
    const entry = join(dir, "entry.ts");
    const dep = join(dir, "dep.ts");
    await Deno.writeTextFile(entry, 'import { answer } from "./dep.ts";\nconsole.log(answer);\n');
    await Deno.writeTextFile(dep, "export const answer: number = 41;\n");
    const first = await bundleRuntime({ entry, cacheDir });
    assert.match(first.source, /41/);
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(cacheDir))).map((e) => e.name),
      [`${first.key}.js`],
    );

    // An edit anywhere in the graph makes a new bundle.
    await Deno.writeTextFile(dep, "export const answer: number = 42;\n");
    const second = await bundleRuntime({ entry, cacheDir });
    assert.notEqual(second.key, first.key);
    assert.match(second.source, /42/);

    // The same sources again come from the disk cache, even in another process.
    await Deno.writeTextFile(dep, "export const answer: number = 41;\n");
    await Deno.writeTextFile(join(cacheDir, `${first.key}.js`), first.source + "// cached\n");
    const third = await bundleElsewhere({ entry, cacheDir });
    assert.equal(third.key, first.key);
    assert.match(third.tail, /\/\/ cached\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an entry point that cannot be bundled is a RuntimeBundleError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-runtime-bad-" });
  try {
    const entry = join(dir, "entry.ts");
    await Deno.writeTextFile(
      entry,
      'import { nothing } from "./missing.ts";\nconsole.log(nothing);\n',
    );
    const e = await bundleRuntime({ entry, cacheDir: false }).catch((e) => e);
    assert.ok(e instanceof RuntimeBundleError, String(e));
    assert.equal(e.entry, `file://${entry}`);
    assert.match(e.message, /missing\.ts/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
