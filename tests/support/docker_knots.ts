/**
 * What the docker target's tests share: a private temporary knots directory,
 * the offline base image (`base_image.ts`) and a docker driver that logs
 * nothing, with the options every knot of such a test is created with.
 *
 * @module
 */
import { join } from "node:path";
import { Docker } from "../../src/docker/docker.ts";
import { RUNTIME_PROTOCOL_LABEL } from "../../src/job/runtime_protocol.ts";
import { dockerImageName, IMAGE_NAME_LABEL } from "../../src/store/local_knots.ts";
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

/**
 * The ids of the images labelled as the image of the knot whose folder is
 * `root`, whether or not its record is still there, sorted.
 *
 * @example Usage
 * ```ts ignore
 * assert.deepEqual(await knotImageIds(join(dir, "squares")), []);
 * ```
 *
 * @param root The knot's folder.
 * @returns The images' full ids.
 */
export async function knotImageIds(root: string): Promise<string[]> {
  const { stdout } = await new Docker({ logger: () => {} }).command([
    "images",
    "--quiet",
    "--no-trunc",
    "--filter",
    `label=${IMAGE_NAME_LABEL}=${await dockerImageName(root)}`,
  ]);
  return [...new Set(stdout.split("\n").filter((l) => l !== ""))].sort();
}

/**
 * Makes a knot's image look as a cloudknot version from before runtime
 * protocols built it: built again on top of itself with an empty
 * `org.cloudknot.runtime` label (Docker keeps a label's last value, and has
 * no way to remove one). Returns the new image's id, for the test to remove.
 *
 * @example Usage
 * ```ts ignore
 * const older = await asBuiltBeforeProtocols(docker, image, join(dir, "older"));
 * ```
 *
 * @param docker The driver.
 * @param image The image's reference, tagged again on the new image.
 * @param context A new directory for the build's context.
 * @returns The new image's id.
 */
export async function asBuiltBeforeProtocols(
  docker: Docker,
  image: string,
  context: string,
): Promise<string> {
  await Deno.mkdir(context);
  await Deno.writeTextFile(
    join(context, "Dockerfile"),
    `FROM ${image}\nLABEL ${RUNTIME_PROTOCOL_LABEL}=""\n`,
  );
  await docker.command(["build", "-q", "-t", image, context]);
  return (await docker.inspectImage(image))!.Id;
}
