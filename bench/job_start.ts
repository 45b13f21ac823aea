// Job start to function call with the S3 client ready, against the Python
// original's preamble, measured in the same run (part of deno task bench:image).
//
//  - cloudknot: `deno run runtime.js --run s3://… --index 0`, the command a
//    Batch container runs, against the emulator's S3 on loopback; the function
//    returns the time it was called, which its record carries back. From the
//    spawn to that call, the job loads runtime.js and function.js, opens its
//    store (the credential chain and an S3 client) and reads its item: its
//    environment has CLOUDKNOT_INPUTS_BYTES as the AWS target sets it for an
//    inputs object of 64 KiB or less (this one's is 14 bytes), so a job of this
//    runtime reads the whole object beside its index entry, one round trip,
//    and a job of an older runtime (the second argument's) ignores it and
//    makes two ranged GETs one after the other. Container: the DENO_DIR an image leaves, which its build
//    filled by loading runtime.js once (warmCodeCacheCommand, the Dockerfile's
//    RUN), so what a container's job compiles is function.js alone; cold: an
//    empty DENO_DIR (an image without that step); warm: the DENO_DIR of the
//    cold run again (runtime.js and function.js both in Deno's V8 code cache).
//  - the original: `python3 -c 'import boto3, cloudpickle; boto3.client("s3")'`
//    with the boto3 and cloudpickle this machine has, to its exit: the
//    preamble before its job can download anything.
//  - the floors: `deno run` of an empty module (cold and warm), `python3 -c pass`;
//    and the parts of a job: loading runtime.js (the image's warm-up command
//    again, in the DENO_DIR it filled: a process that loads the runtime and
//    starts no job), and a worker's start to the function's call (a
//    WorkerPool in this process running worker.js in that DENO_DIR, from the
//    item added to the call; its item is in memory).
//  - with a folder as second argument (`bench/job_start.ts 10 /tmp/before`),
//    the container's row again for the runtime.js and worker.js in that
//    folder (another commit's bundles), interleaved with this one's: a
//    before-and-after in the same load.
import { join } from "node:path";
import { encode } from "../src/job/codec.ts";
import {
  artifactFromFunc,
  bundleRuntime,
  decodeRecord,
  INPUTS_BYTES_ENV,
  listRecords,
  WorkerPool,
  writePayload,
} from "../src/job/mod.ts";
import { warmCodeCacheCommand } from "../src/image/mod.ts";
import { S3Store } from "../src/store/mod.ts";
import { startEmulator } from "../tests/emulator/mod.ts";
import { median } from "./median.ts";
import { sessionFor } from "../tests/support/aws_session.ts";

/** Medians (min–max) in milliseconds, by row. */
export interface JobStartFigures {
  rounds: number;
  runtimeBytes: number;
  workerBytes: number;
  rows: { label: string; ms: number[] }[];
}

const now = () => performance.timeOrigin + performance.now();

/** Runs every measure `rounds` times, interleaved. */
export async function measureJobStart(rounds = 10, against?: string): Promise<JobStartFigures> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-job-start-" });
  const emu = await startEmulator();
  try {
    const runtime = await bundleRuntime({ cacheDir: false });
    const app = join(dir, "app");
    await Deno.mkdir(app);
    await Deno.writeTextFile(join(app, "runtime.js"), runtime.source);
    await Deno.writeTextFile(join(app, "worker.js"), runtime.worker!);
    const artifact = await artifactFromFunc((_: number) =>
      performance.timeOrigin + performance.now()
    );
    await Deno.writeTextFile(join(app, "function.js"), artifact.source);
    await Deno.writeTextFile(join(app, "empty.js"), "");
    const other = join(dir, "other");
    if (against !== undefined) {
      await Deno.mkdir(other);
      for (const file of ["runtime.js", "worker.js"]) {
        await Deno.copyFile(join(against, file), join(other, file));
      }
      await Deno.writeTextFile(join(other, "function.js"), artifact.source);
    }

    const session = await sessionFor(emu);
    await session.s3.createBucket({ Bucket: "job-start" });
    const env = {
      ...emu.env,
      AWS_CONFIG_FILE: "/nonexistent/config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    };

    const rows = {
      image: [] as number[],
      against: [] as number[],
      load: [] as number[],
      worker: [] as number[],
      cold: [] as number[],
      warm: [] as number[],
      python: [] as number[],
      denoFloorCold: [] as number[],
      denoFloor: [] as number[],
      pythonFloor: [] as number[],
    };
    const deno = (args: string[], denoDir: string) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-prompt", "--no-remote", "--no-npm", "--no-config", ...args],
        cwd: app,
        env: { ...env, DENO_DIR: denoDir },
        stdout: "null",
        stderr: "piped",
      });
    const wall = async (command: Deno.Command) => {
      const start = now();
      const out = await command.output();
      if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
      return now() - start;
    };
    // Each measurement is the first attempt of a run of its own: a later
    // attempt of the same run would skip the item its first one recorded.
    const item = encode(0);
    const newRun = async (runId: string) => {
      const store = new S3Store({ session, bucket: "job-start", prefix: runId });
      await writePayload(store, [item], {
        version: 1,
        runId,
        knot: "job-start",
        count: 1,
        starmap: false,
        createdAt: 0,
        attempts: 3,
      });
      return store;
    };
    for (let round = 0; round < rounds; round++) {
      const denoDir = join(dir, `deno_dir_${round}`);
      const imageDir = join(dir, `image_dir_${round}`);
      const otherDir = join(dir, `other_dir_${round}`);
      const warm = async (folder: string, denoDir: string) => {
        const warmed = await new Deno.Command(Deno.execPath(), {
          args: warmCodeCacheCommand(new URL(`file://${folder}/runtime.js`).href),
          cwd: folder,
          env: { ...env, DENO_DIR: denoDir },
          stdout: "null",
          stderr: "piped",
        }).output();
        if (!warmed.success) throw new Error(new TextDecoder().decode(warmed.stderr));
      };
      await warm(app, imageDir);
      if (against !== undefined) await warm(other, otherDir);
      for (
        const [name, row, jobDir, folder] of [
          ["cold", rows.cold, denoDir, app],
          ["warm", rows.warm, denoDir, app],
          ["image", rows.image, imageDir, app],
          ...(against !== undefined ? [["against", rows.against, otherDir, other] as const] : []),
        ] as const
      ) {
        const store = await newRun(`r${round}-${name}`);
        const start = now();
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--no-prompt", "--no-remote", "--no-npm", "--no-config"]
            .concat(["runtime.js", "--run", store.url, "--index", "0"]),
          cwd: folder,
          // As the AWS target submits a run whose inputs object is this small.
          env: { ...env, DENO_DIR: jobDir, [INPUTS_BYTES_ENV]: String(item.byteLength) },
          stdout: "null",
          stderr: "piped",
        }).output();
        if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
        // A job stamps its record's key with when it wrote it.
        const written = (await Array.fromAsync(listRecords(store)))
          .find((r) => r.index === 0 && r.attempt === 1);
        const record = decodeRecord((await store.get(written!.key))!);
        if (record.status !== "ok") throw new Error(JSON.stringify(record));
        row.push((record.value as number) - start);
      }
      // The part of a job that is loading runtime.js: the image's warm-up command again.
      rows.load.push(
        await wall(
          new Deno.Command(Deno.execPath(), {
            args: warmCodeCacheCommand(new URL(`file://${app}/runtime.js`).href),
            cwd: app,
            env: { ...env, DENO_DIR: imageDir },
            stdout: "null",
            stderr: "piped",
          }),
        ),
      );
      // A worker's start to the function's call: a pool as a job makes it.
      let called = 0;
      const start = now();
      const pool = new WorkerPool({
        functionUrl: new URL(`file://${app}/function.js`).href,
        starmap: false,
        concurrency: 1,
        attempts: 1,
        jobId: "job-start",
        denoFlags: ["--cached-only"],
        env: { DENO_DIR: imageDir },
        worker: { url: new URL(`file://${app}/worker.js`).href, args: [] },
        source: { read: () => [encode(0)] },
        sink: {
          started() {},
          output() {},
          store(ended) {
            const record = decodeRecord(ended[0]!.bytes);
            if (record.status !== "ok") throw new Error(JSON.stringify(record));
            called = record.value as number;
          },
          ended() {},
        },
      });
      pool.add(0);
      pool.close();
      await pool.done;
      rows.worker.push(called - start);
      rows.denoFloorCold.push(await wall(deno(["empty.js"], join(dir, `empty_dir_${round}`))));
      rows.denoFloor.push(await wall(deno(["empty.js"], denoDir)));
      rows.python.push(
        await wall(
          new Deno.Command("python3", {
            args: ["-c", 'import boto3, cloudpickle; boto3.client("s3")'],
            env,
            stdout: "null",
            stderr: "piped",
          }),
        ),
      );
      rows.pythonFloor.push(
        await wall(new Deno.Command("python3", { args: ["-c", "pass"], stdout: "null" })),
      );
    }
    return {
      rounds,
      runtimeBytes: new TextEncoder().encode(runtime.source).length,
      workerBytes: new TextEncoder().encode(runtime.worker!).length,
      rows: [
        {
          label: "cloudknot: job start to function call in a container (the image's DENO_DIR)",
          ms: rows.image,
        },
        ...(against !== undefined
          ? [{ label: `cloudknot: the same with the bundles of ${against}`, ms: rows.against }]
          : []),
        { label: "cloudknot: the same, cold (empty DENO_DIR)", ms: rows.cold },
        { label: "cloudknot: the same, warm (DENO_DIR of the cold run)", ms: rows.warm },
        {
          label: 'the original\'s preamble: `import boto3, cloudpickle; boto3.client("s3")`',
          ms: rows.python,
        },
        {
          label: "floor: `deno run` of an empty module, cold (empty DENO_DIR)",
          ms: rows.denoFloorCold,
        },
        { label: "floor: `deno run` of an empty module, warm", ms: rows.denoFloor },
        {
          label: "part: `deno run` that loads runtime.js and starts no job (the image's DENO_DIR)",
          ms: rows.load,
        },
        {
          label: "part: a worker's start to the function's call (worker.js, the image's DENO_DIR)",
          ms: rows.worker,
        },
        { label: "floor: `python3 -c pass`", ms: rows.pythonFloor },
      ],
    };
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const figures = await measureJobStart(Number(Deno.args[0] ?? 10), Deno.args[1]);
  printJobStart(figures);
}

/** Prints the table of BENCHMARKS.md. */
export function printJobStart(f: JobStartFigures): void {
  const python = median(f.rows.find((r) => r.label.startsWith("the original"))!.ms);
  console.log(
    `\nruntime.js: ${f.runtimeBytes} bytes, worker.js: ${f.workerBytes} bytes. ` +
      `${f.rounds} rounds, median (min–max).\n`,
  );
  console.log("| measure | ms | of the original's preamble |");
  console.log("|---|---|---|");
  for (const row of f.rows) {
    const m = median(row.ms);
    console.log(
      `| ${row.label} | ${m.toFixed(0)} (${Math.min(...row.ms).toFixed(0)}–${
        Math.max(...row.ms).toFixed(0)
      }) | ${(m / python).toFixed(2)} |`,
    );
  }
}
