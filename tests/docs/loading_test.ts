// What a process loads before it needs it (docs/architecture.md, "What loads when"): the
// command line loads each command's declaration and only the run of the command given; a
// knot loads its target when it opens; the AWS client layer loads with the first session;
// importing the package loads the classes it exports, not what their methods use.
// The graph is Deno's own (`deno info --json`), with only the imports a module evaluates as
// it loads: type-only imports and `import()` are left out.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { moduleGraph } from "../support/module_graph.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The modules of the package that loading `entry` evaluates, as paths from the root; with
 * `builtins`, Node's built-in modules it loads (`node:path`) too.
 */
async function loadedBy(entry: string, { builtins = false } = {}): Promise<string[]> {
  const graph = await moduleGraph(join(ROOT, entry));
  const next = new Map(graph.modules.map((m) => [
    m.specifier,
    (m.dependencies ?? []).filter((d) => !d.isDynamic).flatMap((d) =>
      d.code?.specifier !== undefined ? [d.code.specifier] : []
    ),
  ]));
  const seen = new Set<string>();
  const stack = [...graph.roots];
  while (stack.length > 0) {
    const specifier = stack.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    stack.push(...next.get(specifier) ?? []);
  }
  return [...seen].filter((s) => s.startsWith("file:") || (builtins && s.startsWith("node:")))
    .map((s) => s.startsWith("node:") ? s : relative(ROOT, fileURLToPath(s))).sort();
}

/** The modules of an AWS knot's or a docker knot's own, of the AWS clients and of images. */
const TARGETS_AND_CLIENTS = [
  /^src\/aws\/(session|setup)\.ts$/,
  /^src\/aws\/(services|protocols)\//,
  /^src\/image\/docker_(image|repo)\.ts$/,
  /^src\/resources\/pars\.ts$/,
  /^src\/targets\/aws\/(aws_knot|aws_target|aws_plan)\.ts$/,
  /^src\/targets\/docker\/(docker_knot|docker_target)\.ts$/,
];

const matching = (modules: string[], patterns: RegExp[]) =>
  modules.filter((m) => patterns.some((p) => p.test(m)));

Deno.test("the command line's entry loads the commands' declarations only: no command's run, no knot, no target, no AWS client", async () => {
  const loaded = await loadedBy("cli.ts");
  assert.ok(loaded.includes("src/cli/commands/map.ts"), "the declarations load, for the help");
  assert.deepEqual(
    matching(loaded, [
      /^src\/cli\/actions\//,
      /^src\/knot\.ts$/,
      /^src\/targets\/local\/local_(knot|target)\.ts$/,
      ...TARGETS_AND_CLIENTS,
    ]),
    [],
  );
});

Deno.test("map on the command line, and a Knot, load no AWS client, no image and no AWS or docker target until a knot of that target opens", async () => {
  for (const entry of ["src/cli/actions/map.ts", "src/knot.ts"]) {
    const loaded = await loadedBy(entry);
    assert.ok(loaded.includes("src/knot.ts"), `${entry} loads the Knot`);
    assert.deepEqual(matching(loaded, TARGETS_AND_CLIENTS), [], entry);
  }
});

Deno.test("a Knot loads no Node module, no packaging, no planner and no Docker driver until it needs one", async () => {
  const loaded = await loadedBy("src/knot.ts", { builtins: true });
  assert.deepEqual(
    matching(loaded, [
      /^node:/,
      /^src\/job\/(function_artifact|artifact_of|pool)\.ts$/,
      /^src\/(plan|cost)\//,
      /^src\/docker\//,
      /^src\/targets\/local\//,
    ]),
    [],
  );
});

Deno.test("importing the package loads no AWS client, S3 store, worker pool, packaging or Batch poller: each loads with its first use", async () => {
  const loaded = await loadedBy("mod.ts");
  for (const exported of ["src/knot.ts", "src/resources/pars.ts", "src/image/docker_image.ts"]) {
    assert.ok(loaded.includes(exported), `mod.ts loads ${exported}, whose class it exports`);
  }
  assert.deepEqual(
    matching(loaded, [
      /^src\/aws\/(session|setup)\.ts$/,
      /^src\/aws\/core\/(request|credentials)\.ts$/,
      /^src\/store\/s3\.ts$/,
      /^src\/targets\/local\/local_target\.ts$/,
      /^src\/job\/(pool|function_artifact)\.ts$/,
      /^src\/targets\/aws\/batch\/(run_poller|environment)\.ts$/,
    ]),
    [],
  );
});

Deno.test("reading the settings loads no AWS client: it loads with the first session", async () => {
  const loaded = await loadedBy("src/resources/settings.ts");
  assert.deepEqual(matching(loaded, TARGETS_AND_CLIENTS), []);
});
