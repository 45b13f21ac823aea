// `cloudknot gc --local`: the run folders a killed map() left on this machine,
// found and deleted with no AWS at all (no region, no credentials).
import assert from "node:assert/strict";
import { join } from "node:path";
import { LOCK_GRACE_MS } from "../../src/resources/_run_leftovers.ts";
import { StateFile } from "../../src/state/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { killChild, startUntil } from "../support/deno_child.ts";
import { dockerTest } from "../support/docker_available.ts";
import { cli, withHome } from "./helpers.ts";

const STALLED_MAP = new URL("../fixtures/stalled_map.ts", import.meta.url).href;

dockerTest(
  "cloudknot gc --local lists the run folder a killed docker map() left without asking AWS, and deletes it with --yes",
  async () => {
    await withHome(async (home) => {
      const env = { HOME: join(home.dir, "home") };
      const dir = home.env.CLOUDKNOT_LOCAL_DIR!;
      await killChild(
        await startUntil(
          [
            "run",
            "-A",
            "--lock=tests/deno.lock",
            STALLED_MAP,
            dir,
            "gc-cli-stalled",
            "docker",
            await ensureBaseImage(),
          ],
          "reading",
        ),
      );
      const runs = join(dir, "gc-cli-stalled", "runs");
      const [run] = (await Array.fromAsync(Deno.readDir(runs))).map((e) => join(runs, e.name));
      assert.ok(run !== undefined);
      // Older than gc's grace for a lock file just made.
      const past = new Date(Date.now() - 2 * LOCK_GRACE_MS);
      await Deno.utime(join(run, "lock"), past, past);

      // Without --local it needs AWS.
      const aws = await cli(home, ["gc"], { env });
      assert.equal(aws.code, 1);
      assert.match(aws.stderr, /No AWS region is set/);
      assert.match(aws.stderr, /only this machine's run folders: run cloudknot gc --local/);

      const dry = await cli(home, ["gc", "--local"], { env });
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(
        dry.stdout,
        /run-folder .*runs\/\S+ +knot gc-cli-stalled +a map ended while/,
      );
      assert.match(dry.stderr, /run `cloudknot gc --local --yes` to delete them/);
      assert.ok(await Deno.lstat(run).then(() => true, () => false), "a dry run deletes nothing");

      const done = await cli(home, ["gc", "--local", "--yes", "--json"], { env });
      assert.equal(done.code, 0, done.stderr);
      const out = JSON.parse(done.stdout);
      assert.deepEqual(out.deleted.map((g: { id: string }) => g.id), [run]);
      assert.deepEqual(out.failed, []);
      assert.ok(!await Deno.lstat(run).then(() => true, () => false));

      const usage = await cli(home, ["gc", "--local", "--all-regions"], { env });
      assert.equal(usage.code, 2);
      assert.match(
        usage.stderr,
        /--local looks only at this machine's run folders: drop --all-regions/,
      );
      // Its image goes with it.
      const clobber = await cli(home, ["knot", "clobber", "gc-cli-stalled", "--yes"], { env });
      assert.equal(clobber.code, 0, clobber.stderr);
    });
  },
);

Deno.test("a run folder cloudknot gc kept because a run took it up says to list its knot's runs with cloudknot knot show", async () => {
  const { deleteGarbage } = await import("../../src/resources/gc.ts");
  const { inCliWords } = await import("../../src/cli/common/cli_words.ts");
  const { gc } = await import("../../src/cli/commands/gc.ts");
  await withHome(async (home) => {
    // A folder that has its manifest now (a map took it up since gc found it).
    const run = join(home.dir, "knots", "sq", "runs", "20260101T000000Z-abcdef");
    await Deno.mkdir(run, { recursive: true, mode: 0o700 });
    await Deno.chmod(run, 0o700);
    await Deno.writeTextFile(join(run, "run.json"), "{}");
    const { failed } = await deleteGarbage([
      { kind: "run-folder", id: run, owner: "knot sq", reason: "asked" },
    ], { state: new StateFile({ path: home.env.CLOUDKNOT_CONFIG_FILE! }) });
    assert.match(failed[0]!.error, /; list knot sq's runs with knot\.runs\(\) on its handle$/);
    assert.match(
      inCliWords(new Error(failed[0]!.error), gc),
      /^The run in .* was kept: .* it has its manifest \(run\.json\) now; list knot sq's runs with `cloudknot knot show sq`$/,
    );
  });
});
