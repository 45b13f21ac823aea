/**
 * A docker knot's clobber killed part-way, for real: a process that clobbers
 * the knot kills itself with SIGKILL at a chosen step, once Docker has
 * removed the knot's image (leaving the knot's record with the clobber's
 * mark), or once it has removed a file of the knot's folder.
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
  await killClobber(
    knot,
    `if (ref === ${JSON.stringify(knot.image)}) Deno.kill(Deno.pid, "SIGKILL");`,
    "",
  );
}

/**
 * Clobbers the docker knot `name` of the knots directory `dir` in another
 * process, which kills itself with SIGKILL once the clobber has removed the
 * file `file` of the knot's folder (`knot.json`, `knot.lock`): its removals
 * go through `Deno.remove`, which that process wraps.
 *
 * @example Usage
 * ```ts ignore
 * await killClobberAfterRemoving({ dir, name: "cut", baseImage }, "knot.json");
 * ```
 *
 * @param knot The knots directory, the knot's name and the base image it was built on.
 * @param file The name of the file in the knot's folder after whose removal it dies.
 */
export async function killClobberAfterRemoving(
  knot: { dir: string; name: string; baseImage: string },
  file: string,
): Promise<void> {
  await killClobber(
    knot,
    "",
    `const remove = Deno.remove;
     Deno.remove = async (path, options) => {
       await remove(path, options);
       if (String(path).endsWith(${JSON.stringify(`/${knot.name}/${file}`)})) {
         Deno.kill(Deno.pid, "SIGKILL");
       }
     };`,
  );
}

/**
 * Clobbers the docker knot `name` of the knots directory `dir` in another
 * process, in which a create of the knot arrives right after the clobber
 * removed the lock's file of the knot's folder: as a create that finds no
 * lock does, it makes the lock's file anew and writes in the folder (here a
 * file `arrived`). The clobber goes on to its end, which must be a success.
 *
 * @example Usage
 * ```ts ignore
 * await clobberWhileCreateArrives({ dir, name: "raced", baseImage });
 * ```
 *
 * @param knot The knots directory, the knot's name and the base image it was built on.
 */
export async function clobberWhileCreateArrives(
  knot: { dir: string; name: string; baseImage: string },
): Promise<void> {
  const lock = `/${knot.name}/knot.lock`;
  const status = await clobberWith(
    knot,
    "",
    `const remove = Deno.remove;
     let arrived = false;
     Deno.remove = async (path, options) => {
       await remove(path, options);
       const file = String(path);
       if (!arrived && file.endsWith(${JSON.stringify(lock)})) {
         arrived = true;
         await Deno.writeTextFile(file, "");
         await Deno.writeTextFile(file.replace(/knot\.lock$/, "arrived"), "");
       }
     };`,
  );
  assert.ok(status.success, "the clobber ends well");
}

/**
 * Clobbers the knot in another process whose docker driver runs
 * `afterImageRemoved` after each image removal (`ref` the image), and which
 * runs `before` first; fails unless the process was killed.
 */
async function killClobber(
  knot: { dir: string; name: string; baseImage: string },
  afterImageRemoved: string,
  before: string,
): Promise<void> {
  const status = await clobberWith(knot, afterImageRemoved, before);
  assert.equal(status.signal, "SIGKILL", "the clobber was killed on its way");
}

/**
 * Clobbers the knot in another process whose docker driver runs
 * `afterImageRemoved` after each image removal (`ref` the image), and which
 * runs `before` first; resolves to how that process ended.
 */
async function clobberWith(
  knot: { dir: string; name: string; baseImage: string },
  afterImageRemoved: string,
  before: string,
): Promise<Deno.CommandStatus> {
  const { dir, name, baseImage } = knot;
  const clobbering = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
       import { Docker } from ${
        JSON.stringify(new URL("../../../src/docker/docker.ts", import.meta.url).href)
      };
       class Killing extends Docker {
         async removeImage(ref, options) {
           const done = await super.removeImage(ref, options);
           ${afterImageRemoved}
           return done;
         }
       }
       const knot = await Knot.create({
         target: "docker", name: ${JSON.stringify(name)}, dir: ${JSON.stringify(dir)},
         cloudknotDir: ${JSON.stringify(dir)}, baseImage: ${JSON.stringify(baseImage)},
         docker: new Killing({ logger: () => {} }),
       });
       ${before}
       await knot.clobber();`,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  return await clobbering.status;
}
