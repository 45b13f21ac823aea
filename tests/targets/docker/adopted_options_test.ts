// A docker knot keeps the options it was created with (concurrency, retries, timeout, memory, and
// its containers' vcpus and network): adopted by name in another process (a program's Knot.create
// without func), its runs' containers get them, as an AWS knot's jobs get its job definition's;
// one given again with another value replaces it for the knot. In real Docker; under CI=true this
// test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

/**
 * A process adopting the docker knot `kept` in `dir` with `options` (JSON), mapping `items`
 * (JSON): it prints the handle's summary, the run's manifest and its items, as one JSON line.
 */
const ADOPTER = `
import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
import { Docker } from ${
  JSON.stringify(new URL("../../../src/docker/docker.ts", import.meta.url).href)
};
const [dir, options, items] = Deno.args;
const knot = await Knot.create({
  name: "kept", target: "docker", dir, cloudknotDir: dir, docker: new Docker({ logger: () => {} }),
  ...JSON.parse(options),
});
const run = await knot.map(JSON.parse(items), { progress: false });
const settled = (await run.settled()).map((s) =>
  s.status === "fulfilled" ? { value: s.value } : { attempt: s.reason.attempt, message: s.reason.message }
);
const manifest = (await knot.runs()).find((m) => m.runId === run.runId);
console.log(JSON.stringify({ summary: Deno.inspect(knot), manifest, settled }));
`;

/** Runs {@linkcode ADOPTER} in a process of its own; returns what it printed. */
async function adoptAndMap(dir: string, options: Record<string, unknown>, items: unknown[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", ADOPTER, dir, JSON.stringify(options), JSON.stringify(items)],
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text);
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

dockerTest(
  "a docker knot adopted by name in another process runs its containers with the retries, timeout, memory, vcpus, network and concurrency it was created with, and one given again with another value replaces it",
  async () => {
    await withDockerKnots("cloudknot-docker-kept-", async ({ dir, knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "kept",
        func: async (ms: number) => {
          await new Promise((r) => setTimeout(r, ms));
          return ms;
        },
        concurrency: 1,
        retries: 2,
        timeout: 2,
        memory: 200,
        vcpus: 1,
        // The runs read their inputs from a bind mount: no network needed.
        network: "none",
      });
      try {
        const first = await adoptAndMap(dir, {}, [0, 60_000]);
        assert.deepEqual(first.settled[0], { value: 0 });
        assert.equal(first.settled[1].attempt, 2, "the knot's two attempts");
        assert.match(first.settled[1].message, /timeout of 2 ?s/);
        assert.equal(first.manifest.attempts, 2);
        assert.deepEqual(
          {
            memory: first.manifest.container.memory,
            vcpus: first.manifest.container.vcpus,
            timeout: first.manifest.container.timeout,
            network: first.manifest.container.network,
          },
          { memory: 200, vcpus: 1, timeout: 2, network: "none" },
        );
        assert.match(first.summary, /concurrency: 1 container\b/);
        // Another memory given: the knot's now, its other options kept.
        const second = await adoptAndMap(dir, { memory: 160 }, [1]);
        assert.deepEqual(second.settled, [{ value: 1 }]);
        assert.equal(second.manifest.container.memory, 160);
        assert.equal(second.manifest.container.timeout, 2);
        assert.deepEqual(
          JSON.parse(await Deno.readTextFile(join(dir, "kept", "knot.json"))).options,
          { concurrency: 1, retries: 2, timeout: 2, memory: 160, vcpus: 1, network: "none" },
        );
      } finally {
        await knot.clobber();
      }
    });
  },
);

Deno.test("a docker knot that keeps vcpus above this machine's CPUs is refused as it opens by name, before Docker is asked anything, saying what it keeps, this machine's CPUs and the option to give instead", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const cores = navigator.hardwareConcurrency ?? 1;
    // As a create on a machine with more CPUs wrote it: nothing of it is asked of Docker here.
    await Deno.mkdir(join(dir, "wide"), { mode: 0o700 });
    await Deno.writeTextFile(
      join(dir, "wide", "knot.json"),
      JSON.stringify({
        name: "wide",
        target: "docker",
        image: "cloudknot/wide:local",
        hash: "0".repeat(64),
        kind: "func",
        functionName: "f",
        createdAt: 1,
        updatedAt: 1,
        options: { vcpus: cores + 1 },
      }),
    );
    await assert.rejects(
      () => Knot.create({ name: "wide", target: "docker", dir, cloudknotDir: dir }),
      (e: Error & { field?: string }) => {
        assert.equal(
          e.message,
          `Docker knot wide keeps vcpus ${cores + 1}, as it was given before, but this machine ` +
            `has ${cores} CPUs (each container's --cpus): give Knot.create vcpus: ${cores} or ` +
            `less, which the knot then keeps`,
        );
        assert.equal(e.field, "vcpus");
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
