// A wait on a run that stops (`cloudknot logs --follow` ending, collect()'s
// signal) while AWS does not answer leaves nothing of it running: the poll's
// requests under way (a listing of the run's records retried after a cut
// connection) are aborted with their retries' waits, and the command line's
// close() of a run it opened waits for the run's poll loop to stop. Deno's
// sanitizers (on in every test) fail a test that ends with a timer or a
// request still pending.
import assert from "node:assert/strict";
import { CommandContext } from "../../../src/cli/common/command.ts";
import type { CliIo } from "../../../src/cli/common/io.ts";
import { openAwsKnotReader } from "../../../src/cli/common/knots.ts";
import { results } from "../../../src/cli/commands/results.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { job, recordKnot, startTestBed, untilRunning } from "./helpers.ts";

/** A context of the command line in this process, reading `env` and writing stderr to `said`. */
function contextOf(env: Record<string, string>, said: string[]): CommandContext {
  const output = (sink: (text: string) => void) => ({
    write: (text: string) => {
      sink(text);
      return Promise.resolve();
    },
    isTerminal: () => false,
  });
  const io: CliIo = {
    stdout: output(() => {}),
    stderr: output((text) => said.push(text)),
    stdin: { readable: () => ReadableStream.from([]), isTerminal: () => false },
    env: (name) => env[name],
    noColor: true,
  };
  return new CommandContext(results, { io, values: {}, args: {}, debug: false });
}

Deno.test("a run the command line opened stops polling AWS that does not answer once closed: close() ends with the poll's listing aborted, its retries' waits with it, and nothing left running", async () => {
  const bed = await startTestBed(job);
  try {
    await recordKnot(bed);
    // A job that runs for long, submitted as a run of its own (nothing polls it here).
    const submitted = await bed.target().submit({
      item: encodeItems([{ sleep: 600_000 }])[0]!,
      starmap: false,
      env: {},
    });
    const runId = submitted.jobName.slice(`${bed.knot}-`.length, -"-0".length);
    await untilRunning(bed.emu);
    const said: string[] = [];
    const ctx = contextOf({ ...bed.emu.env, CLOUDKNOT_CONFIG_FILE: bed.state.path }, said);
    const reader = await openAwsKnotReader(ctx, bed.knot);
    const { run, close } = await reader.open(runId);
    assert.equal(run.counts.running + run.counts.pending, 1, "the item runs");
    // S3 stops answering the listing of the run's records: each attempt's connection is cut,
    // and the client waits before the next.
    const cut = bed.emu.faults.add({ service: "s3", operation: "ListObjectsV2", kind: "reset" });
    try {
      while ((bed.emu.faults.list().find((f) => f.id === cut)?.hits ?? 0) === 0) {
        await new Promise((r) => setTimeout(r, 5));
      }
      // Stopped while the listing is retried: close() resolves once the poll loop has ended.
      await close();
    } finally {
      bed.emu.faults.clear(cut);
    }
    assert.equal(run.settledItem(0), undefined, "the item was still running: nothing settled it");
    await submitted.terminate("The test is over");
  } finally {
    await bed.close();
  }
});
