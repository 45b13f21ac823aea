// A knot or a Pars being made in one process while another uses the same
// config file, against the emulator with real containers: what the maker made
// so far has no record yet, and gc must leave it alone; a second maker of the
// same knot waits for the first and uses its knot.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, Pars } from "../../mod.ts";
import { deleteGarbage, findGarbage } from "../../src/resources/mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { noLocalKnots } from "./helpers.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { withAwsHome } from "../cli/aws_helpers.ts";
import { cli, JOBS } from "../cli/helpers.ts";

const FARGATE = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];

function square(x: number): number {
  return x * x;
}

/** Waits until the emulator holds a resource whose id matches. */
async function until(emu: Emulator, id: RegExp): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!emu.listResources().some((r) => id.test(r.id))) {
    if (Date.now() > deadline) throw new Error(`no resource ${id} after 120 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

dockerTest(
  "gc while another call makes a knot or a Pars with the same config file deletes nothing of them, and they are made whole",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-gc-making-" });
    const [knotHeld, parsHeld] = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
    try {
      const session = await sessionFor(emu);
      const state = new StateFile({ path: join(dir, "cloudknot") });
      const gc = async () => {
        const items = await findGarbage({ session, state, localDir: noLocalKnots(state) });
        await deleteGarbage(items, { session, state, wait: { pollMs: 20 }, warn: () => {} });
        return items.map((g) => `${g.kind} ${g.id}`);
      };

      // The knot's job definition is its last resource; its answer is held until gc is done.
      emu.faults.add({
        service: "batch",
        operation: "RegisterJobDefinition",
        kind: "latency",
        until: knotHeld.promise,
        times: 1,
      });
      const making = Knot.create({
        name: "racy",
        target: "aws",
        session,
        state,
        func: square,
        baseImage: await ensureBaseImage(),
        compute: "FARGATE",
        vcpus: 0.25,
        memory: 512,
        pollInterval: 50,
        cloudknotDir: join(dir, "home"),
        warn: () => {},
      });
      await until(emu, /^racy-ck-jq$/);
      const duringKnot = await gc().finally(knotHeld.resolve);
      const knot = await making.then((k) => k, (e) => e);
      assert.deepEqual(duringKnot, []);
      assert.ok(knot instanceof Knot, String(knot));
      const run = await knot.map([1, 2], { progress: false });
      assert.deepEqual(await run.results(), [1, 4]);

      // A Pars' security group is its last resource; its answer is held until gc is done.
      emu.faults.add({
        service: "ec2",
        operation: "CreateSecurityGroup",
        kind: "latency",
        until: parsHeld.promise,
        times: 1,
      });
      const pars = Pars.create({ name: "slow", session, state });
      await until(emu, /^slow-ecs-instance-role$/);
      const duringPars = await gc().finally(parsHeld.resolve);
      const made = await pars.then((p) => p, (e) => e);
      assert.deepEqual(duringPars, []);
      assert.ok(made instanceof Pars, String(made));
      await made.clobber({ pollMs: 20, warn: () => {} });
      assert.deepEqual(await findGarbage({ session, state, localDir: noLocalKnots(state) }), []);
    } finally {
      knotHeld.resolve();
      parsHeld.resolve();
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

dockerTest(
  "two cloudknot knot create of one new knot at once with one config file make it once: the second waits, says so, and says it adopted the knot, ignoring no option",
  async () => {
    await withAwsHome(async (home) => {
      const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
      const setUp = await cli(home, ["configure", "--region", "us-east-1"], { env });
      assert.equal(setUp.code, 0, setUp.stderr);
      const create = () =>
        cli(home, ["knot", "create", "twice", JOBS, "square", ...FARGATE], { env });
      const both = await Promise.all([create(), create()]);
      for (const r of both) assert.equal(r.code, 0, r.stderr);
      const waited = both.filter((r) =>
        r.stderr.includes(
          `cloudknot: knot twice is being made by another process with this config file ` +
            `(${home.configFile}); waiting for it to finish, then this one uses it`,
        )
      );
      assert.equal(waited.length, 1, both.map((r) => r.stderr).join("\n----\n"));
      // The one that waited adopted the knot the other made, with the same options: it says so,
      // and that no option was ignored.
      const [maker] = both.filter((r) => r !== waited[0]);
      assert.match(maker!.stdout, /^Created knot twice on AWS Batch/m);
      assert.match(waited[0]!.stdout, /^Adopted knot twice on AWS Batch/m);
      assert.doesNotMatch(waited[0]!.stderr, /ignored/);
      // Made once: one revision of the job definition.
      assert.deepEqual(
        home.emu.listResources().map((r) => `${r.type} ${r.id}`).filter((id) => /twice/.test(id))
          .sort(),
        [
          "compute-environment twice-ck-ce",
          "job-definition twice-ck-jd:1",
          "job-queue twice-ck-jq",
          "role emulator-default.twice-job",
        ],
      );
      const mapped = await cli(home, ["map", JOBS, "square", "--name", "twice", ...FARGATE], {
        stdin: "[3]",
        env,
      });
      assert.equal(mapped.code, 0, mapped.stderr);
      assert.equal(mapped.stdout, '{"index":0,"value":9}\n');
    }, { runner: "docker" });
  },
);
