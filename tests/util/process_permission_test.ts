/**
 * A program started without -A meets Deno's permission refusals inside
 * Knot.create: the error says that cloudknot needs the program's own
 * permissions and to run it with deno run -A, keeping Deno's error class.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { explainProcessPermission } from "../../src/util/process_permission.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("a program without permissions is told by Knot.create to run with deno run -A", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-no-permissions-" });
  try {
    const script = join(dir, "main.ts");
    await Deno.writeTextFile(
      script,
      `import { Knot } from ${JSON.stringify(new URL("mod.ts", ROOT).href)};
try {
  await Knot.create({ name: "no-permissions", func: (x: number) => x });
  console.log("created");
} catch (e) {
  console.log(JSON.stringify({ name: (e as Error).name, message: (e as Error).message }));
}
`,
    );
    // --no-prompt: a refusal instead of a question, as off a terminal.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--config",
        new URL("deno.json", ROOT).pathname,
        "--lock",
        new URL("tests/deno.lock", ROOT).pathname,
        script,
      ],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const { name, message } = JSON.parse(stdout);
    assert.equal(name, "NotCapable");
    assert.match(message, /^Requires \w+ access to "[^"]*", which Knot\.create\(\) needs/);
    assert.match(message, /run the program with deno run -A/);
    assert.match(message, /or add --allow-\w+ and the other flags/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("other errors, and permission errors Deno words otherwise, pass through unchanged", () => {
  const other = new RangeError("no");
  assert.equal(explainProcessPermission(other, "Knot.create()"), other);
  const unworded = new Deno.errors.NotCapable("something else");
  assert.equal(explainProcessPermission(unworded, "Knot.create()"), unworded);
  const denied = new Deno.errors.NotCapable(
    'Requires net access to "sts.amazonaws.com:443", run again with the --allow-net flag',
  );
  const explained = explainProcessPermission(denied, "Knot.create()") as Error;
  assert.ok(explained instanceof Deno.errors.NotCapable);
  assert.equal(explained.cause, denied);
  assert.match(explained.message, /or add --allow-net and/);
});
