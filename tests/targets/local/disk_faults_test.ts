import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CloudknotInputError,
  type ItemError,
  Knot,
  type MapRun,
  RunStoreError,
} from "../../../mod.ts";
import { cliHere, withHome } from "../../cli/helpers.ts";
import { failureSummary } from "../../../src/cli/common/item_output.ts";
import { INPUTS_NOT_STORED } from "../../../src/job/retry_advice.ts";
import { growTmpfs, remountTmpfs, tmpfsTest, withTmpfs } from "../../support/tmpfs.ts";
import { killedResumable, lines } from "./helpers.ts";

/** `promise`, or a failure after `ms` (a wait that would hang for ever). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

tmpfsTest(
  "collect() of a stopped run in a read-only folder gives its results and ends the rest saying the folder cannot be written",
  async () => {
    const base = await Deno.makeTempDir({ prefix: "cloudknot-ro-" });
    try {
      await withTmpfs(8 * 1024 * 1024, async (dir) => {
        const log = join(base, "executions.log");
        const { runId, runDir, recorded } = await killedResumable(dir, log, 40);
        assert.ok(recorded.size > 0 && recorded.size < 300, `${recorded.size} were recorded`);
        await remountTmpfs(dir, "ro");
        try {
          const executions = (await lines(log)).length;
          const knot = await Knot.create({ name: "resumable", dir });
          const run = await knot.collect(runId, { progress: false });
          const settled = await within(run.settled(), 20_000, "settled()");
          for (const s of settled) {
            if (recorded.has(s.index)) {
              assert.deepEqual(s, { status: "fulfilled", index: s.index, value: s.index * 2 });
              continue;
            }
            assert.equal(s.status, "rejected");
            const reason = (s as { reason: ItemError }).reason;
            assert.equal(reason.kind, "infrastructure");
            assert.equal(reason.remote.name, "RunStoreError");
            assert.ok(
              reason.message.includes(
                `Cannot finish run ${runId} (its process stopped before this item ended; it did ` +
                  `not run here, since no record can be written) in ${runDir}: Read-only file ` +
                  `system`,
              ),
              reason.message,
            );
            assert.ok(
              reason.message.includes(
                `Make that disk writable (the results already there stay readable), then ` +
                  `collect the run again (knot.collect("${runId}") of knot resumable) to run it`,
              ),
              reason.message,
            );
          }
          // Nothing ran here.
          assert.equal((await lines(log)).length, executions);
          // A retry, which maps its items in a new run, cannot make one there, and says so.
          const e = await run.retry({ progress: false }).then(
            () => assert.fail("the retry ran"),
            (e: Error) => e,
          );
          assert.ok(e instanceof RunStoreError, String(e));
          assert.match(
            e.message,
            /^Cannot make the run's folder in .*: Read-only file system.*Make that disk writable/,
          );
        } finally {
          await remountTmpfs(dir, "rw");
        }
        // Once writable, collecting it again finishes it, as its items' errors say.
        const knot = await Knot.create({ name: "resumable", dir });
        const run = await knot.collect(runId, { progress: false });
        assert.deepEqual(await run.results(), Array.from({ length: 300 }, (_, i) => i * 2));
        await knot.clobber();
      });
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
);

tmpfsTest(
  "inputs a full disk could not take fail naming their own items and saying to map them again, which the summary says instead of a retry",
  async () => {
    await withTmpfs(1500 * 1024, async (dir) => {
      const knot = await Knot.create({ name: "full-inputs", dir, func: (s: string) => s.length });
      // About 1 MiB of inputs is written at once: the first chunk fits, the next ones do not.
      const inputs = Array.from({ length: 400 }, (_, i) => `${i}:`.padEnd(10_000, "x"));
      const run = await knot.map(inputs, { progress: false });
      const settled = await run.settled();
      const failed = settled.filter((s) => s.status === "rejected").map((s) => s.index);
      assert.ok(failed.length > 0 && failed.length < 400, `${failed.length} failed`);
      const runDir = join(dir, "full-inputs", "runs", run.runId);
      const chunks = new Set<string>();
      for (const index of failed) {
        const reason = (settled[index] as { reason: ItemError }).reason;
        assert.equal(reason.kind, "infrastructure");
        const named = reason.message.match(
          /Cannot write the inputs of items? (\d+)(?: to (\d+))? in /,
        );
        assert.ok(named !== null, reason.message);
        const [, from, to = from] = named;
        assert.ok(Number(from) <= index && index <= Number(to), reason.message);
        chunks.add(named[0]);
        assert.ok(reason.message.includes(runDir), reason.message);
        assert.ok(
          reason.message.includes(`map these inputs again: ${INPUTS_NOT_STORED}`),
          reason.message,
        );
      }
      assert.ok(chunks.size > 1, [...chunks].join("; "));
      // The command line's summary says to map them again, and suggests no retry.
      const summary = failureSummary(run, failed);
      assert.match(
        summary,
        new RegExp(
          `^${failed.length} of 400 items' inputs were never stored in the run .*: ` +
            `${
              failed[0]
            }, .*then map those inputs again with cloudknot map \\(no retry runs them\\)$`,
        ),
      );
      assert.doesNotMatch(summary, /cloudknot retry/);
      // With room made, a reader and a retry say the same, not to free space only.
      await growTmpfs(dir, 64 * 1024 * 1024);
      const again = await (await knot.collect(run.runId, { progress: false })).settled();
      for (const index of failed) {
        const reason = (again[index] as { reason: ItemError }).reason;
        assert.ok(
          reason.message.includes(
            `Cannot read the inputs of item ${index} in ${runDir}: its inputs end before them.`,
          ),
          reason.message,
        );
        assert.ok(reason.message.includes(INPUTS_NOT_STORED), reason.message);
      }
      // A retry has nothing it can run, and says which items and what to do instead.
      const e = await run.retry({ progress: false }).then(
        () => assert.fail("the retry ran"),
        (e: Error) => e,
      );
      assert.ok(e instanceof CloudknotInputError, String(e));
      assert.match(
        e.message,
        new RegExp(
          `^Run ${run.runId} of knot full-inputs has nothing a retry can run: items ${failed[0]}, ${
            failed[1]
          }, ${failed[2]}, … \\(${failed.length} in all\\) failed because their ` +
            "inputs were never stored in the run \\(writing them failed, on a full disk for " +
            "example\\), and no retry runs them: map those inputs again with knot\\.map\\(\\)$",
        ),
      );
      await knot.clobber();
    });
  },
);

/**
 * A run on a full disk whose failed items mix stored inputs and never-stored ones: item 0's
 * input is the path of a file the function reads, which the run's permissions refuse; the
 * inputs after the first chunk found no room. The disk has room again when `body` runs.
 */
async function mixedRun(
  name: string,
  body: (dir: string, run: MapRun<number>, unstored: number[]) => Promise<void>,
): Promise<void> {
  await withTmpfs(1500 * 1024, async (dir) => {
    const note = join(dir, "note");
    await Deno.writeTextFile(note, "hello");
    const knot = await Knot.create({
      name,
      dir,
      func: (s: string) => s.startsWith("/") ? Deno.readTextFileSync(s.trim()).length : s.length,
    });
    // About 1 MiB of inputs is written at once: the first chunk fits, the next ones do not.
    const inputs = Array.from({ length: 400 }, (_, i) => (i === 0 ? note : `${i}:`).padEnd(10_000));
    const run = await knot.map(inputs, { progress: false });
    const settled = await run.settled();
    const reasons = settled.flatMap((s) => s.status === "rejected" ? [s.reason] : []);
    assert.equal(reasons[0]?.index, 0);
    assert.equal(reasons[0]?.kind, "refused");
    const unstored = reasons.slice(1).map((r) => r.index);
    assert.ok(unstored.length > 0 && unstored[0]! > 1, `${unstored.length} were not stored`);
    for (const reason of reasons.slice(1)) {
      assert.ok(reason.message.includes(INPUTS_NOT_STORED), reason.message);
    }
    await growTmpfs(dir, 64 * 1024 * 1024);
    await body(dir, run, unstored);
    await knot.clobber();
  });
}

tmpfsTest(
  "a retry of items some of whose inputs were never stored runs the stored ones, and the others keep their error saying to map them again",
  async () => {
    await mixedRun("mixed-inputs", async (dir, run, unstored) => {
      const merged = await run.retry({ progress: false, permissions: { read: [dir] } });
      assert.deepEqual(merged.retryOf?.items, [0]);
      const settled = await merged.settled();
      assert.deepEqual(settled[0], { status: "fulfilled", index: 0, value: 5 });
      assert.equal(settled[1]?.status, "fulfilled");
      for (const index of unstored) {
        const s = settled[index]!;
        assert.equal(s.status, "rejected");
        const { message } = (s as { reason: ItemError }).reason;
        assert.ok(message.includes(`map these inputs again: ${INPUTS_NOT_STORED}`), message);
      }
      // Retrying the retry finds nothing else to run, and says so.
      await assert.rejects(
        () => merged.retry({ progress: false }),
        (e: Error) =>
          e instanceof CloudknotInputError &&
          e.message.includes(`has nothing a retry can run: items ${unstored[0]}, `),
      );
    });
  },
);

tmpfsTest(
  "cloudknot retry of items some of whose inputs were never stored runs the stored ones, and names the others with cloudknot map",
  async () => {
    await withHome(async (home) => {
      await mixedRun("mixed-cli", async (dir, run, unstored) => {
        const env = { env: { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_LOCAL_RUNS: undefined } };
        const r = await cliHere(
          home,
          ["retry", "mixed-cli", run.runId, "--allow", `read=${dir}`, "-q"],
          env,
        );
        assert.equal(r.code, 1, r.stderr);
        const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
        assert.deepEqual(lines[0], { index: 0, value: 5 });
        assert.equal(lines.filter((l) => "error" in l).length, unstored.length);
        assert.match(
          r.stderr,
          new RegExp(
            `^${unstored.length} of 400 items' inputs were never stored in the run .*: ` +
              `${unstored[0]}, .*then map those inputs again with cloudknot map ` +
              "\\(no retry runs them\\)$",
            "m",
          ),
        );
        // Again: only those are left, which no retry runs, said in the command line's words.
        const again = await cliHere(home, ["retry", "mixed-cli", "-q"], env);
        assert.equal(again.code, 1, again.stderr);
        assert.match(
          again.stderr,
          /has nothing a retry can run: .*: map those inputs again with cloudknot map$/m,
        );
      });
    });
  },
);

/** Fills the disk of `path`'s folder to its last page: a write of one more byte fails. */
async function fill(path: string): Promise<void> {
  using file = await Deno.open(path, { create: true, write: true });
  for (const size of [1024 * 1024, 4096, 1]) {
    try {
      while (true) file.writeSync(new Uint8Array(size));
    } catch {
      // Full at that size.
    }
  }
}

tmpfsTest(
  "a map whose disk fills after its last input ends its run's manifest, so no reader calls the run cut short",
  async () => {
    await withTmpfs(2 * 1024 * 1024, async (dir) => {
      const knot = await Knot.create({ name: "full-end", dir, func: (i: number) => i * 2 });
      async function* inputs(): AsyncGenerator<number> {
        for (let i = 0; i < 10; i++) yield i;
        // The items end, then the disk fills before the map writes the run's end.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await fill(join(dir, "filler"));
      }
      const run = await knot.map(inputs(), { progress: false });
      assert.deepEqual(await run.results(), Array.from({ length: 10 }, (_, i) => i * 2));
      const manifest = JSON.parse(
        await Deno.readTextFile(join(dir, "full-end", "runs", run.runId, "run.json")),
      );
      assert.equal(manifest.count, 10);
      assert.equal(manifest.open, undefined);
      await Deno.remove(join(dir, "filler"));
      const again = await knot.collect(run.runId, { progress: false });
      assert.deepEqual(await again.results(), Array.from({ length: 10 }, (_, i) => i * 2));
      assert.equal(again.cutShort, false);
      await knot.clobber();
    });
  },
);
