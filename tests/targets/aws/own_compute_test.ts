// The options given to a knot that exists without `compute` are checked against the knot's own
// compute type, not the default's (EC2): a SPOT knot takes its bidPercentage again, and a Fargate
// knot memory that pairs with its own vCPUs. A knot made anew is still checked against the default,
// before anything changes on AWS.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { type Emulator, startEmulator } from "../../emulator/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { rejects } from "../../support/rejects.ts";

function square(x: number): number {
  return x * x;
}

/** Runs `body` with an emulator and the options of AWS knot `name` on it, then closes both. */
async function withAwsKnot(
  name: string,
  body: (emu: Emulator, common: Parameters<typeof Knot.create<typeof square>>[0]) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator({ registry: true });
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-own-compute-" });
  try {
    await body(emu, {
      name,
      target: "aws",
      session: await sessionFor(emu),
      state: new StateFile({ path: join(dir, "cloudknot") }),
      cloudknotDir: join(dir, "home"),
      baseImage: await ensureBaseImage(),
      func: square,
    });
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
}

dockerTest(
  "a SPOT knot given its bidPercentage without compute is adopted, a bidPercentage of its own is ignored with a warning, and a new knot's bidPercentage without compute is refused before any request that changes AWS",
  () =>
    withAwsKnot("spotty", async (emu, common) => {
      await Knot.create({ ...common, compute: "SPOT", bidPercentage: 60 });

      emu.requests.clear();
      const plan = await Knot.create({ ...common, bidPercentage: 60, dryRun: true });
      assert.equal(plan.find("knot")?.action, "adopt");
      assert.doesNotMatch(plan.notes.join("\n"), /ignored/);
      const warned: string[] = [];
      await Knot.create({ ...common, bidPercentage: 60, warn: (m) => warned.push(m) });
      assert.deepEqual(warned.filter((m) => /ignored/.test(m)), []);
      const other: string[] = [];
      await Knot.create({ ...common, bidPercentage: 70, warn: (m) => other.push(m) });
      assert.match(other.join("\n"), /these options were ignored: bidPercentage;/);
      assert.deepEqual(emu.mutatingRequests(), []);

      const refused = await rejects(
        Knot.create({ ...common, name: "newspot", bidPercentage: 60 }),
        CloudknotInputError,
      );
      assert.equal(refused.message, 'bidPercentage needs compute "SPOT"');
      assert.deepEqual(emu.mutatingRequests(), []);
    }),
);

dockerTest(
  "a Fargate knot given memory alone updates with its own vCPUs, and memory its vCPUs do not take is refused by the update before any request that changes AWS",
  () =>
    withAwsKnot("lambs", async (emu, common) => {
      await Knot.create({ ...common, compute: "FARGATE", vcpus: 2, memory: 4096 });

      // 16 GiB takes 2 vCPUs on Fargate, not the 1 a new knot would have.
      await Knot.create({ ...common, memory: 16384, warn: () => {} });
      const revisions = emu.batch.jobDefinitions.get(`${common.name}-ck-jd`) ?? [];
      assert.equal(revisions.length, 2);
      assert.deepEqual(
        (revisions.at(-1)!.containerProperties as { resourceRequirements: unknown[] })
          .resourceRequirements,
        [{ type: "VCPU", value: "2" }, { type: "MEMORY", value: "16384" }],
      );

      const before = emu.mutatingRequests().length;
      const refused = await rejects(
        Knot.create({ ...common, memory: 32768 }),
        CloudknotInputError,
      );
      assert.match(refused.message, /2 vCPU takes memory of 4096 to 16384 MiB/);
      assert.match(refused.message, /keeps its own retries 3, vcpus 2 where they are not given/);
      assert.equal(emu.mutatingRequests().length, before);
    }),
);
