// A knot's update (Knot.create with another function) and its clobber, run
// at once by two processes with one config file, on the command line against
// the emulator: whichever takes its mark second refuses before it changes
// anything, so the clobber never deletes what the update is making (and then
// loses the record that names it), nor does the update make anything again
// under a clobber; once the first one ends, running the refused one again
// leaves nothing behind.
import assert from "node:assert/strict";
import { StateFile } from "../../../src/state/mod.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { type AwsHome, withAwsHome } from "../../cli/aws_helpers.ts";
import { cli, JOBS, spawnCli } from "../../cli/helpers.ts";
import type { Emulator } from "../../emulator/mod.ts";

const FARGATE = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];

/** What the emulator holds of AWS Batch, as `type/id`, sorted (job definitions with their status). */
function batchResources(emu: Emulator): string[] {
  return emu.listResources().filter((r) => r.service === "batch").map((r) => `${r.type}/${r.id}`)
    .sort();
}

/** The ACTIVE revisions of a job definition name. */
function activeRevisions(emu: Emulator, name: string): number[] {
  return (emu.batch.jobDefinitions.get(name) ?? []).filter((d) =>
    (d.status ?? "ACTIVE") === "ACTIVE"
  )
    .map((d) => d.revision);
}

/**
 * Starts `args` in a process of its own, held at its first request of
 * `operation` (a latency fault), runs `body` once it is held there, then lets
 * it go on and asserts that it succeeds.
 */
async function whileHeldAt(
  home: AwsHome,
  env: Record<string, string>,
  operation: string,
  args: string[],
  body: () => Promise<void>,
): Promise<void> {
  const release = Promise.withResolvers<void>();
  try {
    const held = await heldAt(home, env, operation, args, release.promise);
    await body();
    release.resolve();
    assert.equal(await held.code, 0, await held.stderr);
  } finally {
    release.resolve();
  }
}

/**
 * Starts `args` in a process of its own, held at its first request of
 * `operation` (a latency fault until `release` settles), and resolves once it
 * is held there.
 */
async function heldAt(
  home: AwsHome,
  env: Record<string, string>,
  operation: string,
  args: string[],
  release: Promise<void>,
): Promise<{ code: Promise<number>; stderr: Promise<string> }> {
  const fault = home.emu.faults.add({
    service: "batch",
    operation,
    kind: "latency",
    until: release,
    times: 1,
  });
  const child = spawnCli(home, args, { env });
  const stderr = new Response(child.stderr).text();
  void new Response(child.stdout).text();
  const status = child.status;
  let ended = false;
  void status.then(() => ended = true);
  while (home.emu.faults.list().find((f) => f.id === fault)?.hits !== 1) {
    if (ended) throw new Error(`${args.join(" ")} ended before its ${operation}: ${await stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { code: status.then((s) => s.code), stderr };
}

dockerTest(
  "a knot clobber while another process with the config file updates the knot refuses and deletes nothing, an update while a clobber runs refuses and makes nothing, and the clobber run again leaves no compute environment, queue or ACTIVE job definition",
  async () => {
    await withAwsHome(async (home) => {
      const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
      const run = (args: string[]) => cli(home, args, { env });
      assert.equal((await run(["configure", "--region", "us-east-1"])).code, 0);
      const made = await run(["knot", "create", "rk", JOBS, "square", ...FARGATE]);
      assert.equal(made.code, 0, made.stderr.slice(-1500));
      const state = new StateFile({ path: home.configFile });

      // The update (another function) holds its mark, its image pushed, its new revision on
      // its way: a clobber now refuses, and changes nothing.
      await whileHeldAt(
        home,
        env,
        "RegisterJobDefinition",
        ["knot", "create", "rk", JOBS, "failOdd", ...FARGATE],
        async () => {
          const refused = await run(["knot", "clobber", "rk", "--yes"]);
          assert.equal(refused.code, 1, refused.stdout);
          assert.match(
            refused.stderr,
            /Knot rk is being updated or made again by another process with this config file .*, so this clobber changed nothing.*Once it ends, clobber the knot again/,
          );
          for (const operation of ["UpdateJobQueue", "DeleteJobQueue", "DeregisterJobDefinition"]) {
            assert.equal(home.emu.count("batch", operation), 0, `${operation} was sent`);
          }
          assert.equal((await state.section("knot rk"))?.get("clobber-started"), undefined);
        },
      );
      assert.deepEqual(activeRevisions(home.emu, "rk-ck-jd"), [1, 2]);

      // The clobber holds its mark and has begun (held at its queue's disabling): an update now
      // refuses, and makes nothing.
      await whileHeldAt(
        home,
        env,
        "UpdateJobQueue",
        ["knot", "clobber", "rk", "--yes"],
        async () => {
          const pushes = home.emu.count("ecr", "PutImage");
          const again = await run(["knot", "create", "rk", JOBS, "square", ...FARGATE]);
          assert.equal(again.code, 1, again.stdout);
          assert.match(again.stderr, /Knot rk is being clobbered by another process/);
          assert.equal(home.emu.count("ecr", "PutImage"), pushes);
          assert.deepEqual(activeRevisions(home.emu, "rk-ck-jd"), [1, 2]);
        },
      );
      // Nothing of the knot is left on AWS Batch, and no record names anything.
      assert.deepEqual(
        batchResources(home.emu).filter((r) => !r.startsWith("job-definition/")),
        [],
      );
      assert.deepEqual(activeRevisions(home.emu, "rk-ck-jd"), []);
      assert.equal(await state.section("knot rk"), undefined);
    }, { registry: true });
  },
);
