// Ctrl-C on `cloudknot logs --follow` ends it with 130 (128 + SIGINT), as `tail -f`,
// `docker logs -f` and `kubectl logs -f` end: a script can tell it was stopped, not that the
// job ended. Against the AWS test bed, in a real process, with a real SIGINT.
import assert from "node:assert/strict";
import { encodeItems } from "../../src/job/codec.ts";
import { job, recordKnot, spawnCli, startTestBed } from "../targets/aws/helpers.ts";

Deno.test("Ctrl-C on cloudknot logs --follow of a running job ends it with 130, after the lines read (with --json, the document closed)", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    await recordKnot(bed);
    // One job runs both items, one after the other: item 0's line is in the job's stream (an
    // attempt's output goes there once it ends) while item 1 keeps the job running.
    const run = await bed.target().map({
      items: encodeItems([{ log: ["hello"] }, { sleep: 600_000 }]),
      starmap: false,
      env: {},
      itemsPerJob: 2,
    });
    try {
      for (const json of [false, true]) {
        const reads = () => emu.requests.filter({ service: "logs", operation: "GetLogEvents" });
        const before = reads().length;
        const { child, stdout, printed, out, rest } = spawnCli(bed, [
          "logs",
          bed.knot,
          run.runId,
          "--item",
          "0",
          "--follow",
          ...(json ? ["--json"] : []),
        ]);
        const lines = "[item 0] hello\n[item 1] sleeping 600000 ms\n";
        if (!json) {
          // Its lines are printed as they come: it follows the job, whose item 1 sleeps for ten
          // minutes.
          await printed(/^\[item 1\] sleeping 600000 ms$/m);
          assert.equal(out(), lines);
        } else {
          // The document is written at the end: it follows the job once it has read its stream
          // twice (the line the first read brought is in hand when the second is asked for).
          while (reads().length < before + 2) await new Promise((r) => setTimeout(r, 20));
        }
        child.kill("SIGINT");
        const { code } = await child.status;
        const said = await rest();
        assert.equal(code, 130, said);
        if (json) {
          assert.deepEqual(JSON.parse(await stdout), [{
            index: 0,
            attempt: 1,
            lines: ["[item 0] hello", "[item 1] sleeping 600000 ms"],
          }]);
        } else assert.equal(await stdout, lines, "nothing more was printed");
        assert.equal(said, "");
        assert.ok(!run.finished, "the job still runs: only the follow stopped");
      }
    } finally {
      await run.cancel("The test is over");
      await run.done.catch(() => {});
    }
  } finally {
    await bed.close();
  }
});
