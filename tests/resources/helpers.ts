/**
 * Shared helpers of the resource tests: an emulator, a session pointed at
 * it, and a config file in a temporary directory.
 *
 * @module
 */
export { sessionFor } from "../support/aws_session.ts";
import type { AwsSession } from "../../src/aws/mod.ts";
import type { GcOptions } from "../../src/resources/gc.ts";
import { StateFile } from "../../src/state/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../emulator/mod.ts";
export { rejects } from "../support/rejects.ts";

/** A temporary directory with a config file path in it. */
export interface TempState {
  /** The directory. */
  dir: string;
  /** The config file's path (not created). */
  path: string;
  /** A StateFile on that path. */
  state: StateFile;
}

/** Makes a temporary directory for a config file. */
export async function tempState(): Promise<TempState> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-resources-" });
  const path = `${dir}/cloudknot`;
  return { dir, path, state: new StateFile({ path }) };
}

/**
 * A local knots directory of a test's own (none there), so that `gc` judges
 * this machine's real `~/.cloudknot/local` in no test.
 */
export function noLocalKnots(state: StateFile): string {
  return `${state.path}.local-knots`;
}

/**
 * Runs a test body with an emulator (started with `options`, such as
 * `{ runner: "docker" }` for jobs in real containers), a session and a
 * temporary config file, then closes the emulator and removes the directory.
 */
export async function withEmulator(
  body: (ctx: { emu: Emulator; session: AwsSession } & TempState) => Promise<void>,
  options: EmulatorOptions = {},
): Promise<void> {
  const emu = await startEmulator(options);
  const temp = await tempState();
  try {
    const session = await sessionFor(emu);
    await body({ emu, session, ...temp });
  } finally {
    await emu.close();
    await Deno.remove(temp.dir, { recursive: true });
  }
}

/** Every resource the emulator holds, as sorted `service/type/id` strings. */
export function resources(emu: Emulator): string[] {
  return emu.listResources().map((r) => `${r.service}/${r.type}/${r.id}`).sort();
}

/** The parsed JSON of a policy document the emulator stores. */
export function doc(text: string): {
  Statement: {
    Effect: string;
    Principal?: unknown;
    Action: string | string[];
    Resource?: string | string[];
    Condition?: unknown;
  }[];
} {
  return JSON.parse(text);
}

/**
 * The options a gc test judges with: its session, its config file, and a
 * local knots directory of its own ({@linkcode noLocalKnots}).
 */
export function gcOptions(session: AwsSession, state: StateFile, more: GcOptions = {}): GcOptions {
  return { session, state, localDir: noLocalKnots(state), ...more };
}

/** Makes the default ECR repository, `cloudknot`, and returns its URI. */
export async function makeDefaultRepo(session: AwsSession): Promise<string> {
  const { repository } = await session.ecr.createRepository({ repositoryName: "cloudknot" });
  return repository!.repositoryUri!;
}

/** The sorted ids of the items of one kind of garbage. */
export function idsOf(kind: string, items: readonly { kind: string; id: string }[]): string[] {
  return items.filter((g) => g.kind === kind).map((g) => g.id).sort();
}
