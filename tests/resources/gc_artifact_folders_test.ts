// gc and the half-made artifact folder a local knot's create leaves when it is
// killed while it copies the files its function ships (artifacts/.<hash>.tmp-…):
// kept while a live process makes it, deleted once that process is killed. The
// maker is a real process, killed with SIGKILL.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { deleteGarbage, findLocalGarbage } from "../../src/resources/mod.ts";
import { LOCK_GRACE_MS } from "../../src/resources/_run_leftovers.ts";
import { killChild, startForLine } from "../support/deno_child.ts";

const MAKING = new URL("../fixtures/making_artifact.ts", import.meta.url).href;

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** Makes a folder look older than gc's grace for one just made, so what keeps it is its lock alone. */
async function backdate(path: string): Promise<void> {
  const past = new Date(Date.now() - 2 * LOCK_GRACE_MS);
  await Deno.utime(path, past, past);
}

Deno.test("gc keeps the artifact folder a live create is making, and deletes it once that process is killed, leaving the knot's own artifacts", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-gc-artifact-" });
  try {
    const dir = join(base, "knots");
    const project = join(base, "project");
    await Deno.mkdir(project, { recursive: true });
    await Deno.writeTextFile(
      join(project, "job.ts"),
      "export async function score(x: number): Promise<number> {\n" +
        '  return x * JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url))).weight;\n}\n',
    );
    await Deno.writeTextFile(join(project, "model.json"), '{"weight": 2}');
    const knot = await Knot.create({
      name: "halfmade",
      module: join(project, "job.ts"),
      exportName: "score",
      files: ["./model.json"],
      dir,
    });
    const hash = knot.artifact.hash;
    const artifacts = join(dir, "halfmade", "artifacts");
    const state = new StateFile({ path: join(base, "cloudknot") });

    const { child, line } = await startForLine([
      "run",
      "-A",
      "--lock=tests/deno.lock",
      MAKING,
      join(dir, "halfmade"),
      hash,
    ]);
    let killed = false;
    try {
      const making = line.slice("making ".length);
      assert.match(making, new RegExp(`^${RegExp.escape(artifacts)}/\\.${hash}\\.tmp-`));
      // Made less than a minute ago: kept whoever holds it.
      assert.deepEqual(await findLocalGarbage({ localDir: dir, state }), []);
      // Its maker lives: not garbage, and a deletion asked anyway keeps it.
      await backdate(making);
      assert.deepEqual(await findLocalGarbage({ localDir: dir, state }), []);
      const live = { kind: "artifact-folder" as const, id: making, reason: "asked" };
      const kept = await deleteGarbage([live], { state });
      assert.deepEqual(kept.deleted, []);
      assert.match(kept.failed[0]!.error, /was kept: a process is making its knot's artifact/);
      assert.ok(await exists(join(making, "model.json")));

      await killChild(child);
      killed = true;
      const found = await findLocalGarbage({ localDir: dir, state });
      assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner]), [
        ["artifact-folder", making, "knot halfmade"],
      ]);
      assert.match(found[0]!.reason, /killed while it copied the files its function ships/);
      const { deleted, failed } = await deleteGarbage(found, { state });
      assert.deepEqual(failed, []);
      assert.equal(deleted.length, 1);
      assert.ok(!await exists(making), "the folder is gone");
      // The knot's own artifact stays, and the knot runs.
      assert.ok(await exists(join(artifacts, hash, "function.js")));
      assert.deepEqual(await findLocalGarbage({ localDir: dir, state }), []);
      const again = await Knot.create({ name: "halfmade", dir });
      assert.deepEqual(await (await again.map([3], { progress: false })).results(), [6]);
    } finally {
      if (!killed) await killChild(child);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("gc leaves a folder in a knot's artifacts/ that is not a half-made artifact's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-gc-artifact-" });
  try {
    const artifacts = join(dir, "k", "artifacts");
    for (const name of [`.${"a".repeat(64)}.partial`, "a".repeat(64), `.tmp-${"b".repeat(64)}`]) {
      await Deno.mkdir(join(artifacts, name), { recursive: true });
      await backdate(join(artifacts, name));
    }
    const state = new StateFile({ path: join(dir, "cloudknot") });
    assert.deepEqual(await findLocalGarbage({ localDir: dir, state }), []);
    const asked = {
      kind: "artifact-folder" as const,
      id: join(artifacts, "a".repeat(64)),
      reason: "asked",
    };
    const { failed } = await deleteGarbage([asked], { state });
    assert.match(failed[0]!.error, /Not the folder of a half-made artifact/);
    assert.ok(await exists(join(artifacts, "a".repeat(64))));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
