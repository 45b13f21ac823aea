/**
 * A small tmpfs, for tests of a full disk: mounting one needs root (or
 * CAP_SYS_ADMIN). Tests that need it register through {@linkcode tmpfsTest}.
 *
 * @module
 */
import { type RequirementStatus, type RequirementTest, requirementTest } from "./requirement.ts";

async function mount(dir: string, bytes: number): Promise<void> {
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", dir],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir] }).output();
}

async function check(): Promise<{ ok: boolean; reason?: string }> {
  if (Deno.build.os !== "linux") return { ok: false, reason: "tmpfs is Linux's" };
  const dir = await Deno.makeTempDir();
  try {
    await mount(dir, 64 * 1024);
    await unmount(dir);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `cannot mount a tmpfs: ${(e as Error).message}` };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Whether a tmpfs can be mounted here, and why not. */
export const tmpfsStatus: RequirementStatus = await check();

/** Registers a test that needs a tmpfs mount. */
export const tmpfsTest: RequirementTest = requirementTest("a tmpfs mount (root)", tmpfsStatus);

/**
 * Runs `body` with a fresh tmpfs of `bytes` mounted on a temporary directory,
 * then unmounts it.
 *
 * @param bytes Its size.
 * @param body What to do with it.
 */
export async function withTmpfs(
  bytes: number,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-tmpfs-" });
  await mount(dir, bytes);
  try {
    await body(dir);
  } finally {
    await unmount(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Gives a tmpfs that {@linkcode withTmpfs} mounted room: its size becomes
 * `bytes` (as a user frees space on a full disk), keeping what it holds.
 *
 * @param dir Where it is mounted.
 * @param bytes Its new size.
 */
export async function growTmpfs(dir: string, bytes: number): Promise<void> {
  const out = await new Deno.Command("mount", {
    args: ["-o", `remount,size=${bytes}`, dir],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
}

/**
 * Remounts the tmpfs at `dir` read-only or writable, as a user or a failing disk does.
 *
 * @param dir Where it is mounted.
 * @param mode `ro` or `rw`.
 */
export async function remountTmpfs(dir: string, mode: "ro" | "rw"): Promise<void> {
  const out = await new Deno.Command("mount", {
    args: ["-o", `remount,${mode}`, dir],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
}
