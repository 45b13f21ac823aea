// A command line run in a program with an environment of its own (runCommandLine(args, { io }),
// as a notebook or a test's cliHere runs it) keeps its local knots, their runs and its config
// file where that environment says, as a process of its own given that environment would: under
// its HOME, or its CLOUDKNOT_LOCAL_RUNS; never under the program's own HOME. A docker knot's
// runtime is cached under its HOME too.
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { Docker } from "../../src/docker/docker.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { cliHere, type CliHome, JOBS, ndjson } from "./helpers.ts";

/** Whether anything is at a path. */
async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** The runs a local knot keeps under a runs root. */
async function runsUnder(root: string): Promise<string[]> {
  if (!await exists(join(root, "runs"))) return [];
  return (await Array.fromAsync(Deno.readDir(join(root, "runs")))).map((e) => e.name);
}

Deno.test("a command line run in a program with an environment of its own keeps its local knots and runs under that environment's HOME (or its CLOUDKNOT_LOCAL_RUNS), nothing under the program's HOME", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-cli-home-" });
  const suffix = crypto.randomUUID().slice(0, 8);
  const names = [`home-${suffix}`, `runs-${suffix}`];
  // Where the program's own HOME would have them: made there only by a command line that
  // ignores its environment (removed then, as nothing else makes knots of these names).
  const programs = names.map((name) => join(homedir(), ".cloudknot", "local", name));
  try {
    // Only HOME: the knots, their runs and the config file are under it.
    const home: CliHome = { dir, env: { HOME: join(dir, "home") } };
    const knots = join(dir, "home", ".cloudknot", "local");
    const mapped = await cliHere(home, ["map", JOBS, "square", "--name", names[0]!, "-q"], {
      stdin: "[1, 2]",
    });
    assert.equal(mapped.code, 0, mapped.stderr);
    assert.deepEqual(ndjson(mapped.stdout), [{ index: 0, value: 1 }, { index: 1, value: 4 }]);
    assert.ok(await exists(join(knots, names[0]!)), mapped.stderr);
    const [runId] = await runsUnder(join(knots, names[0]!));
    assert.ok(runId !== undefined);
    // Another command line of that environment finds the knot and its run there.
    const listed = await cliHere(home, ["knot", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      JSON.parse(listed.stdout).map((k: { name: string }) => k.name),
      [names[0]],
    );
    const results = await cliHere(home, ["results", names[0]!, runId!]);
    assert.equal(results.code, 0, results.stderr);
    assert.deepEqual(ndjson(results.stdout), [{ index: 0, value: 1 }, { index: 1, value: 4 }]);
    // Its config file is that HOME's too: a knot neither there nor on this machine is looked for
    // in both, as the error says.
    const none = await cliHere(home, ["results", `none-${suffix}`]);
    assert.equal(none.code, 1);
    assert.ok(
      none.stderr.includes(
        `There is no knot named "none-${suffix}" on this machine (${knots}) or recorded on AWS ` +
          `in ${join(dir, "home", ".aws", "cloudknot")}`,
      ),
      none.stderr,
    );

    // Its CLOUDKNOT_LOCAL_RUNS holds the runs, found there by the commands that read them.
    const runs = join(dir, "runs");
    const apart: CliHome = { dir, env: { HOME: join(dir, "home"), CLOUDKNOT_LOCAL_RUNS: runs } };
    const second = await cliHere(apart, ["map", JOBS, "failOdd", "--name", names[1]!, "-q"], {
      stdin: "[2, 3]",
    });
    assert.equal(second.code, 1, second.stderr);
    assert.ok(await exists(join(knots, names[1]!)), second.stderr);
    assert.deepEqual(await runsUnder(join(knots, names[1]!)), []);
    const ids = await Array.fromAsync(Deno.readDir(runs));
    assert.equal(ids.length, 1);
    const [run2] = await runsUnder(join(runs, ids[0]!.name));
    assert.ok(run2 !== undefined);
    const shown = await cliHere(apart, ["knot", "show", names[1]!, "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(
      JSON.parse(shown.stdout).runs.map((r: { runId: string }) => r.runId),
      [run2],
    );
    // A retry runs on the knot opened from that environment: its run goes there too.
    const retried = await cliHere(apart, ["retry", names[1]!, run2!, "-q"]);
    assert.equal(retried.code, 1, retried.stderr);
    assert.equal((await runsUnder(join(runs, ids[0]!.name))).length, 2);

    for (const program of programs) assert.equal(await exists(program), false, program);
  } finally {
    for (const program of programs) await Deno.remove(program, { recursive: true }).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

dockerTest(
  "a docker knot made by a command line run in a program with an environment of its own caches the job runtime under that environment's HOME",
  async () => {
    const baseImage = await ensureBaseImage({ docker: new Docker({ logger: () => {} }) });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-cli-home-" });
    const name = `home-docker-${crypto.randomUUID().slice(0, 8)}`;
    const home: CliHome = { dir, env: { HOME: dir, CLOUDKNOT_BASE_IMAGE: baseImage } };
    try {
      const created = await cliHere(home, [
        "knot",
        "create",
        name,
        JOBS,
        "square",
        "--target",
        "docker",
        "-q",
      ]);
      assert.equal(created.code, 0, created.stderr);
      assert.ok(await exists(join(dir, ".cloudknot", "local", name)), created.stderr);
      const cached = await Array.fromAsync(
        Deno.readDir(join(dir, ".cloudknot", "cache", "runtime")),
      );
      assert.ok(cached.some((e) => e.name.endsWith(".js")), JSON.stringify(cached));
      // An image built by the command line is built under the same HOME's ~/.cloudknot.
      const built = await cliHere(home, [
        "image",
        "build",
        JOBS,
        "square",
        "--name",
        `${name}-image`,
        "--json",
        "-q",
      ]);
      assert.equal(built.code, 0, built.stderr);
      const { buildPath } = JSON.parse(built.stdout);
      assert.equal(buildPath, join(dir, ".cloudknot", "images", `${name}-image`));
      const clobbered = await cliHere(home, ["image", "clobber", `${name}-image`, "--yes"]);
      assert.equal(clobbered.code, 0, clobbered.stderr);
      assert.equal(await exists(buildPath), false, "its clobber removes the build folder there");
    } finally {
      // The knot's clobber removes its image and containers.
      await cliHere(home, ["knot", "clobber", name, "--yes"]);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
