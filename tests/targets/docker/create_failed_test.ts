// A docker Knot.create whose image build fails leaves the knot's folder without its record, as a
// killed one does: an adoption by name, knot list and knot show say that a create of it stopped,
// killed or failed, and what to do. Docker itself is not needed: a fake client fails the build.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { rejects } from "../../support/rejects.ts";
import { cliHere, withHome } from "../../cli/helpers.ts";

Deno.test("a docker knot whose create failed at its build is said to have stopped, killed or failed, by an adoption, knot list and knot show", async () => {
  await withHome(async (home) => {
    const fake = join(home.dir, "docker");
    await Deno.writeTextFile(
      fake,
      `#!/bin/sh
case "$1" in
  version) echo '{"Client":{"Version":"24.0.0"},"Server":{"Version":"24.0.0"}}';;
  build) echo "the build failed" >&2; exit 1;;
  image|inspect) echo "Error: No such image: x" >&2; exit 1;;
esac
`,
      { mode: 0o755 },
    );
    const dir = home.env.CLOUDKNOT_LOCAL_DIR!;
    const docker = new Docker({ binary: fake, logger: () => {} });
    await rejects(
      Knot.create({ name: "failed", target: "docker", dir, func: (x: number) => x, docker }),
      Error,
    );
    const root = join(dir, "failed");
    const left = (await Array.fromAsync(Deno.readDir(root))).map((e) => e.name);
    assert.ok(left.includes("knot.lock") && !left.includes("knot.json"), left.join(", "));
    const adopted = await rejects(
      Knot.create({ name: "failed", target: "docker", dir, docker }),
      CloudknotInputError,
    );
    assert.match(
      adopted.message,
      /^Docker knot "failed" was never finished: a create of it stopped \(it was killed, or failed\) before it recorded the knot/,
    );
    const said = "Docker knot failed was never finished: a `cloudknot knot create` or " +
      "`cloudknot map` of it stopped (it was killed, or failed) before it recorded the knot";
    const listed = await cliHere(home, ["knot", "list"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stderr.replace(/\s+/g, " ").includes(said), listed.stderr);
    const shown = await cliHere(home, ["knot", "show", "failed"]);
    assert.equal(shown.code, 1);
    assert.ok(shown.stderr.replace(/\s+/g, " ").includes(said), shown.stderr);
  });
});
