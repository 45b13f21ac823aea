// A command that read a run on AWS (`cloudknot jobs`, `results`, `logs`, …) stops its run's
// poll loop when it is done, and ends only once that loop has stopped, so that nothing of it
// runs after the command: a caller of the command line in its own process (a test, a program
// that imports `@cloudknot/cloudknot/cli`) finds nothing left running. A request of the loop
// ends at once when it stops, and so does a poll round's wait for credentials; their resolution
// (a `credential_process` helper renewing them) goes on, and the command waits for it to end.
import assert from "node:assert/strict";
import { join } from "node:path";
import { credentialProcessProfile } from "../../support/credential_process.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { cliInProcess } from "../../support/cli_in_process.ts";
import { job, recordKnot, startTestBed } from "./helpers.ts";

/** Whether anything is at `path`, looked at now. */
function existsNow(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once anything is at `path`. */
async function until(path: string): Promise<void> {
  while (!existsNow(path)) await new Promise((r) => setTimeout(r, 20));
}

Deno.test("cloudknot jobs of an unfinished AWS run, done while a round of its poll loop waits for credential_process, ends only once the loop has stopped and the helper that round waited for has answered", async () => {
  const bed = await startTestBed(job);
  const home = await Deno.makeTempDir({ prefix: "ck-command-close-" });
  // The run's job stays SUBMITTED: the run is unfinished, and its handles poll on.
  const resume = bed.emu.batch.hold();
  let run;
  try {
    await recordKnot(bed);
    run = await bed.target().map({ items: encodeItems([1]), starmap: false, env: {} });
    // A helper whose credentials are renewed before each request (they expire within five
    // minutes), and which, once the test made `hold`, holds its next run until `release`.
    await credentialProcessProfile(
      home,
      { ...bed.emu.credentials, expiration: new Date(Date.now() + 4 * 60_000) },
      `if [ -e ${home}/hold ] && mkdir ${home}/held 2>/dev/null; then\n` +
        `  while [ ! -e ${home}/release ]; do sleep 0.01; done\n` +
        `  : > ${home}/answered\n` +
        `fi\n`,
    );
    const env: Record<string, string> = {
      ...bed.emu.env,
      CLOUDKNOT_CONFIG_FILE: bed.state.path,
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    };
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;

    // The command prints the run as its loop's first round saw it; the test holds that print
    // until the loop's next round waits for the helper.
    let printed = false;
    const waiting = Promise.withResolvers<void>();
    const jobs = cliInProcess(["jobs", bed.knot, run.runId], env, {
      onStdout: async (text) => {
        if (text === "" || printed) return;
        printed = true;
        await Deno.writeTextFile(join(home, "hold"), "");
        await until(join(home, "held"));
        waiting.resolve();
      },
    });
    const ended = jobs.ended.then((outcome) => ({
      ...outcome,
      answered: existsNow(join(home, "answered")),
    }));
    await Promise.race([waiting.promise, jobs.ended]);
    // The command goes on to its end (its round's credentials still on their way), then the
    // helper answers.
    await Deno.writeTextFile(join(home, "release"), "");
    const { code, stdout, stderr, answered } = await ended;
    assert.equal(code, 0, stderr);
    assert.match(stdout, /SUBMITTED/);
    assert.ok(printed, "the command printed nothing");
    assert.ok(
      answered,
      "the command ended while a round of its run's poll loop still waited for credential_process",
    );
  } finally {
    await Deno.writeTextFile(join(home, "release"), "");
    resume();
    await run?.cancel("The test is over");
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
