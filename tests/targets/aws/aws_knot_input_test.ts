// A knot on AWS refused before anything is created: a module that cannot be
// bundled, and a record of another region or profile (the table of bad
// options is tests/bad_inputs_test.ts).
import assert from "node:assert/strict";
import {
  ArtifactError,
  Knot,
  ProfileMismatchError,
  RegionMismatchError,
  ResourceDoesNotExistError,
} from "../../../mod.ts";
import { withEmulator } from "../../resources/helpers.ts";

Deno.test("a module that cannot be bundled fails before any AWS resource is touched", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const module = new URL("./no_such_module.ts", import.meta.url).href;
    await assert.rejects(
      () =>
        Knot.create({
          name: "k",
          target: "aws",
          module,
          exportName: "f",
          session,
          state,
        }),
      (e) => e instanceof ArtifactError && e.module === module,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await state.section("knot k"), undefined);
  });
});

Deno.test("a knot recorded in another region or profile is refused, and a vanished one is dropped", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const record = {
      target: "aws",
      region: "eu-west-1",
      profile: session.profile,
      "compute-environment": "arn:aws:batch:us-east-1:123456789012:compute-environment/gone-ck-ce",
      "job-queue": "arn:aws:batch:us-east-1:123456789012:job-queue/gone-ck-jq",
    };
    await state.setMany("knot gone", record);
    emu.requests.clear();
    await assert.rejects(
      () => Knot.create({ name: "gone", target: "aws", session, state }),
      (e) => e instanceof RegionMismatchError && /eu-west-1/.test(e.message),
    );
    await state.setMany("knot gone", { region: session.region, profile: "elsewhere" });
    await assert.rejects(
      () => Knot.create({ name: "gone", target: "aws", session, state }),
      ProfileMismatchError,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    await state.setMany("knot gone", { profile: session.profile });
    await assert.rejects(
      () => Knot.create({ name: "gone", target: "aws", session, state }),
      (e) => e instanceof ResourceDoesNotExistError && e.missing.length === 2,
    );
    assert.equal(await state.section("knot gone"), undefined, "the stale record was dropped");
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});
