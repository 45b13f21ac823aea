// A module whose top level never ends (it waits for something that never comes): Knot.create
// warns of it once its export check gives up, and with a timeout the items fail as never run once
// the workers have not loaded it after the timeout (30 s at least), rather than waiting for ever.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";

Deno.test("a module whose top level never ends is warned of when the knot is made, and with a timeout its items fail as never run instead of waiting for ever", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-hanging-" });
  try {
    const module = join(dir, "hang.ts");
    await Deno.writeTextFile(
      module,
      "await new Promise(() => { setInterval(() => {}, 1000); });\n" +
        "export default (x: number) => x;\n",
    );
    const warned: string[] = [];
    const knot = await Knot.create({
      name: "hanging",
      module,
      dir: join(dir, "knots"),
      timeout: 2,
      retries: 1,
      warn: (m) => warned.push(m),
    });
    assert.match(
      warned.join("\n"),
      /^cloudknot: module \S+hang\.ts was still loading after 30 s .* a worker still loading it after the timeout \(30 s at least\) fails its items/m,
    );
    const run = await knot.map([1, 2], { progress: false });
    const settled = await run.settled();
    for (const s of settled) {
      assert.equal(s.status, "rejected");
      assert.equal(s.status === "rejected" && s.reason.remote.name, "WorkerStartError");
      assert.match(
        s.status === "rejected" ? s.reason.message : "",
        /Workers did not load the function in 30s; run it with deno run to see why\. The item never ran/,
      );
    }
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
