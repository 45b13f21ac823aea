// The dry run of a heal refuses what the heal refuses before it makes anything, with the same
// words and with read-only requests: here, a Pars of the record's name that another config file
// on the account made, and Pars policies other than those of the Pars record it makes again. No
// image is built and no job runs.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot, Pars } from "../../../mod.ts";
import { deleteRole } from "../../../src/resources/_iam_roles.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { withEmulator } from "../../resources/helpers.ts";
import { rejects } from "../../support/rejects.ts";
import { writeMendedKnot } from "./helpers.ts";

Deno.test("the dry run of a heal refuses the record's Pars when another config file made it, in the heal's words, before any AWS request that changes anything", async () => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    await writeMendedKnot(emu, session, state);
    // Pars mended-pars, which this config file has no record of, made with another one.
    const theirs = new StateFile({ path: join(dir, "theirs", "cloudknot") });
    await Pars.create({ session, state: theirs, name: "mended-pars", bucket: "mended-bucket" });
    const options = {
      name: "mended",
      target: "aws" as const,
      func: (x: number) => x,
      session,
      state,
      warn: () => {},
    };
    emu.requests.clear();
    const planned = await rejects(Knot.create({ ...options, dryRun: true }), CloudknotInputError);
    assert.equal(planned.field, "pars");
    assert.match(
      planned.message,
      /^Pars mended-pars exists on this AWS account, made with another /,
    );
    assert.match(planned.message, /knot mended heals only with its Pars mended-pars/);
    assert.deepEqual(emu.mutatingRequests(), []);
    // The heal refuses it in the same words, also having changed nothing.
    const healed = await rejects(Knot.create(options), CloudknotInputError);
    assert.equal(healed.message, planned.message);
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("the dry run of a heal refuses parsPolicies other than those of the Pars record it makes again, in the heal's words, before any AWS request that changes anything", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await writeMendedKnot(emu, session, state);
    // Pars mended-pars, made with this config file and a policy, then deleted outside cloudknot:
    // its record stays, and the heal makes it again as the record says.
    const pars = await Pars.create({
      session,
      state,
      name: "mended-pars",
      bucket: "mended-bucket",
      policies: ["AmazonS3ReadOnlyAccess"],
    });
    await deleteRole(session.iam, pars.taskExecutionRole.split("/").pop()!);
    const options = {
      name: "mended",
      target: "aws" as const,
      func: (x: number) => x,
      parsPolicies: ["AmazonS3FullAccess"],
      session,
      state,
      warn: () => {},
    };
    emu.requests.clear();
    const planned = await rejects(Knot.create({ ...options, dryRun: true }), CloudknotInputError);
    assert.equal(planned.field, "parsPolicies");
    assert.match(planned.message, /leave parsPolicies out to heal it/);
    assert.deepEqual(emu.mutatingRequests(), []);
    const healed = await rejects(Knot.create(options), CloudknotInputError);
    assert.equal(healed.message, planned.message);
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});
