/**
 * What the docker target's tests share: a private temporary knots directory,
 * the offline base image (`base_image.ts`) and a docker driver that logs
 * nothing, with the options every knot of such a test is created with.
 *
 * @module
 */
import { join } from "node:path";
import { Docker } from "../../src/docker/docker.ts";
import { ensureBaseImage } from "./base_image.ts";

/** A test's knots directory and what its docker knots are created with. */
export interface DockerKnots {
  /** The knots directory, removed after the test. */
  dir: string;
  /** The offline base image. */
  baseImage: string;
  /** The options of every knot of the test: the directory (also cloudknot's), the base image, the quiet driver. */
  knotOptions: {
    target: "docker";
    dir: string;
    cloudknotDir: string;
    baseImage: string;
    docker: Docker;
  };
}

/**
 * Runs `test` with a new knots directory and the base image, then removes the
 * directory, whatever `test` did.
 *
 * @example Usage
 * ```ts ignore
 * await withDockerKnots("cloudknot-docker-", async ({ knotOptions }) => {
 *   const squares = await Knot.create({ ...knotOptions, name: "squares", func: (x: number) => x * x });
 * });
 * ```
 *
 * @param prefix The directory's name prefix.
 * @param test The test.
 */
export async function withDockerKnots(
  prefix: string,
  test: (knots: DockerKnots) => Promise<void>,
): Promise<void> {
  const docker = new Docker({ logger: () => {} });
  const baseImage = await ensureBaseImage({ docker });
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await test({
      dir,
      baseImage,
      knotOptions: { target: "docker", dir, cloudknotDir: dir, baseImage, docker },
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * The image a docker knot's record names, `cloudknot/<…>:local`: the one its
 * containers run and its clobber removes.
 *
 * @example Usage
 * ```ts ignore
 * const image = await knotImage(dir, "squares");
 * ```
 *
 * @param dir The knots directory.
 * @param name The knot's name.
 * @returns The image's local reference.
 */
export async function knotImage(dir: string, name: string): Promise<string> {
  return JSON.parse(await Deno.readTextFile(join(dir, name, "knot.json"))).image;
}
