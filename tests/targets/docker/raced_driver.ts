// A process that creates the docker knot `raced` and maps one item, whose
// docker client stops at the steps a test names, so that a clobber from the
// test's process races its run in a chosen order:
//   deno run -A tests/targets/docker/raced_driver.ts <knots dir> <base image> <gates dir> <mode>
// Its `docker run` makes `<gates>/starting` (the run's cancel request was
// checked), waits for `<gates>/go`, runs, then makes `<gates>/started`. Then,
// by `mode`: `gone`, it waits for `<gates>/clobbered` before it returns;
// `waiting`, its first `docker wait` does; `hang`, it never returns (the test
// kills the process, leaving the container, whose item runs for an hour). It prints how the item ended.
// `HeldClobber` is the test's side: a clobber held between its listing of the
// knot's containers and its removal of the knot's images until the container
// of this process exists.
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";

/** This file, to run as a process. */
export const RACED_DRIVER: string = new URL(import.meta.url).href;

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** Waits until `path` exists, or `child` ended. */
export async function made(path: string, child: Deno.ChildProcess): Promise<void> {
  let ended = false;
  child.status.then(() => ended = true);
  while (!(await exists(path))) {
    if (ended) throw new Error(`the process ended before it made ${path}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A driver whose clobber lets the knot's images go only once the other
 * process's `docker run` has made its container: the clobber has listed the
 * knot's containers by then, without it.
 */
export class HeldClobber extends Docker {
  constructor(readonly gates: string, readonly driver: Deno.ChildProcess) {
    super({ logger: () => {} });
  }
  override async removeImage(
    refs: string | string[],
    options: Parameters<Docker["removeImage"]>[1],
  ): Promise<void> {
    if (!(await exists(join(this.gates, "go")))) {
      await Deno.writeTextFile(join(this.gates, "go"), "");
      await made(join(this.gates, "started"), this.driver);
    }
    return await super.removeImage(refs, options);
  }
}

if (import.meta.main) {
  const [dir, baseImage, gates, mode] = Deno.args as [string, string, string, string];
  const until = async (name: string) => {
    while (!(await exists(join(gates, name)))) await new Promise((r) => setTimeout(r, 50));
  };
  class Gated extends Docker {
    override async run(image: string, options: Parameters<Docker["run"]>[1]) {
      await Deno.writeTextFile(join(gates, "starting"), "");
      await until("go");
      const out = await super.run(image, options);
      await Deno.writeTextFile(join(gates, "started"), "");
      if (mode === "gone") await until("clobbered");
      if (mode === "hang") await until("never");
      return out;
    }
    override async command(args: string[], options: Parameters<Docker["command"]>[1]) {
      if (mode === "waiting" && args[0] === "wait") await until("clobbered");
      return await super.command(args, options);
    }
  }
  const knot = await Knot.create({
    name: "raced",
    target: "docker",
    dir,
    cloudknotDir: dir,
    baseImage,
    concurrency: 1,
    docker: new Gated({ logger: () => {} }),
    // In `hang` mode the container is still running when the test's clobber removes the image
    // (`docker rmi --force` deletes the image of a stopped container, not of a running one).
    func: mode === "hang"
      ? (x: number) => new Promise<number>((done) => setTimeout(() => done(x + 1), 3_600_000))
      : (x: number) => x + 1,
  });
  const run = await knot.map([1], { progress: false });
  await run.item(0).then((v) => console.log(`ok ${v}`), (e) => console.log(`error ${e.message}`));
}
