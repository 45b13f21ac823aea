// Every install line the README and docs/ show, run as written: read from
// the Markdown, so the tests follow the docs. JSR lines run against the
// loopback registry, from a fresh folder with an empty DENO_DIR and HOME.
import assert from "node:assert/strict";
import { join } from "node:path";
import { packPackage, type PublishedPackage } from "../support/jsr_registry.ts";
import { freshMachine, ok } from "../publish/helpers.ts";
import { strayNpmPackages } from "../support/npm_cache.ts";
import { allCodeBlocks, codeBlocks, ROOT, sectionOf } from "./markdown.ts";

/** An install command of the docs, and where it is. */
interface InstallLine {
  file: string;
  command: string;
}

const blocks = await allCodeBlocks();
const lines: InstallLine[] = blocks.filter((b) => b.lang === "sh").flatMap((b) =>
  b.code.split("\n").map((line) => ({ file: b.file, command: line.trim() }))
).filter((l) => /^(deno (add|install)|npm (install|i)) /.test(l.command));
const commands = (pattern: RegExp) => [
  ...new Set(lines.filter((l) => pattern.test(l.command)).map((l) => l.command)),
];
const readme = await Deno.readTextFile(join(ROOT, "README.md"));
const version: string = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).version;
const pkg: PublishedPackage = await packPackage();

Deno.test("the README shows how to add the package and install the command line from JSR, and every install line is one these tests run", () => {
  const inReadme = lines.filter((l) => l.file === "README.md").map((l) => l.command);
  assert.ok(inReadme.includes("deno add jsr:@cloudknot/cloudknot"), inReadme.join("\n"));
  assert.ok(
    inReadme.includes("deno install -g -A -n cloudknot jsr:@cloudknot/cloudknot/cli"),
    inReadme.join("\n"),
  );
  const known = /^(deno add |deno install -g |npm install --prefix )/;
  assert.deepEqual(lines.filter((l) => !known.test(l.command)), []);
});

Deno.test("deno add, then the README's import line and its quickstart, in a fresh folder", async () => {
  const install = codeBlocks(sectionOf(readme, "## Install")).filter((b) => b.lang === "ts");
  const importLine = install.find((b) => b.code.includes('"@cloudknot/cloudknot"'));
  assert.ok(importLine, "the README's Install section shows no import line");
  const quickstart = codeBlocks(sectionOf(readme, "## Quickstart")).find((b) => b.lang === "ts");
  assert.ok(quickstart, "the README's Quickstart shows no TypeScript");
  const adds = commands(/^deno add /);
  assert.ok(adds.length > 0);
  for (const add of adds) {
    await using machine = await freshMachine(pkg);
    ok(await machine.sh(add), add);
    const config = JSON.parse(await Deno.readTextFile(join(machine.work, "deno.json")));
    assert.equal(config.imports["@cloudknot/cloudknot"], `jsr:@cloudknot/cloudknot@^${version}`);
    await Deno.writeTextFile(join(machine.work, "import.ts"), importLine.code + "\n");
    ok(await machine.sh("deno run -A import.ts"), "the README's import line");
    await Deno.writeTextFile(join(machine.work, "pi.ts"), quickstart.code + "\n");
    const run = ok(await machine.sh("deno run -A pi.ts"), "the README's quickstart");
    const estimate = /^π ≈ (\d\.\d{3})$/m.exec(run.stdout);
    assert.ok(estimate, run.stdout);
    assert.ok(Math.abs(Number(estimate[1]) - Math.PI) < 0.05, estimate[1]);
    assert.match(run.stderr, /quickstart-pi: 8\/8 done/);
  }
});

Deno.test("each deno install line installs a cloudknot command that maps", async () => {
  const installs = commands(/^deno install /);
  assert.ok(installs.length >= 2, installs.join("\n"));
  for (const install of installs) {
    await using machine = await freshMachine(pkg);
    // A line that installs from JSR runs anywhere; one that names a file runs in a clone.
    const fromJsr = / jsr:\S+$/.test(install);
    ok(await machine.sh(install, fromJsr ? {} : { cwd: ROOT }), install);
    const name = / -n (\S+)/.exec(install)?.[1] ?? "cloudknot";
    const shown = ok(await machine.sh(`${name} --version`), `${name} --version`);
    assert.equal(shown.stdout, `cloudknot ${version}\n`);
    await Deno.copyFile(join(ROOT, "examples", "jobs.ts"), join(machine.work, "jobs.ts"));
    const map = ok(
      await machine.sh(`${name} map jobs.ts square --name installed -q`, { input: "[3]" }),
      `${name} map`,
    );
    assert.equal(map.stdout, '{"index":0,"value":9}\n', install);
    // The command and its workers fetched only what the library imports (and the
    // esbuild that deno bundle runs for a module): a clone's test dependencies do
    // not come along.
    const stray = await strayNpmPackages(machine.env.DENO_DIR!);
    assert.deepEqual(stray.filter((name) => !name.startsWith("@esbuild/")), [], install);
  }
});

Deno.test("the npm install line of Deno installs a deno that runs", async () => {
  const npmLines = commands(/^npm install /);
  assert.ok(npmLines.length > 0);
  for (const line of npmLines) {
    const wanted = /\bdeno@(\S+)/.exec(line)?.[1];
    assert.ok(wanted, line);
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-npm-deno-" });
    try {
      // The line as written, then the deno it put on PATH.
      const out = await new Deno.Command("sh", {
        args: ["-c", `${line} && deno --version`],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdin: "null",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(stdout, new RegExp(`^deno ${wanted.replaceAll(".", "\\.")} `, "m"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

/** The values a block's comments say it prints: `console.log(x); // [ 1, 4, 9 ]`. */
export function shownValues(code: string): string[] {
  return [...code.matchAll(/^\s*console\.log\(.*\);? *\/\/ ?([[{"\d].*)$/gm)].map((m) => m[1]!);
}

/** A shell example of the README: its command lines, and the stdout its `# ` lines show. */
export function shellExample(code: string): { commands: string[]; stdout: string } {
  const lines = code.split("\n");
  return {
    commands: lines.filter((l) => l.trim() !== "" && !l.startsWith("#")),
    stdout: lines.filter((l) => l.startsWith("# ")).map((l) => `${l.slice(2)}\n`).join(""),
  };
}

Deno.test("the example checks read the values a block's comments show and a shell example's output", () => {
  assert.deepEqual(
    shownValues(
      "const a = 1;\nconsole.log(await run.results()); // [ 1, 4, 9 ]\n" +
        "console.log(b); // in input order\nconsole.log(c) // 42",
    ),
    ["[ 1, 4, 9 ]", "42"],
  );
  assert.deepEqual(shellExample("echo '[1]' | cloudknot map jobs.ts square\n# {\"index\":0}"), {
    commands: ["echo '[1]' | cloudknot map jobs.ts square"],
    stdout: '{"index":0}\n',
  });
});

Deno.test("every README example that needs no AWS runs as written in a fresh project, after its deno add and install lines, and prints what the README shows", async () => {
  await using machine = await freshMachine(pkg);
  ok(await machine.sh("deno add jsr:@cloudknot/cloudknot"), "deno add");
  ok(
    await machine.sh("deno install -g -A -n cloudknot jsr:@cloudknot/cloudknot/cli"),
    "deno install -g",
  );
  const blocks = codeBlocks(readme);
  const local = blocks.filter((b) => b.lang === "ts" && !/target: "(aws|docker)"/.test(b.code));
  // The first example, the import lines, the quickstart and mapping a function.
  assert.ok(local.length >= 4, `only ${local.length} TypeScript blocks`);
  let values = 0;
  for (const [i, block] of local.entries()) {
    const file = `readme_${i}.ts`;
    await Deno.writeTextFile(join(machine.work, file), block.code + "\n");
    const what = `the README's block of "${block.section}" (${file})`;
    ok(await machine.sh(`deno check ${file}`), `deno check of ${what}`);
    const run = ok(await machine.sh(`deno run -A ${file}`), what);
    const printed = run.stdout.split("\n");
    for (const value of shownValues(block.code)) {
      values++;
      assert.ok(printed.includes(value), `${what} printed no line ${value}:\n${run.stdout}`);
    }
  }
  assert.ok(values > 0, "no README block shows what it prints");
  // The command line's example, with the module the README points at.
  const shells = blocks.filter((b) => b.lang === "sh" && /\| cloudknot /.test(b.code));
  assert.ok(shells.length > 0, "the README shows no cloudknot command fed on stdin");
  await Deno.copyFile(join(ROOT, "examples", "jobs.ts"), join(machine.work, "jobs.ts"));
  for (const block of shells) {
    const { commands, stdout } = shellExample(block.code);
    const run = ok(await machine.sh(commands.join("\n")), commands.join("; "));
    assert.equal(run.stdout, stdout, commands.join("; "));
  }
});
