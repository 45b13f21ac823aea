/**
 * The options of a knot on the docker target besides the ones every target
 * takes, and their checks, made before anything is built or run.
 *
 * @module
 */
import { Docker } from "../../docker/docker.ts";
import { validateBaseImage } from "../../image/docker_image_options.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import { describeValue, validateOptionType } from "../../util/validate.ts";
import { checkMachineResources } from "../machine_resources.ts";

/** Docker refuses a container memory limit below 6 MiB (the rule is `checkMachineResources`). */
export { MIN_CONTAINER_MIB } from "../machine_resources.ts";

/**
 * Checks the docker target's own options and records `vcpus` in `valid`.
 *
 * @example Usage
 * ```ts
 * import { validateDockerKnotOptions } from "./knot_options.ts";
 *
 * const valid: { vcpus?: number } = {};
 * validateDockerKnotOptions({ vcpus: 1, network: "bridge" }, valid);
 * console.log(valid.vcpus); // 1
 * ```
 *
 * @param options The options as given.
 * @param valid The checked options, to fill in.
 * @param cores The CPUs Docker can give a container. @default {navigator.hardwareConcurrency}
 */
export function validateDockerKnotOptions(
  options: {
    vcpus?: unknown;
    network?: unknown;
    baseImage?: unknown;
    noImageCache?: unknown;
    docker?: unknown;
    cloudknotDir?: unknown;
    warn?: unknown;
  },
  valid: { vcpus?: number },
  cores: number = navigator.hardwareConcurrency ?? 1,
): void {
  const { vcpus, network } = options;
  if (vcpus !== undefined) {
    // The rule a retry's vcpus meet too.
    checkMachineResources("docker", { vcpus }, { cores });
    valid.vcpus = vcpus as number;
  }
  if (network !== undefined && (typeof network !== "string" || !/^[\w.:-]+$/.test(network))) {
    throw new CloudknotInputError(
      `network must be the name of a Docker network, such as "bridge" or "host", not ${
        describeValue(network)
      }`,
      { field: "network" },
    );
  }
  if (options.baseImage !== undefined) validateBaseImage(options.baseImage);
  validateOptionType(options, "noImageCache", "boolean");
  validateOptionType(options, "docker", Docker, "a Docker driver");
  validateOptionType(options, "cloudknotDir", "string");
  validateOptionType(options, "warn", "function");
}

/**
 * Refuses a `network` option that names no network of this Docker engine
 * (or, as `container:<name>`, no container), before anything is built, made
 * or run: every container of the knot would fail to start with Docker's
 * "network … not found" otherwise, at each attempt of each item. Nothing is
 * asked of Docker without a `network` (the default `bridge`). A knot keeps
 * its network, so the advice names `"bridge"` rather than no network.
 *
 * @example Usage
 * ```ts ignore
 * import { Docker } from "../../docker/docker.ts";
 * import { refuseMissingNetwork } from "./knot_options.ts";
 *
 * await refuseMissingNetwork(new Docker(), "my-net", "squares");
 * ```
 *
 * @param docker The docker driver.
 * @param network The network option, as given.
 * @param knot The knot's name.
 * @throws {CloudknotInputError} Naming the network and what to do.
 */
export async function refuseMissingNetwork(
  docker: Docker,
  network: string | undefined,
  knot: string,
): Promise<void> {
  // "default" is the engine's default network mode (bridge on Linux): `docker run` takes it,
  // `docker network inspect` knows no network of that name.
  if (network === undefined || network === "default") return;
  const container = /^container:(.+)$/.exec(network)?.[1];
  const found = container !== undefined
    ? await docker.inspectContainer(container)
    : await docker.inspectNetwork(network);
  if (found !== undefined) return;
  throw new CloudknotInputError(
    container !== undefined
      ? `The network option of docker knot ${knot} is "${network}", the network of container ` +
        `${container}, but this Docker engine has no container ${container}: start that ` +
        `container first, or give Knot.create another network (such as "bridge")`
      : `The network option of docker knot ${knot} is "${network}", but this Docker engine has ` +
        `no network ${network}: create it first (docker network create ${network}), or give ` +
        `Knot.create a network it has (docker network ls lists them), such as "bridge"`,
    { field: "network" },
  );
}
