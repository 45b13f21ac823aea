// docs/architecture.md is the map of the code: its layer table names every
// folder of src/, and every import between folders points down that table
// (which also means no folder-level import cycle). The graph is Deno's own
// (`deno info --json` over every module of src/).
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { moduleGraph } from "../support/module_graph.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = join(ROOT, "src");

/** Each layer of the table, top first: the folders it holds. */
export async function readLayers(path = join(ROOT, "docs/architecture.md")): Promise<string[][]> {
  const text = await Deno.readTextFile(path);
  const section = text.split(/^## /m).find((s) => s.startsWith("Layers"));
  assert.ok(section, `${path} has no "## Layers" section`);
  const layers: string[][] = [];
  for (const line of section.split("\n")) {
    if (!line.startsWith("|") || /^\|\s*-/.test(line)) continue;
    const cells = line.split("|").slice(1, -1);
    const folders = [...(cells[1] ?? "").matchAll(/`src\/([^`]*?)\/?`/g)].map((m) => m[1]!);
    if (folders.length > 0) layers.push(folders.map((f) => f === "" ? "." : f));
  }
  return layers;
}

/** Every import between two folders of src/: [from folder, to folder, from file, to file]. */
export async function folderImports(): Promise<[string, string, string, string][]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts")) files.push(path);
    }
  };
  await walk(SRC);
  // One module that imports them all, so one `deno info` sees the whole graph.
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import ${JSON.stringify(pathToFileURL(f).href)};`).join("\n"),
    );
    const graph = await moduleGraph(entry);
    const inSrc = (specifier: string) =>
      specifier.startsWith("file:") && !relative(SRC, fileURLToPath(specifier)).startsWith("..");
    const folder = (file: string) => dirname(file);
    const edges: [string, string, string, string][] = [];
    for (const m of graph.modules) {
      if (!inSrc(m.specifier)) continue;
      const from = relative(SRC, fileURLToPath(m.specifier));
      for (const d of m.dependencies ?? []) {
        for (const target of [d.code?.specifier, d.type?.specifier]) {
          if (target === undefined || !inSrc(target)) continue;
          const to = relative(SRC, fileURLToPath(target));
          if (folder(from) !== folder(to)) edges.push([folder(from), folder(to), from, to]);
        }
      }
    }
    return edges;
  } finally {
    await Deno.remove(entry);
  }
}

async function srcFolders(): Promise<string[]> {
  const out: string[] = ["."];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isDirectory) continue;
      const path = join(dir, e.name);
      out.push(relative(SRC, path));
      await walk(path);
    }
  };
  await walk(SRC);
  return out.sort();
}

Deno.test("docs/architecture.md's layer table names every folder of src/ exactly once", async () => {
  const layers = await readLayers();
  const named = layers.flat();
  assert.deepEqual([...named].sort(), await srcFolders());
  assert.equal(new Set(named).size, named.length, "a folder is in two layers");
});

Deno.test("every import between folders of src/ points down the layer table, so no folder imports in a cycle", async () => {
  const layers = await readLayers();
  const rank = new Map(layers.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
  const upward = (await folderImports())
    .filter(([from, to]) => rank.get(to)! < rank.get(from)!)
    .map(([, , file, target]) => `${file} imports ${target}`);
  assert.deepEqual(upward, [], "imports that point up the layer table of docs/architecture.md");
});

Deno.test("no two folders of src/ import each other, even within one layer", async () => {
  const edges = await folderImports();
  const next = new Map<string, Set<string>>();
  for (const [from, to] of edges) next.set(from, (next.get(from) ?? new Set()).add(to));
  const reaches = (a: string, b: string) => {
    const seen = new Set<string>();
    const stack = [a];
    while (stack.length > 0) {
      for (const n of next.get(stack.pop()!) ?? []) {
        if (n === b) return true;
        if (!seen.has(n)) stack.push(...(seen.add(n), [n]));
      }
    }
    return false;
  };
  const cycles = edges.filter(([from, to]) => reaches(to, from))
    .map(([, , file, target]) => `${file} imports ${target}`);
  assert.deepEqual(cycles, [], "imports on a folder-level cycle");
});

Deno.test("the layer check sees an upward import", async () => {
  // A table read upside down turns every real import into an upward one.
  const layers = (await readLayers()).reverse();
  const rank = new Map(layers.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
  const edges = await folderImports();
  assert.ok(edges.length > 0);
  assert.ok(edges.some(([from, to]) => rank.get(to)! < rank.get(from)!));
});

Deno.test("the package's root exports at most 80 symbols; the rest is in subpaths named for their folders", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", join(ROOT, "mod.ts")],
    stdout: "piped",
  }).output();
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, { symbols: unknown[] }>;
  };
  const symbols = Object.values(doc.nodes)[0]!.symbols.length;
  assert.ok(symbols > 0 && symbols <= 80, `mod.ts exports ${symbols} symbols`);
  const exports: Record<string, string> = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.json")),
  ).exports;
  for (const [name, path] of Object.entries(exports)) {
    if (name === "." || name === "./cli") continue;
    // "./aws" is src/aws/mod.ts, "./batch" src/targets/aws/batch/mod.ts, …
    assert.match(path, new RegExp(`/${name.slice(2)}(/mod)?\\.ts$`), `${name} → ${path}`);
  }
});
