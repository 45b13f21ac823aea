// The command line prints an item's error with its stack in its own words: the stack's head
// (`Name: message`) says what the error's message says, not the library's options.
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliInProcess } from "../support/cli_in_process.ts";
import { ndjson, withHome } from "./helpers.ts";

const JOB = `export async function score(x: number): Promise<number> {
  return JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url))).weight * x;
}

export async function spawn(program: string): Promise<string> {
  await new Deno.Command(program, { stdout: "null", stderr: "null" }).output();
  return "ran";
}
`;

/** The error of the one item a command printed, as JSON. */
function itemError(stdout: string): { name: string; message: string; stack: string } {
  const [line] = ndjson(stdout);
  return line!.error as { name: string; message: string; stack: string };
}

Deno.test("map prints an item's error whose stack starts with its message in command-line words: a file not shipped says --file, a missing program says cloudknot retry with the knot and the run, after one attempt", async () => {
  await withHome(async (home) => {
    const project = join(home.dir, "project");
    await Deno.mkdir(project);
    await Deno.writeTextFile(join(project, "job.ts"), JOB);
    await Deno.writeTextFile(join(project, "model.json"), '{"weight": 5}');
    const module = join(project, "job.ts");
    const inputs = join(home.dir, "inputs.json");

    await Deno.writeTextFile(inputs, "[1]");
    const unshipped = await cliInProcess(
      ["map", module, "score", "--retries", "1", "--inputs", inputs, "--quiet"],
      home.env,
    ).ended;
    assert.equal(unshipped.code, 1, unshipped.stderr);
    const file = itemError(unshipped.stdout);
    assert.match(file.message, /Ship the file with --file \(a path relative/);
    assert.ok(file.stack.startsWith(`${file.name}: ${file.message}\n    at `), file.stack);
    assert.doesNotMatch(file.stack, /files option of Knot\.create/);

    const program = "cloudknot-no-such-program";
    await Deno.writeTextFile(inputs, JSON.stringify([program]));
    const spawned = await cliInProcess(
      ["map", module, "spawn", "--retries", "1", "--allow", "run", "--inputs", inputs, "--quiet"],
      home.env,
    ).ended;
    assert.equal(spawned.code, 1, spawned.stderr);
    const missing = itemError(spawned.stdout);
    // The local run's item names its knot and run, as the command's own advice does.
    const run = /`cloudknot retry job-spawn (\S+)` runs them again/.exec(spawned.stderr)?.[1];
    assert.ok(run !== undefined, spawned.stderr);
    assert.match(
      missing.message,
      new RegExp(
        `^Failed to spawn '${program}': entity not found: the program ${program} is not on ` +
          `this machine, .* then retry the items with cloudknot retry job-spawn ${run}, or map ` +
          "them again$",
      ),
    );
    // Every attempt would fail alike: with --retries 1, only one ran.
    assert.equal((ndjson(spawned.stdout)[0]!.error as { attempt: number }).attempt, 1);
    assert.ok(missing.stack.startsWith(`NotFound: ${missing.message}\n    at `), missing.stack);
    assert.doesNotMatch(missing.stack, /run\.retry\(\)/);
  });
});
