// Ctrl-C on `cloudknot logs <job> --follow` while the profile's credential_process hangs in the
// middle of the follow (a helper waiting for a login) ends it as Ctrl-C does otherwise: with 130,
// not by the signal, with no word of the helper, and without waiting for it; the helper does not
// outlive the command. A real helper script, blocked on a fifo nobody writes to, in real
// processes, with a real SIGINT.
import assert from "node:assert/strict";
import { join } from "node:path";
import { credentialProcessProfile } from "../support/credential_process.ts";
import {
  mapWaiting,
  printsAround,
  recordKnot,
  releaseFile,
  spawnCli,
  startTestBed,
} from "../targets/aws/helpers.ts";
import { pause } from "../targets/aws/long_wait.ts";
import { endsWithin } from "../support/ends_within.ts";
import { goneWithin, running } from "../support/processes.ts";

Deno.test("Ctrl-C on cloudknot logs --follow while the profile's credential_process hangs ends it with 130 at once, and the helper does not outlive it", async () => {
  const bed = await startTestBed(printsAround, { permissions: { read: true } });
  const home = await Deno.makeTempDir({ prefix: "ck-cli-hung-" });
  let pid: number | undefined;
  try {
    await recordKnot(bed);
    const release = join(home, "release");
    const made = await new Deno.Command("mkfifo", { args: [release] }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    // Keys said to expire within five minutes: the command asks the helper before each request.
    // Once `hang` exists, it says its pid and waits for a line on the fifo, which never comes.
    await credentialProcessProfile(
      home,
      { ...bed.emu.credentials, expiration: new Date(Date.now() + 240_000) },
      `if [ -e ${home}/hang ]; then\n  echo $$ > ${home}/hung.part\n` +
        `  mv ${home}/hung.part ${home}/hung\n  read line < ${release}\nfi\n`,
    );
    const file = join(bed.dir, "go");
    const { run, jobId } = await mapWaiting(bed, file);
    const follow = spawnCli(bed, ["logs", jobId, "--follow"], {
      HOME: home,
      // The profile's helper, not the emulator's keys from the environment.
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_CONFIG_FILE: join(home, ".aws", "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, ".aws", "credentials"),
      // Far longer than any test: only the signal can end the wait for it.
      CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT: "86400",
    });
    await follow.printed(/before the wait/);

    // The helper hangs at the follow's next request (a state, looked for until it is there).
    await Deno.writeTextFile(join(home, "hang"), "");
    while (pid === undefined) {
      const text = await Deno.readTextFile(join(home, "hung")).catch(() => undefined);
      if (text !== undefined) pid = Number(text.trim());
      else await pause();
    }
    assert.ok(await running(pid), "the helper hangs");

    follow.child.kill("SIGINT");
    // Far above "at once": a command that waits for the hung helper fails here, not at the file's
    // limit.
    const status = await endsWithin(
      follow.child.status,
      120_000,
      "cloudknot logs --follow ending after Ctrl-C",
    ).catch((e) => {
      follow.child.kill("SIGKILL");
      throw e;
    });
    const said = await follow.rest();
    assert.equal(status.signal, null, `it ended by itself, not by the signal:\n${said}`);
    assert.equal(status.code, 130, said);
    assert.doesNotMatch(said, /credential_process|did not finish/, said);
    assert.match(await follow.stdout, /^before the wait$/m);
    // The helper, in a process group of its own, is stopped as the command ends (a state,
    // looked for a bounded number of times: SIGKILL takes effect without delay).
    assert.ok(await goneWithin(pid, 10_000), `the helper ${pid} outlived the command`);
    // The job was not stopped: released, it ends as it would have.
    await releaseFile(file, "done");
    assert.deepEqual(await run.results(), ["done"]);
  } finally {
    // A helper the command left behind (the test failed) is stopped here.
    if (pid !== undefined && await running(pid)) Deno.kill(pid, "SIGKILL");
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
