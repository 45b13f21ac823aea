// The dry run of Knot.create decides "rebuild for the runtime" from what the
// create reads: the knot's record and its job definition revision's
// cloudknot:runtime tag. A record that says this version's runtime while the
// revision has no tag (untagged outside cloudknot, or a record written by
// hand) is planned as the create does it: its image rebuilt. Against the
// emulator, with real containers.
import assert from "node:assert/strict";
import { Knot } from "../../../mod.ts";
import { readAwsKnot } from "../../../src/targets/aws/catalog.ts";
import { RUNTIME_PROTOCOL, RUNTIME_PROTOCOL_TAG } from "../../../src/job/runtime_protocol.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { withFargateKnot } from "./helpers.ts";

function double(x: number): number {
  return 2 * x;
}

dockerTest(
  "a dry run of a knot whose record says this version's runtime but whose revision has no runtime tag plans its image rebuilt, as the create then does",
  async () => {
    await withFargateKnot("planskew", async ({ emu, session, state, common }) => {
      await Knot.create({ ...common, func: double });
      const record = (await readAwsKnot(state, common.name))!;
      assert.equal(record.runtime, RUNTIME_PROTOCOL);
      await session.batch.untagResource({
        resourceArn: record.jobDefinition,
        tagKeys: [RUNTIME_PROTOCOL_TAG],
      });

      const before = emu.mutatingRequests().length;
      const plan = await Knot.create({ ...common, func: double, dryRun: true });
      assert.equal(plan.find("image")?.action, "build");
      assert.equal(plan.find("job definition revision")?.action, "create");
      assert.match(plan.notes.join("\n"), /its image rebuilt with this version's job runtime/);
      assert.deepEqual(emu.mutatingRequests().slice(before), [], "a dry run changes nothing");

      // The create does what its dry run said.
      const made = await Knot.create({ ...common, func: double, warn: () => {} });
      assert.equal(made.aws!.updated, true);
      assert.equal(made.aws!.adopted, false);
      assert.notEqual(made.aws!.jobDefinition, record.jobDefinition);

      // Its revision now says this version's runtime: the dry run plans an adoption.
      const again = await Knot.create({ ...common, func: double, dryRun: true });
      assert.equal(again.find("image"), undefined);
      assert.equal(again.find("knot")?.action, "adopt");
    });
  },
);
