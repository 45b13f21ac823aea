// The package as users get it: `deno publish`'s upload, served by a loopback
// JSR registry, used from a fresh folder with an empty DENO_DIR and a fresh
// HOME (npm packages still come from the npm registry).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Docker } from "../../src/docker/mod.ts";
import { codeBlocks, ROOT, sectionOf } from "../docs/markdown.ts";
import { runInContainer, valueOf } from "../image/helpers.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { packPackage, type PublishedPackage } from "../support/jsr_registry.ts";
import { jupyterTest } from "../support/jupyter_available.ts";
import { execute, type Output } from "../support/notebook.ts";
import { freshMachine, ok } from "./helpers.ts";

const pkg: PublishedPackage = await packPackage();
const version: string = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).version;

Deno.test("deno publish uploads the files of publish.include with bare specifiers rewritten to npm: specifiers", async () => {
  assert.equal(`@${pkg.scope}/${pkg.name}@${pkg.version}`, `@cloudknot/cloudknot@${version}`);
  assert.deepEqual(
    pkg.exports,
    JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).exports,
  );
  for (const file of ["/mod.ts", "/cli.ts", "/deno.json", "/README.md", "/LICENSE"]) {
    assert.ok(pkg.files.has(file), `${file} is not in the upload`);
  }
  const paths = [...pkg.files.keys()];
  assert.ok(paths.some((p) => p.startsWith("/src/job/")), "no file of src/ was uploaded");
  // publish.exclude and what publish.include leaves out.
  assert.deepEqual(paths.filter((p) => /_test\.ts$|^\/(tests|bench|examples|docs)\//.test(p)), []);
  const request = new TextDecoder().decode(pkg.files.get("/src/aws/core/request.ts"));
  assert.match(request, /from "npm:aws4fetch@\^1\.\d+\.\d+"/);
  assert.doesNotMatch(request, /from "aws4fetch"/);
});

Deno.test("a fresh project imports jsr:@cloudknot/cloudknot and maps a func and a module with an npm import on the local target", async () => {
  await using machine = await freshMachine(pkg);
  await Deno.copyFile(join(ROOT, "tests/fixtures/npm_job.ts"), join(machine.work, "npm_job.ts"));
  await Deno.writeTextFile(
    join(machine.work, "main.ts"),
    `import { Knot } from "jsr:@cloudknot/cloudknot";

const squares = await Knot.create({ name: "jsr-squares", func: (x: number) => x * x });
const run = await squares.map([1, 2, 3], { progress: false });
console.log(JSON.stringify(await run.results()));

const classify = await Knot.create({
  name: "jsr-classify",
  module: new URL("./npm_job.ts", import.meta.url),
  exportName: "classify",
});
const classified = await classify.map([1, "a", 2.5], { progress: false });
console.log(JSON.stringify(await classified.results()));
await squares.clobber();
await classify.clobber();
`,
  );
  const out = ok(await machine.sh("deno run -A main.ts"), "deno run -A main.ts");
  assert.deepEqual(out.stdout.trim().split("\n"), ["[1,4,9]", '["number","other","number"]']);
  // What Deno 2.9.6 asked the registry for: the versions, the version's
  // manifest, then the files; nothing was missing.
  const requests = machine.registry.requests;
  assert.equal(requests[0], "GET /@cloudknot/cloudknot/meta.json 200");
  assert.equal(requests[1], `GET /@cloudknot/cloudknot/${version}_meta.json 200`);
  assert.ok(requests.includes(`GET /@cloudknot/cloudknot/${version}/mod.ts 200`), requests.join());
  assert.deepEqual(requests.filter((r) => !r.endsWith(" 200")), []);
  // The package came from the registry into the empty DENO_DIR.
  const remote = join(machine.env.DENO_DIR!, "remote", "http");
  assert.ok((await Array.fromAsync(Deno.readDir(remote))).length > 0, "nothing was cached");
});

Deno.test("Deno checks the served files against the registry's manifest", async () => {
  // A registry whose mod.ts differs from the checksum in its manifest is refused,
  // so the manifest the tests serve is the one Deno relies on.
  const served = new Map(pkg.files);
  await using machine = await freshMachine({ ...pkg, files: served });
  // The manifest is computed when the registry starts; change the file after.
  const original = new TextDecoder().decode(pkg.files.get("/mod.ts"));
  served.set("/mod.ts", new TextEncoder().encode(`${original}\n// changed\n`));
  await Deno.writeTextFile(
    join(machine.work, "main.ts"),
    'import { Knot } from "jsr:@cloudknot/cloudknot";\nconsole.log(typeof Knot);\n',
  );
  const out = await machine.sh("deno run -A main.ts");
  assert.notEqual(out.code, 0, out.stdout);
  assert.match(out.stderr, /Integrity check failed/);
});

Deno.test("the command line from JSR maps with deno run, and installs as cloudknot with deno install -g", async () => {
  await using machine = await freshMachine(pkg);
  await Deno.copyFile(join(ROOT, "examples/jobs.ts"), join(machine.work, "jobs.ts"));
  const run = ok(
    await machine.sh("deno run -A jsr:@cloudknot/cloudknot/cli map jobs.ts square --name jsr-run", {
      input: "[1, 2, 3]",
    }),
    "deno run -A jsr:@cloudknot/cloudknot/cli map",
  );
  assert.equal(
    run.stdout,
    '{"index":0,"value":1}\n{"index":1,"value":4}\n{"index":2,"value":9}\n',
  );

  ok(
    await machine.sh("deno install -g -A -n cloudknot jsr:@cloudknot/cloudknot/cli"),
    "deno install -g",
  );
  const help = ok(await machine.sh("cloudknot --help"), "cloudknot --help");
  assert.match(help.stdout, new RegExp(`^cloudknot ${version.replaceAll(".", "\\.")}: `));
  assert.match(help.stdout, /^Usage: cloudknot <command>/m);
  const map = ok(
    await machine.sh("cloudknot map jobs.ts square --name jsr-installed -q", { input: "[4, 5]" }),
    "cloudknot map",
  );
  assert.equal(map.stdout, '{"index":0,"value":16}\n{"index":1,"value":25}\n');
  const list = ok(await machine.sh("cloudknot knot list"), "cloudknot knot list");
  assert.match(list.stdout, /^jsr-installed\s+local\s+square \(module/m);
  assert.match(list.stdout, /^jsr-run\s+local\s+square \(module/m);
  // deno install also asks for the package's lockfile, which is not published.
  assert.deepEqual(
    machine.registry.requests.filter((r) => !r.endsWith(" 200")),
    [`GET /@cloudknot/cloudknot/${version}/deno.lock 404`],
  );
});

dockerTest(
  "a DockerImage built from the JSR package bundles its runtime from the remote package and runs a job",
  async () => {
    const baseImage = await ensureBaseImage();
    await using machine = await freshMachine(pkg);
    const name = `jsr-image-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeTextFile(
      join(machine.work, "main.ts"),
      `import { DockerImage } from "jsr:@cloudknot/cloudknot";

const image = await DockerImage.create({
  name: ${JSON.stringify(name)},
  func: (x: number) => ({ doubled: x * 2, deno: Deno.version.deno }),
  baseImage: ${JSON.stringify(baseImage)},
});
await image.build({ tags: ["jsr"] });
console.log(JSON.stringify({ images: image.images, buildPath: image.buildPath }));
`,
    );
    const docker = new Docker({ logger: () => {} });
    try {
      const out = ok(await machine.sh("deno run -A main.ts"), "DockerImage build");
      const built = JSON.parse(out.stdout.trim().split("\n").at(-1)!);
      assert.deepEqual(built.images, [`cloudknot/${name}:jsr`]);
      // The runtime was bundled from the package's job entry point on the registry.
      assert.ok(
        machine.registry.requests.includes(
          `GET /@cloudknot/cloudknot/${version}/src/job/main.ts 200`,
        ),
      );
      const runtime = await Deno.readTextFile(join(built.buildPath, "runtime.js"));
      assert.doesNotMatch(runtime, /from\s*["'](https?|jsr|npm):/, "the runtime imports something");
      const cached = await Array.fromAsync(
        Deno.readDir(join(machine.home, ".cloudknot", "cache", "runtime")),
      );
      // The runtime and its workers' entry, bundled from the served package.
      assert.deepEqual(cached.map((e) => e.name.replace(/^\w+/, "")).sort(), [".js", ".worker.js"]);
      // A job runs in the image with no network.
      const job = await runInContainer(docker, `cloudknot/${name}:jsr`, [21], { network: "none" });
      assert.equal(job.code, 0, job.stderr);
      assert.deepEqual(valueOf(job.record), { doubled: 42, deno: Deno.version.deno });
    } finally {
      await docker.removeImage(`cloudknot/${name}:jsr`, { force: true, missingOk: true });
    }
  },
);

jupyterTest(
  "a notebook imports jsr:@cloudknot/cloudknot as the README shows and maps on the local target",
  async () => {
    const readme = await Deno.readTextFile(join(ROOT, "README.md"));
    const importCell = codeBlocks(sectionOf(readme, "## Install")).find((b) =>
      b.lang === "ts" && b.code.includes('"jsr:@cloudknot/cloudknot"')
    );
    assert.ok(importCell, "the README's Install section shows no notebook import");
    await using machine = await freshMachine(pkg);
    const cell = (id: string, source: string) => ({
      cell_type: "code",
      id,
      metadata: {},
      execution_count: null,
      outputs: [],
      source,
    });
    const notebook = join(machine.work, "jsr.ipynb");
    await Deno.writeTextFile(
      notebook,
      JSON.stringify({
        cells: [
          cell("import", importCell.code),
          cell(
            "map",
            `const knot = await Knot.create({ name: "jsr-notebook", func: (x: number) => x * 3 });
const run = await knot.map([1, 2, 3]);
console.log(JSON.stringify(await run.results()));`,
          ),
          // A cell that ends with a knot shows its summary, not its function.
          cell("show", "knot"),
          cell("clobber", "await knot.clobber();"),
        ],
        metadata: {
          kernelspec: { display_name: "Deno", language: "typescript", name: "deno" },
          language_info: { name: "typescript", file_extension: ".ts" },
        },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    const cells = await execute(notebook, machine.env);
    const stdout = (cells.find((c) => c.id === "map")?.outputs ?? [])
      .filter((o: Output) => o.output_type === "stream" && o.name === "stdout")
      .map((o: Output) => o.text!.join("")).join("");
    assert.equal(stdout.trim(), "[3,6,9]");
    const shown = (cells.find((c) => c.id === "show")?.outputs ?? [])
      .find((o: Output) => o.output_type === "execute_result")?.data;
    assert.match((shown?.["text/html"] ?? []).join(""), /<b>Knot jsr-notebook<\/b>/);
    // Its target's rows, as a terminal shows them: its folder, and what its items run with.
    assert.match(
      (shown?.["text/plain"] ?? []).join(""),
      /^Knot jsr-notebook\n {2}target: +local\n {2}function: +func \(func\)\n {2}folder: +\S+\/jsr-notebook\n[^]*\n {2}permissions: net$/,
    );
    assert.ok(machine.registry.requests.includes("GET /@cloudknot/cloudknot/meta.json 200"));
  },
);
