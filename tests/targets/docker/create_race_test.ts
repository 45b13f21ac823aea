// Two processes creating one docker knot at the same moment with two
// functions: each one's handle maps the function it was created with, and the
// knot's record names the function its image runs. They used to write the
// same build folder at once, so one built the other's function under its own
// record. Each process is a real `deno`, its docker driver gated on files so
// that the second create starts while the first has written its build folder
// and not built it yet. Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

/**
 * A process creating the knot `race` with its function (`first` or `second`): its builds wait,
 * once they said so in `<gates>/<who>-building`, for `<gates>/<who>-go`; a notice that it waits
 * for another process goes to `<gates>/<who>-waiting`. It maps 1 and 2, and prints the results.
 */
const CREATOR = `
import { join } from "node:path";
import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
import { Docker } from ${
  JSON.stringify(new URL("../../../src/docker/docker.ts", import.meta.url).href)
};
const [dir, baseImage, who, gates] = Deno.args;
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
class Gated extends Docker {
  override async build(context: string, options: Parameters<Docker["build"]>[1]) {
    await Deno.writeTextFile(join(gates, who + "-building"), "");
    while (!(await exists(join(gates, who + "-go")))) await new Promise((r) => setTimeout(r, 50));
    return await super.build(context, options);
  }
}
const functions = {
  first: function first(x: number) { return "first " + x; },
  second: function second(x: number) { return "second " + x; },
};
const knot = await Knot.create({
  name: "race", target: "docker", dir, cloudknotDir: dir, baseImage,
  docker: new Gated({ logger: () => {} }),
  func: functions[who as keyof typeof functions],
  warn: (message: string) => {
    if (/another process/.test(message)) Deno.writeTextFileSync(join(gates, who + "-waiting"), message);
    else console.error(message);
  },
});
const run = await knot.map([1, 2], { progress: false });
console.log(JSON.stringify(await run.results()));
`;

/** Waits until one of `paths` exists; returns it. */
async function firstOf(paths: string[], child: Deno.ChildProcess): Promise<string> {
  let ended = false;
  child.status.then(() => ended = true);
  for (;;) {
    for (const path of paths) {
      if (await Deno.stat(path).then(() => true, () => false)) return path;
    }
    if (ended) throw new Error(`the process ended before it made any of ${paths.join(", ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

dockerTest(
  "two processes creating one docker knot at once with two functions each map their own function, and the knot's record names the function its image runs",
  async () => {
    await withDockerKnots("cloudknot-docker-race-", async ({ dir, knotOptions, baseImage }) => {
      const gates = join(dir, "gates");
      await Deno.mkdir(gates);
      const start = (who: string) =>
        new Deno.Command(Deno.execPath(), {
          args: ["eval", "--ext=ts", CREATOR, dir, baseImage, who, gates],
          stdout: "piped",
          stderr: "inherit",
        }).spawn();
      const first = start("first");
      let second: Deno.ChildProcess | undefined;
      try {
        // The first process has written its build folder, and waits before it builds.
        await firstOf([join(gates, "first-building")], first);
        await Deno.writeTextFile(join(gates, "second-go"), "");
        second = start("second");
        // The second one waits for the first, or (as it did) writes the same folder and builds.
        await firstOf([join(gates, "second-waiting"), join(gates, "second-building")], second);
        await Deno.writeTextFile(join(gates, "first-go"), "");
        const [a, b] = await Promise.all([first.output(), second.output()]);
        const results = (out: Deno.CommandOutput, who: string) => {
          const text = new TextDecoder().decode(out.stdout);
          assert.equal(out.code, 0, `the ${who} process failed: ${text}`);
          return JSON.parse(text.trim().split("\n").at(-1)!);
        };
        assert.deepEqual(results(a, "first"), ["first 1", "first 2"]);
        assert.deepEqual(results(b, "second"), ["second 1", "second 2"]);
        // The second process was told why it waited.
        assert.match(
          await Deno.readTextFile(join(gates, "second-waiting")),
          /another process is creating, building or clobbering docker knot race .*; waiting for it to finish, then this one creates it with its own function/,
        );
        // The knot adopted now runs the function its record names.
        const record = JSON.parse(await Deno.readTextFile(join(dir, "race", "knot.json")));
        const knot = await Knot.create({ ...knotOptions, name: "race" });
        assert.deepEqual(await (await knot.map([3], { progress: false })).results(), [
          `${record.functionName} 3`,
        ]);
      } finally {
        // Ended already unless the test failed first.
        for (const child of [first, second]) {
          try {
            child?.kill("SIGKILL");
          } catch { /* it has ended */ }
          await child?.status;
        }
        // Its images go with it, whatever the test found.
        await Knot.create({ ...knotOptions, name: "race" }).then((k) => k.clobber(), () => {});
      }
    });
  },
);
