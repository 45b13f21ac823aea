// cloudknot gc --yes against the emulator: two at once with one config file,
// and Ctrl-C part-way. The gc that is held, waited for or interrupted runs in a
// process of its own; the commands around it run in the test's process
// (cliHere), as what they do and say is the point.
import assert from "node:assert/strict";
import { Pars } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { killAt } from "../support/kill_at.ts";
import { type AwsHome, withAwsHome } from "./aws_helpers.ts";
import { cliHere, lines, spawnCli } from "./helpers.ts";

/** Configures the home and leaves a Pars whose record is gone: gc's garbage. */
async function leftovers(home: AwsHome): Promise<void> {
  assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"])).code, 0);
  const state = new StateFile({ path: home.configFile });
  await Pars.create({ name: "lost", session: await sessionFor(home.emu), state });
  await state.remove("pars lost");
}

Deno.test("two cloudknot gc --yes at once with one config file: the second waits for the first, then says nothing is left to collect instead of that it deleted it too", async () => {
  await withAwsHome(async (home) => {
    await leftovers(home);
    const dry = await cliHere(home, ["gc", "--json"]);
    assert.equal(dry.code, 0, dry.stderr);
    const found = JSON.parse(dry.stdout).items.length;
    assert.ok(found > 0, dry.stdout);
    // The first is held at its first role's deletion until the second waits for it.
    const { promise: waiting, resolve: release } = Promise.withResolvers<void>();
    const fault = home.emu.faults.add({
      service: "iam",
      operation: "DeleteRole",
      kind: "latency",
      until: waiting,
      times: 1,
    });
    try {
      const first = spawnCli(home, ["gc", "--yes"]);
      const firstOut = new Response(first.stdout).text();
      const firstErr = new Response(first.stderr).text();
      const held = () => home.emu.faults.list().find((f) => f.id === fault)?.hits === 1;
      while (!held()) await new Promise((r) => setTimeout(r, 10));
      const second = spawnCli(home, ["gc", "--yes"]);
      const secondOut = new Response(second.stdout).text();
      const said: string[] = [];
      const reader = lines(second.stderr);
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        said.push(value);
        if (value.includes("waiting for it to finish")) break;
      }
      assert.ok(
        said.includes(
          `cloudknot: another cloudknot gc is deleting leftovers with this config file ` +
            `(${home.configFile}); waiting for it to finish, then this one looks again`,
        ),
        said.join("\n"),
      );
      release();
      assert.equal((await first.status).code, 0, await firstErr);
      assert.match(await firstErr, new RegExp(`^Deleted ${found} of ${found}$`, "m"));
      assert.match(await firstOut, /role/);
      while (!(await reader.read()).done) { /* the rest of its stderr */ }
      assert.equal((await second.status).code, 0);
      assert.equal(await secondOut, "Nothing to collect\n");
    } finally {
      release();
      home.emu.faults.clear(fault);
    }
  });
});

Deno.test("Ctrl-C in cloudknot gc --yes says it stopped part-way and the command that deletes the rest, which does", async () => {
  await withAwsHome(async (home) => {
    await leftovers(home);
    const interrupted = await killAt(
      home.emu,
      { service: "iam", operation: "DeleteRole", signal: "SIGINT" },
      () => spawnCli(home, ["gc", "--yes"]),
    );
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.match(
      interrupted.stderr,
      /^interrupted: cloudknot gc stopped part-way: run cloudknot gc --yes again to delete what is left$/m,
    );
    const again = await cliHere(home, ["gc", "--yes"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^Deleted (\d+) of \1$/m);
    const after = await cliHere(home, ["gc"]);
    assert.equal(after.stdout, "Nothing to collect\n", after.stderr);
  });
});

/**
 * Leaves a Pars' leftovers, then runs `cloudknot gc --yes` with `args`, held
 * at its first role's deletion while someone else deletes the security group
 * it found.
 */
async function gcWhileGroupGoes(home: AwsHome, args: string[]) {
  await leftovers(home);
  const dry = await cliHere(home, ["gc", "--json"]);
  assert.equal(dry.code, 0, dry.stderr);
  const items: { kind: string; id: string }[] = JSON.parse(dry.stdout).items;
  const group = items.find((g) => g.kind === "security-group")!;
  assert.ok(group, dry.stdout);
  const { promise: deletedElsewhere, resolve: release } = Promise.withResolvers<void>();
  const fault = home.emu.faults.add({
    service: "iam",
    operation: "DeleteRole",
    kind: "latency",
    until: deletedElsewhere,
    times: 1,
  });
  try {
    const gc = spawnCli(home, ["gc", "--yes", ...args]);
    const out = new Response(gc.stdout).text();
    const err = new Response(gc.stderr).text();
    const held = () => home.emu.faults.list().find((f) => f.id === fault)?.hits === 1;
    while (!held()) await new Promise((r) => setTimeout(r, 10));
    const session = await sessionFor(home.emu);
    await session.ec2.deleteSecurityGroup({ GroupId: group.id });
    release();
    return { items, group, code: (await gc.status).code, out: await out, err: await err };
  } finally {
    release();
    home.emu.faults.clear(fault);
  }
}

Deno.test("cloudknot gc --yes counts a resource gone before it came to delete it apart: Deleted N of M; 1 was already gone", async () => {
  await withAwsHome(async (home) => {
    const json = await gcWhileGroupGoes(home, ["--json"]);
    assert.equal(json.code, 0, json.err);
    const result = JSON.parse(json.out);
    assert.deepEqual(result.gone.map((g: { id: string }) => g.id), [json.group.id]);
    assert.equal(result.deleted.length, json.items.length - 1);
    assert.equal(result.deleted.some((g: { id: string }) => g.id === json.group.id), false);

    const text = await gcWhileGroupGoes(home, []);
    assert.equal(text.code, 0, text.err);
    // The table lists what it deleted: not the security group, gone already.
    assert.doesNotMatch(text.out, /security-group/);
    const n = text.items.length;
    assert.match(text.err, new RegExp(`^Deleted ${n - 1} of ${n}; 1 was already gone$`, "m"));
  });
});
