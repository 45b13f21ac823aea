// deno task bench:image: the DockerImage figures of BENCHMARKS.md.
//
//  (a) bytes a dependency-free function's image adds over its base image;
//  (b) the time to rebuild after a one-line change to the function, with a warm
//      cache: DockerImage.create (which rewrites function.js) plus build(); and,
//      for scale, the first build without the cache (noCache: true);
//  (c) the same two figures for a module function that imports an npm package;
//  (d) job start to function call with the S3 client ready, against the
//      Python original's preamble (bench/job_start.ts).
//
// It needs a Docker engine. The base image is the offline Deno base of the tests
// (tests/support/base_image.ts), built from this machine's deno binary.
import { join } from "node:path";
import { DockerImage } from "../mod.ts";
import { StateFile } from "../src/state/mod.ts";
import { Docker } from "../src/docker/mod.ts";
import { ensureBaseImage } from "../tests/support/base_image.ts";
import { measureJobStart, printJobStart } from "./job_start.ts";
import { median } from "./median.ts";

const ROUNDS = 5;
const docker = new Docker({ logger: () => {} });
const base = await ensureBaseImage({ docker });
const baseSize = (await docker.inspectImage(base))!.Size;
const root = await Deno.makeTempDir({ prefix: "cloudknot-image-bench-" });
const state = new StateFile({ path: join(root, "cloudknot"), env: () => undefined });
const cloudknotDir = join(root, "ck");
const common = { baseImage: base, state, docker, cloudknotDir };

/** A function whose source differs from the others' in one line. */
function variant(i: number): (x: number) => number {
  return new Function(`return (x) => {\n  const offset = ${i};\n  return x * x + offset;\n}`)();
}

async function added(
  ref: string,
): Promise<{ size: number; bytes: number; lastLayer: number }> {
  const size = (await docker.inspectImage(ref))!.Size;
  const { stdout } = await docker.command(["history", "--no-trunc", "--format", "{{json .}}", ref]);
  const rows = stdout.trim().split("\n").map((l) => JSON.parse(l) as { Size: string });
  return {
    size,
    bytes: size - baseSize,
    lastLayer: parseSize(rows.find((r) => r.Size !== "0B")?.Size),
  };
}

function parseSize(text = "0B"): number {
  const m = /^([\d.]+)\s*([kMG]?B)$/.exec(text);
  if (!m) return Number.NaN;
  return Number(m[1]) * ({ B: 1, kB: 1e3, MB: 1e6, GB: 1e9 } as Record<string, number>)[m[2]!]!;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

interface Scenario {
  label: string;
  size: number;
  bytes: number;
  lastLayer: number;
  firstMs: number;
  createMs: number[];
  buildMs: number[];
}

async function scenario(
  label: string,
  name: string,
  make: (i: number) => Promise<Parameters<typeof DockerImage.create>[0]>,
): Promise<Scenario> {
  const images: DockerImage[] = [];
  try {
    const [first, firstMs] = await timed(async () => {
      const image = await DockerImage.create({ ...common, ...(await make(0)), name });
      await image.build({ tags: "r0", noCache: true });
      return image;
    });
    images.push(first);
    const size = await added(first.images.at(-1)!);
    const createMs: number[] = [];
    const buildMs: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const [image, c] = await timed(async () =>
        DockerImage.create({ ...common, ...(await make(i)), name })
      );
      const [, b] = await timed(() => image.build({ tags: `r${i}` }));
      images.push(image);
      createMs.push(c);
      buildMs.push(b);
    }
    return { label, ...size, firstMs, createMs, buildMs };
  } finally {
    await images.at(-1)?.clobber();
  }
}

const moduleDir = join(root, "module");
await Deno.mkdir(moduleDir);
const results: Scenario[] = [];
try {
  results.push(
    await scenario(
      "dependency-free `func`",
      "bench-func",
      (i) => Promise.resolve({ func: variant(i) }),
    ),
  );
  results.push(
    await scenario("`module` importing `npm:is-number@7.0.0`", "bench-npm", async (i) => {
      const module = join(moduleDir, "job.ts");
      await Deno.writeTextFile(
        module,
        'import isNumber from "npm:is-number@7.0.0";\n\n' +
          `export function classify(value: unknown): string {\n` +
          `  const label = "number-${i}";\n` +
          `  return isNumber(value) ? label : "other";\n}\n`,
      );
      return { module, exportName: "classify" };
    }),
  );
} finally {
  await Deno.remove(root, { recursive: true });
}

const kib = (n: number) => (n / 1024).toFixed(1);
const s = (ms: number) => (ms / 1000).toFixed(2);
console.log(
  `Base image ${base}: ${(baseSize / 2 ** 20).toFixed(1)} MiB. ` +
    `Rebuilds: ${ROUNDS} one-line changes each, median (min–max).\n`,
);
console.log(
  "| function | image size | bytes added over the base | function layer | cold build s | rebuild s (create + build) | of which build s |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of results) {
  const total = r.createMs.map((c, i) => c + r.buildMs[i]!);
  console.log(
    `| ${r.label} | ${(r.size / 2 ** 20).toFixed(1)} MiB | ${r.bytes} B (${kib(r.bytes)} KiB) | ${
      kib(r.lastLayer)
    } KiB | ${s(r.firstMs)} | ${s(median(total))} (${s(Math.min(...total))}–${
      s(Math.max(...total))
    }) | ${s(median(r.buildMs))} |`,
  );
}

printJobStart(await measureJobStart());
