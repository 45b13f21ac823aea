// `cloudknot knot show` of an AWS knot gives the runtime protocol of its
// image's job runtime, as its record says (written from its job definition
// revision's tag): this version's as it is, and another one's (or none, a
// knot made before runtime protocols) with what maps and retries do and the
// command that rebuilds the image.
import assert from "node:assert/strict";
import { RUNTIME_PROTOCOL, runtimeProtocolWords } from "../../../src/job/runtime_protocol.ts";
import { readAwsKnot, writeAwsKnot } from "../../../src/targets/aws/catalog.ts";
import { cli, job, recordKnot, startTestBed } from "./helpers.ts";

Deno.test("knot show says an AWS knot's image runs another version's job runtime, and how to rebuild it", async () => {
  const bed = await startTestBed(job);
  try {
    // As a cloudknot version from before runtime protocols left its record: no runtime-protocol.
    await recordKnot(bed);
    const setUp = bed.emu.mutatingRequests().length;
    assert.equal((await bed.state.section(`knot ${bed.knot}`))?.get("runtime-protocol"), undefined);
    const before = runtimeProtocolWords(undefined);
    const ours = runtimeProtocolWords(RUNTIME_PROTOCOL);
    const advice = `Knot ${bed.knot}'s image runs the job runtime of another cloudknot version ` +
      `(${before}; this version's is ${ours}): maps and retries on it are refused. To run it, ` +
      `create the knot with cloudknot knot create ${bed.knot} MODULE EXPORT --target aws: that ` +
      "rebuilds its image with this version's runtime under a new job definition revision, and " +
      "keeps its runs.";

    const old = await cli(bed, ["knot", "show", bed.knot]).ended;
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, new RegExp(`^runtime +${before}, not this version's ${ours}$`, "m"));
    assert.ok(old.stdout.endsWith(`\n\n${advice}\n`), old.stdout);
    const oldJson = await cli(bed, ["knot", "show", bed.knot, "--json"]).ended;
    assert.equal(oldJson.code, 0, oldJson.stderr);
    assert.deepEqual(JSON.parse(oldJson.stdout).runtime, {
      protocol: null,
      current: false,
      advice,
    });

    // Another protocol, by number.
    const record = (await readAwsKnot(bed.state, bed.knot))!;
    await writeAwsKnot(bed.state, { ...record, runtime: RUNTIME_PROTOCOL + 1 });
    const other = await cli(bed, ["knot", "show", bed.knot, "--json"]).ended;
    assert.equal(JSON.parse(other.stdout).runtime.protocol, RUNTIME_PROTOCOL + 1);
    assert.match(
      JSON.parse(other.stdout).runtime.advice,
      new RegExp(`\\(runtime protocol ${RUNTIME_PROTOCOL + 1}; this version's is ${ours}\\)`),
    );

    // This version's: shown as it is, without advice.
    await writeAwsKnot(bed.state, { ...record, runtime: RUNTIME_PROTOCOL });
    const current = await cli(bed, ["knot", "show", bed.knot]).ended;
    assert.equal(current.code, 0, current.stderr);
    assert.match(current.stdout, new RegExp(`^runtime +${ours}$`, "m"));
    assert.doesNotMatch(current.stdout, /another cloudknot version|knot create/);
    const currentJson = await cli(bed, ["knot", "show", bed.knot, "--json"]).ended;
    assert.deepEqual(JSON.parse(currentJson.stdout).runtime, {
      protocol: RUNTIME_PROTOCOL,
      current: true,
      advice: null,
    });
    assert.deepEqual(bed.emu.mutatingRequests().slice(setUp), [], "knot show changes nothing");
  } finally {
    await bed.close();
  }
});
