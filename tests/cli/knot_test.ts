import assert from "node:assert/strict";
import { join } from "node:path";
import {
  childEnv,
  cli,
  cliHere,
  type CliHome,
  cliInTerminal,
  hasScript,
  JOBS,
  ndjson,
  recordingIo,
  withHome,
} from "./helpers.ts";
import { runCommandLine } from "../../src/cli/main.ts";
import { CLOBBERING_KNOT, CREATING_KNOT, holdingKnot } from "../../src/store/knot_lock.ts";
import { StateFile } from "../../src/state/mod.ts";
import { type AwsKnotRecord, writeAwsKnot } from "../../src/targets/aws/catalog.ts";
import { withAwsHome } from "./aws_helpers.ts";

Deno.test("knot create, list, show and clobber a local knot", async () => {
  await withHome(async (home) => {
    const empty = await cli(home, ["knot", "list", "--json"]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), []);
    assert.match((await cli(home, ["knot", "list"])).stderr, /No knots yet/);

    const created = await cli(home, ["knot", "create", "sq", JOBS, "square"]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^Created knot sq: square \(module, [0-9a-f]{8}\)$/m);
    const again = await cli(home, ["knot", "create", "sq", JOBS, "square", "--json"]);
    assert.equal(again.code, 0, again.stderr);
    const info = JSON.parse(again.stdout);
    assert.equal(info.name, "sq");
    assert.deepEqual(info.function.name, "square");
    assert.equal(info.function.kind, "module");
    assert.match(info.function.hash, /^[0-9a-f]{64}$/);

    // map --name runs an existing knot without a module.
    const mapped = await cli(home, ["map", "--name", "sq", "-q"], { stdin: "[2, 3]" });
    assert.equal(mapped.code, 0, mapped.stderr);
    assert.deepEqual(ndjson(mapped.stdout).map((l) => l.value), [4, 9]);
    const failing = await cli(home, ["map", JOBS, "failOdd", "--name", "odd", "-q"], {
      stdin: "[1, 2]",
    });
    assert.equal(failing.code, 1);

    const list = await cli(home, ["knot", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const knots = JSON.parse(list.stdout);
    assert.deepEqual(knots.map((k: { name: string }) => k.name), ["odd", "sq"]);
    assert.equal(knots[1].runs, 1);
    assert.equal(knots[1].lastRun.items, 2);
    assert.match(knots[1].lastRun.runId, /^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    const table = await cli(home, ["knot", "list"]);
    assert.match(table.stdout, /^NAME +TARGET +FUNCTION +RUNS +LAST RUN$/m);
    assert.match(
      table.stdout,
      new RegExp(
        `^sq +local +square \\(module, [0-9a-f]{8}\\) +1 +${knots[1].lastRun.runId}$`,
        "m",
      ),
    );

    const show = await cli(home, ["knot", "show", "odd", "--json"]);
    assert.equal(show.code, 0, show.stderr);
    const odd = JSON.parse(show.stdout);
    assert.equal(odd.runs.length, 1);
    assert.deepEqual(
      { ...odd.runs[0], runId: undefined, createdAt: undefined },
      {
        runId: undefined,
        createdAt: undefined,
        items: 2,
        attempts: 3,
        starmap: false,
        status: "finished",
        succeeded: 1,
        failed: 1,
        running: 0,
        pending: 0,
      },
    );
    const text = await cli(home, ["knot", "show", "odd"]);
    assert.match(text.stdout, /^function +failOdd \(module, [0-9a-f]{8}\)$/m);
    assert.match(text.stdout, /^RUN +CREATED +ITEMS +SUCCEEDED +FAILED +STATUS$/m);
    assert.match(text.stdout, /^\d{8}T\d{6}Z-[0-9a-f]{6} +\S+ \S+ +2 +1 +1 +finished$/m);

    // Destructive: needs --yes when stdin is not a terminal.
    const refused = await cli(home, ["knot", "clobber", "sq"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^error: Clobbering deletes knot sq and its 1 run: pass --yes/m);
    assert.equal((await cli(home, ["knot", "show", "sq"])).code, 0);
    const clobbered = await cli(home, ["knot", "clobber", "sq", "--yes"]);
    assert.equal(clobbered.code, 0, clobbered.stderr);
    assert.match(clobbered.stdout, /^Clobbered knot sq and its 1 run$/m);
    const gone = await cli(home, ["knot", "show", "sq"]);
    assert.equal(gone.code, 1);
    assert.match(
      gone.stderr,
      /^error: There is no knot named "sq" on this machine \(.*\) or recorded on AWS in .*: list the knots with `cloudknot knot list`\. A `cloudknot knot create sq … --target aws` stopped before it recorded the knot finishes when run again, and `cloudknot gc` lists what it left$/m,
    );
    // A name no knot can have is said to be one, not told how to create it.
    const invalid = await cli(home, ["knot", "show", "a b"]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^error: Invalid knot name "a b": use a letter, then only/m);
    assert.doesNotMatch(invalid.stderr, /knot create/);
    assert.deepEqual(JSON.parse((await cli(home, ["knot", "list", "--json"])).stdout).length, 1);
    assert.equal((await cli(home, ["knot", "clobber", "sq", "-y"])).code, 1);
  });
});

Deno.test({
  name: "knot clobber asks on a terminal",
  ignore: !hasScript,
  async fn() {
    await withHome(async (home) => {
      assert.equal((await cli(home, ["knot", "create", "asked", JOBS, "square"])).code, 0);
      const no = await cliInTerminal(home, ["knot", "clobber", "asked"], { input: "n\n" });
      assert.equal(no.code, 1, no.stdout);
      assert.match(no.stdout, /Delete knot asked and its 0 runs\? \[y\/N\]/);
      assert.match(no.stdout, /Nothing was deleted/);
      assert.equal((await cli(home, ["knot", "show", "asked"])).code, 0);
      const yes = await cliInTerminal(home, ["knot", "clobber", "asked"], { input: "y\n" });
      assert.equal(yes.code, 0, yes.stdout);
      assert.match(yes.stdout, /Clobbered knot asked and its 0 runs/);
      assert.equal((await cli(home, ["knot", "show", "asked"])).code, 1);
    });
  },
});

Deno.test("knot commands report bad usage with exit code 2", async () => {
  await withHome(async (home) => {
    const cases: [string[], RegExp][] = [
      [["knot"], /^error: knot needs a command: create, list, show, clobber$/m],
      [["knot", "lst"], /^error: Unknown command "knot lst": did you mean "knot list"\?$/m],
      [["knot", "show"], /^error: knot show needs the <knot> argument/m],
      [["knot", "create", "x"], /^error: knot create needs the <module> argument/m],
      [
        ["knot", "list", "--target", "moon"],
        /^error: --target must be "local", "aws" or "docker"/m,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli(home, args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /^Usage: cloudknot knot /m);
    }
    // Reading the AWS knots of the config file needs no AWS call.
    const aws = await cli(home, ["knot", "list", "--target", "aws", "--json"]);
    assert.equal(aws.code, 0, aws.stderr);
    assert.deepEqual(JSON.parse(aws.stdout), []);
  });
});

Deno.test("making a knot on this machine under the name of an AWS knot is refused unless --target asks for it, saying to choose another --name on map and another name on knot create", async () => {
  await withHome(async (home) => {
    const configFile = home.env.CLOUDKNOT_CONFIG_FILE!;
    // The record an AWS knot leaves (nothing here talks to AWS).
    await Deno.writeTextFile(
      configFile,
      "[aws]\nregion = us-east-1\nconfigured = True\n\n[knot sq]\ntarget = aws\n" +
        "region = us-east-1\nprofile = from-env\npars = lab\ndocker-image = sq\n" +
        "job-queue = arn:aws:batch:us-east-1:123456789012:job-queue/sq-ck-jq\n" +
        "bucket = b\nprefix = cloudknot/sq\n",
    );
    const message = (another: string) =>
      `error: Knot sq is on AWS (recorded in ${configFile}): pass --target aws to use it, or ` +
      `${another} for a knot on this machine (or --target local for one of the same name)\n`;
    const mapped = await cli(home, ["map", JOBS, "square", "--name", "sq"], { stdin: "[1]" });
    assert.equal(mapped.code, 1, mapped.stderr);
    assert.equal(mapped.stderr, message("another --name"));
    // knot create names its knot with its first argument: it has no --name.
    const created = await cli(home, ["knot", "create", "sq", JOBS, "square"]);
    assert.equal(created.code, 1, created.stderr);
    assert.equal(created.stderr, message("another name"));
    const none = await cli(home, ["knot", "list", "--target", "local", "--json"]);
    assert.deepEqual(JSON.parse(none.stdout), []);
    // Asked for by name, it is made.
    const local = await cli(home, ["map", JOBS, "square", "--name", "sq", "--target", "local"], {
      stdin: "[3]",
    });
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stdout, '{"index":0,"value":9}\n');
  });
});

Deno.test("knot clobber --target aws of a name the config file does not record says so in command-line words", async () => {
  await withHome(async (home) => {
    const r = await cli(home, ["knot", "clobber", "gone", "--target", "aws", "--yes"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `error: There is no AWS knot named "gone" in ${home.env.CLOUDKNOT_CONFIG_FILE}: see ` +
        "`cloudknot knot list`\n",
    );
  });
});

Deno.test("knot clobber --repo says it takes only the knot's image tags from a repository another knot uses, as the clobber does", async () => {
  // The question counts the runs in the knots' job data (none: their bucket was never made).
  await withAwsHome(async (home) => {
    const state = new StateFile({ path: home.env.CLOUDKNOT_CONFIG_FILE! });
    const record = (name: string, dockerRepo: string): AwsKnotRecord => ({
      name,
      region: "us-east-1",
      profile: "default",
      pars: "default",
      dockerImage: name,
      dockerRepo,
      imageUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${dockerRepo}@sha256:ab`,
      computeEnvironment: `arn:aws:batch:us-east-1:123456789012:compute-environment/${name}-ck-ce`,
      jobQueue: `arn:aws:batch:us-east-1:123456789012:job-queue/${name}-ck-jq`,
      jobDefinition: `arn:aws:batch:us-east-1:123456789012:job-definition/${name}-ck-jd:1`,
      jobDefinitionName: `${name}-ck-jd`,
      jobRole: `arn:aws:iam::123456789012:role/default.${name}-job`,
      bucket: "lab-data",
      sse: "AES256",
      prefix: `cloudknot/${name}`,
      retries: 3,
      compute: "FARGATE",
      imageTags: [name],
      runs: [],
    });
    await writeAwsKnot(state, record("a", "lab-images"));
    await writeAwsKnot(state, record("b", "lab-images"));
    await writeAwsKnot(state, record("c", "c-images"));
    const shared = await cli(home, ["knot", "clobber", "a", "--repo"]);
    assert.equal(shared.code, 2, shared.stderr);
    assert.match(shared.stderr, /, its image tags in repository lab-images\): pass --yes/);
    const own = await cli(home, ["knot", "clobber", "c", "--repo"]);
    assert.equal(own.code, 2, own.stderr);
    assert.match(own.stderr, /, repository c-images\): pass --yes/);
    assert.match(own.stderr, /, 0 runs and their job data, /);
    assert.deepEqual(home.emu.mutatingRequests(), []);
  });
});

Deno.test("knot clobber of a docker knot whose create stopped before it recorded the knot refuses an AWS knot's flags before it removes anything", async () => {
  await withHome(async (home) => {
    const root = await unfinishedFolder(home, "dying");
    const listed = await cliHere(home, ["knot", "list"]);
    assert.match(listed.stdout, /^dying +docker \(create unfinished\)/m);
    for (const flag of ["--keep-data", "--repo"]) {
      const r = await cliHere(home, ["knot", "clobber", "dying", flag, "--yes"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${flag}: for a knot on AWS only`));
      assert.ok(await Deno.stat(join(root, "knot.lock")).then(() => true, () => false));
    }
  });
});

/** What a docker create stopped before it recorded the knot leaves: its folder and lock's file. */
async function unfinishedFolder(home: CliHome, name: string): Promise<string> {
  const root = join(home.env.CLOUDKNOT_LOCAL_DIR!, name);
  await Deno.mkdir(root, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(root, "knot.lock"), "", { mode: 0o600 });
  return root;
}

Deno.test("knot list and knot show say a docker knot with no record is being clobbered while its clobber holds its lock, and being created only while a create holds it", async () => {
  await withHome(async (home) => {
    const root = await unfinishedFolder(home, "held");
    const onWait = () => assert.fail("nothing else holds the lock");
    // A clobber that removed the knot's record already holds its lock (as the clobber writes it).
    await holdingKnot(root, async () => {
      const listed = await cliHere(home, ["knot", "list"]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^held +docker \(being clobbered\) /m);
      assert.match(listed.stderr, /Docker knot held is being clobbered by another process \(in /);
      const json = JSON.parse((await cliHere(home, ["knot", "list", "--json"])).stdout);
      assert.equal(json[0].creating, false);
      assert.equal(json[0].clobberRunning, true);
      const shown = await cliHere(home, ["knot", "show", "held"]);
      assert.equal(shown.code, 1);
      assert.match(
        shown.stderr,
        new RegExp(
          `Docker knot held is being clobbered by another process \\(in .*held: process ` +
            `${Deno.pid}, since [^)]+\\): it is gone once that process has finished`,
        ),
      );
      assert.doesNotMatch(shown.stderr, /being created/);
    }, { make: false, doing: CLOBBERING_KNOT, onWait });
    // A create holds it.
    await holdingKnot(root, async () => {
      const listed = await cliHere(home, ["knot", "list"]);
      assert.match(listed.stdout, /^held +docker \(being created\) /m);
      const json = JSON.parse((await cliHere(home, ["knot", "list", "--json"])).stdout);
      assert.equal(json[0].creating, true);
      assert.equal(json[0].clobberRunning, false);
      const shown = await cliHere(home, ["knot", "show", "held"]);
      assert.match(shown.stderr, /Docker knot held is being created by another process \(in /);
    }, { make: false, doing: CREATING_KNOT, onWait });
  });
});

Deno.test("knot clobber of what a stopped docker create left removes nothing, and says to clobber again, when a create of the knot recorded it while the clobber asked for confirmation", async () => {
  await withHome(async (home) => {
    const root = await unfinishedFolder(home, "raced");
    const record = JSON.stringify({
      name: "raced",
      target: "docker",
      image: "cloudknot/raced-docker-0:local",
      hash: "0".repeat(64),
      kind: "module",
      functionName: "square",
      createdAt: 0,
      updatedAt: 0,
    });
    const { io, out } = recordingIo(childEnv(home.env));
    // The user answers once a create of the knot, started after the clobber looked at the
    // folder, has finished (holding the knot's lock, as a create does).
    const answer = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        assert.match(out.stderr, /Delete unfinished docker knot raced .*\? \[y\/N\] $/);
        await holdingKnot(root, () => Deno.writeTextFile(join(root, "knot.json"), record), {
          make: true,
          doing: CREATING_KNOT,
          onWait: () => assert.fail("the clobber holds no lock while it asks"),
        });
        controller.enqueue(new TextEncoder().encode("y\n"));
        controller.close();
      },
    }, { highWaterMark: 0 });
    const code = await runCommandLine(["knot", "clobber", "raced"], {
      io: { ...io, stdin: { readable: () => answer, isTerminal: () => true }, noColor: true },
    });
    assert.equal(code, 1, out.stderr);
    assert.equal(out.stdout, "");
    assert.match(
      out.stderr.replace(/\s+/g, " "),
      /Nothing was deleted: a create of docker knot raced finished and recorded the knot \(in .*raced\) while this waited, so it is no longer what a stopped create left\. `cloudknot knot show raced` shows it; `cloudknot knot clobber raced` again clobbers it, with its runs/,
    );
    const left = (await Array.fromAsync(Deno.readDir(root))).map((e) => e.name).sort();
    assert.deepEqual(left, ["knot.json", "knot.lock"]);
    assert.equal(await Deno.readTextFile(join(root, "knot.json")), record);
  });
});
