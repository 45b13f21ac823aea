/**
 * The Python original's exception kinds have counterparts here, and what the
 * library really throws is one of them: a bad AWS setting or an unusable
 * config file is a CloudknotConfigurationError, failed work a
 * BatchJobFailedError (JobFailedError). ResourceExistsError and
 * CannotCreateResourceError are asserted where Pars and Batch throw them.
 */
import assert from "node:assert/strict";
import {
  BatchJobFailedError,
  CloudknotConfigurationError,
  ItemError,
  JobFailedError,
  Knot,
  MapError,
} from "../../mod.ts";
import { AwsConfigError, AwsSession } from "../../src/aws/mod.ts";
import { StateFile, StateFileError } from "../../src/state/mod.ts";

Deno.test("an unknown AWS profile and a config file that is a directory are CloudknotConfigurationErrors", async () => {
  const profile = await AwsSession.create({
    profile: "nowhere",
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
  }).then(() => undefined, (e) => e);
  assert.ok(profile instanceof AwsConfigError);
  assert.ok(profile instanceof CloudknotConfigurationError);
  const dir = await Deno.makeTempDir();
  try {
    const file = await new StateFile({ path: dir }).read().then(() => undefined, (e) => e);
    assert.ok(file instanceof StateFileError);
    assert.ok(file instanceof CloudknotConfigurationError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed item and a run with failed items are BatchJobFailedErrors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const knot = await Knot.create({
      name: "fails",
      func: (x: number) => {
        if (x === 2) throw new RangeError("two");
        return x;
      },
      dir,
    });
    const run = await knot.map([1, 2], { progress: false });
    const item = await run.item(1).then(() => undefined, (e) => e);
    const all = await run.results().then(() => undefined, (e) => e);
    assert.ok(item instanceof ItemError && item instanceof BatchJobFailedError);
    assert.ok(all instanceof MapError && all instanceof JobFailedError);
    assert.equal(BatchJobFailedError, JobFailedError);
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
