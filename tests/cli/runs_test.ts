import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../mod.ts";
import { THROWING_FRAMES } from "../fixtures/throwing_frames.ts";
import {
  childEnv,
  cli,
  cliHere,
  JOBS,
  lines,
  ndjson,
  restOf,
  ROOT,
  spawnCli,
  withHome,
} from "./helpers.ts";

Deno.test("results collects a run later, from another process", async () => {
  await withHome(async (home) => {
    const first = await cli(home, ["map", JOBS, "square", "--name", "sq", "-q"], {
      stdin: "[1, 2, 3]",
    });
    assert.equal(first.code, 0, first.stderr);
    const second = await cli(home, ["map", "--name", "sq"], { stdin: "[4]" });
    assert.equal(second.code, 0, second.stderr);
    const secondId = /run (\S+)/.exec(second.stderr)![1]!;
    // The command names its run itself: its progress does not add the library's words.
    assert.doesNotMatch(second.stderr, /knot\.collect/);

    const latest = await cli(home, ["results", "sq"]);
    assert.equal(latest.code, 0, latest.stderr);
    assert.deepEqual(ndjson(latest.stdout), [{ index: 0, value: 16 }]);

    const runs = JSON.parse((await cli(home, ["knot", "show", "sq", "--json"])).stdout).runs;
    const firstId = runs[0].runId;
    assert.notEqual(firstId, secondId);
    const older = await cli(home, ["results", "sq", firstId]);
    assert.equal(older.code, 0, older.stderr);
    assert.deepEqual(ndjson(older.stdout), [1, 4, 9].map((value, index) => ({ index, value })));
    const unordered = await cli(home, ["results", "sq", firstId, "--unordered"]);
    assert.deepEqual(
      ndjson(unordered.stdout).sort((a, b) => Number(a.index) - Number(b.index)),
      ndjson(older.stdout),
    );

    const doc = await cli(home, ["results", "sq", secondId, "--json"]);
    assert.equal(doc.code, 0, doc.stderr);
    assert.deepEqual(JSON.parse(doc.stdout), {
      knot: "sq",
      runId: secondId,
      target: "local",
      total: 1,
      succeeded: 1,
      failed: 0,
      items: [{ index: 0, value: 16 }],
    });

    const missing = await cli(home, ["results", "sq", "20000101T000000Z-000000"]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error: Knot sq has no run "20000101T000000Z-000000": list its runs with `cloudknot knot show sq`$/m,
    );
    const ambiguous = await cli(home, ["results", "sq", "2"]);
    assert.equal(ambiguous.code, 1);
    assert.match(
      ambiguous.stderr,
      /^error: Run id "2" matches 2 runs of knot sq: give more of the id/,
    );
    assert.equal((await cli(home, ["knot", "create", "idle", JOBS, "square"])).code, 0);
    const none = await cli(home, ["results", "idle"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error: Knot idle has no runs yet: map some inputs first$/m);
  });
});

Deno.test("results, jobs, knot show and retry refuse --target docker on a local knot, saying which target it has", async () => {
  await withHome(async (home) => {
    const mapped = await cliHere(home, ["map", JOBS, "square", "--name", "sq", "-q"], {
      stdin: "[1]",
    });
    assert.equal(mapped.code, 0, mapped.stderr);
    for (const command of [["results"], ["jobs"], ["knot", "show"], ["retry"]]) {
      const r = await cliHere(home, [...command, "sq", "--target", "docker"]);
      assert.equal(r.code, 1, `${command.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(
        r.stderr,
        'error: Knot "sq" on this machine runs on the local target, not docker: pass --target ' +
          "local, or leave --target out\n",
      );
    }
    const shown = await cliHere(home, ["knot", "show", "sq", "--target", "local"]);
    assert.equal(shown.code, 0, shown.stderr);
  });
});

Deno.test("a local knot whose clobber was killed part-way is listed so, knot clobber finishes it, and a new knot of its name does not inherit its runs", async () => {
  await withHome(async (home) => {
    const root = join(home.dir, "knots", "cc");
    /** Makes knot cc with two runs, then leaves it as a clobber killed part-way does. */
    const killedClobber = async () => {
      for (const stdin of ["[1]", "[2]"]) {
        const r = await cliHere(home, ["map", JOBS, "square", "--name", "cc", "-q"], { stdin });
        assert.equal(r.code, 0, r.stderr);
      }
      // Its mark written first, then its function and one run removed, its record still there.
      await Deno.writeTextFile(join(root, "clobbering"), "");
      await Deno.remove(join(root, "artifacts"), { recursive: true });
      // Its runs are under CLOUDKNOT_LOCAL_RUNS, in a folder named for the knot's.
      const [id] = await Array.fromAsync(Deno.readDir(join(home.dir, "runs")));
      const runs = join(home.dir, "runs", id!.name, "runs");
      const [run] = await Array.fromAsync(Deno.readDir(runs));
      await Deno.remove(join(runs, run!.name), { recursive: true });
    };
    await killedClobber();
    const listed = await cliHere(home, ["knot", "list"]);
    assert.match(listed.stdout, /^cc +local \(clobber unfinished\) /m);
    const finished = await cliHere(home, ["knot", "clobber", "cc", "--yes"]);
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(
      finished.stderr,
      /the clobber of local knot cc \(in .*\) was stopped part-way before; it is finished now \(its runs and record removed\)/,
    );
    assert.equal(await Deno.stat(root).catch(() => undefined), undefined);

    // Created again instead: the clobber is finished first, and the new knot has its own run only.
    await killedClobber();
    const again = await cliHere(home, ["map", JOBS, "square", "--name", "cc", "-q"], {
      stdin: "[3]",
    });
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      /it is finished now \(its runs and record removed\), and the knot is created anew/,
    );
    const shown = JSON.parse((await cliHere(home, ["knot", "show", "cc", "--json"])).stdout);
    assert.equal(shown.runs.length, 1);
  });
});

Deno.test("a local knot whose clobber was killed at the very end (its mark alone left) is listed as a local knot whose clobber is unfinished, never as a docker knot, and knot clobber finishes it", async () => {
  await withHome(async (home) => {
    const dir = join(home.dir, "knots");
    const root = join(dir, "cc");
    const knot = await Knot.create({ name: "cc", dir, func: (x: number) => x });
    // Killed as it would remove the knot's folder: its record gone, its mark the last thing left.
    const remove = Deno.remove;
    Deno.remove = (path, options) =>
      path === root ? Promise.reject(new Error("killed")) : remove(path, options);
    try {
      await assert.rejects(() => knot.clobber(), /killed/);
    } finally {
      Deno.remove = remove;
    }
    assert.deepEqual((await Array.fromAsync(Deno.readDir(root))).map((e) => e.name), [
      "clobbering",
    ]);
    const listed = await cliHere(home, ["knot", "list"]);
    assert.match(listed.stdout, /^cc +local \(clobber unfinished\) /m);
    assert.doesNotMatch(listed.stdout, /docker/);
    assert.match(listed.stderr, /A clobber of local knot cc stopped part-way/);
    const docker = await cliHere(home, ["knot", "list", "--target", "docker", "--json"]);
    assert.deepEqual(JSON.parse(docker.stdout), []);
    const json = JSON.parse((await cliHere(home, ["knot", "list", "--json"])).stdout);
    assert.equal(json.find((k: { name: string }) => k.name === "cc").target, "local");
    const finished = await cliHere(home, ["knot", "clobber", "cc", "--yes"]);
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(finished.stdout, /Clobbered what the stopped clobber of local knot cc left/);
    assert.equal(await Deno.stat(root).catch(() => undefined), undefined);
  });
});

Deno.test("results exits with 1 when an item failed and prints every line", async () => {
  await withHome(async (home) => {
    const r = await cli(home, ["map", JOBS, "failOdd", "--name", "odd", "--retries", "1", "-q"], {
      stdin: "[1, 2]",
    });
    assert.equal(r.code, 1);
    const later = await cli(home, ["results", "odd"]);
    assert.equal(later.code, 1);
    assert.deepEqual(ndjson(later.stdout), ndjson(r.stdout));
    assert.match(later.stderr, /^1 of 2 items failed: 0$/m);
  });
});

Deno.test("a module's failed item names its files in every process: results, and a Knot adopted by name", async () => {
  await withHome(async (home) => {
    const module = "tests/fixtures/throwing_job.ts";
    const made = await cli(home, [
      "map",
      module,
      "measure",
      "--name",
      "throws",
      "--retries",
      "1",
      "-q",
    ], {
      stdin: "[1, -1]",
    });
    assert.equal(made.code, 1, made.stderr);
    // Neither this process nor the ones below made the artifact: each reads the knot's record.
    const later = await cli(home, ["results", "throws"]);
    assert.equal(later.code, 1);
    const failed = ndjson(later.stdout)[1]!.error as { stack: string };
    assert.match(failed.stack, THROWING_FRAMES);
    const script = `
      import { Knot } from ${JSON.stringify(new URL("../../mod.ts", import.meta.url).href)};
      const knot = await Knot.create({ name: "throws" });
      const [manifest] = await knot.runs();
      const run = await knot.collect(manifest.runId);
      const error = await run.results().then(() => undefined, (e) => e);
      console.log(error.errors[0].remote.stack);
    `;
    const adopted = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      cwd: ROOT,
      env: childEnv(home.env),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(adopted.stderr);
    assert.equal(adopted.code, 0, stderr);
    assert.match(new TextDecoder().decode(adopted.stdout), THROWING_FRAMES);
  });
});

Deno.test("results waits for a run still going in another process", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "release");
    const mapping = spawnCli(
      home,
      ["map", JOBS, "gate", "--name", "slow", "--concurrency", "2", "--allow", `read=${home.dir}`],
      { stdin: true },
    );
    const writer = mapping.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify([{ id: 0, waitFor: marker }, { id: 1 }])),
    );
    await writer.close();
    const err = lines(mapping.stderr);
    const mapped = new Response(mapping.stdout).text();
    for (let line = await err.read(); !/ · run /.test(line.value ?? ""); line = await err.read()) {
      assert.ok(!line.done, "map ended before its run started");
    }
    const collecting = spawnCli(home, ["results", "slow"]);
    const out = lines(collecting.stdout);
    const progress = lines(collecting.stderr);
    const waiting = await progress.read();
    assert.match(waiting.value!, /^Waiting for run \S+ of knot slow: [01]\/2 done$/);
    // Item 0 is held until now, so results must have been waiting for it.
    await Deno.writeTextFile(marker, "");
    const got = [];
    for (let line = await out.read(); !line.done; line = await out.read()) {
      got.push(JSON.parse(line.value));
    }
    assert.deepEqual(got, [
      { index: 0, value: { id: 0, released: true } },
      { index: 1, value: { id: 1, released: true } },
    ]);
    let rest = "";
    for (let line = await progress.read(); !line.done; line = await progress.read()) {
      rest += `${line.value}\n`;
    }
    assert.match(rest, /slow: 2\/2 done/);
    assert.equal((await collecting.status).code, 0, rest);
    while (!(await err.read()).done) { /* drain */ }
    assert.equal((await mapping.status).code, 0);
    assert.equal(ndjson(await mapped).length, 2);
  });
});

Deno.test("jobs shows a run's job view, and its items with --json", async () => {
  await withHome(async (home) => {
    const r = await cli(home, ["map", JOBS, "failOdd", "--name", "odd", "--retries", "2", "-q"], {
      stdin: "[0, 1, 2]",
    });
    assert.equal(r.code, 1);
    const view = await cli(home, ["jobs", "odd"]);
    assert.equal(view.code, 0, view.stderr);
    const [summary, header, firstRow] = view.stdout.split("\n");
    assert.match(
      summary!,
      /^odd run \d{8}T\d{6}Z-[0-9a-f]{6} \(local\): 3\/3 done, 1 failed, 1 retried · \d+\.\ds$/,
    );
    assert.match(header!, /^item +status +attempts +time +error$/);
    assert.match(
      firstRow!,
      /^1 +failed +2 +\d+\.\ds +Item 1 threw RangeError: odd: 1 \(attempt 2 of 2\)$/,
    );

    const json = await cli(home, ["jobs", "odd", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.knot, "odd");
    assert.equal(doc.total, 3);
    assert.equal(doc.attempts, 2);
    assert.deepEqual(doc.counts, {
      total: 3,
      pending: 0,
      running: 0,
      succeeded: 2,
      failed: 1,
      cancelled: 0,
      retried: 1,
    });
    assert.deepEqual(
      doc.items.map((i: Record<string, unknown>) => [i.index, i.status, i.attempts]),
      [[0, "succeeded", 1], [1, "failed", 2], [2, "succeeded", 1]],
    );
    assert.match(doc.items[1].error, /^Item 1 threw RangeError: odd: 1/);
    for (const item of doc.items) {
      assert.ok(Date.parse(item.startedAt) <= Date.parse(item.endedAt));
      assert.match(item.jobId, /:\d$/);
    }
    assert.ok(Date.parse(doc.startedAt) <= Date.parse(doc.endedAt));
  });
});

Deno.test("logs prints what items printed, per attempt", async () => {
  await withHome(async (home) => {
    assert.equal(
      (await cli(home, ["map", JOBS, "chatty", "--name", "chat", "-q"], { stdin: "[2, 0]" })).code,
      0,
    );
    const one = await cli(home, ["logs", "chat", "--item", "0"]);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(one.stdout.split("\n").sort(), ["", "line 0", "line 1", "on stderr"]);
    const all = await cli(home, ["logs", "chat"]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^--- item 0 \(attempt 1\) ---$/m);
    assert.match(all.stdout, /^--- item 1 \(attempt 1\) ---\non stderr$/m);

    assert.equal(
      (await cli(home, ["map", JOBS, "flaky", "--name", "flaky", "--retries", "2", "-q"], {
        stdin: "[7]",
      })).code,
      0,
    );
    const latest = await cli(home, ["logs", "flaky", "--item", "0", "--json"]);
    assert.equal(latest.code, 0, latest.stderr);
    assert.deepEqual(JSON.parse(latest.stdout), [{ index: 0, attempt: 2, lines: ["attempt 2"] }]);
    const firstAttempt = await cli(home, ["logs", "flaky", "--item", "0", "--attempt", "1"]);
    assert.equal(firstAttempt.stdout, "attempt 1\n");

    const outOfRange = await cli(home, ["logs", "flaky", "--item", "5"]);
    assert.equal(outOfRange.code, 1);
    assert.match(
      outOfRange.stderr,
      /^error: Item 5 is out of range: run \S+ has 1 items \(0 to 0\)$/m,
    );
    // An attempt the item never had is an error, not an empty output.
    const noSuchAttempt = await cli(home, ["logs", "flaky", "--item", "0", "--attempt", "3"]);
    assert.equal(noSuchAttempt.code, 1);
    assert.match(
      noSuchAttempt.stderr,
      /^error: Item 0 of run \S+ ran 2 attempts: --attempt takes 1 to 2$/m,
    );
    const attemptAlone = await cli(home, ["logs", "flaky", "--attempt", "1"]);
    assert.equal(attemptAlone.code, 2);
    assert.match(attemptAlone.stderr, /^error: --attempt needs --item$/m);
  });
});

Deno.test("logs of items whose function could not load says on stderr that each never ran, why, and how to run it", async () => {
  await withHome(async (home) => {
    const module = join(home.dir, "broken.ts");
    await Deno.writeTextFile(
      module,
      'throw new Error("broken at load");\nexport function f(x: number) { return x; }\n',
    );
    const map = await cli(home, ["map", module, "f", "--name", "broken", "-q"], {
      stdin: "[1, 2, 3]",
    });
    assert.equal(map.code, 1, map.stderr);
    const runId = JSON.parse((await cli(home, ["knot", "show", "broken", "--json"])).stdout)
      .runs[0].runId;
    // The map's summary sends to no logs, which would say that none printed anything.
    assert.match(
      map.stderr,
      new RegExp(
        `^3 of 3 items failed: 0, 1, 2\n\`cloudknot retry broken ${runId}\` runs them again$`,
        "m",
      ),
    );
    assert.doesNotMatch(map.stderr, /cloudknot logs/);
    const why = `Cannot load the function: broken at load\. The item never ran: once that is ` +
      `fixed, run cloudknot results broken ${runId} to run it with the same function, or, with ` +
      `a mended function the knot is created again with, map it again with ` +
      `cloudknot retry broken ${runId}`;
    const one = await cli(home, ["logs", "broken", "--item", "1"]);
    assert.equal(one.code, 1, one.stderr);
    assert.equal(one.stdout, "");
    assert.match(one.stderr, new RegExp(`^error: Item 1 has no output: ${why}$`, "m"));
    // Without --item, every item is read: all those that never ran are said, not the first alone.
    for (const json of [[], ["--json"]]) {
      const all = await cli(home, ["logs", "broken", ...json]);
      assert.equal(all.code, 0, all.stderr);
      assert.equal(all.stdout, json.length > 0 ? "[]\n" : "");
      assert.match(
        all.stderr,
        new RegExp(
          `^Items 0, 1 and 2 of run ${runId} never ran, so they have no output: ${why}$`,
          "m",
        ),
      );
    }
  });
});

/**
 * Maps three items on knot `killed` in a child process, and returns once item 0 is done and
 * items 1 and 2 wait for the file `release` in the home's folder; knot show lists the run as
 * running then.
 */
async function liveMap(home: Parameters<Parameters<typeof withHome>[0]>[0]) {
  const marker = join(home.dir, "release");
  const mapping = spawnCli(
    home,
    ["map", JOBS, "gate", "--name", "killed", "--concurrency", "2", "--allow", `read=${home.dir}`],
    { stdin: true },
  );
  const writer = mapping.stdin.getWriter();
  const inputs = [{ id: 0 }, { id: 1, waitFor: marker }, { id: 2, waitFor: marker }];
  await writer.write(new TextEncoder().encode(JSON.stringify(inputs)));
  await writer.close();
  const out = lines(mapping.stdout);
  assert.deepEqual(JSON.parse((await out.read()).value!), {
    index: 0,
    value: { id: 0, released: true },
  });
  const running = await cli(home, ["knot", "show", "killed"]);
  assert.match(running.stdout, / 3 +1 +0 +running$/m);
  assert.doesNotMatch(running.stdout, /stopped/);
  return {
    marker,
    /** Waits for the map to end, and drops what it prints. */
    ended: async () => {
      await mapping.status;
      await out.cancel();
      await mapping.stderr.cancel();
    },
    kill: () => mapping.kill("SIGKILL"),
    /** Sends `signal`, then gives the map's exit code and what it said on stderr. */
    signalled: async (signal: Deno.Signal) => {
      mapping.kill(signal);
      const [status, stderr] = await Promise.all([
        mapping.status,
        new Response(mapping.stderr).text(),
        out.cancel(),
      ]);
      return { code: status.code, stderr };
    },
  };
}

/** {@linkcode liveMap}, then the map killed: the run it leaves, stopped. */
async function killedMap(home: Parameters<Parameters<typeof withHome>[0]>[0]): Promise<string> {
  const map = await liveMap(home);
  map.kill();
  await map.ended();
  return map.marker;
}

Deno.test("results following a live run ends when another process clobbers the knot, its items cancelled as clobbered, instead of waiting for ever", async () => {
  await withHome(async (home) => {
    const map = await liveMap(home);
    const follower = spawnCli(home, ["results", "killed"]);
    const followed = lines(follower.stdout);
    assert.deepEqual(JSON.parse((await followed.read()).value!), {
      index: 0,
      value: { id: 0, released: true },
    });
    // Stopped while the clobber runs: it finds the run's folder gone when it goes on.
    Deno.kill(follower.pid, "SIGSTOP");
    const clobbered = await cli(home, ["knot", "clobber", "killed", "--yes"]);
    assert.equal(clobbered.code, 0, clobbered.stderr);
    Deno.kill(follower.pid, "SIGCONT");
    const { lines: rest, status, stderr } = await restOf(follower, followed);
    assert.equal(status.code, 1, stderr);
    // Named as the clobber's, which the summary tells by.
    assert.deepEqual(
      rest.map((l) => [(l.error as { kind: string }).kind, (l.error as { name: string }).name]),
      [
        ["cancelled", "KnotClobberedError"],
        ["cancelled", "KnotClobberedError"],
      ],
    );
    assert.match(
      stderr,
      /2 of 3 items were cancelled as knot killed was clobbered while the run ran/,
    );
    await map.ended();
  });
});

Deno.test("a map ended by SIGTERM or SIGHUP says its run is not finished and what finishes it, which results then does", async () => {
  for (const [signal, exit] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    await withHome(async (home) => {
      const map = await liveMap(home);
      const { code, stderr } = await map.signalled(signal);
      assert.equal(code, exit, stderr);
      const said = new RegExp(
        `^stopped by ${signal}: run (\\S+) is not finished; \`cloudknot results killed \\1\` ` +
          "runs its unfinished items here and prints every result$",
        "m",
      );
      assert.match(stderr, said);
      await Deno.writeTextFile(map.marker, "");
      const later = await cli(home, ["results", "killed", said.exec(stderr)![1]!]);
      assert.equal(later.code, 0, later.stderr);
      assert.equal(ndjson(later.stdout).length, 3);
    });
  }
});

Deno.test("knot show says a run whose map was killed stopped, and what finishes it; results finishes it, printing every result", async () => {
  await withHome(async (home) => {
    const marker = await killedMap(home);
    const shown = await cli(home, ["knot", "show", "killed"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, / 3 +1 +0 +stopped$/m);
    assert.match(
      shown.stdout,
      /^Run (\S+) stopped: the process that ran it is gone \(killed, or its machine restarted\), and no result was lost\. `cloudknot results killed \1` runs the unfinished items here and prints every result; `cloudknot cancel killed \1` ends them as cancelled\.$/m,
    );
    const json = JSON.parse((await cli(home, ["knot", "show", "killed", "--json"])).stdout);
    assert.equal(json.runs[0].status, "stopped");
    await Deno.writeTextFile(marker, "");
    const later = await cli(home, ["results", "killed"]);
    assert.equal(later.code, 0, later.stderr);
    assert.deepEqual(ndjson(later.stdout), [
      { index: 0, value: { id: 0, released: true } },
      { index: 1, value: { id: 1, released: true } },
      { index: 2, value: { id: 2, released: true } },
    ]);
    // Finished now: asking again runs nothing and prints the same.
    const again = await cli(home, ["results", "killed"]);
    assert.equal(again.stdout, later.stdout);
    assert.match((await cli(home, ["knot", "show", "killed"])).stdout, / 3 +3 +0 +finished$/m);
  });
});

Deno.test("cancel of a run whose map was killed writes the cancellation in the run: results then prints the items cancelled and runs nothing", async () => {
  await withHome(async (home) => {
    const marker = await killedMap(home);
    const cancelled = await cli(home, ["cancel", "killed"]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /^Cancelled run \S+ of knot killed: 2 of 3 items cancelled/m);
    // Released now: a reader that ran them would see them succeed.
    await Deno.writeTextFile(marker, "");
    const later = await cli(home, ["results", "killed"]);
    assert.equal(later.code, 1, later.stderr);
    const out = ndjson(later.stdout);
    assert.deepEqual(out[0], { index: 0, value: { id: 0, released: true } });
    for (const line of out.slice(1)) {
      assert.equal((line.error as { kind: string }).kind, "cancelled", JSON.stringify(line));
    }
    assert.match((await cli(home, ["knot", "show", "killed"])).stdout, / 3 +1 +2 +finished$/m);
  });
});

Deno.test("results and knot show of a run whose map() died while it still read its inputs say it was cut short, and results says how to map the rest", async () => {
  await withHome(async (home) => {
    // A library user's map() of a generator (the CLI's map reads every input
    // first): item 0 is written and ran, then the process is killed while
    // the generator waits for the next input.
    const ran = join(home.dir, "ran");
    const code = `import { Knot } from ${JSON.stringify(join(ROOT, "mod.ts"))};
const knot = await Knot.create({
  name: "cut",
  func: async (x: number) => { await Deno.writeTextFile(${JSON.stringify(ran)}, ""); return x; },
  permissions: { write: [${JSON.stringify(home.dir)}] },
});
async function* inputs() {
  yield 0;
  while (!(await Deno.stat(${JSON.stringify(ran)}).then(() => true, () => false))) {
    await new Promise((r) => setTimeout(r, 20));
  }
  console.log("reading");
  await new Promise((r) => setTimeout(r, 600_000));
}
await knot.map(inputs(), { progress: false });`;
    const mapping = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", join(ROOT, "deno.json"), "--ext=ts", code],
      env: childEnv(home.env),
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const out = lines(mapping.stdout);
    assert.equal((await out.read()).value, "reading");
    mapping.kill("SIGKILL");
    await mapping.status;
    await out.cancel();
    const later = await cli(home, ["results", "cut"]);
    assert.equal(later.code, 0, later.stderr);
    assert.deepEqual(ndjson(later.stdout), [{ index: 0, value: 0 }]);
    assert.match(
      later.stderr,
      /Run \S+ of knot cut was cut short: the process that mapped it died after 1 inputs were read[^]*cloudknot map --name cut --inputs FILE, with the inputs after the first 1/,
    );
    // knot show lists it as cut short, not as a finished run.
    const show = await cli(home, ["knot", "show", "cut"]);
    assert.match(show.stdout, /\n\S+ +\S+ \S+ +1 +1 +0 +cut short\n?$/);
    const json = JSON.parse((await cli(home, ["knot", "show", "cut", "--json"])).stdout);
    assert.equal(json.runs[0].status, "cut short");
  });
});

Deno.test("results says so when a run's data is gone", async () => {
  await withHome(async (home) => {
    const r = await cli(home, ["map", JOBS, "square", "--name", "lost", "-q"], { stdin: "[1]" });
    assert.equal(r.code, 0, r.stderr);
    const runs = home.env.CLOUDKNOT_LOCAL_RUNS!;
    for await (const dir of Deno.readDir(runs)) {
      await Deno.remove(join(runs, dir.name, "runs"), { recursive: true });
    }
    const later = await cli(home, ["results", "lost"]);
    assert.equal(later.code, 1);
    assert.match(later.stderr, /Knot lost has no run data left: the data of its 1 run .* is gone/);
  });
});

Deno.test("results of a knot whose latest run's manifest is damaged names that manifest, never reads an earlier run in its place, and never calls the run gone", async () => {
  await withHome(async (home) => {
    const ids: string[] = [];
    for (const stdin of ["[1]", "[2, 3]"]) {
      const r = await cli(home, ["map", JOBS, "square", "--name", "torn", "-q"], { stdin });
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse((await cli(home, ["knot", "show", "torn", "--json"])).stdout);
      ids.push(json.runs.at(-1).runId);
    }
    const [older, latest] = ids as [string, string];
    const runs = home.env.CLOUDKNOT_LOCAL_RUNS!;
    let manifest = "";
    for await (const dir of Deno.readDir(runs)) manifest = join(runs, dir.name, "runs", latest);
    // Cut short, as a full disk or a crash of the machine may leave it.
    const file = await Deno.open(join(manifest, "run.json"), { write: true });
    await file.truncate(50);
    file.close();
    const damaged = new RegExp(
      `the manifest of the run in ${manifest} \\(run\\.json\\) is damaged, so the run cannot ` +
        `be read: .*Its log \\(records\\) keeps 2 records of its items, intact, but they ` +
        "cannot be read without the manifest, which says what the items are: put back its " +
        "run\\.json \\(from a backup\\), or map its inputs again",
    );
    const later = await cli(home, ["results", "torn"]);
    assert.equal(later.code, 1, later.stdout);
    assert.equal(later.stdout, "");
    assert.match(
      later.stderr,
      new RegExp(`The latest run of knot torn is ${latest}: the manifest`),
    );
    assert.match(later.stderr, damaged);
    assert.match(
      later.stderr,
      /map its inputs again\. To read an earlier run instead, give its id: `cloudknot knot show torn` lists them$/m,
    );
    const named = await cli(home, ["results", "torn", latest]);
    assert.equal(named.code, 1);
    assert.match(named.stderr, new RegExp(`Run ${latest} of knot torn: the manifest`));
    assert.match(named.stderr, damaged);
    assert.doesNotMatch(named.stderr + later.stderr, /gone/);
    // knot show lists the other run, and says what the damaged one is.
    const shown = await cli(home, ["knot", "show", "torn"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^${older} `, "m"));
    assert.match(shown.stdout, new RegExp(`^Run ${latest} cannot be listed: The manifest`, "m"));
    const json = JSON.parse((await cli(home, ["knot", "show", "torn", "--json"])).stdout);
    assert.deepEqual(json.damagedRuns.map((r: { runId: string }) => r.runId), [latest]);
    // The earlier run is read by its id.
    const earlier = await cli(home, ["results", "torn", older]);
    assert.equal(earlier.code, 0, earlier.stderr);
    assert.deepEqual(ndjson(earlier.stdout), [{ index: 0, value: 1 }]);
    // As the only run, it is not said to be gone either.
    await Deno.remove(join(runs, manifest.split("/").at(-3)!, "runs", older), { recursive: true });
    const only = await cli(home, ["results", "torn"]);
    assert.equal(only.code, 1);
    assert.match(only.stderr, damaged);
    assert.doesNotMatch(only.stderr, /gone|no run data left/);
    // Its clobber counts it among the runs it removes.
    const clobbered = await cli(home, ["knot", "clobber", "torn", "--yes"]);
    assert.match(clobbered.stdout, /^Clobbered knot torn and its 1 run$/m);
  });
});

Deno.test("results of a knot reads its latest run past a damaged run of the same second whose folder was made before it, and refuses one made after it", async () => {
  await withHome(async (home) => {
    const dir = home.env.CLOUDKNOT_LOCAL_DIR!;
    const env = { env: { CLOUDKNOT_LOCAL_RUNS: undefined } };
    const knot = await Knot.create({ name: "same-second", dir, func: (x: number) => x * x });
    const runs = join(dir, "same-second", "runs");
    const older = await knot.map([1], { progress: false });
    await older.done;
    const latest = await knot.map([2], { progress: false });
    await latest.done;
    assert.ok(
      (await Deno.stat(join(runs, older.runId))).birthtime !== null,
      "this file system keeps no birth time of a folder",
    );
    const second = latest.runId.split("-")[0];
    /** Damages run `runId`'s manifest and gives its folder the id `id` (in the second of the latest). */
    const damage = async (runId: string, id: string) => {
      await Deno.writeTextFile(join(runs, runId, "run.json"), "{");
      await Deno.rename(join(runs, runId), join(runs, id));
    };
    // The older run, damaged, under an id of the latest run's second that sorts after it: its
    // folder was made before the latest run, so it is not the latest.
    await damage(older.runId, `${second}-ffffff`);
    const read = await cliHere(home, ["results", "same-second"], env);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(ndjson(read.stdout), [{ index: 0, value: 4 }]);
    // A damaged run whose folder was made after the latest run's, in its second, may be the
    // latest: it is refused, not passed over.
    const newer = await knot.map([3], { progress: false });
    await newer.done;
    await damage(newer.runId, `${second}-000000`);
    const refused = await cliHere(home, ["results", "same-second"], env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(`The latest run of knot same-second is ${second}-000000: the manifest`),
    );
    await knot.clobber();
  });
});

Deno.test("runs made with CLOUDKNOT_LOCAL_RUNS are found where they are by a process without it, which knot show says, and a clobber without it counts and removes them", async () => {
  await withHome(async (home) => {
    const runsDir = home.env.CLOUDKNOT_LOCAL_RUNS!;
    const map = await cli(home, ["map", JOBS, "square", "--name", "moved", "-q"], {
      stdin: "[1, 2]",
    });
    assert.equal(map.code, 0, map.stderr);
    const runId = JSON.parse((await cli(home, ["knot", "show", "moved", "--json"])).stdout)
      .runs[0].runId;
    const [knotRunsRoot] = await Array.fromAsync(Deno.readDir(runsDir), (e) => e.name);
    const where = `in ${join(runsDir, knotRunsRoot!, "runs")}, made with ` +
      `CLOUDKNOT_LOCAL_RUNS=${runsDir}, not where this process looks: set ` +
      `CLOUDKNOT_LOCAL_RUNS=${runsDir} to read it`;
    const without = { env: { CLOUDKNOT_LOCAL_RUNS: undefined } };
    const latest = await cli(home, ["results", "moved"], without);
    assert.equal(latest.code, 1);
    const escaped = where.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assert.match(
      latest.stderr,
      new RegExp(
        `^error: Knot moved has no runs where this process looks: its latest run, ` +
          `${runId}, is ${escaped}$`,
        "m",
      ),
    );
    const named = await cli(home, ["results", "moved", runId], without);
    assert.match(
      named.stderr,
      new RegExp(`^error: Run ${runId} of knot moved is ${escaped}$`, "m"),
    );
    // As it says, it is read with the variable.
    const read = await cli(home, ["results", "moved", runId]);
    assert.deepEqual(ndjson(read.stdout), [{ index: 0, value: 1 }, { index: 1, value: 4 }]);

    // knot show lists none where it looks, and says where the run is and how to read it.
    const shown = await cli(home, ["knot", "show", "moved"], without);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^No runs where this process looks$/m);
    assert.ok(shown.stdout.includes(`\n\nRun ${runId} is ${where}.\n`), shown.stdout);
    const json = JSON.parse((await cli(home, ["knot", "show", "moved", "--json"], without)).stdout);
    assert.deepEqual(json.runsElsewhere, [
      { runId, runsDir: join(runsDir, knotRunsRoot!, "runs") },
    ]);

    // The clobber counts the run it removes.
    const clobber = await cli(home, ["knot", "clobber", "moved", "--yes"], without);
    assert.equal(clobber.code, 0, clobber.stderr);
    assert.match(clobber.stdout, /^Clobbered knot moved and its 1 run$/m);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(runsDir)), []);
  });
});

Deno.test("a map whose knot another process clobbers ends its items cancelled, saying to make the knot again, not to retry", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "never");
    const mapping = spawnCli(
      home,
      ["map", JOBS, "gate", "--name", "gone", "--concurrency", "2", "--allow", `read=${home.dir}`],
      { stdin: true },
    );
    const writer = mapping.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(
        JSON.stringify([{ id: 0, waitFor: marker }, { id: 1, waitFor: marker }]),
      ),
    );
    await writer.close();
    const err = lines(mapping.stderr);
    const mapped = new Response(mapping.stdout).text();
    for (let line = await err.read(); !/ · run /.test(line.value ?? ""); line = await err.read()) {
      if (line.done) throw new Error("the map ended before its run began");
    }
    const clobber = await cli(home, ["knot", "clobber", "gone", "--yes"]);
    assert.equal(clobber.code, 0, clobber.stderr);
    let said = "";
    for (let line = await err.read(); !line.done; line = await err.read()) {
      said += `${line.value}\n`;
    }
    assert.equal((await mapping.status).code, 1);
    // The clobber's request crossed to the map's process with its name, which the summary
    // tells the items by.
    assert.deepEqual(
      ndjson(await mapped).map((l) => {
        const { kind, name } = l.error as { kind: string; name: string };
        return [l.index, kind, name];
      }),
      [[0, "cancelled", "KnotClobberedError"], [1, "cancelled", "KnotClobberedError"]],
    );
    assert.match(
      said,
      /^2 of 2 items were cancelled as knot gone was clobbered while the run ran: 0, 1; make the knot again \(cloudknot knot create, or cloudknot map of its module\), then map them again$/m,
    );
    assert.doesNotMatch(said, /cloudknot retry/);
  });
});
