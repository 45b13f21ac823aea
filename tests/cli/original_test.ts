// The command line with the Python cloudknot's knot and Pars (CloudFormation
// stacks seeded in the emulator, records written by the original's own
// configparser code): listed and shown as such, refused with the commands
// that remove them, and removed by `knot clobber` / `pars clobber` through
// CloudFormation.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readParsRecords } from "../../src/resources/mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { readWithConfigParser, writeAsOriginal } from "../support/original_config.ts";
import { seedOriginalKnot, seedOriginalPars } from "../support/original_stacks.ts";
import { endLagWhen, LONG_LAG_MS, releaseNetwork } from "../support/lag_ends.ts";
import { type AwsHome, withAwsHome } from "./aws_helpers.ts";
import { cli, JOBS, withHome } from "./helpers.ts";

async function seed(home: AwsHome) {
  const session = await sessionFor(home.emu);
  const pars = await seedOriginalPars(home.emu, session, "py-knot");
  const knot = await seedOriginalKnot(home.emu, session, "py-knot", pars);
  await writeAsOriginal(home.configFile, [
    { op: "set_profile", profile: "from-env" },
    { op: "set_region", region: "us-east-1" },
    { op: "configure" },
    pars.step,
    ...knot.steps,
  ]);
  return { pars, knot };
}

Deno.test("knot list, knot show and pars list show the original's knot and Pars with their stacks", async () => {
  await withAwsHome(async (home) => {
    const { knot } = await seed(home);
    home.emu.requests.clear();
    const list = await cli(home, ["knot", "list", "--target", "aws", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), [{
      name: "py-knot",
      target: "aws",
      madeBy: "python",
      region: "us-east-1",
      profile: "from-env",
      stack: "py-knot-knot",
      stackId: knot.stackId,
      pars: "py-knot",
      jobIds: [],
      runs: null,
      lastRun: null,
    }]);
    const table = await cli(home, ["knot", "list"]);
    assert.match(
      table.stdout,
      /^py-knot +aws us-east-1 \(Python cloudknot\) +stack py-knot-knot +- +-$/m,
    );
    const show = await cli(home, ["knot", "show", "py-knot"]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^stack +py-knot-knot \(arn:aws:cloudformation:/m);
    assert.match(show.stdout, /`cloudknot knot clobber py-knot --pars`/);
    const pars = await cli(home, ["pars", "list"]);
    assert.match(
      pars.stdout,
      /^py-knot +us-east-1 +from-env +vpc-\w+ +py-knot +Python cloudknot \(stack py-knot-pars\)$/m,
    );
    // The original never writes use-default-vpc; its record reads the same here and in the library.
    const json = JSON.parse((await cli(home, ["pars", "list", "--json"])).stdout);
    const [record] = await readParsRecords(new StateFile({ path: home.configFile }));
    assert.equal(json[0].stack, "py-knot-pars");
    assert.equal(json[0].useDefaultVpc, record!.useDefaultVpc);
    assert.equal(record!.useDefaultVpc, home.emu.ec2.vpcs.get(record!.vpc)!.IsDefault);
    assert.deepEqual(home.emu.mutatingRequests(), []);
  });
});

Deno.test("commands that would run or make the original's knot or Pars, or make a knot on its Pars (--pars), refuse, say what it is and how to remove it, and change nothing", async () => {
  await withAwsHome(async (home) => {
    await seed(home);
    home.emu.requests.clear();
    const before = await Deno.readTextFile(home.configFile);
    for (
      const args of [
        ["map", "--name", "py-knot", "--inputs", "-"],
        ["map", JOBS, "square", "--name", "py-knot", "--target", "aws"],
        ["knot", "create", "py-knot", JOBS, "square", "--target", "aws"],
        ["results", "py-knot"],
      ]
    ) {
      const r = await cli(home, args, { stdin: "[1]" });
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /^error: Knot "py-knot" was made by the Python cloudknot: it is the CloudFormation stack py-knot-knot, which this cloudknot does not run\. Remove it with `cloudknot knot clobber py-knot` \(add --pars for its Pars py-knot\)/m,
        args.join(" "),
      );
    }
    const pars = await cli(home, ["pars", "create", "py-knot"]);
    assert.equal(pars.code, 1);
    assert.match(pars.stderr, /Remove it with `cloudknot pars clobber py-knot`/);
    // Its Pars named by --pars for a knot of another name, before an image is built (or planned).
    for (
      const command of [
        ["knot", "create", "sq", JOBS, "square"],
        ["map", JOBS, "square", "--name", "sq"],
      ]
    ) {
      for (const dryRun of [[], ["--dry-run"]]) {
        const args = [...command, "--target", "aws", "--pars", "py-knot", ...dryRun];
        const r = await cli(home, args, { stdin: "[1]" });
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
        assert.equal(
          r.stderr,
          'error: Pars "py-knot" was made by the Python cloudknot: it is the CloudFormation stack ' +
            "py-knot-pars, which this cloudknot does not run. Remove it with `cloudknot pars " +
            "clobber py-knot` and make it again here, choose another name, or keep using it from " +
            "Python\n",
        );
      }
    }
    const used = await cli(home, ["pars", "clobber", "py-knot", "--yes"]);
    assert.equal(used.code, 1);
    assert.match(
      used.stderr,
      /^error: Pars "py-knot" \(stack py-knot-pars\) is still used by knot py-knot, stack py-knot-knot/m,
    );
    assert.deepEqual(home.emu.mutatingRequests(), []);
    assert.equal(await Deno.readTextFile(home.configFile), before);
  });
});

Deno.test("knot clobber --pars removes the original's knot and Pars through CloudFormation and waits for it", async () => {
  await withAwsHome(async (home) => {
    const start = home.emu.listResources().length;
    await seed(home);
    const noYes = await cli(home, ["knot", "clobber", "py-knot", "--pars"]);
    assert.equal(noYes.code, 2);
    assert.match(
      noYes.stderr,
      /Clobbering deletes knot py-knot made by the Python cloudknot \(CloudFormation stacks py-knot-knot and py-knot's stack/,
    );
    // AWS holds the Pars's network for the knot's deleted compute environment until the Pars
    // stack's first delete has failed, however long the knot stack's deletion takes on a loaded
    // machine (a timed hold of 300 ms could end before it).
    using held = endLagWhen(
      () =>
        [...home.emu.cloudformation.stacks.values()].some((s) => s.StackStatus === "DELETE_FAILED"),
      () => releaseNetwork(home.emu),
    );
    const done = await cli(home, ["knot", "clobber", "py-knot", "--pars", "--yes"]);
    assert.equal(done.code, 0, done.stderr);
    assert.ok(held.ended);
    assert.equal(
      done.stdout,
      "Clobbered knot py-knot of the Python cloudknot: deleted py-knot-knot, py-knot-pars\n",
    );
    assert.match(done.stderr, /Deleting stack py-knot-knot \(CREATE_COMPLETE\)/);
    assert.match(done.stderr, /Stack py-knot-pars is deleted/);
    // AWS holds the Pars's network a while for the knot's deleted compute environment.
    assert.match(
      done.stderr,
      /stack py-knot-pars is DELETE_FAILED because its network is still in use/,
    );
    assert.equal(home.emu.listResources().length, start);
    const left = await readWithConfigParser(home.configFile);
    assert.equal(left["knot py-knot"], undefined);
    assert.equal(left["pars py-knot"], undefined);
    assert.deepEqual(
      JSON.parse((await cli(home, ["knot", "list", "--target", "aws", "--json"])).stdout),
      [],
    );
  }, { networkReleaseMs: LONG_LAG_MS });
});

Deno.test("image clobber of the original's image says it is the Python tool's and how that tool removes it, and changes nothing", async () => {
  await withHome(async (home) => {
    const configFile = home.env.CLOUDKNOT_CONFIG_FILE!;
    const buildPath = join(home.dir, "py-image");
    await writeAsOriginal(configFile, [
      { op: "set_profile", profile: "from-env" },
      { op: "set_region", region: "us-east-1" },
      { op: "configure" },
      {
        op: "docker_image",
        name: "py-image",
        profile: "from-env",
        region: "us-east-1",
        build_path: buildPath,
        knot: "py-knot",
      },
    ]);
    const before = await Deno.readTextFile(configFile);
    const r = await cli(home, ["image", "clobber", "py-image", "--yes"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `error: Image "py-image" was made by the Python cloudknot (its build files are in ` +
        `${buildPath}), whose files and record cloudknot leaves alone: remove it with the ` +
        `Python cloudknot, ck.DockerImage(name="py-image").clobber()\n`,
    );
    assert.equal(await Deno.readTextFile(configFile), before);
  });
});

Deno.test("the library's refusal of the original's Pars names the command that removes it", async () => {
  const { OriginalResourceError } = await import("../../src/resources/original.ts");
  const { inCliWords } = await import("../../src/cli/common/cli_words.ts");
  const { map } = await import("../../src/cli/commands/map.ts");
  const error = new OriginalResourceError({
    kind: "pars",
    name: "py-knot",
    stackName: "py-knot-pars",
  });
  assert.equal(
    inCliWords(error, map),
    'Pars "py-knot" was made by the Python cloudknot: it is the CloudFormation stack ' +
      "py-knot-pars, which cloudknot for Deno does not adopt. Remove it with `cloudknot pars " +
      "clobber py-knot` and make it again here, choose another name, or keep using it from " +
      "Python",
  );
});
