/**
 * Builds a minimal Deno base image from the local deno binary, because Docker
 * Hub cannot be reached here. The image holds the deno binary, the shared
 * libraries `ldd` lists for it, `/etc/passwd` and `/etc/group` with `root`
 * and `deno` (uid and gid 1000), and `/tmp` (mode 1777). It has no shell.
 *
 * It is idempotent: an image whose labels name the same deno version and
 * binary hash is reused. As a CLI it prints the image reference:
 *
 * ```sh
 * deno run -A tests/support/base_image.ts
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Docker } from "../../src/docker/docker.ts";

/** The label holding the deno version. */
export const VERSION_LABEL = "org.cloudknot.test.deno-version";
/** The label holding the SHA-256 of the deno binary. */
export const HASH_LABEL = "org.cloudknot.test.deno-sha256";

/** Options of {@linkcode ensureBaseImage}. */
export interface BaseImageOptions {
  /** The driver; by default one that logs nothing. */
  docker?: Docker;
  /**
   * The image name.
   *
   * @default {"cloudknot-test/deno"}
   */
  name?: string;
  /**
   * The tag.
   *
   * @default {Deno.version.deno}
   */
  tag?: string;
  /**
   * The deno binary to copy; symlinks are followed.
   *
   * @default {Deno.execPath()}
   */
  denoBinary?: string;
  /** Rebuild even when an up-to-date image exists. */
  force?: boolean;
}

/**
 * Makes sure the offline Deno base image exists and matches the deno binary.
 *
 * @param options The driver, name, tag and binary.
 * @returns The image reference, such as `cloudknot-test/deno:2.9.6`.
 */
export async function ensureBaseImage(options: BaseImageOptions = {}): Promise<string> {
  const docker = options.docker ?? new Docker({ logger: () => {} });
  const ref = `${options.name ?? "cloudknot-test/deno"}:${options.tag ?? Deno.version.deno}`;
  const binary = await Deno.realPath(options.denoBinary ?? Deno.execPath());
  const { version, hash } = await identify(binary);

  if (!options.force) {
    const labels = (await docker.inspectImage(ref))?.Config?.Labels ?? {};
    if (labels[VERSION_LABEL] === version && labels[HASH_LABEL] === hash) return ref;
  }

  const tmp = await Deno.makeTempDir({ prefix: "cloudknot-base-image-" });
  try {
    const rootfs = join(tmp, "rootfs");
    await makeRootfs(rootfs, binary);
    const tarball = join(tmp, "rootfs.tar");
    await run("tar", [
      "-C",
      rootfs,
      "--numeric-owner",
      "--owner=0",
      "--group=0",
      "-cf",
      tarball,
      ".",
    ]);
    await docker.command([
      "import",
      "--change",
      "ENV PATH=/usr/local/bin:/usr/bin:/bin",
      "--change",
      "ENV DENO_DIR=/tmp/deno_dir",
      "--change",
      "ENV DENO_NO_UPDATE_CHECK=1",
      "--change",
      "ENV DENO_NO_PROMPT=1",
      "--change",
      `LABEL ${VERSION_LABEL}=${version} ${HASH_LABEL}=${hash}`,
      "--change",
      'CMD ["deno"]',
      tarball,
      ref,
    ]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return ref;
}

/** Lays out the root filesystem: deno, its libraries, users and /tmp. */
async function makeRootfs(rootfs: string, binary: string): Promise<void> {
  const copy = async (from: string, to: string) => {
    await Deno.mkdir(dirname(join(rootfs, to)), { recursive: true });
    await Deno.copyFile(from, join(rootfs, to)); // Follows symlinks.
  };
  await copy(binary, "/usr/local/bin/deno");
  await Deno.chmod(join(rootfs, "/usr/local/bin/deno"), 0o755);
  for (const lib of await sharedLibraries(binary)) await copy(lib, lib);

  await Deno.mkdir(join(rootfs, "etc"), { recursive: true });
  await Deno.writeTextFile(
    join(rootfs, "etc/passwd"),
    "root:x:0:0:root:/root:/sbin/nologin\ndeno:x:1000:1000:deno:/home/deno:/sbin/nologin\n",
  );
  await Deno.writeTextFile(join(rootfs, "etc/group"), "root:x:0:\ndeno:x:1000:\n");
  for (const dir of ["tmp", "home/deno"]) {
    await Deno.mkdir(join(rootfs, dir), { recursive: true });
    await Deno.chmod(join(rootfs, dir), 0o1777);
  }
  await Deno.mkdir(join(rootfs, "root"), { mode: 0o700 });
}

/** The absolute paths `ldd` lists for a binary (the vDSO has none). */
async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await run("ldd", [binary]);
  const libs: string[] = [];
  for (const line of out.split("\n")) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m) libs.push(m[1]!);
  }
  if (libs.length === 0) throw new Error(`ldd listed no libraries for ${binary}:\n${out}`);
  return libs;
}

/**
 * What this process found a binary to be, by its path, inode, size and modification time: hashing
 * deno's 95 MB and asking its version cost about 0.4 s of CPU, and a test file may ask for the
 * base image once per test.
 */
const identified = new Map<string, Promise<{ version: string; hash: string }>>();

/**
 * The binary's deno version and SHA-256, worked out once for each state of the file: kept for this
 * process, and in a file of the temporary folder for the suite's other test processes (about a
 * hundred of them ask), written whole and then renamed so that none reads it half-written.
 */
async function identify(binary: string): Promise<{ version: string; hash: string }> {
  const { size, mtime, ino } = await Deno.stat(binary);
  const key = `${binary}\0${ino}\0${size}\0${mtime?.getTime()}`;
  let found = identified.get(key);
  if (found === undefined) {
    const keyHash = createHash("sha256").update(key).digest("hex").slice(0, 16);
    const file = join(tmpdir(), `cloudknot-test-deno-identity-${keyHash}.json`);
    found = Deno.readTextFile(file).then((text) => {
      const kept = JSON.parse(text);
      if (typeof kept.version !== "string" || typeof kept.hash !== "string") throw new Error();
      return kept as { version: string; hash: string };
    }).catch(async () => {
      const [version, hash] = await Promise.all([denoVersion(binary), sha256File(binary)]);
      const part = `${file}.${crypto.randomUUID()}`;
      await Deno.writeTextFile(part, JSON.stringify({ version, hash }));
      await Deno.rename(part, file);
      return { version, hash };
    });
    identified.set(key, found);
    found.catch(() => identified.delete(key));
  }
  return await found;
}

async function denoVersion(binary: string): Promise<string> {
  const out = await run(binary, ["--version"]);
  const m = /^deno (\S+)/.exec(out);
  if (!m) throw new Error(`Cannot read the version of ${binary} from: ${out}`);
  return m[1]!;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${text.decode(out.stderr)}`);
  }
  return text.decode(out.stdout);
}

if (import.meta.main) {
  console.log(await ensureBaseImage());
}
