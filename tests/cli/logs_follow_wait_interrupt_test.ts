// Ctrl-C on `cloudknot logs --follow` while it still waits for the item's AWS Batch job (a run
// whose map was killed with the item's SubmitJob on its way) ends it as Ctrl-C after lines
// does: with 130, not by the signal, and with --json after a closed document. Against the AWS
// test bed, in real processes, with a real SIGINT.
import assert from "node:assert/strict";
import { killAt } from "../support/kill_at.ts";
import { job, mapInChild, recordKnot, spawnCli, startTestBed } from "../targets/aws/helpers.ts";

Deno.test("Ctrl-C on cloudknot logs --item N --follow while it waits for the item's job to be found ends it with 130 (with --json, after a closed document with no lines)", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    // The map is killed with item 2's SubmitJob sent: until that request lands, the run has
    // no job for item 2, and a follow of it waits for one.
    await killAt(
      bed.emu,
      { service: "batch", operation: "SubmitJob", nth: 2 },
      () => mapInChild(bed, [1, 2, 3]),
      undefined,
      async () => {
        const [manifest] = await bed.target().runs();
        assert.ok(manifest !== undefined && manifest.jobs === undefined);
        for (const json of [false, true]) {
          const follow = spawnCli(bed, [
            "logs",
            bed.knot,
            manifest.runId,
            "--item",
            "2",
            "--follow",
            ...(json ? ["--json"] : []),
          ]);
          await follow.until(/^Item 2 of run \S+ of knot \S+ has no AWS Batch job yet: .*$/m);
          follow.child.kill("SIGINT");
          const status = await follow.child.status;
          const said = await follow.rest();
          assert.equal(status.signal, null, `it ended by itself, not by the signal:\n${said}`);
          assert.equal(status.code, 130, said);
          assert.equal(
            await follow.stdout,
            json ? JSON.stringify([{ index: 2, attempt: 0, lines: [] }]) + "\n" : "",
          );
        }
      },
    );
  } finally {
    await bed.close();
  }
});
