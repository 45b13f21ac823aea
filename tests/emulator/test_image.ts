/**
 * A tiny image for the emulator's Docker tests, built offline from host
 * binaries (dash as /bin/sh, sleep, env, cat and their libraries) with
 * `docker import`: there is no Docker Hub here.
 *
 * @module
 */

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function which(name: string): Promise<string> {
  for (const dir of ["/usr/bin", "/bin", "/usr/local/bin"]) {
    try {
      await Deno.stat(`${dir}/${name}`);
      return `${dir}/${name}`;
    } catch {
      // next
    }
  }
  throw new Error(`${name} not found on the host`);
}

/**
 * Builds the image and tags it; returns the tag. With `platform` (such as
 * `linux/arm64`) the image says it is built for that platform, whatever the
 * host binaries inside are: what an image built on another machine looks
 * like to `docker image inspect`.
 *
 * @example Usage
 * ```ts ignore
 * const tag = await buildTestImage("ckemu-test:1");
 * ```
 */
export async function buildTestImage(tag: string, platform?: string): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ckemu-rootfs-" });
  try {
    const bins: [string, string][] = [
      [await which("dash"), "/bin/sh"],
      [await which("sleep"), "/bin/sleep"],
      [await which("env"), "/bin/env"],
      [await which("cat"), "/bin/cat"],
    ];
    const libs = new Set<string>();
    for (const [src] of bins) {
      for (const m of (await run("ldd", [src])).matchAll(/(\/[^\s]+\.so[^\s]*)/g)) libs.add(m[1]!);
    }
    for (const [src, dest] of bins) {
      await Deno.mkdir(`${root}${dest.slice(0, dest.lastIndexOf("/"))}`, { recursive: true });
      await Deno.copyFile(src, `${root}${dest}`);
      await Deno.chmod(`${root}${dest}`, 0o755);
    }
    for (const lib of libs) {
      const real = await Deno.realPath(lib);
      await Deno.mkdir(`${root}${lib.slice(0, lib.lastIndexOf("/"))}`, { recursive: true });
      await Deno.copyFile(real, `${root}${lib}`);
    }
    await Deno.mkdir(`${root}/tmp`, { mode: 0o777 });
    if (platform !== undefined) {
      // `docker import --platform` needs an engine in experimental mode; the
      // classic builder sets the platform of a FROM scratch image.
      const ctx = await Deno.makeTempDir({ prefix: "ckemu-context-" });
      try {
        await run("tar", ["-C", root, "-cf", `${ctx}/rootfs.tar`, "."]);
        await Deno.writeTextFile(`${ctx}/Dockerfile`, "FROM scratch\nADD rootfs.tar /\n");
        const out = await new Deno.Command("docker", {
          args: ["build", "--platform", platform, "--tag", tag, ctx],
          env: { DOCKER_BUILDKIT: "0" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        if (!out.success) {
          throw new Error(`docker build failed: ${new TextDecoder().decode(out.stderr)}`);
        }
        return tag;
      } finally {
        await Deno.remove(ctx, { recursive: true });
      }
    }
    const tar = new Deno.Command("tar", { args: ["-C", root, "-c", "."], stdout: "piped" }).spawn();
    const imp = new Deno.Command("docker", {
      args: ["import", "-", tag],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await tar.stdout.pipeTo(imp.stdin);
    const [t, i] = await Promise.all([tar.status, imp.output()]);
    if (!t.success || !i.success) {
      throw new Error(`docker import failed: ${new TextDecoder().decode(i.stderr)}`);
    }
    return tag;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
