// Runs the example notebooks headless with the Deno kernel: any cell error fails.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import { SETTLED_AT_ONCE } from "../cli/aws_helpers.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerStatus } from "../support/docker_available.ts";
import { jupyterStatus, jupyterTest } from "../support/jupyter_available.ts";
import { execute, type Output, resultText } from "../support/notebook.ts";
import { requirementTest } from "../support/requirement.ts";

jupyterTest(
  "the local quickstart notebook runs, shows progress and the job table as HTML",
  async () => {
    const cells = await execute("examples/quickstart_local.ipynb");
    const byId = new Map(cells.map((c) => [c.id, c.outputs]));
    const text = (id: string, stream: string) =>
      (byId.get(id) ?? []).filter((o) => o.output_type === "stream" && o.name === stream)
        .map((o) => o.text!.join("")).join("");
    // Progress is one display of the cell that maps, updated in place to the run's end.
    const progress = (byId.get("map") ?? []).filter((o) => o.output_type === "display_data");
    assert.equal(progress.length, 1);
    // It names the run first, then gives the run's progress.
    assert.match(
      progress[0]!.data!["text/plain"]!.join(""),
      /^Run (\S+) of knot quickstart-pi: if this program stops first, knot\.collect\("\1"\) picks it up\nquickstart-pi: 16\/16 done/,
    );
    assert.doesNotMatch(text("map", "stderr"), /quickstart-pi: /);
    const estimate = /π ≈ (\d\.\d+)/.exec(text("map", "stdout"));
    assert.ok(estimate, text("map", "stdout"));
    assert.ok(Math.abs(Number(estimate[1]) - Math.PI) < 0.01);
    // The run displays as an HTML table through Symbol.for("Jupyter.display").
    const display = (byId.get("view") ?? []).find((o) => o.output_type === "display_data");
    assert.ok(display?.data, "the run was not displayed");
    const html = display.data["text/html"]!.join("");
    assert.match(html, /^<div class="cloudknot-run">/);
    assert.match(html, /quickstart-pi run \S+ \(local\): 16\/16 done/);
    assert.equal(html.match(/<td style="color:#2e7d32">succeeded<\/td>/g)?.length, 16);
    assert.match(display.data["text/plain"]!.join(""), /^quickstart-pi run/);
    assert.match(text("clobber", "stdout"), /clobbered quickstart-pi/);
  },
);

/** Registers a test that needs both Jupyter and Docker. */
const jupyterAndDockerTest = requirementTest("Jupyter and Docker", {
  ok: jupyterStatus.ok && dockerStatus.ok,
  reason: [jupyterStatus.reason, dockerStatus.reason].filter((r) => r).join("; "),
});

/** What a test of an AWS notebook gets. */
interface AwsNotebookRun {
  /** Executes a notebook with the emulator's environment; resolves to its cells. */
  cells(notebook: string): Promise<{ id: string; outputs: Output[] }[]>;
  /** The emulator. */
  emu: Emulator;
  /** The config file the kernel uses. */
  configFile: string;
}

/**
 * Runs a test that needs Jupyter and Docker, an emulator (docker runner, so
 * ECR is a real registry), the offline base image, and a temporary HOME and
 * config file for the kernel.
 */
function awsNotebookTest(
  name: string,
  fn: (run: AwsNotebookRun) => Promise<void>,
): void {
  jupyterAndDockerTest(name, async () => {
    const baseImage = await ensureBaseImage();
    // Settled before the notebook's first look: it polls at the default 2 s.
    const emu = await startEmulator({ runner: "docker", ...SETTLED_AT_ONCE });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-notebook-aws-" });
    try {
      const home = join(dir, "home");
      await Deno.mkdir(home);
      const configFile = join(dir, "cloudknot.ini");
      const env = {
        ...emu.env,
        CLOUDKNOT_BASE_IMAGE: baseImage,
        CLOUDKNOT_CONFIG_FILE: configFile,
        HOME: home,
        DENO_DIR: denoDir,
      };
      await fn({ cells: (notebook) => execute(notebook, env), emu, configFile });
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** This deno's cache, kept when HOME changes so nothing is downloaded again. */
const denoDir: string = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" })
      .output()).stdout,
  ),
).denoDir;

awsNotebookTest(
  "the DockerImage notebook builds, pushes, restores and clobbers",
  async ({ cells: run, emu, configFile }) => {
    const cells = await run("examples/docker_image.ipynb");
    const created = resultText(cells, "created");
    assert.match(created, /baseImage: "cloudknot-test\/deno:/);
    assert.match(
      created,
      /"Dockerfile",\s+"\.dockerignore",\s+"runtime\.js",\s+"worker\.js",\s+"function\.js"/,
    );
    assert.match(
      resultText(cells, "built"),
      /images: \[\s*"cloudknot\/collatz-notebook:v1",\s*"cloudknot\/collatz-notebook:notebook"\s*\]/,
    );
    const pushed = /imageUri: "([^"]+)"/.exec(resultText(cells, "pushed"));
    assert.ok(pushed, resultText(cells, "pushed"));
    assert.match(pushed[1]!, /^127\.0\.0\.1:\d+\/cloudknot-notebook@sha256:[0-9a-f]{64}$/);
    assert.ok(resultText(cells, "show").includes(pushed[1]!), resultText(cells, "show"));
    assert.match(resultText(cells, "restored"), /same image URI\? true/);
    // Everything the notebook made is gone: the repository, the image and its record.
    assert.deepEqual(emu.listResources().filter((r) => r.service === "ecr"), []);
    assert.equal(emu.count("ecr", "GetAuthorizationToken"), 1);
    assert.doesNotMatch(await Deno.readTextFile(configFile), /docker-image collatz-notebook/);
  },
);

awsNotebookTest(
  "the AWS workflow notebook runs on the emulator with real containers",
  async ({ cells: run, emu, configFile }) => {
    const cells = await run("examples/aws_workflow.ipynb");
    assert.match(resultText(cells, "settings-show"), /bucket: "cloudknot-123456789012-us-east-1"/);
    assert.match(
      resultText(cells, "pars-show"),
      /jobRole: "arn:aws:iam::\d+:role\/notebook-pars-job-role"/,
    );
    assert.match(resultText(cells, "knot-show"), /compute-environment\/notebook-pi-ck-ce/);
    const estimate = /π ≈ (\d\.\d+) from 8 jobs/.exec(resultText(cells, "estimate"));
    assert.ok(estimate, resultText(cells, "estimate"));
    assert.ok(Math.abs(Number(estimate[1]) - Math.PI) < 0.05, estimate[1]);
    // The job view and the run display as HTML tables.
    const html = (id: string) => {
      const display = cells.find((c) => c.id === id)?.outputs.find((o) =>
        o.output_type === "execute_result" || o.output_type === "display_data"
      );
      assert.ok(display?.data?.["text/html"], `cell ${id} displayed no HTML`);
      return display.data["text/html"].join("");
    };
    assert.match(html("jobs"), /^<div class="cloudknot-jobs">/);
    // The array job and its 8 children (Batch may not have marked every child yet).
    assert.match(html("jobs"), /notebook-pi-\d{8}T\d{6}Z-[0-9a-f]{6}-0/);
    assert.match(html("jobs"), /<td>8: \d/);
    assert.match(html("view"), /notebook-pi run \S+ \(aws\): 8\/8 done/);
    assert.match(resultText(cells, "logs"), /"100000 samples, \d+ inside the quarter circle"/);
    assert.match(resultText(cells, "adopted"), /adopted notebook-pi: 1 run, same results: true/);
    // Only the bucket and the shared repository are left, and the config file's [aws].
    assert.deepEqual(emu.listResources().map((r) => `${r.type} ${r.id}`).sort(), [
      "bucket cloudknot-123456789012-us-east-1",
      "repository cloudknot",
    ]);
    assert.doesNotMatch(await Deno.readTextFile(configFile), /\[(knot|pars) /);
  },
);
