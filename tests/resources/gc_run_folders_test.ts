// gc and what killed processes leave on this machine: a map() killed while
// it wrote its inputs leaves a folder without a manifest (run.json) that no
// run can read, and a build with hold killed before its push leaves its hold
// tag. gc deletes them once their writer is gone, and never while a live
// process writes them. The writers are real processes, killed with SIGKILL.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../mod.ts";
import { Docker } from "../../src/docker/mod.ts";
import { StateFile } from "../../src/state/mod.ts";
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
        assert.deepEqual(await findLocalGarbage({ localDir: dir, state }), []);
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
        assert.deepEqual(await findLocalGarbage({ localDir: dir, state }), []);
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
    const state = new StateFile({ path: join(dir, "cloudknot") });
    assert.deepEqual(await findLocalGarbage({ localDir: dir, state }), []);
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
    const state = new StateFile({ path: join(base, "cloudknot") });
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
      assert.deepEqual(await findLocalGarbage({ localDir: dir, env, state }), []);
      await killChild(writer);
      killed = true;
      // A lock file just made may be one its writer has not locked yet.
      const now = new Date();
      await Deno.utime(join(run, "records"), now, now);
      assert.deepEqual(await findLocalGarbage({ localDir: dir, env, state }), []);
      await backdate(run);
      const found = await findLocalGarbage({ localDir: dir, env, state });
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

/** A temp config file and local knots directory for a hold test, and an image name of its own. */
async function holdSetup(prefix: string) {
  const base = await Deno.makeTempDir({ prefix: `cloudknot-${prefix}-` });
  const state = new StateFile({ path: join(base, "cloudknot") });
  const local = { localDir: join(base, "knots"), state, docker: new Docker({ logger: () => {} }) };
  return { base, state, local, name: `${prefix}-${crypto.randomUUID().slice(0, 8)}` };
}

dockerTest(
  "gc --local keeps the hold tag of a live build with hold, and once its process is killed before the push removes that tag alone, for the config file it was built with",
  async () => {
    const { base, state, local, name } = await holdSetup("gc-hold");
    const image = (tag: string) => local.docker.inspectImage(`cloudknot/${name}:${tag}`);
    const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    // A knot create's build, killed before it pushes.
    const builder = await startUntil([
      "eval",
      `import { DockerImage } from ${url("../../mod.ts")};
      import { Docker } from ${url("../../src/docker/mod.ts")};
      import { StateFile } from ${url("../../src/state/mod.ts")};
      const image = await DockerImage.create({
        name: ${JSON.stringify(name)},
        func: function held(x) { return x; },
        baseImage: ${JSON.stringify(await ensureBaseImage())},
        state: new StateFile({ path: ${JSON.stringify(state.path)} }),
        cloudknotDir: ${JSON.stringify(join(base, "home"))},
        docker: new Docker({ logger: () => {} }),
      });
      await image.build({ tags: ["v1"], hold: true });
      console.log("built");
      setTimeout(() => {}, 600_000);`,
    ], "built");
    let killed = false;
    try {
      const [hold] = (await local.docker.listImages({ reference: `cloudknot/${name}:hold-*` }))
        .map((i) => `${i.repository}:${i.tag}`);
      assert.ok(hold !== undefined);
      // Its builder lives: not garbage, and a deletion asked anyway keeps it.
      assert.deepEqual(await findLocalGarbage(local), []);
      const asked = await deleteGarbage([{ kind: "hold-tag", id: hold, reason: "asked" }], local);
      assert.match(asked.failed[0]!.error, /was kept: a live process holds it/);
      assert.ok(await image(hold.slice(hold.indexOf(":") + 1)));

      await killChild(builder);
      killed = true;
      const found = await findLocalGarbage(local);
      assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner]), [
        ["hold-tag", hold, `docker-image ${name}`],
      ]);
      // Another config file's gc does not judge it.
      const other = new StateFile({ path: join(base, "other", "cloudknot") });
      assert.deepEqual(await findLocalGarbage({ ...local, state: other }), []);
      const built = (await image("v1"))!.Id;
      const { deleted, failed } = await deleteGarbage(found, local);
      assert.deepEqual([deleted, failed], [found, []]);
      // Only the tag: the image its other tag names stays.
      assert.equal(await local.docker.inspectImage(hold), undefined);
      assert.equal((await image("v1"))?.Id, built);
      assert.deepEqual(await findLocalGarbage(local), []);
      assert.deepEqual(await state.holdsLeft(), []);
    } finally {
      if (!killed) await killChild(builder);
      const refs = (await local.docker.listImages({ reference: `cloudknot/${name}` }))
        .map((i) => `${i.repository}:${i.tag}`);
      await local.docker.removeImage(refs, { force: true, missingOk: true });
      await Deno.remove(base, { recursive: true });
    }
  },
);

dockerTest(
  "gc --local removes the empty mark file a build killed once it had removed its hold tag left, saying what it is, and never a live holder's",
  async () => {
    const { base, state, local, name } = await holdSetup("gc-hold-file");
    const hold = () => `cloudknot/${name}:hold-${crypto.randomUUID()}`;
    const [gone, live] = [hold(), hold()];
    const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    // A build's holder as a knot create is when it has removed its hold tag and not yet its
    // mark's file: the mark held, no such tag on Docker (this one never made it, which is the
    // same to gc: it asks Docker whether the tag is there). Killed then, it leaves the file.
    const holder = await startUntil([
      "eval",
      `import { StateFile } from ${url("../../src/state/mod.ts")};
      await new StateFile({ path: ${JSON.stringify(state.path)} }).hold(${JSON.stringify(gone)});
      console.log("held");
      setTimeout(() => {}, 600_000);`,
    ], "held");
    let killed = false;
    const mine = await state.hold(live);
    try {
      const [goneFile, liveFile] = [await state.holdFile(gone), await state.holdFile(live)];
      // Both holders live: nothing is garbage.
      assert.deepEqual(await findLocalGarbage(local), []);
      await killChild(holder);
      killed = true;
      const found = await findLocalGarbage(local);
      assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner]), [
        ["hold-file", gone, `docker-image ${name}`],
      ]);
      assert.equal(
        found[0]!.reason,
        `the empty mark file ${goneFile} that a build killed once it had removed this tag left ` +
          "(the tag is gone: no Docker object)",
      );
      // A deletion asked of the live holder's file keeps it.
      const asked = await deleteGarbage([{ kind: "hold-file", id: live, reason: "asked" }], local);
      assert.match(asked.failed[0]!.error, /was kept: a live process holds it/);
      const { deleted, failed } = await deleteGarbage(found, local);
      assert.deepEqual([deleted, failed], [found, []]);
      assert.ok(!await exists(goneFile), "the leftover file is removed");
      assert.ok(await exists(liveFile), "the live holder's file stays");
      assert.deepEqual(await findLocalGarbage(local), []);
    } finally {
      if (!killed) await killChild(holder);
      await mine.release();
      await Deno.remove(base, { recursive: true });
    }
  },
);
