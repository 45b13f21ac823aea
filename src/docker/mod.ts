/**
 * The docker layer: a driver for the `docker` client over `Deno.Command`,
 * with output streamed as lines and typed errors.
 *
 * @example Usage
 * ```ts ignore
 * import { Docker } from "@cloudknot/cloudknot/docker";
 *
 * const docker = new Docker();
 * await docker.ping();
 * ```
 *
 * @module
 */
export * from "./docker.ts";
export * from "./errors.ts";
export * from "./logger.ts";
export * from "./types.ts";
export { CommandTimeoutError } from "../util/command_limit.ts";
