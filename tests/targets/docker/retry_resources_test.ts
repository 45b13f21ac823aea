// run.retry() on the docker target checks the memory and vCPUs it gives the
// retried items against the docker target's own bounds (Docker's least
// memory, this machine's memory and CPUs) as Knot.create checks a knot's, in
// the same words, before it writes anything: no run folder, no record, where
// a memory of 4 MiB failed only once the retry's run was written. Under
// CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { fileTree } from "../../support/file_tree.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

const refused = (message: string) => (e: unknown) => {
  assert.ok(e instanceof CloudknotInputError, String(e));
  assert.equal(e.message, message);
  return true;
};

dockerTest(
  "retry() of a docker run with memory below Docker's 6 MiB or vCPUs above this machine's is refused in Knot.create's words, writing nothing",
  async () => {
    await withDockerKnots("cloudknot-docker-retry-bounds-", async ({ dir, knotOptions }) => {
      const func = (x: number) => {
        if (x === 2) throw new Error("two");
        return x;
      };
      const knot = await Knot.create({ ...knotOptions, name: "bounded", func, retries: 1 });
      try {
        const run = await knot.map([1, 2], { progress: false });
        await run.results().then(() => assert.fail("item 2 fails"), () => {});
        const before = await fileTree(dir);
        const total = Math.floor(Deno.systemMemoryInfo().total / 2 ** 20);
        const memoryWords = `memory must be an integer of MiB from 6 to this machine's ${
          total.toLocaleString("en-US")
        } (each container's memory limit), not the number 4`;
        await assert.rejects(run.retry({ memory: 4, progress: false }), refused(memoryWords));
        await assert.rejects(
          Knot.create({ ...knotOptions, name: "other", func, memory: 4 }),
          refused(memoryWords),
        );
        const cores = navigator.hardwareConcurrency;
        await assert.rejects(
          run.retry({ vcpus: cores + 1, progress: false }),
          refused(
            `vcpus must be a number of CPUs from 0.01 to this machine's ${cores} (each ` +
              `container's --cpus), not the number ${cores + 1}`,
          ),
        );
        assert.deepEqual(await fileTree(dir), before, "nothing was written");
        assert.equal((await knot.runs()).length, 1, "no retry run");
      } finally {
        await knot.clobber();
      }
    });
  },
);

dockerTest(
  "a retry of a docker run keeps the run's memory and timeout, also from a handle that adopted the knot without them",
  async () => {
    await withDockerKnots("cloudknot-docker-retry-keeps-", async ({ knotOptions }) => {
      const func = (x: number) => {
        if (x === 2) throw new Error("two");
        return x;
      };
      const knot = await Knot.create({
        ...knotOptions,
        name: "keeps",
        func,
        retries: 1,
        memory: 128,
        timeout: 30,
      });
      try {
        const run = await knot.map([1, 2], { progress: false });
        await run.results().then(() => assert.fail("item 2 fails"), () => {});
        // Another handle, as `cloudknot retry` opens the knot: no memory, no timeout.
        const adopted = await Knot.create({ ...knotOptions, name: "keeps" });
        const retried = await (await adopted.collect(run.runId, { progress: false }))
          .retry({ progress: false });
        await retried.settled();
        const manifest = (await adopted.runs()).find((m) =>
          m.runId === retried.runId
        ) as unknown as {
          container: { memory?: number; timeout?: number };
        };
        assert.equal(manifest.container.memory, 128);
        assert.equal(manifest.container.timeout, 30);
      } finally {
        await knot.clobber();
      }
    });
  },
);
