// `cloudknot knot show` of an AWS knot gives the runtime protocol of its
// image's job runtime as a map would decide it: by its job definition
// revision's tag (one DescribeJobDefinitions), whatever its record says. This
// version's as it is, and another one's (or none, a revision registered before
// runtime protocols) with what maps and retries do and the command that
// rebuilds the image.
import assert from "node:assert/strict";
import {
  RUNTIME_PROTOCOL,
  RUNTIME_PROTOCOL_TAG,
  runtimeProtocolWords,
} from "../../../src/job/runtime_protocol.ts";
import { type AwsKnotRecord, readAwsKnot, writeAwsKnot } from "../../../src/targets/aws/catalog.ts";
import {
  runtimeCheck,
  RuntimeMismatchError,
} from "../../../src/targets/aws/batch/runtime_check.ts";
import { cli, job, recordKnot, startTestBed, type TestBed } from "./helpers.ts";

/**
 * Points the test bed's knot at a new revision of its job definition whose
 * runtime tag is `protocol` (none when `undefined`), its record saying
 * `recorded`.
 */
async function onRevision(
  bed: TestBed,
  protocol: number | undefined,
  recorded: number | undefined,
): Promise<void> {
  const [definition] = (await bed.session.batch.describeJobDefinitions({
    jobDefinitions: [bed.resources.jobDefinition],
  })).jobDefinitions!;
  const { jobDefinitionArn } = await bed.session.batch.registerJobDefinition({
    jobDefinitionName: definition!.jobDefinitionName,
    type: "container",
    containerProperties: definition!.containerProperties!,
    ...(protocol !== undefined ? { tags: { [RUNTIME_PROTOCOL_TAG]: String(protocol) } } : {}),
  });
  const { runtime: _, ...record } = (await readAwsKnot(bed.state, bed.knot))!;
  const next: AwsKnotRecord = { ...record, jobDefinition: jobDefinitionArn };
  await writeAwsKnot(bed.state, recorded === undefined ? next : { ...next, runtime: recorded });
}

/** `knot show` of the test bed's knot, and its `--json`'s `runtime`; one DescribeJobDefinitions each. */
async function show(bed: TestBed): Promise<{ stdout: string; json: Record<string, unknown> }> {
  bed.emu.requests.clear();
  const text = await cli(bed, ["knot", "show", bed.knot]).ended;
  assert.equal(text.code, 0, text.stderr);
  const json = await cli(bed, ["knot", "show", bed.knot, "--json"]).ended;
  assert.equal(json.code, 0, json.stderr);
  const described = bed.emu.requests.entries.filter((e) =>
    e.operation === "DescribeJobDefinitions"
  );
  assert.equal(described.length, 2, "one DescribeJobDefinitions each");
  return { stdout: text.stdout, json: JSON.parse(json.stdout).runtime };
}

Deno.test("knot show says an AWS knot's image runs another version's job runtime, and how to rebuild it", async () => {
  const bed = await startTestBed(job);
  try {
    // As a cloudknot version from before runtime protocols left it: no tag, no runtime-protocol.
    await recordKnot(bed);
    await onRevision(bed, undefined, undefined);
    const setUp = bed.emu.mutatingRequests().length;
    assert.equal((await bed.state.section(`knot ${bed.knot}`))?.get("runtime-protocol"), undefined);
    const before = runtimeProtocolWords(undefined);
    const ours = runtimeProtocolWords(RUNTIME_PROTOCOL);
    const advice = (words: string) =>
      `Knot ${bed.knot}'s image runs the job runtime of another cloudknot version ` +
      `(${words}; this version's is ${ours}): maps and retries on it are refused. To run it, ` +
      `create the knot with cloudknot knot create ${bed.knot} MODULE EXPORT --target aws: that ` +
      "rebuilds its image with this version's runtime under a new job definition revision, and " +
      "keeps its runs.";

    const old = await show(bed);
    assert.match(old.stdout, new RegExp(`^runtime +${before}, not this version's ${ours}$`, "m"));
    assert.ok(old.stdout.endsWith(`\n\n${advice(before)}\n`), old.stdout);
    assert.deepEqual(old.json, { protocol: null, current: false, advice: advice(before) });

    // Another protocol, by number.
    await onRevision(bed, RUNTIME_PROTOCOL + 1, RUNTIME_PROTOCOL + 1);
    const other = await show(bed);
    assert.equal(other.json.protocol, RUNTIME_PROTOCOL + 1);
    assert.equal(other.json.advice, advice(`runtime protocol ${RUNTIME_PROTOCOL + 1}`));

    // This version's: shown as it is, without advice.
    await onRevision(bed, RUNTIME_PROTOCOL, RUNTIME_PROTOCOL);
    const current = await show(bed);
    assert.match(current.stdout, new RegExp(`^runtime +${ours}$`, "m"));
    assert.doesNotMatch(current.stdout, /another cloudknot version|rebuilds its image/);
    assert.deepEqual(current.json, { protocol: RUNTIME_PROTOCOL, current: true, advice: null });
    assert.deepEqual(bed.emu.mutatingRequests().slice(setUp), [], "knot show changes nothing");
  } finally {
    await bed.close();
  }
});

Deno.test("knot show gives an AWS knot's runtime protocol as its revision's tag says, as a map decides, where its hand-edited record says another", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    const ours = runtimeProtocolWords(RUNTIME_PROTOCOL);
    const stale = RUNTIME_PROTOCOL + 1;
    // The record says this version's protocol; the revision's tag, another.
    await onRevision(bed, stale, RUNTIME_PROTOCOL);
    const shown = await show(bed);
    assert.match(
      shown.stdout,
      new RegExp(`^runtime +${runtimeProtocolWords(stale)}, not this version's ${ours}$`, "m"),
    );
    assert.equal(shown.json.protocol, stale);
    assert.equal(shown.json.current, false);
    // As the check a map of the knot runs first decides: refused.
    const { jobDefinition } = (await readAwsKnot(bed.state, bed.knot))!;
    await assert.rejects(
      runtimeCheck(bed.session.batch, bed.knot)({ jobDefinition }),
      RuntimeMismatchError,
    );
    // And the other way round: a record of another protocol on a revision of this version's.
    await onRevision(bed, RUNTIME_PROTOCOL, stale);
    assert.deepEqual((await show(bed)).json, {
      protocol: RUNTIME_PROTOCOL,
      current: true,
      advice: null,
    });
  } finally {
    await bed.close();
  }
});

Deno.test("knot show says an AWS knot cannot run anything while its Pars is gone or its compute environment DISABLED, and how to make it again, changing nothing", async () => {
  const bed = await startTestBed(job);
  try {
    // The test bed's knot uses Pars ck, which has no record: as after a forced Pars clobber.
    await recordKnot(bed);
    const setUp = bed.emu.mutatingRequests().length;
    const show = async () => {
      const text = await cli(bed, ["knot", "show", bed.knot]).ended;
      assert.equal(text.code, 0, text.stderr);
      const json = await cli(bed, ["knot", "show", bed.knot, "--json"]).ended;
      assert.equal(json.code, 0, json.stderr);
      const { cannotRun } = JSON.parse(json.stdout);
      assert.ok(text.stdout.includes(`\n\n${cannotRun}\n`), text.stdout);
      return cannotRun as string;
    };
    const parsGone = await show();
    assert.match(
      parsGone,
      /^Knot squares cannot run anything: the Pars ck it uses is gone: the config file has no \[pars ck\] record any more/,
    );
    // In the command line's words: the command that makes it again, and the one that removes it.
    assert.match(
      parsGone,
      /make what is missing again with cloudknot knot create squares MODULE EXPORT --target aws and the knot's options/,
    );
    assert.match(parsGone, /run cloudknot knot clobber squares --target aws/);
    assert.doesNotMatch(parsGone, /Knot\.create|func\b/);

    const [ce] = (await bed.session.batch.describeComputeEnvironments({
      computeEnvironments: ["ck-ce"],
    })).computeEnvironments!;
    await bed.session.batch.updateComputeEnvironment({
      computeEnvironment: ce!.computeEnvironmentArn!,
      state: "DISABLED",
    });
    const disabled = await show();
    assert.match(
      disabled,
      new RegExp(`its compute environment ${ce!.computeEnvironmentArn} is DISABLED`),
    );
    assert.match(disabled, /\(and enable what is disabled\)/);
    assert.equal(bed.emu.mutatingRequests().length, setUp + 1, "knot show changes nothing");

    // A look that fails (a caller who may read the runs but not the compute environments, or a
    // service that fails): the rest is shown all the same, without what that look would say.
    bed.emu.faults.add({
      service: "batch",
      operation: "DescribeComputeEnvironments",
      kind: "500",
      times: 1_000,
    });
    const unseen = await cli(bed, ["knot", "show", bed.knot, "--json"]).ended;
    assert.equal(unseen.code, 0, unseen.stderr);
    const json = JSON.parse(unseen.stdout);
    assert.doesNotMatch(json.cannotRun, /DISABLED/);
    assert.match(json.cannotRun, /the Pars ck it uses is gone/);
    assert.equal(json.runtime.protocol, RUNTIME_PROTOCOL);
  } finally {
    await bed.close();
  }
});
