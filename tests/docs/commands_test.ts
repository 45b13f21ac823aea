// The README and docs/ name only commands and options the command line has:
// every `cloudknot …` line of a shell block, and every `cloudknot …` code span.
import assert from "node:assert/strict";
import { join } from "node:path";
import { COMMANDS, GROUPS } from "../../src/cli/registry.ts";
import { commandName } from "../../src/cli/common/command.ts";
import type { Style } from "../../src/cli/common/io.ts";
import { renderTopHelp } from "../../src/cli/help.ts";
import { codeBlocks, docFiles, ROOT, withoutCodeBlocks } from "./markdown.ts";

/** The `cloudknot …` command lines of a Markdown text: shell lines and code spans. */
function commandLines(text: string): string[] {
  const lines: string[] = [];
  for (const block of codeBlocks(text)) {
    if (!["sh", "bash", "shell", "console"].includes(block.lang)) continue;
    for (const line of block.code.split("\n")) {
      const m = /^\s*(?:\$ )?cloudknot (.*)$/.exec(line);
      if (m) lines.push(m[1]!.replace(/\s+#.*$/, "").trim());
    }
  }
  const prose = withoutCodeBlocks(text);
  for (const m of prose.matchAll(/`cloudknot ([^`]+)`/g)) lines.push(m[1]!.trim());
  return lines;
}

/** What is wrong with one command line (after `cloudknot`), or `undefined`. */
function problemOf(line: string): string | undefined {
  const words = line.split(/\s+/);
  if (["--version", "--help", "help"].includes(words[0]!)) return undefined;
  if (words[0]!.startsWith("<")) return undefined; // a placeholder: `cloudknot <command> --help`
  const inGroup = words[0]! in GROUPS;
  const name = inGroup ? `${words[0]} ${words[1] ?? ""}` : words[0]!;
  const command = COMMANDS.find((c) => commandName(c) === name);
  if (command === undefined) {
    // A group alone (`cloudknot knot`) lists its commands.
    return inGroup && words.length === 1 ? undefined : `no command "${name}"`;
  }
  const options = new Set(["help", "debug", ...Object.keys(command.options)]);
  const shorts = new Set(["h", ...Object.values(command.options).map((o) => o.short)]);
  for (const word of words.slice(inGroup ? 2 : 1)) {
    const long = /^--([a-z][a-z0-9-]*)/.exec(word)?.[1];
    if (long !== undefined && !options.has(long)) return `${name} has no --${long}`;
    const short = /^-([a-zA-Z])$/.exec(word)?.[1];
    if (short !== undefined && !shorts.has(short)) return `${name} has no -${short}`;
  }
  return undefined;
}

Deno.test("every cloudknot command the README and docs/ show is a command with those options", async () => {
  const problems: string[] = [];
  let checked = 0;
  for (const file of await docFiles()) {
    for (const line of commandLines(await Deno.readTextFile(join(ROOT, file)))) {
      checked++;
      const problem = problemOf(line);
      if (problem !== undefined) problems.push(`${file}: cloudknot ${line} (${problem})`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 30, `only ${checked} command lines were found`);
});

Deno.test("the command check finds shell lines and code spans, and refuses unknown commands and options", () => {
  assert.deepEqual(
    commandLines(
      "Run `cloudknot gc --yes`.\n```sh\n$ cloudknot knot list  # all\n```\n`cloudknot-1`",
    ),
    ["knot list", "gc --yes"],
  );
  // A block inside a list item counts too, read once.
  assert.deepEqual(
    commandLines("1. Then:\n\n   ```sh\n   cloudknot mapp jobs.ts  # typo\n   ```\n"),
    ["mapp jobs.ts"],
  );
  assert.equal(problemOf("knot clobber py-knot --pars --yes"), undefined);
  assert.equal(problemOf("pars clobber lab -y"), undefined);
  assert.equal(problemOf("knot"), undefined);
  assert.equal(problemOf("<command> --help"), undefined);
  assert.equal(problemOf("knot remove sq"), 'no command "knot remove"');
  assert.equal(problemOf("gc --everywhere"), "gc has no --everywhere");
  assert.equal(problemOf("pars clobber lab -q"), "pars clobber has no -q");
});

Deno.test("the help's examples, and the README's and docs/'s command lines, map a module of the user's own, as docs/command_line.md shows the help's example", async () => {
  const plain = Object.assign((_name: unknown, text: string) => text, { enabled: false }) as Style;
  const top = renderTopHelp({ commands: COMMANDS, version: "0", style: plain });
  const [example] = top.slice(top.indexOf("\nExample:\n")).split("\n")
    .map((line) => line.trim()).filter((line) => line.includes("cloudknot "));
  assert.ok(example, top);
  // A user of the command installed from JSR has no clone: only a module of their own.
  const lines = [
    `${example}`,
    ...COMMANDS.flatMap((c) => c.examples.map((e) => e.command)),
  ].map((line) => line.slice(line.indexOf("cloudknot ") + 10));
  for (const file of await docFiles()) {
    lines.push(...commandLines(await Deno.readTextFile(join(ROOT, file))));
  }
  assert.deepEqual(lines.filter((line) => /(^|\s)examples\//.test(line)), []);
  // The command line's page shows the help's example as the help writes it.
  const page = await Deno.readTextFile(join(ROOT, "docs", "command_line.md"));
  const shown = codeBlocks(page).filter((b) => b.lang === "sh").flatMap((b) => b.code.split("\n"));
  assert.ok(shown.some((line) => line.startsWith(`${example} `)), example);
});
