// A knot's making and its clobber with its Pars, each killed (SIGKILL)
// part-way on the command line, then what a user runs next: the command
// that was killed, run again, finishes the work, without a second compute
// environment or queue, and leaves nothing that no command finds.
import assert from "node:assert/strict";
import { StateFile } from "../../../src/state/mod.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { killAt } from "../../support/kill_at.ts";
import { type AwsHome, withAwsHome } from "../../cli/aws_helpers.ts";
import { cli, JOBS, spawnCli } from "../../cli/helpers.ts";

const FARGATE = ["--target", "aws", "--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];

/** What the emulator holds, as `service/type/id`, sorted. */
function resources(home: AwsHome): string[] {
  return home.emu.listResources().map((r) => `${r.service}/${r.type}/${r.id}`).sort();
}

dockerTest(
  "knot create killed once it registered its job definition: knot show says to run it again and gc lists what it made; knot create again adopts them and maps; knot clobber --pars --image --repo killed while it deletes the Pars reads as a clobber stopped part-way, and clobbering again deletes what is left of the knot, its Pars and its image",
  async () => {
    await withAwsHome(async (home) => {
      const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
      const run = (args: string[], stdin?: string) =>
        cli(home, args, { env, ...(stdin !== undefined ? { stdin } : {}) });
      assert.equal((await run(["configure", "--region", "us-east-1"])).code, 0);
      const before = resources(home);
      const create = ["knot", "create", "kc", JOBS, "square", ...FARGATE];
      // Killed with its RegisterJobDefinition sent: the revision is made, the knot not recorded.
      await killAt(
        home.emu,
        { service: "batch", operation: "RegisterJobDefinition" },
        () => spawnCli(home, create, { env }),
      );
      const made = [
        "compute-environment/kc-ck-ce",
        "job-queue/kc-ck-jq",
        "job-definition/kc-ck-jd",
      ];
      const shown = await run(["knot", "show", "kc"]);
      assert.equal(shown.code, 1);
      assert.match(
        shown.stderr,
        /A `cloudknot knot create kc … --target aws` stopped before it recorded the knot finishes when run again, and `cloudknot gc` lists what it left/,
      );
      const listed = await run(["gc"]);
      assert.equal(listed.code, 0, listed.stderr);
      for (const kind of made) {
        const [type, id] = kind.split("/");
        assert.match(listed.stdout, new RegExp(`^${type} +${id} +knot kc +knot kc is gone$`, "m"));
      }
      // Run again, the create adopts what the killed one made: one environment, one queue.
      const again = await run(create);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^Created knot kc on AWS Batch/m);
      assert.equal(home.emu.count("batch", "CreateComputeEnvironment"), 1);
      assert.equal(home.emu.count("batch", "CreateJobQueue"), 1);
      assert.deepEqual(resources(home).filter((r) => r.startsWith("batch/")), [
        "batch/compute-environment/kc-ck-ce",
        "batch/job-definition/kc-ck-jd:1",
        "batch/job-definition/kc-ck-jd:2",
        "batch/job-queue/kc-ck-jq",
      ]);
      const mapped = await run(["map", "--name", "kc", "-q"], "[3]");
      assert.equal(mapped.code, 0, mapped.stderr);
      assert.equal(mapped.stdout, '{"index":0,"value":9}\n');

      // The clobber with its Pars, image and image tags, killed once the Pars' clobber deleted its
      // first role (the knot's own role is the first DeleteRole).
      const clobber = ["knot", "clobber", "kc", "--yes", "--pars", "--image", "--repo"];
      await killAt(
        home.emu,
        { service: "iam", operation: "DeleteRole", nth: 2 },
        () => spawnCli(home, clobber, { env }),
      );
      const half = await run(["knot", "show", "kc"]);
      assert.equal(half.code, 0, half.stderr);
      assert.match(
        half.stdout,
        /^A clobber of knot kc stopped part-way .*: run `cloudknot knot clobber kc --pars` again to finish it\.$/m,
      );
      const finished = await run(clobber);
      assert.equal(finished.code, 0, finished.stderr);
      assert.match(
        finished.stdout,
        /^Clobbered AWS knot kc \(.*, Pars emulator-default, its image tags in repository cloudknot, image kc\)$/m,
      );
      // Only the repository the knot pushed its image to stays (the settings' repository, which
      // other knots share), without the knot's tags, and nothing is left for gc.
      assert.deepEqual(resources(home), [...before, "ecr/repository/cloudknot"].sort());
      const state = new StateFile({ path: home.configFile });
      assert.equal(await state.section("knot kc"), undefined);
      assert.equal(await state.section("pars emulator-default"), undefined);
      assert.equal(await state.section("docker-image kc"), undefined);
      const left = await run(["gc"]);
      assert.equal(left.code, 0, left.stderr);
      assert.match(left.stdout, /^Nothing to collect$/m);
    }, { runner: "docker" });
  },
);
