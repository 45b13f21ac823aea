/**
 * Whether the tests can use Docker. Tests that need it register through
 * {@linkcode dockerTest}: with Docker they run; without it they fail under
 * `CI=true` and are ignored (with the reason printed once) elsewhere.
 *
 * @module
 */
import { Docker } from "../../src/docker/docker.ts";

/** Whether Docker answers, and why not when it does not. */
export interface DockerStatus {
  /** Docker is installed and its daemon answers. */
  ok: boolean;
  /** Why Docker cannot be used. */
  reason?: string;
}

/**
 * Asks Docker whether it works.
 *
 * @param docker The driver to ask.
 * @returns Whether it works, and why not.
 */
export async function checkDocker(docker: Docker = new Docker()): Promise<DockerStatus> {
  try {
    await docker.ping();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** The state of the default `docker`, asked once when this module loads. */
export const dockerStatus: DockerStatus = await checkDocker();

const inCI = Deno.env.get("CI") === "true";
let warned = false;

/**
 * Registers a test that needs Docker.
 *
 * @param name The test name.
 * @param fn The test.
 * @param options More `Deno.test` options.
 */
export function dockerTest(
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
  options: Omit<Deno.TestDefinition, "name" | "fn"> = {},
): void {
  if (dockerStatus.ok) {
    Deno.test({ ...options, name, fn });
  } else if (inCI) {
    Deno.test({
      ...options,
      name,
      fn() {
        throw new Error(`Docker is required under CI=true: ${dockerStatus.reason}`);
      },
    });
  } else {
    if (!warned) {
      warned = true;
      console.warn(`Skipping the tests that need Docker: ${dockerStatus.reason}`);
    }
    Deno.test({ ...options, name, ignore: true, fn });
  }
}
