// Deno's own module graph of a module of this package (`deno info --json`, with the package's
// deno.json), for the tests that hold the code's layout: the layers and cycles of src/
// (tests/docs/architecture_test.ts) and what a process loads (tests/docs/loading_test.ts).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** What `deno info --json` says of a graph: its roots and each module's dependencies. */
export interface ModuleGraph {
  roots: string[];
  modules: {
    specifier: string;
    dependencies?: {
      code?: { specifier?: string };
      type?: { specifier?: string };
      isDynamic?: boolean;
    }[];
  }[];
}

const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** The module graph of `entry` (a path), as Deno resolves it with the package's deno.json. */
export async function moduleGraph(entry: string): Promise<ModuleGraph> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", CONFIG, entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)) as ModuleGraph;
}
