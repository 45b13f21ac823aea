// The docker target from the command line, in a process whose AWS settings
// point at the emulator and whose home has no AWS configuration: creating
// the knot, mapping, reading results and logs and clobbering make no AWS
// request at all.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Docker } from "../../../src/docker/docker.ts";
import { startEmulator } from "../../emulator/mod.ts";
import { DENO_DIR } from "../../cli/aws_helpers.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { knotImage } from "../../support/docker_knots.ts";
import { cli, withHome } from "../../cli/helpers.ts";
import { dockerTest } from "../../support/docker_available.ts";

const quiet = new Docker({ logger: () => {} });

dockerTest(
  "knot create, map, results, logs and knot clobber with --target docker make no AWS request",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    const emu = await startEmulator();
    const home = await Deno.makeTempDir({ prefix: "cloudknot-docker-cli-" });
    try {
      const env = {
        ...emu.env,
        PATH: Deno.env.get("PATH") ?? "",
        HOME: home,
        NO_COLOR: "1",
        CLOUDKNOT_LOCAL_DIR: join(home, "knots"),
        CLOUDKNOT_BASE_IMAGE: baseImage,
        DENO_DIR,
      };
      const cli = async (args: string[], stdin = "") => {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--lock=tests/deno.lock", "cli.ts", ...args],
          env,
          clearEnv: true,
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(stdin));
        await writer.close();
        const { code, stdout, stderr } = await child.output();
        return {
          code,
          stdout: new TextDecoder().decode(stdout),
          stderr: new TextDecoder().decode(stderr),
        };
      };
      const created = await cli([
        "knot",
        "create",
        "squares",
        "examples/jobs.ts",
        "square",
        "--target",
        "docker",
      ]);
      assert.equal(created.code, 0, created.stderr);
      const listed = await cli(["knot", "list", "--target", "docker", "--json"]);
      assert.equal(JSON.parse(listed.stdout)[0].name, "squares");

      const mapped = await cli(
        // One container runs the three items; logs --item 2 is item 2's lines of its log.
        ["map", "--name", "squares", "--memory", "256", "--vcpus", "1", "--items-per-job", "3"],
        "[1, 2, 3]",
      );
      assert.equal(mapped.code, 0, mapped.stderr);
      assert.equal(
        mapped.stdout,
        '{"index":0,"value":1}\n{"index":1,"value":4}\n{"index":2,"value":9}\n',
      );
      assert.match(mapped.stderr, /\(docker\)/);

      const results = await cli(["results", "squares"]);
      assert.equal(results.stdout, mapped.stdout);
      const logs = await cli(["logs", "squares", "--item", "2"]);
      assert.match(logs.stdout, /squaring 3/);
      assert.doesNotMatch(logs.stdout, /squaring [12]/);
      const shown = await cli(["knot", "show", "squares", "--json"]);
      assert.equal(shown.code, 0, shown.stderr);
      const knot = JSON.parse(shown.stdout);
      assert.equal(knot.target, "docker");
      assert.equal(knot.runs.length, 1);
      const jobs = await cli(["jobs", "squares", "--json"]);
      assert.equal(jobs.code, 0, jobs.stderr);
      assert.equal(JSON.parse(jobs.stdout).counts.succeeded, 3);

      const image = await knotImage(join(home, "knots"), "squares");
      assert.ok(await quiet.inspectImage(image), "the knot's image was built");
      const clobbered = await cli(["knot", "clobber", "squares", "--yes"]);
      assert.equal(clobbered.code, 0, clobbered.stderr);
      assert.equal(await quiet.inspectImage(image), undefined);
      assert.deepEqual(emu.requests.entries, [], "no AWS request was made");
    } finally {
      await emu.close();
      await Deno.remove(home, { recursive: true });
    }
  },
);

dockerTest(
  "cloudknot retry and results of a docker run give its items the attempts the run had, and the container's details",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    await withHome(async (home) => {
      const run = (args: string[], stdin?: string) =>
        cli(home, args, {
          env: { CLOUDKNOT_BASE_IMAGE: baseImage },
          ...(stdin !== undefined ? { stdin } : {}),
        });
      const module = join(home.dir, "flaky.ts");
      await Deno.writeTextFile(
        module,
        'export function flaky(x: number | string): unknown {\n  if (x === "throw") throw new RangeError("no such item");\n  return x;\n}\n',
      );
      // The knot keeps the limits its create is given, for the maps that do not give them.
      const created = await run([
        "knot",
        "create",
        "flaky",
        module,
        "flaky",
        "--target",
        "docker",
        "--retries",
        "2",
        "--vcpus",
        "1",
      ]);
      assert.equal(created.code, 0, created.stderr);
      const record = JSON.parse(
        await Deno.readTextFile(join(home.env.CLOUDKNOT_LOCAL_DIR!, "flaky", "knot.json")),
      );
      assert.deepEqual(record.options, { retries: 2, vcpus: 1 });
      // Two attempts, the knot's, not the default three; one container runs both items of each
      // attempt.
      const mapped = await run(
        ["map", "--name", "flaky", "--items-per-job", "2", "--json", "-q"],
        '["throw", 1]',
      );
      assert.equal(mapped.code, 1, mapped.stderr + mapped.stdout);
      const items = (text: string) => JSON.parse(text).items;
      const [failed, ok] = items(mapped.stdout);
      assert.deepEqual(ok, { index: 1, value: 1 });
      assert.equal(failed.error.attempt, 2);
      assert.equal(failed.error.exitCode, 1, "the container's exit code");

      // Another process reads the same error, with the container's details.
      const results = await run(["results", "flaky", "--json"]);
      assert.equal(results.code, 1, results.stderr);
      assert.deepEqual(items(results.stdout), items(mapped.stdout));

      const retried = await run(["retry", "flaky", "--json", "-q"]);
      assert.equal(retried.code, 1, retried.stderr);
      const [again] = items(retried.stdout);
      assert.equal(again.error.name, "RangeError");
      assert.equal(again.error.attempt, 2, "the retry's items get the run's two attempts");
      assert.equal(again.error.exitCode, 1);
      const latest = await run(["results", "flaky", "--json"]);
      assert.deepEqual(items(latest.stdout), items(retried.stdout));

      const clobbered = await run(["knot", "clobber", "flaky", "--yes"]);
      assert.equal(clobbered.code, 0, clobbered.stderr);
    });
  },
);
