// cloudknot map (and the retry of its runs) on the local target. What a command does and prints
// runs in the test's process (cliHere), with the environment a process of its own would have;
// where the process is the point (output it streams or flushes, permission flags, signals, a
// closed stdout, a run another process is still running), the command runs in a process.
import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "../../src/job/codec.ts";
import {
  cli,
  cliHere,
  type CliHome,
  JOBS,
  lines,
  mapGated,
  NARROW_FLAGS,
  ndjson,
  spawnCli,
  withHome,
} from "./helpers.ts";

Deno.test("map reads a JSON array from stdin and prints NDJSON results in input order", async () => {
  await withHome(async (home) => {
    const inputs = Array.from({ length: 12 }, (_, i) => i);
    const r = await cliHere(home, ["map", JOBS, "square", "--concurrency", "2"], {
      stdin: JSON.stringify(inputs),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ndjson(r.stdout), inputs.map((x) => ({ index: x, value: x * x })));
    // The run's id and progress go to stderr, never to stdout.
    assert.match(r.stderr, /knot jobs-square · run \d{8}T\d{6}Z-[0-9a-f]{6} · 12 items/);
    assert.match(r.stderr, /12\/12 done/);
  });
});

Deno.test("map reads inputs from a file, as NDJSON, and with --starmap (alias run)", async () => {
  await withHome(async (home) => {
    const file = join(home.dir, "pairs.ndjson");
    await Deno.writeTextFile(file, "[1, 2]\n\n[3, 4]\n");
    const r = await cliHere(home, [
      "run",
      JOBS,
      "add",
      "--inputs",
      file,
      "--starmap",
      "--name",
      "adder",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ndjson(r.stdout), [{ index: 0, value: 3 }, { index: 1, value: 7 }]);

    const json = join(home.dir, "pairs.json");
    await Deno.writeTextFile(json, "[1, 2]\n[3, 4]\n");
    const asArray = await cliHere(home, ["map", JOBS, "add", "--inputs", json, "--starmap"]);
    assert.equal(asArray.code, 1);
    assert.match(
      asArray.stderr,
      /^error: The inputs \(.*pairs\.json\) are not valid JSON: .*pass --ndjson/m,
    );
    const forced = await cliHere(home, [
      "map",
      JOBS,
      "add",
      "--inputs",
      json,
      "--starmap",
      "--ndjson",
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(ndjson(forced.stdout).map((l) => l.value), [3, 7]);

    const dash = await cliHere(home, ["map", JOBS, "square", "--inputs", "-", "--ndjson", "-q"], {
      stdin: "5\n6\n",
    });
    assert.equal(dash.code, 0, dash.stderr);
    assert.deepEqual(ndjson(dash.stdout).map((l) => l.value), [25, 36]);
    assert.equal(dash.stderr, "", "--quiet prints nothing on stderr");

    const none = await cliHere(home, ["map", JOBS, "square", "--json"], { stdin: "[]" });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(JSON.parse(none.stdout).total, 0);
    assert.match(none.stderr, /^No inputs: knot jobs-square ran nothing$/m);
  });
});

Deno.test("map prints values JSON cannot carry in the codec's JSON form", async () => {
  await withHome(async (home) => {
    const kinds = ["undefined", "bigint", "nan", "map", "date", "dollar", "plain"];
    const r = await cliHere(home, ["map", JOBS, "values"], { stdin: JSON.stringify(kinds) });
    assert.equal(r.code, 0, r.stderr);
    const values = ndjson(r.stdout).map((l) => l.value);
    assert.deepEqual(values, [
      { $: "undefined" },
      { $: "bigint", v: "12" },
      { $: "NaN" },
      { $: "Map", entries: [["a", 1]] },
      { $: "Date", v: 0 },
      { $$x: 1 },
      { a: [1, "b", null, true] },
    ]);
    // Each printed value decodes back to the value exactly.
    assert.deepEqual(values.map((v) => decode(JSON.stringify({ ck: 1, v }))), [
      undefined,
      12n,
      NaN,
      new Map([["a", 1]]),
      new Date(0),
      { $x: 1 },
      { a: [1, "b", null, true] },
    ]);
  });
});

Deno.test("an item refused a permission runs once and says which --allow grants it, cloudknot retry with it runs the item again, and the results of the run retried name the retry", async () => {
  await withHome(async (home) => {
    const r = await cliHere(home, ["map", JOBS, "env", "--retries", "3"], { stdin: '["HOME"]' });
    assert.equal(r.code, 1);
    const error = ndjson(r.stdout)[0]!.error as Record<string, unknown>;
    assert.equal(error.name, "NotCapable");
    assert.equal(error.kind, "refused");
    assert.equal(error.attempt, 1);
    assert.match(
      String(error.summary),
      /^Item 0 threw NotCapable: Requires env access to "HOME": the knot's permissions do not allow it, so the item is not retried\. Grant it with --allow env=HOME on cloudknot knot create or cloudknot map \(--allow env for all\), then run cloudknot map again, or cloudknot retry with that --allow /,
    );
    const advice =
      /^1 of 1 items were refused a permission: 0; each one's error names the --allow that grants it: run `cloudknot retry (\S+) (\S+)` with it \(and the --allow the run had\)$/m
        .exec(r.stderr);
    assert.ok(advice, r.stderr);
    // The command it names, with the --allow the error names, runs the item again granted.
    const retry = await cliHere(home, [
      "retry",
      advice[1]!,
      advice[2]!,
      "--allow",
      "env=HOME",
      "-q",
    ]);
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(ndjson(retry.stdout).map((l) => typeof l.value), ["string"]);
    // The run retried says so, and which run has every item with the retry's results.
    const earlier = await cliHere(home, ["results", advice[1]!, advice[2]!]);
    assert.equal(earlier.code, 1);
    const retried =
      /^1 of 1 items failed in run \S+, which was retried: `cloudknot results (\S+) (\S+)` gives every item, with the retry's results$/m
        .exec(earlier.stderr);
    assert.ok(retried, earlier.stderr);
    const whole = await cliHere(home, ["results", retried[1]!, retried[2]!]);
    assert.equal(whole.code, 0, whole.stderr);
    assert.deepEqual(whole.stdout, retry.stdout);
  });
});

Deno.test("an item whose result cannot be sent back runs once, and the summary says to change the function and map it again, not to retry", async () => {
  await withHome(async (home) => {
    const r = await cliHere(home, ["map", JOBS, "values", "--retries", "3"], {
      stdin: '["function", "date"]',
    });
    assert.equal(r.code, 1);
    const out = ndjson(r.stdout);
    const error = out[0]!.error as Record<string, unknown>;
    assert.equal(error.kind, "unencodable");
    assert.equal(error.attempt, 1);
    assert.match(
      r.stderr,
      /^1 of 2 items returned a value that cannot be sent back: 0; each one's error says what to return instead: change the function to return it, then map them again$/m,
    );
    assert.doesNotMatch(r.stderr, /cloudknot retry/);
  });
});

Deno.test("a failing item gives exit code 1 after every line is printed", async () => {
  await withHome(async (home) => {
    const r = await cliHere(home, ["map", JOBS, "failOdd", "--retries", "2"], {
      stdin: "[0, 1, 2, 3, 4]",
    });
    assert.equal(r.code, 1);
    const out = ndjson(r.stdout);
    assert.deepEqual(out.map((l) => l.index), [0, 1, 2, 3, 4]);
    assert.deepEqual(out.filter((l) => "value" in l).map((l) => l.value), [0, 2, 4]);
    const error = out[1]!.error as Record<string, unknown>;
    assert.equal(error.name, "RangeError");
    assert.equal(error.message, "odd: 1");
    assert.equal(error.kind, "threw");
    assert.equal(error.attempt, 2);
    assert.match(String(error.stack), /RangeError: odd: 1/);
    assert.equal(error.summary, "Item 1 threw RangeError: odd: 1 (attempt 2 of 2)");
    assert.match(r.stderr, /^2 of 5 items failed: 1, 3$/m);
    const runId = r.stderr.match(/ · run (\S+) · /)![1];
    assert.match(
      r.stderr,
      new RegExp(
        `^\`cloudknot logs jobs-failOdd ${runId} --item 1\` shows what an item printed; ` +
          `\`cloudknot retry jobs-failOdd ${runId}\` runs them again$`,
        "m",
      ),
    );
  });
});

Deno.test("an item out of memory tells a command-line user the --memory flag, not the library option", async () => {
  await withHome(async (home) => {
    const r = await cliHere(home, ["map", JOBS, "hog", "--memory", "64", "--retries", "1"], {
      stdin: "[0]",
    });
    assert.equal(r.code, 1, r.stderr);
    const error = ndjson(r.stdout)[0]!.error as Record<string, unknown>;
    assert.equal(error.name, "OutOfMemoryError");
    for (const text of [String(error.message), String(error.summary)]) {
      assert.match(
        text,
        /its limit of 64 MiB .*give the item more than 64 MiB with --memory on cloudknot map or retry, or make the item smaller/,
      );
      assert.doesNotMatch(text, /Knot\.create|memory option/);
    }
    // The summary's retry gives the items twice the memory, as their errors say: the same retry
    // without it would fail them alike.
    assert.match(r.stderr, /`cloudknot retry jobs-hog \S+ --memory double` runs them again$/m);
    const jobs = await cliHere(home, ["jobs", "jobs-hog", "--json"]);
    assert.equal(jobs.code, 0, jobs.stderr);
    const item = JSON.parse(jobs.stdout).items[0];
    assert.match(
      item.error,
      /give the item more than 64 MiB with --memory on cloudknot map or retry/,
    );
    const table = await cliHere(home, ["jobs", "jobs-hog"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^0 +failed +1 .*Item 0 ran out of memory/m);
    assert.doesNotMatch(jobs.stdout + table.stdout, /Knot\.create|memory option/);
  });
});

Deno.test("map --json prints one document; --env reaches the jobs", async () => {
  await withHome(async (home) => {
    const r = await cliHere(
      home,
      ["map", JOBS, "env", "--json", "--env", "GREETING=hi=there", "--allow", "env=NOT_SET"],
      { stdin: '["GREETING", "NOT_SET"]' },
    );
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.knot, "jobs-env");
    assert.equal(doc.total, 2);
    assert.equal(doc.succeeded, 2);
    assert.deepEqual(doc.items, [{ index: 0, value: "hi=there" }, { index: 1, value: null }]);
  });
});

Deno.test("map streams each result as soon as every earlier one is out", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "release-1");
    const child = spawnCli(
      home,
      ["map", JOBS, "gate", "--concurrency", "2", "--name", "gated", "--allow", `read=${home.dir}`],
      { stdin: true },
    );
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify([{ id: 0 }, { id: 1, waitFor: marker }])),
    );
    await writer.close();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(new WritableStream());
    const out = lines(child.stdout);
    // Item 1 cannot finish until the line of item 0 has been read.
    const first = JSON.parse((await out.read()).value!);
    assert.deepEqual(first, { index: 0, value: { id: 0, released: true } });
    await Deno.writeTextFile(marker, "");
    const second = JSON.parse((await out.read()).value!);
    assert.deepEqual(second, { index: 1, value: { id: 1, released: true } });
    assert.equal((await out.read()).done, true);
    await stderr;
    assert.equal((await child.status).code, 0);
  });
});

Deno.test("map --unordered prints results as they finish", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "release-0");
    const child = spawnCli(
      home,
      ["map", JOBS, "gate", "--concurrency", "2", "--unordered", "--allow", `read=${home.dir}`],
      { stdin: true },
    );
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify([{ id: 0, waitFor: marker }, { id: 1 }])),
    );
    await writer.close();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(new WritableStream());
    const out = lines(child.stdout);
    // Item 0 cannot finish until the line of item 1 has been read.
    assert.deepEqual(JSON.parse((await out.read()).value!), {
      index: 1,
      value: { id: 1, released: true },
    });
    await Deno.writeTextFile(marker, "");
    assert.deepEqual(JSON.parse((await out.read()).value!), {
      index: 0,
      value: { id: 0, released: true },
    });
    assert.equal((await out.read()).done, true);
    await stderr;
    assert.equal((await child.status).code, 0);
  });
});

Deno.test("map works with the documented narrower permission flags", async () => {
  await withHome(async (home) => {
    const r = await cli(home, ["map", JOBS, "square", "--concurrency", "2"], {
      stdin: "[1, 2, 3]",
      flags: NARROW_FLAGS,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ndjson(r.stdout).map((l) => l.value), [1, 4, 9]);
    // A knot that keeps a memory (checked against this machine's when it was given) maps by
    // name with them too: the flags add systemMemoryInfo only for a --memory given.
    const kept = await cli(home, ["map", JOBS, "square", "--name", "heavy", "--memory", "200"], {
      stdin: "[1]",
    });
    assert.equal(kept.code, 0, kept.stderr);
    const byName = await cli(home, ["map", "--name", "heavy"], {
      stdin: "[2]",
      flags: NARROW_FLAGS,
    });
    assert.equal(byName.code, 0, byName.stderr);
    assert.deepEqual(ndjson(byName.stdout).map((l) => l.value), [4]);
    // Each flag is needed: without reading the user id, the run's directory cannot be checked.
    const noUid = await cli(home, ["map", JOBS, "square"], {
      stdin: "[1]",
      flags: NARROW_FLAGS.map((f) => f.startsWith("--allow-sys") ? "--allow-sys=homedir" : f),
    });
    assert.equal(noUid.code, 1);
    assert.match(noUid.stderr, /sys access to "uid"/);
  });
});

Deno.test("map reports user errors with exit code 1 and bad usage with exit code 2", async () => {
  await withHome(async (home) => {
    const cases: [string[], string | undefined, number, RegExp][] = [
      [["map", "nope.ts"], "[1]", 1, /^error: Module nope\.ts does not exist: pass the path/],
      [["map", JOBS, "square"], '{"a": 1}', 1, /must be a JSON array of items, not an object/],
      [["map", JOBS, "square"], "", 1, /^error: The inputs \(stdin\) are empty/],
      [
        ["map", JOBS, "square", "--retries", "11"],
        "[1]",
        2,
        /^error: --retries takes an integer from 1 to 10, not "11"$/m,
      ],
      [
        ["map", JOBS, "noSuchExport"],
        "[1]",
        1,
        /^error: Module .* has no export named "noSuchExport": pass one of its exported function names as the export argument \(its functions: square, add, failOdd, .*\)$/m,
      ],
      [
        ["map", JOBS, "square", "--name", "bad_name"],
        "[1]",
        1,
        /^error: Invalid knot name "bad_name"/,
      ],
      [
        ["map", JOBS, "square", "--compute", "FARGATE"],
        "[1]",
        2,
        /^error: --compute is for --target aws$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--concurrency", "2"],
        "[1]",
        2,
        /^error: --concurrency is for --target docker or --target local: on AWS, see --max-vcpus$/m,
      ],
      // The docker target takes these too.
      [
        ["map", JOBS, "square", "--items-per-job", "2"],
        "[1]",
        2,
        /^error: --items-per-job is for --target aws or --target docker$/m,
      ],
      [
        ["map", JOBS, "square", "--vcpus", "2", "--compute", "FARGATE"],
        "[1]",
        2,
        /^error: --compute is for --target aws; --vcpus is for --target aws or --target docker$/m,
      ],
      [
        ["map", JOBS, "square", "--stuck-timeout", "900"],
        "[1]",
        2,
        /^error: --stuck-timeout is for --target aws$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--stuck-timeout", "60"],
        "[1]",
        2,
        /^error: --stuck-timeout takes an integer from 600 to 86,400, or never, not "60"$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--capacity-timeout", "soon"],
        "[1]",
        2,
        /^error: --capacity-timeout takes an integer from 600 to 86,400, or never, not "soon"$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--compute", "LAMBDA"],
        "[1]",
        2,
        /^error: --compute must be one of EC2, SPOT, FARGATE, FARGATE_SPOT, not "LAMBDA"$/m,
      ],
      [
        ["map", JOBS, "square", "--inputs", "missing.json"],
        undefined,
        1,
        /^error: Cannot read the inputs file missing\.json/,
      ],
      [
        ["map", JOBS, "square", "--target", "mars"],
        "[1]",
        2,
        /^error: --target must be "local", "aws" or "docker", not "mars"/,
      ],
      [
        ["map", JOBS, "square", "--concurrency", "two"],
        "[1]",
        2,
        /^error: --concurrency takes an integer from 1 to 1,024, not "two"/,
      ],
      [["map", JOBS, "square", "--env", "NOEQUALS"], "[1]", 2, /^error: --env takes NAME=VALUE/],
      // The map's own options and the inputs' shape, refused before the knot is made.
      [
        ["map", JOBS, "square", "--env", "1B=1"],
        "[1]",
        1,
        /^error: --env has an invalid variable name "1B"/,
      ],
      [
        ["map", JOBS, "add", "--starmap"],
        "[[1, 2], 3]",
        2,
        /^error: with --starmap, each input must be an array of arguments; input 1 is not$/m,
      ],
      [["map", JOBS, "square", "--colour"], "[1]", 2, /^error: Unknown option --colour/],
      [["map", JOBS, "square", "extra"], "[1]", 2, /^error: Unexpected argument "extra"/],
      [["map"], "[1]", 2, /^error: map needs a module, or --name of an existing knot/],
    ];
    const broken = join(home.dir, "broken.ts");
    await Deno.writeTextFile(broken, "export function f(x: number) { return x +; }\n");
    cases.push([
      ["map", broken, "f"],
      "[1]",
      1,
      /^error: Cannot capture module .*broken\.ts with deno bundle .* works: SyntaxError: Expression expected \(run with --debug for the details\)$/m,
    ]);
    for (const [args, stdin, code, message] of cases) {
      const r = await cliHere(home, args, stdin === undefined ? {} : { stdin });
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stdout, "", args.join(" "));
      // One line for an error; a usage error adds the usage line and a pointer to --help.
      const expected = code === 1 ? 1 : 3;
      assert.equal(r.stderr.trimEnd().split("\n").length, expected, r.stderr);
      if (code === 2) {
        assert.match(r.stderr, /^Usage: cloudknot map \[module\] \[export\] \[options\]$/m);
      }
    }
    // Every one was refused before a knot was made.
    const knots = await cliHere(home, ["knot", "list", "--json"]);
    assert.deepEqual(JSON.parse(knots.stdout), []);
  });
});

Deno.test("closing map's stdout cancels the run, says so on stderr with the retry command, and exits with 141", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "release");
    const child = spawnCli(
      home,
      ["map", JOBS, "gate", "--concurrency", "2", "--name", "piped", "--allow", `read=${home.dir}`],
      { stdin: true },
    );
    const writer = child.stdin.getWriter();
    const inputs = [{ id: 0 }, { id: 1, waitFor: marker }, { id: 2, waitFor: marker }];
    await writer.write(new TextEncoder().encode(JSON.stringify(inputs)));
    await writer.close();
    const stderr = new Response(child.stderr).text();
    const out = lines(child.stdout);
    assert.deepEqual(JSON.parse((await out.read()).value!), {
      index: 0,
      value: { id: 0, released: true },
    });
    // As `| head -1` does: the reader goes away, and the next line cannot be written.
    await out.cancel();
    await Deno.writeTextFile(marker, "");
    assert.equal((await child.status).code, 141);
    const runId = /run (\S+) · 3 items/.exec(await stderr)?.[1];
    assert.ok(runId, await stderr);
    assert.match(
      await stderr,
      new RegExp(
        `^stdout was closed, so run ${runId} was cancelled: \`cloudknot retry piped ${runId}\` ` +
          "runs its unfinished items$",
        "m",
      ),
    );
    // The command it names finishes the input.
    const retry = await cliHere(home, ["retry", "piped", runId, "-q"]);
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(
      ndjson(retry.stdout).map((l) => l.value),
      [0, 1, 2].map((id) => ({ id, released: true })),
    );
  });
});

/** Starts a command line, interrupts it once its run has started, and collects what it printed. */
async function interrupt(
  home: CliHome,
  args: string[],
  stdin?: string,
): Promise<{ code: number; out: Record<string, unknown>[]; rest: string }> {
  const child = spawnCli(home, args, { stdin: stdin !== undefined });
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const err = lines(child.stderr);
  const stdout = new Response(child.stdout).text();
  // The run has started (and its interrupt handler is in place) once its header is printed.
  while (true) {
    const { value, done } = await err.read();
    assert.ok(!done, "the command line ended before its run started");
    if (/ · run /.test(value)) break;
  }
  child.kill("SIGINT");
  let rest = "";
  for (let r = await err.read(); !r.done; r = await err.read()) rest += `${r.value}\n`;
  return { code: (await child.status).code, out: ndjson(await stdout), rest };
}

Deno.test("an interrupt cancels the run of a map, and of a retry alike: every item is printed, exit code 130", async () => {
  await withHome(async (home) => {
    const never = join(home.dir, "never");
    const inputs = JSON.stringify([0, 1, 2].map((id) => ({ id, waitFor: never })));
    const allow = ["--allow", `read=${home.dir}`];
    for (
      const [args, stdin] of [
        [["map", JOBS, "gate", "--name", "gated", "--concurrency", "2", ...allow], inputs],
        [["retry", "gated"], undefined],
      ] as const
    ) {
      const r = await interrupt(home, [...args], stdin);
      assert.equal(r.code, 130, args[0]);
      assert.deepEqual(r.out.map((l) => l.index), [0, 1, 2]);
      for (const line of r.out) {
        assert.equal(
          (line.error as Record<string, unknown>).kind,
          "cancelled",
          JSON.stringify(line),
        );
      }
      assert.match(r.rest, /Cancelling the run \(interrupted\)/);
      // The last lines say they were cancelled, not failed, and how to run them.
      assert.match(r.rest, /^gated: 3\/3 done · 3 cancelled · 0 running/m);
      assert.match(r.rest, /^3 of 3 items were cancelled: 0, 1, 2$/m);
      assert.match(r.rest, /^`cloudknot retry gated \S+` runs them again$/m);
      assert.doesNotMatch(r.rest, /failed/);
    }
  });
});

Deno.test("retry of a run another process is still running says it waits for the run to end", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "release");
    const { output: mapOut } = await mapGated(home, "waiting", marker);
    const retry = spawnCli(home, ["retry", "waiting"]);
    const err = lines(retry.stderr);
    let said = "";
    while (!/still going/.test(said)) {
      const line = await err.read();
      if (line.done) break;
      said += `${line.value}\n`;
    }
    assert.match(
      said,
      /Run \S+ is still going \(0\/1 done\): waiting for it to end, then retrying its failed items/,
    );
    await Deno.writeTextFile(marker, "");
    for (let r = await err.read(); !r.done; r = await err.read()) said += `${r.value}\n`;
    assert.equal((await retry.status).code, 0, said);
    assert.match(said, /Nothing to retry: every item of run \S+ succeeded/);
    await retry.stdout.cancel();
    assert.equal((await mapOut).code, 0);
  });
});

Deno.test("map and knot create of a module whose code reaches files beside it warn on stderr in command-line words", async () => {
  await withHome(async (home) => {
    const module = join(home.dir, "reads.ts");
    await Deno.writeTextFile(
      module,
      "export function size(x: number): number {\n" +
        '  return x + new URL("./model.json", import.meta.url).href.length;\n}\n',
    );
    const plan = await cliHere(home, ["knot", "create", "reads", module, "size", "--dry-run"]);
    const r = await cliHere(home, ["map", module, "size", "-q"], { stdin: "[1]" });
    assert.equal(r.code, 0, r.stderr);
    for (const { stderr } of [plan, r]) {
      assert.match(
        stderr,
        new RegExp(
          `^cloudknot: the module's code names its own location[^]*${module}:2 uses import\\.meta\\.url`,
          "m",
        ),
      );
      // The library's option is the command's flag.
      assert.match(stderr, /a base image with the file: --base-image\)/);
      assert.doesNotMatch(stderr, /Knot\.create/);
    }
  });
});

Deno.test("map given another function than its knot's says on stderr which one it replaced, even with -q", async () => {
  await withHome(async (home) => {
    const first = await cliHere(home, ["map", JOBS, "square", "-q"], { stdin: "[3]" });
    assert.equal(first.code, 0, first.stderr);
    // Its own function again: nothing to say.
    const again = await cliHere(home, ["map", JOBS, "square", "-q"], { stdin: "[3]" });
    assert.equal(again.stderr, "");
    // Another module of the same file name and export derives the same knot name.
    const other = join(home.dir, "jobs.ts");
    await Deno.writeTextFile(other, "export function square(x: number) {\n  return -x;\n}\n");
    const replaced = await cliHere(home, ["map", other, "square", "-q"], { stdin: "[3]" });
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(ndjson(replaced.stdout), [{ index: 0, value: -3 }]);
    assert.match(
      replaced.stderr,
      /^Updated knot jobs-square: its function was square \(module, ([0-9a-f]{8})\), now square \(module, (?!\1)[0-9a-f]{8}\); pass --name to map into a knot of its own\n$/,
    );
    // The knot --name names is the one meant: no advice.
    const named = await cliHere(home, ["map", JOBS, "square", "--name", "jobs-square", "-q"], {
      stdin: "[3]",
    });
    assert.equal(named.code, 0, named.stderr);
    assert.match(
      named.stderr,
      /^Updated knot jobs-square: its function was square \(module, [0-9a-f]{8}\), now square \(module, [0-9a-f]{8}\)\n$/,
    );
  });
});

Deno.test("map of a module whose file name is outside ASCII makes a knot of its own, not the knot of another module named after what is left", async () => {
  await withHome(async (home) => {
    const made = await cliHere(home, ["knot", "create", "square", JOBS, "square"]);
    assert.equal(made.code, 0, made.stderr);
    const data = join(home.dir, "数据.ts");
    await Deno.writeTextFile(data, "export function square(x: number) {\n  return x + 100;\n}\n");
    const mapped = await cliHere(home, ["map", data, "square", "-q"], { stdin: "[3]" });
    assert.equal(mapped.code, 0, mapped.stderr);
    assert.deepEqual(ndjson(mapped.stdout), [{ index: 0, value: 103 }]);
    assert.equal(mapped.stderr, "");
    // The knot named square runs its own function still.
    const kept = await cliHere(home, ["map", "--name", "square", "-q"], { stdin: "[3]" });
    assert.deepEqual(ndjson(kept.stdout), [{ index: 0, value: 9 }]);
    const listed = await cliHere(home, ["knot", "list", "--json"]);
    const names = (JSON.parse(listed.stdout) as { name: string }[]).map((k) => k.name);
    assert.deepEqual(names.filter((n) => n.startsWith("square")).length, 2, names.join(" "));
    assert.ok(names.some((n) => /^square-[0-9a-f]{6}$/.test(n)), names.join(" "));
  });
});

Deno.test("a run whose workers had too little memory to start, or whose attempts were killed at their timeout, is summed up with the retry that gives them more", async () => {
  await withHome(async (home) => {
    const small = await cliHere(home, ["map", JOBS, "square", "--memory", "1"], {
      stdin: "[1, 2]",
    });
    assert.equal(small.code, 1, small.stderr);
    assert.match(
      small.stderr,
      /^2 of 2 items failed: 0, 1\n`cloudknot retry jobs-square (\S+) --memory 64` runs them again$/m,
    );
    // A gate never opened: the item waits until it is killed.
    const slow = await cliHere(home, ["map", JOBS, "gate", "--timeout", "1", "--retries", "1"], {
      stdin: JSON.stringify([{ id: 0, waitFor: join(home.dir, "never") }]),
    });
    assert.equal(slow.code, 1, slow.stderr);
    assert.match(slow.stderr, /`cloudknot retry jobs-gate (\S+) --timeout 2` runs them again$/m);
  });
});

Deno.test("cloudknot retry of a run retried already retries its latest retry, names the run it retries, and retries nothing once that retry succeeded", async () => {
  await withHome(async (home) => {
    const flag = join(home.dir, "flag");
    const allow = ["--allow", `read=${home.dir}`];
    const first = await cliHere(
      home,
      ["map", JOBS, "untilFlag", "--name", "flags", "--retries", "1", ...allow],
      { stdin: JSON.stringify([{ flag, value: 1 }]) },
    );
    assert.equal(first.code, 1);
    const runId = /`cloudknot retry flags (\S+)` runs them again/.exec(first.stderr)![1]!;
    const r1 = await cliHere(home, ["retry", "flags", runId]);
    assert.equal(r1.code, 1);
    const retry1 = new RegExp(`^knot flags · run (\\S+) retries 1 items of run ${runId}$`, "m")
      .exec(r1.stderr)![1]!;
    await Deno.writeTextFile(flag, "");
    // The run retried again: its retry's failed item is what runs, and the line names that run.
    const r2 = await cliHere(home, ["retry", "flags", runId]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(ndjson(r2.stdout), [{ index: 0, value: 1 }]);
    const retry2 = new RegExp(`^knot flags · run (\\S+) retries 1 items of run ${retry1}$`, "m")
      .exec(r2.stderr)?.[1];
    assert.ok(retry2, r2.stderr);
    // And again: nothing runs, and it says which retry has every item.
    const r3 = await cliHere(home, ["retry", "flags", runId]);
    assert.equal(r3.code, 0, r3.stderr);
    assert.deepEqual(ndjson(r3.stdout), [{ index: 0, value: 1 }]);
    assert.match(
      r3.stderr,
      new RegExp(
        `^Nothing to retry: run ${runId} was retried by run ${retry2}, where every item succeeded$`,
        "m",
      ),
    );
    assert.doesNotMatch(r3.stderr, / retries /);
  });
});
