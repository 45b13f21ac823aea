// The command line's retry, cost and report, and its dry runs: real processes,
// a local knot, and the emulator for AWS dry runs (which send no mutating request).
import assert from "node:assert/strict";
import { join } from "node:path";
import { withAwsHome } from "./aws_helpers.ts";
import { cli, cliHere, JOBS, lines, ndjson, spawnCli, withHome } from "./helpers.ts";

Deno.test("cli: retry reruns the failed items of a local run, and cost and report read it", async () => {
  await withHome(async (home) => {
    const flag = join(home.dir, "flag");
    const inputs = JSON.stringify(
      [1, 2, 3].map((value) => value === 2 ? { flag, value } : { flag: home.dir, value }),
    );
    const mapped = await cli(home, [
      "map",
      JOBS,
      "untilFlag",
      "--name",
      "flags",
      "--allow",
      "read",
      "-q",
    ], {
      stdin: inputs,
    });
    assert.equal(mapped.code, 1, mapped.stderr);
    assert.deepEqual(ndjson(mapped.stdout).map((l) => "value" in l), [true, false, true]);

    await Deno.writeTextFile(flag, "");
    const retried = await cli(home, ["retry", "flags", "--memory", "double"]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.deepEqual(ndjson(retried.stdout), [
      { index: 0, value: 1 },
      { index: 1, value: 2 },
      { index: 2, value: 3 },
    ]);
    assert.match(retried.stderr, /retries 1 items of run/);
    // The retry's logs hold its own attempt of item 1; the error for another names the run
    // that holds the earlier three, whose logs read them.
    const first = /retries 1 items of run (\S+)$/m.exec(retried.stderr)?.[1];
    assert.ok(first, retried.stderr);
    const earlier = await cli(home, ["logs", "flags", "--item", "1", "--attempt", "2"]);
    assert.equal(earlier.code, 1);
    assert.match(
      earlier.stderr,
      new RegExp(
        `^error: Item 1 of run \\S+ ran 1 attempt: --attempt takes 1\\. Run \\S+ retries it: ` +
          `its earlier attempts are run ${first}'s, read with ` +
          `cloudknot logs flags ${first} --item 1 --attempt N$`,
        "m",
      ),
    );
    const read = await cli(home, ["logs", "flags", first, "--item", "1", "--attempt", "2"]);
    assert.equal(read.code, 0, read.stderr);

    // The latest run is the retry: its cost counts both runs' attempts.
    const cost = await cli(home, ["cost", "flags", "--json"]);
    assert.equal(cost.code, 0, cost.stderr);
    const report = JSON.parse(cost.stdout);
    assert.equal(report.target, "local");
    assert.equal(report.attempts, 1 + 3 + 1 + 1); // item 1 had 3 attempts (retries: 3), then one more
    assert.ok(report.cpuSeconds > 0);
    const text = await cli(home, ["cost", "flags"]);
    assert.match(text.stdout, /CPU-seconds/);

    const out = join(home.dir, "report.html");
    const page = await cli(home, ["report", "flags", "--out", out]);
    assert.equal(page.code, 0, page.stderr);
    const html = await Deno.readTextFile(out);
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<svg [^>]*class="cloudknot-timeline"/);

    // Nothing failed now: a second retry has nothing to do.
    const again = await cli(home, ["retry", "flags"]);
    assert.equal(again.code, 0);
    assert.match(again.stderr, /Nothing to retry/);
    const bad = await cli(home, ["retry", "flags", "--memory", "lots"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--memory takes a positive integer/);
  });
});

Deno.test("cli: --dry-run on knot create, map, pars create and image push sends no mutating request", async () => {
  await withAwsHome(async (home) => {
    const { emu } = home;
    const aws = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "1", "--memory", "2048"];
    const knot = await cli(home, ["knot", "create", "sq", JOBS, "square", ...aws, "--dry-run"]);
    assert.equal(knot.code, 0, knot.stderr);
    assert.match(
      knot.stdout,
      /Knot sq on AWS Batch \(us-east-1\) \(dry run: nothing was changed\)/,
    );
    assert.match(
      knot.stdout,
      /create compute environment sq-ck-ce \(type: FARGATE, maxvCpus: 256\)/,
    );

    const map = await cli(
      home,
      [
        "map",
        JOBS,
        "square",
        "--name",
        "sq",
        ...aws,
        "--dry-run",
        "--item-seconds",
        "30",
        "--json",
      ],
      { stdin: JSON.stringify(Array.from({ length: 5 }, (_, i) => i)) },
    );
    assert.equal(map.code, 0, map.stderr);
    const [knotPlan, mapPlan] = JSON.parse(map.stdout);
    assert.equal(
      knotPlan.steps.find((s: { kind: string }) => s.kind === "job queue").name,
      "sq-ck-jq",
    );
    const job = mapPlan.steps.find((s: { kind: string }) => s.kind === "array job");
    assert.equal(job.details["array size"], 5);
    assert.equal(mapPlan.estimate.count, 5);
    // 5 tasks of 1 vCPU and 2 GB, each billed its 1-minute minimum.
    assert.ok(
      Math.abs(mapPlan.estimate.computeCost.low - 5 * 60 * (0.04048 + 2 * 0.004445) / 3600) < 1e-12,
    );

    // The plans' notes in the command line's words.
    assert.match(
      knot.stdout,
      /^ {2}note: the estimate is for one job running an hour; estimate a run with cloudknot map --dry-run --item-seconds S$/m,
    );
    const bare = await cli(home, ["map", JOBS, "square", "--name", "sq", ...aws, "--dry-run"], {
      stdin: "[1, 2]",
    });
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, /^ {2}note: pass --item-seconds for a cost estimate$/m);
    for (const out of [knot.stdout, bare.stdout]) {
      assert.doesNotMatch(out, /knot\.estimate|dryRun|itemSeconds/);
    }

    const pars = await cli(home, ["pars", "create", "lab", "--dry-run"]);
    assert.equal(pars.code, 0, pars.stderr);
    assert.match(pars.stdout, /create IAM role lab-job-role/);

    const push = await cli(home, ["image", "push", "nothing-built", "--dry-run"]);
    assert.equal(push.code, 1);
    assert.match(push.stderr, /has no build to push .*cloudknot image build/);

    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await Deno.stat(home.configFile).catch(() => undefined), undefined);
  });
});

Deno.test("map --dry-run --target docker prints the knot's plan, then the map's containers and a docker estimate, and makes nothing", async () => {
  await withHome(async (home) => {
    const r = await cliHere(home, [
      "map",
      JOBS,
      "square",
      "--name",
      "dk",
      "--target",
      "docker",
      "--concurrency",
      "2",
      "--dry-run",
      "--item-seconds",
      "2",
    ], { stdin: JSON.stringify(Array.from({ length: 10 }, (_, i) => i)) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Knot dk on this machine's Docker engine \(dry run: nothing was changed\)$/m,
    );
    assert.match(
      r.stdout,
      /^Map 10 items on knot dk \(docker\) \(dry run: nothing was changed\)$/m,
    );
    assert.match(r.stdout, /containers: 4, items per container: 3, .*at once: 2/);
    assert.match(r.stdout, /^Estimate \(docker\):$/m);
    assert.match(r.stdout, /one worker process in a container/);
    assert.equal(await Deno.stat(join(home.dir, "knots", "dk")).catch(() => undefined), undefined);
  });
});

Deno.test("report refuses an --out whose folder does not exist before waiting for a run still going", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "release");
    const child = spawnCli(
      home,
      ["map", JOBS, "gate", "--name", "going", "--allow", `read=${home.dir}`],
      { stdin: true },
    );
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify([{ id: 0, waitFor: marker }])));
    await writer.close();
    const stdout = new Response(child.stdout).text();
    const err = lines(child.stderr);
    while (!/ · run /.test((await err.read()).value ?? "")) {
      // The run is written once its header is printed.
    }
    const missing = join(home.dir, "no-such-folder", "report.html");
    const r = await cli(home, ["report", "going", "--out", missing]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `error: The folder of --out ${missing} (${join(home.dir, "no-such-folder")}) does not ` +
        "exist: create it, or pass --out FILE in an existing folder\n",
    );
    await Deno.writeTextFile(marker, "");
    for (let line = await err.read(); !line.done; line = await err.read()) {
      // Drained to the end.
    }
    assert.deepEqual(ndjson(await stdout), [{ index: 0, value: { id: 0, released: true } }]);
    assert.equal((await child.status).code, 0);
  });
});

Deno.test("report's page gives each failure in the command line's words, and its timeline what happened", async () => {
  await withHome(async (home) => {
    const never = join(home.dir, "never");
    const mapped = await cli(
      home,
      ["map", JOBS, "gate", "--name", "slow", "--timeout", "1", "--retries", "1", "-q"],
      { stdin: JSON.stringify([{ id: 0, waitFor: never }]) },
    );
    assert.equal(mapped.code, 1, mapped.stderr);
    const out = join(home.dir, "slow.html");
    const r = await cli(home, ["report", "slow", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const html = await Deno.readTextFile(out);
    assert.match(
      html,
      /<b>Item 0 timed out: The attempt ran longer than its timeout of 1s and was killed\. Make the item faster, or give it more time with --timeout on cloudknot map or retry: cloudknot retry slow \S+ --timeout 2 maps the run&#39;s failed items again</,
    );
    assert.match(
      html,
      /<title>item 0 attempt 1: failed, ran [\d.]+s, waited [\d.]+s, TimeoutError: The attempt ran longer than its timeout of 1s and was killed\.<\/title>/,
    );
    assert.doesNotMatch(html, /run\.retry|Knot\.create/);
  });
});

Deno.test("a dry run's estimate in a region the price table lacks says that cloudknot cost and report take a table of one's own, in text and --json", async () => {
  await withAwsHome(async (home) => {
    const aws = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "1", "--memory", "2048"];
    const map = [
      "map",
      JOBS,
      "square",
      "--name",
      "sq",
      ...aws,
      "--dry-run",
      "--item-seconds",
      "30",
    ];
    const advice =
      /The price table \([\d-]+\) has no prices for eu-west-1; it has us-east-1\. cloudknot cost and cloudknot report price a run that has run with a price table of your own that has eu-west-1 \(--prices FILE\)\./;
    const text = await cli(home, map, { stdin: "[1, 2]" });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, advice);
    const json = await cli(home, [...map, "--json"], { stdin: "[1, 2]" });
    assert.equal(json.code, 0, json.stderr);
    const [, plan] = JSON.parse(json.stdout);
    assert.match(plan.estimate.missing, new RegExp(`^${advice.source}$`));
    for (const out of [text.stdout, json.stdout]) {
      assert.doesNotMatch(out, /run\.cost|prices option/);
    }
  }, { region: "eu-west-1" });
});

Deno.test("the cost of a run in a region the price table lacks says to pass --prices FILE", async () => {
  const { costReport } = await import("../../src/cost/report.ts");
  const { cost } = await import("../../src/cli/commands/cost.ts");
  const { priceTableInCliWords } = await import("../../src/cli/common/cli_words.ts");
  const report = costReport({
    knot: "k",
    runId: "r",
    target: "aws",
    region: "eu-west-1",
    compute: "FARGATE",
    attempts: [{
      jobId: "j",
      index: 0,
      attempt: 1,
      startedAt: 0,
      stoppedAt: 120_000,
      outcome: "succeeded",
      vcpus: 1,
      memoryMiB: 2048,
    }],
  });
  assert.match(report.missing!, /as the prices option of run\.cost\(\), run\.report\(\)/);
  assert.match(
    priceTableInCliWords(String(report), cost),
    /has no prices for eu-west-1; it has us-east-1\. Pass a price table of your own that has eu-west-1 with --prices FILE\.$/m,
  );
});
