// gc and the run folders of this machine's knots: a map() killed while it
// wrote its inputs leaves a folder without a manifest (run.json) that no run
// can read. gc deletes it once its writer is gone, and never while a live
// process writes it. The writers are real processes, killed with SIGKILL.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../mod.ts";
import { deleteGarbage, findGarbage, findLocalGarbage } from "../../src/resources/mod.ts";
import { localRunsRoot } from "../../src/store/local_knots.ts";
import { LOCK_GRACE_MS } from "../../src/resources/_run_leftovers.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { killChild, startUntil } from "../support/deno_child.ts";
import { dockerTest } from "../support/docker_available.ts";
import { withEmulator } from "./helpers.ts";

const STALLED_MAP = new URL("../fixtures/stalled_map.ts", import.meta.url).href;

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/**
 * Makes a run folder's lock files look older than gc's grace for a lock file
 * just made, so what keeps a folder is its lock alone.
 */
async function backdate(run: string): Promise<void> {
  const past = new Date(Date.now() - 2 * LOCK_GRACE_MS);
  for (const name of ["lock", "records"]) {
    await Deno.utime(join(run, name), past, past).catch(() => {});
  }
}

/** The run folders under a knot's runs directory. */
async function runFolders(runs: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(runs))).map((e) => join(runs, e.name));
}

dockerTest(
  "gc keeps the run folder a docker map() is writing its inputs to, and deletes it once that map() is killed, when no run can read it",
  async () => {
    await withEmulator(async ({ session, state, dir: base }) => {
      const dir = join(base, "knots");
      const map = await startUntil(
        [
          "run",
          "-A",
          "--lock=tests/deno.lock",
          STALLED_MAP,
          dir,
          "gc-stalled",
          "docker",
          await ensureBaseImage(),
        ],
        "reading",
      );
      let killed = false;
      try {
        const [run] = await runFolders(join(dir, "gc-stalled", "runs"));
        assert.ok(run !== undefined && !await exists(join(run, "run.json")));
        assert.ok((await Deno.stat(join(run, "inputs"))).size > 0, "its inputs are on disk");

        // Its writer lives: not garbage, and a deletion asked anyway keeps it.
        await backdate(run);
        assert.deepEqual(await findLocalGarbage({ localDir: dir }), []);
        const live = { kind: "run-folder" as const, id: run, reason: "asked" };
        const kept = await deleteGarbage([live]);
        assert.deepEqual(kept.deleted, []);
        assert.match(kept.failed[0]!.error, /was kept: a process is writing it now/);
        assert.ok(await exists(join(run, "inputs")));

        await killChild(map);
        killed = true;
        const knot = await Knot.create({ name: "gc-stalled", target: "docker", dir });
        assert.deepEqual(await knot.runs(), [], "no run can read it");
        const found = await findGarbage({ session, state, localDir: dir });
        assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner]), [
          ["run-folder", run, "knot gc-stalled"],
        ]);
        assert.match(found[0]!.reason, /ended while it wrote its inputs: 2\.\d MB no run can read/);
        const { deleted, failed } = await deleteGarbage(found, { session });
        assert.deepEqual(failed, []);
        assert.equal(deleted.length, 1);
        assert.ok(!await exists(run), "the folder is gone");
        assert.ok(await exists(join(dir, "gc-stalled", "knot.json")), "the knot stays");
        assert.deepEqual(await findLocalGarbage({ localDir: dir }), []);
        await knot.clobber(); // and its image
      } finally {
        if (!killed) await killChild(map);
      }
    });
  },
);

Deno.test("a local map() killed while it reads its inputs leaves a run knot.runs() lists, which gc keeps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-gc-local-" });
  try {
    await killChild(
      await startUntil(
        ["run", "-A", "--lock=tests/deno.lock", STALLED_MAP, dir, "stalled", "local"],
        "reading",
      ),
    );
    const [run] = await runFolders(join(dir, "stalled", "runs"));
    assert.ok(run !== undefined && await exists(join(run, "run.json")));
    assert.deepEqual(await findLocalGarbage({ localDir: dir }), []);
    const knot = await Knot.create({ name: "stalled", dir });
    assert.equal((await knot.runs()).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a local run folder whose log a live process holds locked before its run.json is kept, and deleted once that process is dead and the lock file older than a minute, under CLOUDKNOT_LOCAL_RUNS too", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-gc-lock-" });
  try {
    const dir = join(base, "knots");
    const root = join(dir, "laid");
    await Deno.mkdir(root, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(join(root, "knot.json"), "{}");
    const env = (name: string) => name === "CLOUDKNOT_LOCAL_RUNS" ? join(base, "runs") : undefined;
    const run = join(await localRunsRoot(root, { env }), "runs", "20260101T000000Z-abcdef");
    await Deno.mkdir(run, { recursive: true, mode: 0o700 });
    // The local target's writer: its log locked, then its inputs, before run.json.
    const writer = await startUntil([
      "eval",
      `const log = Deno.openSync(${
        JSON.stringify(join(run, "records"))
      }, { create: true, append: true });
      log.lockSync(true);
      Deno.writeFileSync(${JSON.stringify(join(run, "inputs"))}, new Uint8Array(5000));
      console.log("locked");
      setTimeout(() => {}, 600_000);`,
    ], "locked");
    let killed = false;
    try {
      await backdate(run);
      assert.deepEqual(await findLocalGarbage({ localDir: dir, env }), []);
      await killChild(writer);
      killed = true;
      // A lock file just made may be one its writer has not locked yet.
      const now = new Date();
      await Deno.utime(join(run, "records"), now, now);
      assert.deepEqual(await findLocalGarbage({ localDir: dir, env }), []);
      await backdate(run);
      const found = await findLocalGarbage({ localDir: dir, env });
      assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner]), [[
        "run-folder",
        run,
        "knot laid",
      ]]);
      assert.match(found[0]!.reason, /: 5\.0 KB no run can read \(no run\.json\)/);
      // A path that is not a run's folder is never removed.
      const notARun = await deleteGarbage([{ ...found[0]!, id: root }]);
      assert.match(notARun.failed[0]!.error, /Not the folder of a run/);
      assert.deepEqual((await deleteGarbage(found)).deleted, found);
      assert.ok(!await exists(run) && await exists(join(root, "knot.json")));
    } finally {
      if (!killed) await killChild(writer);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
