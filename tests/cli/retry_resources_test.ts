// cloudknot retry checks the memory it gives the retried items against the
// target's own bounds before it writes anything, as run.retry() does: on the
// local target, more than this machine's memory is refused (exit 1) in the
// words of map, and no retry run is made. Real processes, a local knot.
import assert from "node:assert/strict";
import { cli, JOBS, withHome } from "./helpers.ts";

Deno.test("cloudknot retry --memory above this machine's memory is refused as map refuses it, and makes no run", async () => {
  await withHome(async (home) => {
    const mapped = await cli(home, ["map", JOBS, "failOdd", "--name", "odd", "-q"], {
      stdin: "[1, 2]",
    });
    assert.equal(mapped.code, 1, mapped.stderr);
    const total = Math.floor(Deno.systemMemoryInfo().total / 2 ** 20);
    const tooMuch = String(total + 1);
    const words = `memory must be an integer of MiB from 1 to this machine's ${
      total.toLocaleString("en-US")
    } (each worker's heap limit), not the number ${tooMuch}`;
    const retried = await cli(home, ["retry", "odd", "--memory", tooMuch]);
    assert.equal(retried.code, 1, retried.stderr);
    assert.ok(retried.stderr.includes(words), retried.stderr);
    // The words of map, which takes a local knot's memory.
    const big = await cli(home, ["map", JOBS, "square", "--name", "big", "--memory", tooMuch], {
      stdin: "[1]",
    });
    assert.equal(big.code, 1, big.stderr);
    assert.ok(big.stderr.includes(words), big.stderr);
    const shown = await cli(home, ["knot", "show", "odd", "--json"]);
    assert.equal(JSON.parse(shown.stdout).runs.length, 1, "no retry run");
  });
});
