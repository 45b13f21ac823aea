/**
 * A call whose signal aborts while the session's credentials come from a
 * `credential_process` that hangs (a login prompt, a stuck helper) rejects
 * at once with the signal's reason, as a call aborted on its way does; the
 * helper, which other calls wait for too, runs on: they get its keys once
 * it ends, and it ran once. A real helper script, blocked on a fifo the test
 * writes to only after the aborted call has rejected, against the emulator.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { credentialProcessProfile } from "../support/credential_process.ts";
import { AwsSession } from "../../src/aws/mod.ts";
import { startEmulator } from "../emulator/mod.ts";

/** A short pause between two looks at the helper. */
const pause = () => new Promise((r) => setTimeout(r, 20));

Deno.test("a call whose signal aborts while a credential_process hangs rejects at once with the signal's reason, and a call that waits on the same helper gets its keys once it ends, the helper run once", async () => {
  const emu = await startEmulator();
  const home = await Deno.makeTempDir({ prefix: "ck-abort-creds-" });
  try {
    const runs = join(home, "runs");
    const release = join(home, "release");
    const made = await new Deno.Command("mkfifo", { args: [release] }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    // It says it started, then blocks until the test writes a line to the fifo.
    await credentialProcessProfile(
      home,
      emu.credentials,
      `echo run >> ${runs}\nread line < ${release}\n`,
    );
    const env: Record<string, string> = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const session = await AwsSession.create({
      endpoint: emu.endpoint,
      region: emu.region,
      env: (n) => env[n],
    });
    const ranTimes = async () =>
      (await Deno.readTextFile(runs).catch(() => "")).split("\n").filter((l) => l).length;

    const stop = new AbortController();
    const aborted = session.sts.getCallerIdentity({}, { signal: stop.signal })
      .then(() => "answered", (e) => e);
    const waiting = session.sts.getCallerIdentity({});
    // The helper hangs (a state, looked for until it is there).
    while (await ranTimes() === 0) await pause();

    stop.abort();
    const reason = await aborted;
    assert.equal(
      reason,
      stop.signal.reason,
      `the call rejects with the signal's reason: ${reason}`,
    );
    assert.equal((reason as Error).name, "AbortError");
    // The same as a call whose signal had aborted before it began.
    const before = await session.sts.getCallerIdentity({}, { signal: stop.signal })
      .then(() => "answered", (e) => e);
    assert.equal(before, stop.signal.reason);
    assert.equal(emu.count("sts", "GetCallerIdentity"), 0, "no request was sent");

    // Only now does the helper end: the call that waited on it gets its keys.
    await Deno.writeTextFile(release, "go\n");
    const { Arn } = await waiting;
    assert.equal(Arn, `arn:aws:iam::${emu.accountId}:user/emulator`);
    assert.equal(await ranTimes(), 1, "the helper ran once: it was neither stopped nor run again");
    assert.equal((await session.sts.getCallerIdentity({})).Arn, Arn);
    assert.equal(await ranTimes(), 1);
  } finally {
    await emu.close();
    await Deno.remove(home, { recursive: true });
  }
});
