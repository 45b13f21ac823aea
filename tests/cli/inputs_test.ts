// Reading a map's inputs from a file as editors write them: a byte order mark,
// CRLF line ends, blank lines.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readInputs } from "../../src/cli/common/inputs.ts";
import { cliHere, withHome } from "./helpers.ts";

const noStdin = {
  readable: () => ReadableStream.from<Uint8Array>([]),
  isTerminal: () => false,
};

Deno.test("an inputs file that starts with a byte order mark reads as the JSON array or NDJSON it holds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-inputs-" });
  try {
    const json = join(dir, "inputs.json");
    await Deno.writeTextFile(json, "\uFEFF[1,\r\n 2]\r\n");
    assert.deepEqual(await readInputs({ file: json, ndjson: false, stdin: noStdin }), [1, 2]);
    const lines = join(dir, "inputs.ndjson");
    await Deno.writeTextFile(lines, "\uFEFF1\r\n\r\n2\r\n");
    assert.deepEqual(await readInputs({ file: lines, ndjson: false, stdin: noStdin }), [1, 2]);
    // From stdin alike.
    const bytes = new TextEncoder().encode("\uFEFF[3]");
    const stdin = { readable: () => ReadableStream.from([bytes]), isTerminal: () => false };
    assert.deepEqual(await readInputs({ ndjson: false, stdin }), [3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inputs on stdin that are not JSON are refused in one line, with no --debug hint, whether or not the parser quotes them", async () => {
  await withHome(async (home) => {
    for (
      const [stdin, hint] of [
        ["not json\n", "pass a JSON array of items"],
        ["[1,", "pass a JSON array of items"],
        ["[1,\n", "pass a JSON array of items"],
        ["a\nb\n", "for one JSON value per line, pass --ndjson"],
        ["a\r\nb\r\n", "for one JSON value per line, pass --ndjson"],
      ]
    ) {
      const r = await cliHere(home, ["map", "examples/jobs.ts", "square"], { stdin });
      assert.equal(r.code, 1, JSON.stringify(stdin));
      assert.match(
        r.stderr,
        new RegExp(`^error: The inputs \\(stdin\\) are not valid JSON: [^\\n]*; ${hint}\\n$`),
        JSON.stringify(stdin),
      );
      assert.doesNotMatch(r.stderr, /--debug/, JSON.stringify(stdin));
    }
  });
});
