/**
 * A docker knot's clobber killed part-way, for real: a process that clobbers
 * the knot kills itself with SIGKILL once Docker has removed the knot's
 * image, leaving the knot's record with the clobber's mark.
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * Clobbers the docker knot `name` of the knots directory `dir` in another
 * process, which kills itself with SIGKILL once Docker has removed `image`.
 *
 * @example Usage
 * ```ts ignore
 * await killClobberAfterImage({ dir, name: "cut", image, baseImage });
 * ```
 *
 * @param knot The knots directory, the knot's name, its image and the base image it was built on.
 */
export async function killClobberAfterImage(
  knot: { dir: string; name: string; image: string; baseImage: string },
): Promise<void> {
  const { dir, name, image, baseImage } = knot;
  const clobbering = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
       import { Docker } from ${
        JSON.stringify(new URL("../../../src/docker/docker.ts", import.meta.url).href)
      };
       class KilledAfterImage extends Docker {
         async removeImage(ref, options) {
           const done = await super.removeImage(ref, options);
           if (ref === ${JSON.stringify(image)}) Deno.kill(Deno.pid, "SIGKILL");
           return done;
         }
       }
       const knot = await Knot.create({
         target: "docker", name: ${JSON.stringify(name)}, dir: ${JSON.stringify(dir)},
         cloudknotDir: ${JSON.stringify(dir)}, baseImage: ${JSON.stringify(baseImage)},
         docker: new KilledAfterImage({ logger: () => {} }),
       });
       await knot.clobber();`,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const status = await clobbering.status;
  assert.equal(status.signal, "SIGKILL", "the clobber was killed on its way");
}
