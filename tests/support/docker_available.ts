/**
 * Whether tests that need Docker can run here. Under `CI=true` they must run
 * (and fail when Docker is missing); on a dev machine without Docker they are
 * ignored with a visible reason.
 *
 * @module
 */

/** The answer of {@linkcode dockerAvailability}. */
export interface DockerAvailability {
  /** The engine answered (and every extra binary ran). */
  available: boolean;
  /** Why not, when not. */
  reason?: string;
  /** Pass as `ignore:` to `Deno.test`: true only off CI when unavailable. */
  ignore: boolean;
}

/** Injectable side effects of {@linkcode dockerAvailability}. */
export interface DockerAvailabilityOptions {
  /** Reads an environment variable (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** The docker binary (default `docker`). */
  docker?: string;
}

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null", stdin: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Checks `docker version` (the server must answer) and that each extra binary
 * runs with `--version`; prints the reason when tests will be ignored. The
 * environment lookup and the docker binary can be injected.
 *
 * @example Usage
 * ```ts ignore
 * const docker = await dockerAvailability(["/usr/bin/docker-registry"]);
 * Deno.test({ name: "needs docker", ignore: docker.ignore, fn() {} });
 * ```
 */
export async function dockerAvailability(
  extraBinaries: string[] = [],
  options: DockerAvailabilityOptions = {},
): Promise<DockerAvailability> {
  let reason: string | undefined;
  if (!(await runs(options.docker ?? "docker", ["version", "--format", "{{.Server.Version}}"]))) {
    reason = "the Docker engine does not answer `docker version`";
  } else {
    for (const b of extraBinaries) {
      if (!(await runs(b, ["--version"]))) {
        reason = `${b} is not installed`;
        break;
      }
    }
  }
  const ci = (options.env ?? ((k: string) => Deno.env.get(k)))("CI") === "true";
  const available = reason === undefined;
  if (!available && !ci) {
    console.log(`Skipping Docker tests: ${reason} (under CI=true they fail instead)`);
  }
  return { available, reason, ignore: !available && !ci };
}
