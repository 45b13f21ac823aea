// A docker knot clobbered while another process creates it again: the clobber
// waits for the create to finish (saying so), then removes the knot whole,
// where it removed the folder the create was building from, so the create
// failed half-way. The creator is a real `deno` process whose docker driver
// waits, once its build folder is written, for a file the test makes. Under
// CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

const quiet = new Docker({ logger: () => {} });

/** Creates the knot `cut` again; its build waits for `<gates>/go` once it made `<gates>/building`. */
const CREATOR = `
import { join } from "node:path";
import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
import { Docker } from ${
  JSON.stringify(new URL("../../../src/docker/docker.ts", import.meta.url).href)
};
const [dir, baseImage, gates] = Deno.args;
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
class Gated extends Docker {
  override async build(context: string, options: Parameters<Docker["build"]>[1]) {
    await Deno.writeTextFile(join(gates, "building"), "");
    while (!(await exists(join(gates, "go")))) await new Promise((r) => setTimeout(r, 50));
    return await super.build(context, options);
  }
}
await Knot.create({
  name: "cut", target: "docker", dir, cloudknotDir: dir, baseImage,
  docker: new Gated({ logger: () => {} }), func: function second(x: number) { return "second " + x; },
});
console.log("created");
`;

/** Waits until `path` exists, or `child` ended. */
async function made(path: string, child: Deno.ChildProcess): Promise<void> {
  let ended = false;
  child.status.then(() => ended = true);
  while (!(await Deno.stat(path).then(() => true, () => false))) {
    if (ended) throw new Error(`the process ended before it made ${path}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

dockerTest(
  "a docker knot clobbered while another process creates it again waits for that create to finish, saying so, then removes the knot and both its images",
  async () => {
    await withDockerKnots("cloudknot-docker-cut-", async ({ dir, knotOptions, baseImage }) => {
      const gates = join(dir, "gates");
      await Deno.mkdir(gates);
      const notices: string[] = [];
      const knot = await Knot.create({
        ...knotOptions,
        name: "cut",
        func: function first(x: number) {
          return "first " + x;
        },
        warn: (message) => notices.push(message),
      });
      const label = JSON.parse(await Deno.readTextFile(join(dir, "cut", "knot.json"))).image
        .replace(/^cloudknot\//, "").replace(/:local$/, "");
      const creator = new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", CREATOR, dir, baseImage, gates],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      try {
        await made(join(gates, "building"), creator);
        let clobbered = false;
        const clobber = knot.clobber().finally(() => clobbered = true);
        // The clobber says it waits for the create, or (as it did) ends without waiting.
        while (!clobbered && notices.length === 0) await new Promise((r) => setTimeout(r, 50));
        await Deno.writeTextFile(join(gates, "go"), "");
        const out = await creator.output();
        const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, `the create failed: ${said}`);
        await clobber;
        assert.equal(notices.length, 1, notices.join("\n"));
        assert.match(
          notices[0]!,
          /another process is creating, building or clobbering docker knot cut .*; waiting for it to finish, then this one clobbers it/,
        );
        // The knot is gone whole: its folder, and the images of both its functions.
        assert.equal(await Deno.stat(join(dir, "cut")).then(() => true, () => false), false);
        const { stdout } = await quiet.command([
          "images",
          "--quiet",
          "--filter",
          `label=org.cloudknot.image=${label}`,
        ]);
        assert.equal(stdout.trim(), "", "no image of the knot is left");
      } finally {
        try {
          creator.kill("SIGKILL");
        } catch { /* it has ended */ }
        await creator.status;
        await Knot.create({ ...knotOptions, name: "cut" }).then((k) => k.clobber(), () => {});
      }
    });
  },
);
