/**
 * Whether the tests can use Docker. Tests that need it register through
 * {@linkcode dockerTest}: with Docker they run; without it they fail under
 * `CI=true` and are ignored (with the reason printed once) elsewhere.
 *
 * @module
 */
import { Docker } from "../../src/docker/docker.ts";
import { type RequirementTest, requirementTest } from "./requirement.ts";

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

/**
 * Registers a test that needs Docker: it fails under `CI=true` when Docker is
 * missing, and is ignored with the reason printed elsewhere.
 */
export const dockerTest: RequirementTest = requirementTest("Docker", dockerStatus);
