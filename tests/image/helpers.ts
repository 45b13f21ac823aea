/**
 * Helpers of the DockerImage and DockerRepo tests: a temporary
 * cloudknot world, one job run in a container, and
 * base images that cannot carry a job.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { encode } from "../../src/job/codec.ts";
import { StateFile } from "../../src/state/mod.ts";
import { Docker, type DockerOutputLine } from "../../src/docker/mod.ts";
import { decodeRecord, type JobRecord, RUN_KEYS, writePayload } from "../../src/job/mod.ts";
import { LocalStore } from "../../src/store/mod.ts";

/** A temporary cloudknot world: a config file, a cloudknot dir and a driver that keeps its output. */
export interface World extends AsyncDisposable {
  /** The temporary root. */
  root: string;
  /** The cloudknot config file. */
  state: StateFile;
  /** The cloudknot directory. */
  cloudknotDir: string;
  /** A driver whose output goes to `lines`. */
  docker: Docker;
  /** The driver's output. */
  lines: DockerOutputLine[];
}

/** Makes a temporary world; disposing it removes the directory. */
export async function tempWorld(): Promise<World> {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-image-test-" });
  const lines: DockerOutputLine[] = [];
  return {
    root,
    state: new StateFile({ path: join(root, "cloudknot"), env: () => undefined }),
    cloudknotDir: join(root, "ck"),
    docker: new Docker({ logger: (l) => lines.push(l) }),
    lines,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** What one job attempt in a container gave. */
export interface JobOutcome {
  /** The container's exit code. */
  code: number;
  /** The container's stderr. */
  stderr: string;
  /** The record it wrote. */
  record: JobRecord | undefined;
}

/**
 * Writes a run of `items` into a temporary directory that uid 1000 may
 * write, runs `docker run --rm -v <dir>:/data <image> --run file:///data/run
 * --index <index>`, and reads back the record of attempt 1.
 */
export async function runInContainer(
  docker: Docker,
  image: string,
  items: unknown[],
  options: { index?: number; network?: string; starmap?: boolean } = {},
): Promise<JobOutcome> {
  const data = await Deno.makeTempDir({ prefix: "cloudknot-image-run-" });
  try {
    const run = new LocalStore(join(data, "run"));
    await writePayload(run, items.map((v) => encode(v)), {
      version: 1,
      runId: "r",
      knot: "image-test",
      count: items.length,
      starmap: options.starmap ?? false,
      createdAt: 0,
      attempts: 1,
    });
    await chmodAll(data);
    const index = options.index ?? 0;
    const out = await docker.run(image, {
      command: ["--run", "file:///data/run", "--index", String(index)],
      mounts: [{ source: data, target: "/data" }],
      ...(options.network !== undefined ? { network: options.network } : {}),
    });
    const bytes = await run.get(RUN_KEYS.record(index, 1));
    return {
      code: out.code,
      stderr: out.stderr,
      record: bytes === undefined ? undefined : decodeRecord(bytes),
    };
  } finally {
    await Deno.remove(data, { recursive: true });
  }
}

async function chmodAll(path: string): Promise<void> {
  const out = await new Deno.Command("chmod", { args: ["-R", "a+rwX", path] }).output();
  if (!out.success) throw new Error(`chmod failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Imports a root filesystem as an image, unless an image of that name exists. */
async function importImage(
  docker: Docker,
  ref: string,
  files: Record<string, string | { copyOf: string; mode?: number }>,
): Promise<string> {
  if (await docker.inspectImage(ref) !== undefined) return ref;
  const tmp = await Deno.makeTempDir({ prefix: "cloudknot-bad-base-" });
  try {
    const rootfs = join(tmp, "rootfs");
    for (const [path, content] of Object.entries(files)) {
      await Deno.mkdir(dirname(join(rootfs, path)), { recursive: true });
      if (typeof content === "string") await Deno.writeTextFile(join(rootfs, path), content);
      else {
        await Deno.copyFile(content.copyOf, join(rootfs, path));
        if (content.mode !== undefined) await Deno.chmod(join(rootfs, path), content.mode);
      }
    }
    const tar = join(tmp, "rootfs.tar");
    const out = await new Deno.Command("tar", {
      args: ["-C", rootfs, "--owner=0", "--group=0", "-cf", tar, "."],
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    await docker.command([
      "import",
      "--change",
      "ENV PATH=/usr/local/bin:/usr/bin:/bin",
      tar,
      ref,
    ]);
    return ref;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** A base image with /etc only: no deno anywhere. */
export function ensureNoDenoImage(docker: Docker): Promise<string> {
  return importImage(docker, "cloudknot-test/no-deno:1", {
    "/etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\n",
    "/etc/group": "root:x:0:\n",
  });
}

/**
 * A base image whose `deno` does not work: it is dash, which answers
 * `--version` with "Illegal option --" and exit code 2.
 */
export async function ensureBrokenDenoImage(docker: Docker): Promise<string> {
  const ref = "cloudknot-test/broken-deno:1";
  if (await docker.inspectImage(ref) !== undefined) return ref;
  const files: Record<string, { copyOf: string; mode?: number }> = {
    "/usr/local/bin/deno": { copyOf: await Deno.realPath("/bin/dash"), mode: 0o755 },
  };
  const ldd = await new Deno.Command("ldd", { args: ["/bin/dash"] }).output();
  for (const line of new TextDecoder().decode(ldd.stdout).split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m) files[m[1]!] = { copyOf: await Deno.realPath(m[1]!) };
  }
  return await importImage(docker, ref, files);
}

/** Reads a value record's value, failing the test with the error record otherwise. */
export function valueOf(record: JobRecord | undefined): unknown {
  if (record?.status !== "ok") {
    throw new Error(`Expected a result record, got ${JSON.stringify(record)}`);
  }
  return record.value;
}
