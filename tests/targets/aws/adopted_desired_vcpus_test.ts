// desiredVcpus given to a knot that is adopted: Batch moves its compute
// environment's desiredvCpus with the queue's demand, so the live value is
// not what the knot was made with; a start within the environment's bounds
// is not called ignored after Batch scaled, one outside them is.
import assert from "node:assert/strict";
import { encodeItems } from "../../../src/job/codec.ts";
import { ignoredOptions } from "../../../src/targets/aws/adopted_options.ts";
import type { AwsKnotRecord } from "../../../src/targets/aws/catalog.ts";
import type { AwsKnotSpec } from "../../../src/targets/aws/knot_options.ts";
import { job, startTestBed } from "./helpers.ts";

Deno.test("an adopted knot's desiredVcpus it was made with is not called ignored once Batch scaled its compute environment's desiredvCpus, and one beyond its bounds is", async () => {
  const bed = await startTestBed(job, { maxvCpus: 16 });
  try {
    const describe = async () =>
      (await bed.session.batch.describeComputeEnvironments({
        computeEnvironments: [`ck-ce`],
      })).computeEnvironments![0]!;
    const made = (await describe()).computeResources!;
    assert.equal(made.desiredvCpus, 0);
    const run = await bed.target().map<number>({
      items: encodeItems([1, 2, 3]),
      starmap: false,
      env: {},
    });
    await run.settled();
    // Batch raised it with the jobs.
    const computeEnvironment = await describe();
    assert.ok(computeEnvironment.computeResources!.desiredvCpus! > 0);

    const record = {
      name: "squares",
      computeEnvironment: computeEnvironment.computeEnvironmentArn,
      jobQueue: bed.resources.jobQueue,
      jobDefinition: bed.resources.jobDefinition,
      imageTags: ["squares"],
    } as AwsKnotRecord;
    const ignored = (spec: Partial<AwsKnotSpec>) =>
      ignoredOptions(
        bed.session,
        { name: "squares", ...spec } as AwsKnotSpec,
        record,
        { computeEnvironment },
        { sameFunction: true },
      );
    assert.deepEqual(await ignored({ desiredVcpus: 0 }), []);
    assert.deepEqual(await ignored({ desiredVcpus: 4 }), []);
    assert.deepEqual(await ignored({ desiredVcpus: 32, maxVcpus: 32 }), [
      "desiredVcpus",
      "maxVcpus",
    ]);
  } finally {
    await bed.close();
  }
});
