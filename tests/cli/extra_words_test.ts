// A word the command line would not read is bad usage (exit code 2) that names it, never
// ignored: an argument past a command's own, anything after the command `help` names, and a word
// after a group that names none of its commands, with or without --help.
import assert from "node:assert/strict";
import { commandName } from "../../src/cli/common/command.ts";
import { COMMANDS } from "../../src/cli/registry.ts";
import { cliInProcess } from "../support/cli_in_process.ts";
import { withHome } from "./helpers.ts";

Deno.test("a word past a command's own arguments is bad usage that names it, whatever the command and wherever --help is", async () => {
  await withHome(async (home) => {
    let checked = 0;
    for (const command of COMMANDS) {
      const name = commandName(command).split(" ");
      const own = command.args.map((a) => a.name);
      const takes = own.length === 0
        ? "takes no arguments"
        : `takes only ${
          command.args.map((a) => a.required ? `<${a.name}>` : `[${a.name}]`).join(" ")
        }`;
      const lines: [string[], string][] = [
        [
          ["help", ...name, "extra"],
          `Unexpected argument "extra": help takes a command's name only, as in ` +
          `"cloudknot help ${name.join(" ")}"`,
        ],
        [
          ["--help", ...name, ...own, "extra"],
          `Unexpected argument "extra": ${name.join(" ")} ${takes}`,
        ],
        [
          [...name, "--help", ...own, "extra"],
          `Unexpected argument "extra": ${name.join(" ")} ${takes}`,
        ],
        [[...name, ...own, "extra"], `Unexpected argument "extra": ${name.join(" ")} ${takes}`],
      ];
      for (const [args, message] of lines) {
        const r = await cliInProcess(args, home.env).ended;
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.equal(r.stderr.split("\n")[0], `error: ${message}`, args.join(" "));
        assert.match(r.stderr, /^Usage: cloudknot /m);
        assert.equal(r.stdout, "", `${args.join(" ")} printed no help`);
        checked++;
      }
      // The command's help itself, asked for each way, is still printed.
      for (const args of [[...name, "--help"], ["--help", ...name], ["help", ...name]]) {
        const r = await cliInProcess(args, home.env).ended;
        assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        assert.ok(r.stdout.startsWith(`Usage: cloudknot ${name.join(" ")} `), args.join(" "));
      }
    }
    assert.ok(checked >= 80, `${checked} command lines`);
  });
});

Deno.test("help with an option it does not take, or a group with a word that names none of its commands, is bad usage that names the word", async () => {
  await withHome(async (home) => {
    const cases: [string[], string][] = [
      [["help", "--frob"], "Unknown option --frob: help takes a command's name only"],
      [["help", "map", "--json"], "Unknown option --json: help takes a command's name only"],
      [["knot", "extra", "--help"], 'Unknown command "knot extra"'],
      [["knot", "--help", "extra"], 'Unknown command "knot extra"'],
      [["--help", "knot", "extra"], 'Unknown command "knot extra"'],
      [["help", "knot", "extra"], 'Unknown command "knot extra"'],
    ];
    for (const [args, message] of cases) {
      const r = await cliInProcess(args, home.env).ended;
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(`error: ${message}`), `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
    }
    for (const args of [["knot", "--help"], ["help", "knot"], ["--help", "knot"], ["help"]]) {
      const r = await cliInProcess(args, home.env).ended;
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: cloudknot /m);
    }
  });
});
