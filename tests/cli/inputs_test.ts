// Reading a map's inputs from a file as editors write them: a byte order mark,
// CRLF line ends, blank lines.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readInputs } from "../../src/cli/common/inputs.ts";

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
