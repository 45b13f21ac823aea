// Ctrl-C on a command that waits for a run another process maps (`results`, `cost`, `report`)
// stops the waiting, never the run: it ends with 130 (not by the signal), after what it read
// (`results`: the items settled so far; with --json, a closed document of them) and a line that
// says the run goes on, with the commands that read the rest and stop it. The map then ends as
// it would have. Real processes, a real SIGINT, a local knot.
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, type CliHome, JOBS, lines, ndjson, spawnCli, withHome } from "./helpers.ts";

/**
 * Starts `cloudknot map` of the fixtures' `gate` over item 0, which returns at once, and item 1,
 * which waits for the file `marker`; resolves once item 0 has ended, with the run's id and the
 * map's process.
 */
async function mapHalfDone(
  home: CliHome,
  knot: string,
  marker: string,
): Promise<{ runId: string; map: Deno.ChildProcess; output: Promise<Deno.CommandOutput> }> {
  const map = spawnCli(
    home,
    ["map", JOBS, "gate", "--name", knot, "--allow", `read=${home.dir}`, "-q"],
    { stdin: true },
  );
  const writer = map.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(JSON.stringify([{ id: 0 }, { id: 1, waitFor: marker }])),
  );
  await writer.close();
  const output = map.output();
  // A bounded wait for item 0's result to be recorded (a state, not a time).
  for (let i = 0; i < 600; i++) {
    const jobs = await cli(home, ["jobs", knot, "--json"]);
    if (jobs.code === 0 && JSON.parse(jobs.stdout).counts.succeeded === 1) {
      return { runId: JSON.parse(jobs.stdout).runId, map, output };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `item 0 of the map never ended:\n${new TextDecoder().decode((await output).stderr)}`,
  );
}

/**
 * Runs the command line, sends it SIGINT once it says it waits for the run, and gives how it
 * ended and what it printed.
 */
async function interruptWhileWaiting(
  home: CliHome,
  args: string[],
): Promise<{ status: Deno.CommandStatus; stdout: string; stderr: string }> {
  const child = spawnCli(home, args);
  const stdout = new Response(child.stdout).text();
  const err = lines(child.stderr);
  let said = "";
  while (!/^(Waiting for run |Run \S+ is still going)/m.test(said)) {
    const { value, done } = await err.read();
    assert.ok(!done, `${args.join(" ")} ended before it said it waits:\n${said}`);
    said += `${value}\n`;
  }
  child.kill("SIGINT");
  const status = await child.status;
  for (let r = await err.read(); !r.done; r = await err.read()) said += `${r.value}\n`;
  return { status, stdout: await stdout, stderr: said };
}

/** The line that says the run goes on, with the commands that read the rest and stop it. */
function goesOn(command: string, knot: string, runId: string): RegExp {
  return new RegExp(
    `^interrupted: stopped waiting for run ${runId} of knot ${knot}, which goes on: ` +
      `\`cloudknot ${command} ${knot} ${runId}\` .* once it ends, and ` +
      `\`cloudknot cancel ${knot} ${runId}\` stops it$`,
    "m",
  );
}

const ITEM_0 = { index: 0, value: { id: 0, released: true } };
const ITEM_1 = { index: 1, value: { id: 1, released: true } };

Deno.test("Ctrl-C on cloudknot results of a run still going prints the results read so far (with --json, a closed document of them), exits 130 and says the run goes on, which it does", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "go");
    const { runId, output } = await mapHalfDone(home, "halfway", marker);
    for (const mode of [[], ["--unordered"], ["--json"]]) {
      const r = await interruptWhileWaiting(home, ["results", "halfway", ...mode]);
      assert.equal(r.status.signal, null, `it ended by itself, not by the signal:\n${r.stderr}`);
      assert.equal(r.status.code, 130, r.stderr);
      if (mode[0] === "--json") {
        assert.deepEqual(JSON.parse(r.stdout), {
          knot: "halfway",
          runId,
          target: "local",
          total: 2,
          succeeded: 1,
          failed: 0,
          items: [ITEM_0],
        });
      } else assert.deepEqual(ndjson(r.stdout), [ITEM_0]);
      assert.match(r.stderr, goesOn("results", "halfway", runId));
    }
    // The map was not cancelled: released, its run ends, and results prints it whole.
    await Deno.writeTextFile(marker, "");
    const mapped = await output;
    assert.equal(mapped.code, 0, new TextDecoder().decode(mapped.stderr));
    const all = await cli(home, ["results", "halfway", runId]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(ndjson(all.stdout), [ITEM_0, ITEM_1]);
  });
});

Deno.test("Ctrl-C on cloudknot retry while it waits for the run to end retries nothing, prints nothing on stdout, exits 130 and says how to retry it once it ends; the run goes on", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "go");
    const { runId, output } = await mapHalfDone(home, "retrying", marker);
    for (const mode of [[], ["--json"]]) {
      const r = await interruptWhileWaiting(home, ["retry", "retrying", ...mode]);
      assert.equal(r.status.signal, null, `it ended by itself, not by the signal:\n${r.stderr}`);
      assert.equal(r.status.code, 130, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(
        r.stderr,
        new RegExp(
          `^interrupted: stopped waiting for run ${runId} of knot retrying, which goes on, and ` +
            `retried nothing: \`cloudknot retry retrying ${runId}\` retries its failed items once ` +
            `it ends, and \`cloudknot cancel retrying ${runId}\` stops it$`,
          "m",
        ),
      );
    }
    await Deno.writeTextFile(marker, "");
    const mapped = await output;
    assert.equal(mapped.code, 0, new TextDecoder().decode(mapped.stderr));
    assert.equal((await cli(home, ["knot", "show", "retrying", "--json"])).code, 0);
  });
});

Deno.test("Ctrl-C on cloudknot cost and cloudknot report while they wait for a run still going ends them with 130, printing and writing nothing, and says the run goes on, which it does", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "go");
    const { runId, output } = await mapHalfDone(home, "pricing", marker);
    const page = join(home.dir, "report.html");
    for (
      const args of [["cost", "pricing"], ["cost", "pricing", "--json"], [
        "report",
        "pricing",
        "--out",
        page,
      ]]
    ) {
      const r = await interruptWhileWaiting(home, args);
      assert.equal(r.status.signal, null, `it ended by itself, not by the signal:\n${r.stderr}`);
      assert.equal(r.status.code, 130, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, goesOn(args[0]!, "pricing", runId));
    }
    await assert.rejects(Deno.stat(page), Deno.errors.NotFound);
    await Deno.writeTextFile(marker, "");
    assert.equal((await output).code, 0);
    const cost = await cli(home, ["cost", "pricing", runId, "--json"]);
    assert.equal(cost.code, 0, cost.stderr);
    assert.equal(JSON.parse(cost.stdout).attempts, 2);
  });
});

Deno.test("Ctrl-C on cloudknot results of a local run whose map was killed, which it finishes, stops the items it ran, exits 130 and says results runs them, which it then does", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "go");
    const { runId, map, output } = await mapHalfDone(home, "orphan", marker);
    // Killed with item 1 waiting: no process runs the run any more.
    map.kill("SIGKILL");
    await output;
    const r = await interruptWhileWaiting(home, ["results", "orphan"]);
    assert.equal(r.status.signal, null, `it ended by itself, not by the signal:\n${r.stderr}`);
    assert.equal(r.status.code, 130, r.stderr);
    assert.deepEqual(ndjson(r.stdout), [ITEM_0]);
    assert.match(
      r.stderr,
      new RegExp(
        `^interrupted: stopped finishing run ${runId} of knot orphan \\(its map had ended, so ` +
          `this command ran its unfinished items\\): \`cloudknot results orphan ${runId}\` runs ` +
          `them and prints its results$`,
        "m",
      ),
    );
    // Item 1 was stopped, not recorded cancelled: the next results runs it.
    await Deno.writeTextFile(marker, "");
    const all = await cli(home, ["results", "orphan", runId]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(ndjson(all.stdout), [ITEM_0, ITEM_1]);
  });
});

Deno.test("Ctrl-C on cloudknot results of a local run whose map died while it waited, which it took over, says it stopped finishing the run, not that the run goes on", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "go");
    const { runId, map, output } = await mapHalfDone(home, "dying", marker);
    // Opened while the map lives: it only waits for the run.
    const child = spawnCli(home, ["results", "dying"]);
    const stdout = new Response(child.stdout).text();
    const err = lines(child.stderr);
    let said = "";
    while (!/^Waiting for run /m.test(said)) {
      const { value, done } = await err.read();
      assert.ok(!done, `results ended before it said it waits:\n${said}`);
      said += `${value}\n`;
    }
    // The map dies with item 1 waiting; results, the only process left, takes the run over and
    // runs item 1 (a state, looked for a bounded number of times).
    map.kill("SIGKILL");
    await output;
    let taken = false;
    for (let i = 0; i < 600 && !taken; i++) {
      const jobs = await cli(home, ["jobs", "dying", runId, "--json"]);
      taken = jobs.code === 0 && JSON.parse(jobs.stdout).counts.running === 1;
      if (!taken) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(taken, "results took the run over");
    child.kill("SIGINT");
    const status = await child.status;
    for (let r = await err.read(); !r.done; r = await err.read()) said += `${r.value}\n`;
    assert.equal(status.signal, null, `it ended by itself, not by the signal:\n${said}`);
    assert.equal(status.code, 130, said);
    assert.deepEqual(ndjson(await stdout), [ITEM_0]);
    assert.doesNotMatch(said, /which goes on/);
    assert.match(
      said,
      new RegExp(
        `^interrupted: stopped finishing run ${runId} of knot dying \\(its map had ended, so ` +
          `this command ran its unfinished items\\): \`cloudknot results dying ${runId}\` runs ` +
          `them and prints its results$`,
        "m",
      ),
    );
    // As it says: the next results runs item 1.
    await Deno.writeTextFile(marker, "");
    const all = await cli(home, ["results", "dying", runId]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(ndjson(all.stdout), [ITEM_0, ITEM_1]);
  });
});
