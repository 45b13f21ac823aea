// The AWS knot catalogue: the one reader and writer of `[knot <name>]`, the
// runs it remembers and the knot's jobs in `[batch-jobs <profile> <region>]`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotError, CloudknotInputError } from "../../../mod.ts";
import { resolveArtifactFrames } from "../../../src/job/artifact_sources.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { CannotDeleteResourceError } from "../../../src/resources/mod.ts";
import {
  type AwsKnotRecord,
  clobberingAwsKnot,
  knotJobIds,
  markAwsKnotClobbering,
  readAwsKnot,
  readAwsKnots,
  recordedRuns,
  removeAwsKnot,
  requireResources,
  writeAwsKnot,
} from "../../../src/targets/aws/catalog.ts";
import { watchLooks, whileReadersLook } from "../../support/mark_looks.ts";

async function withState(body: (state: StateFile) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(new StateFile({ path: join(dir, "cloudknot") }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const RECORD: AwsKnotRecord = {
  name: "Squares",
  region: "us-east-1",
  profile: "default",
  pars: "default",
  dockerImage: "squares",
  dockerRepo: "cloudknot",
  imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cloudknot@sha256:ab",
  computeEnvironment: "arn:aws:batch:us-east-1:123456789012:compute-environment/Squares-ck-ce",
  jobQueue: "arn:aws:batch:us-east-1:123456789012:job-queue/Squares-ck-jq",
  jobDefinition: "arn:aws:batch:us-east-1:123456789012:job-definition/Squares-ck-jd:1",
  jobDefinitionName: "Squares-ck-jd",
  launchTemplate: "lt-0123",
  jobRole: "arn:aws:iam::123456789012:role/default.Squares-job",
  bucket: "cloudknot-bucket",
  sse: "aws:kms",
  prefix: "cloudknot/jobs/Squares",
  retries: 5,
  compute: "FARGATE",
  imageTags: ["squares", "v2"],
  runs: [],
  sources: {
    key: "c47a1095e0d2",
    src: "file:///home/me/jobs/",
    deno_dir: "file:///home/me/.cache/deno/",
  },
};

Deno.test("AWS catalog: a written record reads back as it was, and the runs recorded are kept", async () => {
  await withState(async (state) => {
    await state.set("knot Squares", "runs", "20260101T000000Z-aaaaaa");
    await writeAwsKnot(state, RECORD);
    const runs = ["20260101T000000Z-aaaaaa"];
    assert.deepEqual(await readAwsKnot(state, "Squares"), { ...RECORD, runs });
    assert.deepEqual(await readAwsKnots(state), [{ ...RECORD, runs }]);
    assert.deepEqual(await recordedRuns(state, "Squares"), runs);
    // Reading the record remembers where its module's sources are, for its stack frames.
    assert.equal(
      resolveArtifactFrames("at f (cloudknot:c47a1095e0d2/src/lib/sim.ts:3:9)"),
      "at f (file:///home/me/jobs/lib/sim.ts:3:9)",
    );
  });
});

Deno.test("AWS catalog: keys a record lacks read as the writer's defaults", async () => {
  await withState(async (state) => {
    await state.setMany("knot Old", { target: "aws", region: "us-east-1", profile: "default" });
    const record = await readAwsKnot(state, "Old");
    assert.equal(record?.retries, 3);
    assert.equal(record?.compute, "EC2");
    assert.equal(record?.sse, "AES256");
    assert.equal(record?.jobDefinitionName, "Old-ck-jd");
    assert.deepEqual(record?.imageTags, ["old"]);
    assert.equal(record?.launchTemplate, undefined);
    // A knot made before knots had their own job role: its jobs use the Pars' role.
    assert.equal(record?.jobRole, undefined);
    // A knot made before records kept its module's sources: its frames keep their portable names.
    assert.equal(record?.sources, undefined);
    assert.throws(
      () => requireResources(record!, ["jobQueue"]),
      (e) => e instanceof CloudknotError && /\[knot Old\] has no "job-queue"/.test(e.message),
    );
    requireResources({ ...record!, jobQueue: "q" }, ["jobQueue"]);
  });
});

Deno.test("AWS catalog: a [knot] section of another kind is no AWS knot, and strict reading refuses it", async () => {
  await withState(async (state) => {
    await state.setMany("knot py", { region: "us-east-1", "job_ids": "" });
    assert.equal(await readAwsKnot(state, "py"), undefined);
    assert.deepEqual(await readAwsKnots(state), []);
    await assert.rejects(
      readAwsKnot(state, "py", { strict: true }),
      (e) => e instanceof CloudknotInputError && /is not an AWS knot/.test(e.message),
    );
    assert.equal(await readAwsKnot(state, "absent", { strict: true }), undefined);
  });
});

Deno.test("AWS catalog: removing a knot forgets its jobs, whatever the case of its name, and no other knot's", async () => {
  await withState(async (state) => {
    const where = { knot: "Squares", profile: "default", region: "us-east-1" };
    await writeAwsKnot(state, RECORD);
    await state.setMany("batch-jobs default us-east-1", {
      "job-1": "Squares-20260101T000000Z-aaaaaa-0",
      "job-2": "Squares-20260101T000000Z-aaaaaa-1",
      "job-3": "cubes-20260101T000000Z-bbbbbb-0",
    });
    assert.deepEqual(await knotJobIds(state, where), ["job-1", "job-2"]);
    await removeAwsKnot(state, "Squares", where);
    assert.equal(await state.section("knot Squares"), undefined);
    assert.deepEqual(
      await state.section("batch-jobs default us-east-1"),
      new Map([["job-3", "cubes-20260101T000000Z-bbbbbb-0"]]),
    );
    await removeAwsKnot(state, "cubes", { ...where, knot: "cubes" });
    assert.equal(await state.section("batch-jobs default us-east-1"), undefined);
  });
});

Deno.test("AWS catalog: a knot's clobber reads as running while its caller holds the mark, a second one refuses without running, and once the first ended part-way it reads as stopped", async () => {
  await withState(async (state) => {
    await writeAwsKnot(state, RECORD);
    let second = false;
    await assert.rejects(
      clobberingAwsKnot(state, "Squares", async () => {
        await markAwsKnotClobbering(state, "Squares");
        assert.equal((await readAwsKnot(state, "Squares"))?.clobberRunning, true);
        assert.deepEqual((await readAwsKnots(state)).map((k) => k.clobberRunning), [true]);
        // Another clobber of it (flock excludes two opens in one process as two processes).
        await assert.rejects(
          clobberingAwsKnot(state, "Squares", () => Promise.resolve(second = true)),
          (e: unknown) => {
            assert.ok(e instanceof CannotDeleteResourceError, String(e));
            assert.match(
              e.message,
              /^Knot Squares is being clobbered by another process with this config file .*, so this clobber changed nothing\. Wait for that one to end: `knot show Squares` says while it runs/,
            );
            return true;
          },
        );
        throw new Error("lost connection");
      }),
      /lost connection/,
    );
    assert.equal(second, false);
    const stopped = await readAwsKnot(state, "Squares");
    assert.equal(typeof stopped?.clobberStartedAt, "number");
    assert.equal(stopped?.clobberRunning, false);
    // A knot whose clobber never began says nothing of one.
    await writeAwsKnot(state, RECORD);
    assert.equal((await readAwsKnot(state, "Squares"))?.clobberRunning, undefined);
  });
});

/** The file of the mark a clobber of knot `name` holds, beside config file `state`. */
function clobberMark(state: StateFile, name: string): string {
  return `${state.path}.making-${encodeURIComponent(`clobbering-knot ${name}`)}.lock`;
}

Deno.test("AWS catalog: a second clobber of a knot while one runs is refused at its first look at the mark, even when the first ends right after that look", async () => {
  await withState(async (state) => {
    await writeAwsKnot(state, RECORD);
    const holding = Promise.withResolvers<void>();
    const ended = Promise.withResolvers<void>();
    const first = clobberingAwsKnot(state, "Squares", () => {
      holding.resolve();
      return ended.promise;
    });
    await holding.promise;
    // The first clobber ends as soon as the second has tried the mark twice (one look: the
    // exclusive lock, then the shared one that tells another clobber from a reader).
    using _ = watchLooks((await Deno.stat(clobberMark(state, "Squares"))).ino, async ({ n }) => {
      if (n !== 2) return;
      ended.resolve();
      await first;
    });
    let ran = false;
    await assert.rejects(
      clobberingAwsKnot(state, "Squares", () => Promise.resolve(ran = true)),
      (e) => e instanceof CannotDeleteResourceError && /is being clobbered/.test(e.message),
    );
    assert.equal(ran, false);
    await first;
  });
});

Deno.test("AWS catalog: readers looking at a knot's clobber mark without a pause never make its clobber refuse: it waits for them, then runs", async () => {
  await withState(async (state) => {
    await writeAwsKnot(state, RECORD);
    let ran = false;
    // Two readers (`StateFile.making()`, `knot list`) whose looks overlap, for more tries than
    // the four looks over a second a clobber used to give them.
    const refused = await whileReadersLook(
      clobberMark(state, "Squares"),
      12,
      () =>
        clobberingAwsKnot(state, "Squares", () => Promise.resolve(ran = true))
          .then(() => undefined, (e: unknown) => e),
      () => assert.equal(ran, false),
    );
    assert.equal(refused, undefined);
    assert.equal(ran, true);
  });
});
