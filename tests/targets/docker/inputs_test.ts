// A docker map() writes its inputs to the run's directory as it reads them,
// a chunk at a time, so a map of many or large items holds one chunk in
// memory, not every encoded item twice; inputs that fail midway keep nothing
// of the run. Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { job } from "../../fixtures/docker_job.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

/** Items of 256 KiB: 4 fill one chunk of encoded inputs (`job/inputs.ts`). */
const ITEM = 256 * 1024;

/** The size of each run's `inputs` file under a knot's directory, by run id. */
async function inputsSizes(root: string): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  const runs = join(root, "runs");
  const entries = await Array.fromAsync(Deno.readDir(runs)).catch(() => []);
  for (const entry of entries) {
    const size = await Deno.stat(join(runs, entry.name, "inputs")).then((s) => s.size, () => 0);
    sizes[entry.name] = size;
  }
  return sizes;
}

dockerTest(
  "a docker map() writes its inputs as it reads them, and inputs that fail midway keep nothing",
  async (t) => {
    await withDockerKnots("cloudknot-docker-inputs-", async ({ dir, knotOptions }) => {
      const knot = await Knot.create({ ...knotOptions, name: "inputs", func: job, concurrency: 2 });
      const root = join(dir, "inputs");
      const items = Array.from({ length: 24 }, (_, i) => `${i % 10}`.repeat(ITEM));

      await t.step("the items read so far are on disk before the rest is read", async () => {
        let seen: Record<string, number> = {};
        async function* inputs() {
          for (const [i, item] of items.entries()) {
            if (i === 20) seen = await inputsSizes(root);
            yield item;
          }
        }
        const run = await knot.map(inputs(), { progress: false });
        const written = Object.values(seen);
        assert.equal(written.length, 1, "the run's directory was made before its last items");
        assert.ok(
          written[0]! >= 16 * ITEM,
          `${written[0]} bytes of inputs were written when item 20 was read`,
        );
        assert.deepEqual(await run.results(), items);
      });

      await t.step(
        "an env that sets PATH or DENO_DIR, which the image's container needs, is refused and keeps nothing",
        async () => {
          const before = await knot.runs();
          for (const env of [{ PATH: "/x" }, { DENO_DIR: "/x" }] as Record<string, string>[]) {
            await assert.rejects(
              knot.map([1], { env, progress: false }),
              (e) =>
                e instanceof CloudknotInputError && e.field === "env" &&
                e.message.startsWith(`env must not set ${Object.keys(env)[0]}: `),
            );
          }
          assert.deepEqual(await knot.runs(), before);
        },
      );

      await t.step("inputs that throw midway reject the map and keep nothing", async () => {
        const before = await knot.runs();
        async function* inputs() {
          yield* items.slice(0, 12);
          throw new Error("the input file is truncated");
        }
        await assert.rejects(knot.map(inputs(), { progress: false }), /truncated/);
        assert.deepEqual(await knot.runs(), before);
        assert.deepEqual(
          Object.keys(await inputsSizes(root)).sort(),
          before.map((r) => r.runId).sort(),
          "no directory is left of the rejected run",
        );
      });

      await t.step("no inputs start nothing and write nothing", async () => {
        const before = await knot.runs();
        const run = await knot.map((async function* () {})(), { progress: false });
        assert.equal(run.total, 0);
        assert.deepEqual(await run.results(), []);
        assert.deepEqual(await knot.runs(), before);
      });

      await t.step(
        "the map's signal stops reading a never-ending input, which is closed, and cancels the items read",
        async () => {
          const source = { read: 0, closed: false, gate: Promise.withResolvers<void>() };
          const stop = new AbortController();
          const mapped = knot.map(
            (async function* () {
              try {
                for (let i = 0;; i++) {
                  // Nothing more for now: a queue that waits, a socket that is quiet.
                  if (i === 3) await source.gate.promise;
                  source.read = i + 1;
                  yield String(i);
                }
              } finally {
                source.closed = true;
              }
            })(),
            { signal: stop.signal, progress: false },
          );
          while (source.read < 3) await new Promise((resolve) => setTimeout(resolve, 10));
          stop.abort("enough");
          const run = await mapped;
          assert.equal(run.total, 3);
          for (const s of await run.settled()) {
            assert.match(String((s as { reason?: unknown }).reason), /enough/);
          }
          source.gate.resolve();
          while (!source.closed) await new Promise((resolve) => setTimeout(resolve, 10));
          assert.equal(source.read, 4, "no item is read after the one it was waiting for");
        },
      );

      await t.step(
        "a signal aborted before map() rejects with its reason at once: no input read, even of a never-ending one, and nothing made",
        async () => {
          const before = await knot.runs();
          let read = 0;
          const reason = new Error("stopped before");
          const mapped = knot.map(
            (async function* () {
              for (let i = 0;; i++) {
                // A tripwire, so a map that reads on fails here instead of never ending.
                if (++read > 1000) throw new Error("map() read past 1,000 items");
                yield String(i);
              }
            })(),
            { signal: AbortSignal.abort(reason), progress: false },
          );
          await assert.rejects(mapped, (e) => e === reason);
          assert.equal(read, 0);
          assert.deepEqual(await knot.runs(), before);
          assert.deepEqual(
            Object.keys(await inputsSizes(root)).sort(),
            before.map((r) => r.runId).sort(),
            "no directory is made for it",
          );
        },
      );
      await knot.clobber();
    });
  },
);
