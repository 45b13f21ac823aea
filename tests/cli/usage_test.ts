import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliIo, main } from "../../cli.ts";
import { Knot } from "../../mod.ts";
import { commandName } from "../../src/cli/common/command.ts";
import { COMMANDS } from "../../src/cli/registry.ts";
import { renderCommandHelp } from "../../src/cli/help.ts";
import type { Style } from "../../src/cli/common/io.ts";
import { cliInProcess } from "../support/cli_in_process.ts";
import { cli, cliInTerminal, hasScript, withHome } from "./helpers.ts";

const ESC = "\u001b[";

Deno.test("every command's help has its usage line and its example", async () => {
  await withHome(async (home) => {
    const top = await cli(home, ["--help"]);
    assert.equal(top.code, 0, top.stderr);
    assert.equal(top.stderr, "");
    assert.match(top.stdout, /^Usage: cloudknot <command> \[arguments\] \[options\]$/m);
    assert.match(top.stdout, /echo '\[1, 2, 3\]' \| cloudknot map jobs\.ts square$/m);
    // Every exit code the command-line page lists.
    for (const code of ["0", "1", "2", "130", "141"]) {
      assert.match(top.stdout, new RegExp(`^ {2}${code} +\\S`, "m"), `exit code ${code}`);
    }
    for (const command of COMMANDS) {
      const name = commandName(command);
      assert.ok(command.examples.length > 0, `${name} has no example`);
      assert.match(top.stdout, new RegExp(`^  ${name}[ ,]`, "m"), `${name} is not listed`);
      for (const args of [[...name.split(" "), "--help"], ["help", ...name.split(" ")]]) {
        // The same command line in this process: a process per help page costs a second each, and
        // the top-level help above and the group's below are read from real processes.
        const r = await cliInProcess(args, home.env).ended;
        assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        assert.equal(r.stderr, "");
        assert.ok(r.stdout.startsWith(`Usage: cloudknot ${name} `), r.stdout);
        for (const example of command.examples) {
          assert.ok(r.stdout.includes(example.command), `${name} --help lacks ${example.command}`);
        }
        assert.match(r.stdout, /^ {2}-h, --help +Show this help$/m);
      }
    }
    const group = await cli(home, ["knot", "--help"]);
    assert.equal(group.code, 0);
    assert.equal(group.stderr, "");
    assert.match(
      group.stdout,
      /^Usage: cloudknot knot <create\|list\|show\|clobber> \[options\]$/m,
    );
    assert.equal((await cli(home, ["help", "knot"])).stdout, group.stdout);
  });
});

Deno.test("every flag a command's help names exists: its examples use their command's own options, and its texts only flags some command takes", () => {
  const taken = (command: (typeof COMMANDS)[number]) =>
    new Set(["help", "debug", ...Object.keys(command.options)]);
  const anywhere = new Set(["version", ...COMMANDS.flatMap((c) => [...taken(c)])]);
  const wrong: string[] = [];
  for (const command of COMMANDS) {
    const name = commandName(command);
    const texts = [
      command.summary,
      command.description ?? "",
      ...Object.values(command.options).map((o) => o.description ?? ""),
    ];
    for (const text of texts) {
      for (const [flag, word] of text.matchAll(/--([a-z][a-z0-9-]*)/g)) {
        if (!anywhere.has(word!)) wrong.push(`${name}'s help names ${flag}`);
      }
    }
    for (const example of command.examples) {
      // Each cloudknot command of a pipeline, with the options it is given.
      for (const part of example.command.split("|")) {
        const called = part.trim().match(/^cloudknot ((?:knot|pars|image|repo) \S+|\S+)(.*)$/);
        if (called === null) continue;
        const other = COMMANDS.find((c) =>
          commandName(c) === called[1] || (c.aliases ?? []).includes(called[1]!)
        );
        if (other === undefined) {
          wrong.push(`${name}'s example runs no command: ${part.trim()}`);
          continue;
        }
        for (const [, word] of called[2]!.matchAll(/(?:^|\s)--([a-z][a-z0-9-]*)/g)) {
          if (!taken(other).has(word!)) {
            wrong.push(`${name}'s example gives ${called[1]} --${word}`);
          }
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("a repeatable option's help says once that it may be repeated", () => {
  const plain = Object.assign((_name: unknown, text: string) => text, { enabled: false }) as Style;
  const wrong: string[] = [];
  for (const command of COMMANDS) {
    const help = renderCommandHelp(command, plain);
    // Each option's entry: its line and the lines its description wraps onto.
    const options = help.slice(help.indexOf("\nOptions:\n") + 10, help.indexOf("\nExample"));
    const entries = options.split(/\n(?= {2}-)/).map((entry) => entry.replace(/\s+/g, " ").trim());
    for (const [long, spec] of Object.entries(command.options)) {
      if (!spec.multiple) continue;
      const entry = entries.find((e) => new RegExp(`^(-\\w, )?--${long} `).test(e))!;
      const says = entry.match(/repeat/gi)?.length ?? 0;
      if (says !== 1 || !entry.endsWith("(may be repeated)")) {
        wrong.push(`${commandName(command)} --${long}: ${entry}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("bad usage exits with 2 and prints the usage line", async () => {
  await withHome(async (home) => {
    const cases: [string[], RegExp, RegExp][] = [
      [[], /^error: Which command\?/, /^Usage: cloudknot <command>/m],
      [
        ["mpa"],
        /^error: Unknown command "mpa": did you mean "map"\?$/m,
        /^Usage: cloudknot <command>/m,
      ],
      [
        ["frobnicate"],
        /^error: Unknown command "frobnicate": run "cloudknot --help"/m,
        /^Usage: cloudknot <command>/m,
      ],
      [
        ["--frob"],
        /^error: Unknown option --frob: put a command first/m,
        /^Usage: cloudknot <command>/m,
      ],
      [["help", "nope"], /^error: Unknown command "nope"/m, /^Usage: cloudknot <command>/m],
      [
        ["results"],
        /^error: results needs the <knot> argument/m,
        /^Usage: cloudknot results <knot> \[run\] \[options\]$/m,
      ],
      [
        ["jobs", "k", "--jsn"],
        /^error: Unknown option --jsn: did you mean --json\?$/m,
        /^Usage: cloudknot jobs /m,
      ],
      [
        ["logs", "k", "--item"],
        /^error: Option --item needs a value$/m,
        /^Usage: cloudknot logs /m,
      ],
      [
        ["logs", "k", "--item", "x"],
        /^error: --item takes a whole number, not "x"$/m,
        /^Usage: cloudknot logs /m,
      ],
      [
        ["knot", "list", "--json=yes"],
        /^error: Option --json takes no value$/m,
        /^Usage: cloudknot knot list/m,
      ],
    ];
    for (const [args, message, usage] of cases) {
      const r = await cli(home, args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.match(r.stderr, usage, args.join(" "));
      assert.match(r.stderr, /^Run "cloudknot .*--help" for the options and an example\.$/m);
      assert.equal(r.stdout, "");
    }
  });
});

Deno.test("an option missing its value, or a flag given one, is refused in words that say which and how to write it", async () => {
  await withHome(async (home) => {
    const cases: [string[], RegExp][] = [
      [
        ["map", "examples/jobs.ts", "square", "--name", "-q"],
        /^error: Option --name needs a value \(for a value that starts with a dash, write --name=-x\)$/m,
      ],
      [
        ["map", "examples/jobs.ts", "square", "--retries", "-q"],
        /^error: Option --retries needs a value \(for a value that starts with a dash, write --retries=-x\)$/m,
      ],
      [
        ["map", "examples/jobs.ts", "square", "--name", "--json"],
        /^error: Option --name needs a value \(for a value that starts with a dash, write --name=-x\)$/m,
      ],
      [
        ["map", "examples/jobs.ts", "square", "-q=1"],
        /^error: Option -q takes no value$/m,
      ],
      [["report", "k", "-o"], /^error: Option -o needs a value$/m],
      [["report", "k", "--out"], /^error: Option --out needs a value$/m],
    ];
    for (const [args, message] of cases) {
      const r = await cliInProcess(args, home.env).ended;
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.match(r.stderr, new RegExp(`^Usage: cloudknot ${args[0]} `, "m"), args.join(" "));
      assert.equal(r.stdout, "");
    }
  });
});

Deno.test("--version, and --debug shows the stack of an error", async () => {
  await withHome(async (home) => {
    const version = await cli(home, ["--version"]);
    assert.equal(version.code, 0);
    const { default: config } = await import("../../deno.json", { with: { type: "json" } });
    assert.equal(version.stdout, `cloudknot ${config.version}\n`);

    const plain = await cli(home, ["jobs", "nope"]);
    assert.equal(plain.code, 1);
    assert.equal(plain.stderr.trimEnd().split("\n").length, 1);
    assert.doesNotMatch(plain.stderr, /\bat /);
    const debug = await cli(home, ["jobs", "nope", "--debug"]);
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /^error: CloudknotInputError: There is no knot named "nope"/);
    assert.match(debug.stderr, /^ +at .*knots\.ts/m);
    assert.equal((await cli(home, ["--debug", "jobs", "nope"])).stderr, debug.stderr);
  });
});

Deno.test("NO_COLOR: no escape codes in help, tables and errors", async () => {
  await withHome(async (home) => {
    assert.equal((await cli(home, ["knot", "create", "k", "examples/jobs.ts", "square"])).code, 0);
    for (
      const args of [
        ["--help"],
        ["map", "--help"],
        ["knot", "list"],
        ["knot", "show", "k"],
        ["jobs", "none"],
        ["pars", "list"],
        ["image", "list"],
        ["repo", "--help"],
        ["configure", "--sse", "des"],
      ]
    ) {
      const r = await cli(home, args);
      assert.ok(!r.stdout.includes(ESC) && !r.stderr.includes(ESC), args.join(" "));
    }
  });
});

Deno.test({
  name: "colour on a terminal, none with NO_COLOR",
  ignore: !hasScript,
  async fn() {
    await withHome(async (home) => {
      for (const args of [["--help"], ["knot", "show", "none"]]) {
        const coloured = await cliInTerminal(home, args, { env: { NO_COLOR: undefined } });
        assert.ok(coloured.stdout.includes(ESC), `${args.join(" ")} has no colour on a terminal`);
        const plain = await cliInTerminal(home, args, { env: { NO_COLOR: "1" } });
        assert.ok(!plain.stdout.includes(ESC), `${args.join(" ")} has colour with NO_COLOR`);
        assert.equal(coloured.code, plain.code);
      }
    });
  },
});

Deno.test("TERM=dumb: a terminal gets progress as plain lines and no colour, as any other terminal gets them redrawn and coloured", async () => {
  await withHome(async (home) => {
    await Knot.create({
      name: "dumb",
      func: (x: number) => x + 1,
      dir: home.env.CLOUDKNOT_LOCAL_DIR,
    });
    for (const term of ["xterm-256color", "dumb"]) {
      // Both streams are terminals, colour is not turned off.
      const terminal = (args: string[], stdin = "") => {
        const { io, out } = captureIo({ ...home.env, TERM: term }, stdin);
        const tty: CliIo = {
          ...io,
          stdout: { ...io.stdout, isTerminal: () => true },
          stderr: { ...io.stderr, isTerminal: () => true },
          noColor: false,
        };
        return main(args, tty).then((code) => ({ code, ...out }));
      };
      const mapped = await terminal(["map", "--name", "dumb", "--concurrency", "1"], "[1, 2]");
      assert.equal(mapped.code, 0, mapped.stderr);
      assert.match(mapped.stderr, /dumb: 2\/2 done/);
      const missing = await terminal(["knot", "show", "none"]);
      assert.equal(missing.code, 1);
      const escapes = [mapped.stderr, missing.stderr].some((text) => text.includes(ESC));
      assert.equal(escapes, term !== "dumb", `TERM=${term}`);
    }
  });
});

/** An io whose output is captured and whose environment is given. */
function captureIo(env: Record<string, string>, stdin = "") {
  const out = { stdout: "", stderr: "" };
  const io: CliIo = {
    stdout: { write: (t) => Promise.resolve(void (out.stdout += t)), isTerminal: () => false },
    stderr: { write: (t) => Promise.resolve(void (out.stderr += t)), isTerminal: () => false },
    stdin: {
      readable: () => ReadableStream.from([new TextEncoder().encode(stdin)]),
      isTerminal: () => false,
    },
    env: (name) => env[name],
  };
  return { io, out };
}

Deno.test("main runs in process with an injected io and environment", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-cli-inprocess-" });
  try {
    const env = {
      CLOUDKNOT_LOCAL_DIR: join(dir, "knots"),
      CLOUDKNOT_LOCAL_RUNS: join(dir, "runs"),
    };
    const knot = await Knot.create({
      name: "injected",
      func: (x: number) => x + 1,
      dir: env.CLOUDKNOT_LOCAL_DIR,
    });
    const list = captureIo(env);
    assert.equal(await main(["knot", "list", "--json"], list.io), 0, list.out.stderr);
    assert.deepEqual(JSON.parse(list.out.stdout).map((k: { name: string }) => k.name), [
      "injected",
    ]);
    assert.equal(JSON.parse(list.out.stdout)[0].function.kind, "func");

    const usage = captureIo(env);
    assert.equal(await main(["knot", "show"], usage.io), 2);
    assert.equal(usage.out.stdout, "");
    assert.match(usage.out.stderr, /^error: knot show needs the <knot> argument/);

    const mapped = captureIo(env, "[1, 2]");
    assert.equal(
      await main(["map", "--name", "injected", "--concurrency", "1"], mapped.io),
      0,
      mapped.out.stderr,
    );
    assert.equal(mapped.out.stdout, '{"index":0,"value":2}\n{"index":1,"value":3}\n');
    assert.match(mapped.out.stderr, /^knot injected · run \S+ · 2 items \(local\)$/m);
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help of the commands on an existing knot says --target picks among knots of the name, which are found wherever they are", async () => {
  await withHome(async (home) => {
    const onKnot = [
      "results",
      "retry",
      "cost",
      "report",
      "jobs",
      "logs",
      "knot show",
      "knot clobber",
    ];
    for (const name of onKnot) {
      const r = await cli(home, [...name.split(" "), "--help"]);
      assert.match(
        r.stdout,
        /^ {2}--target local\|aws\|docker +Which knot of the name, when there is one on more than one\n +target \(default: the one there is\)$/m,
        name,
      );
    }
    const list = await cli(home, ["knot", "list", "--help"]);
    assert.match(
      list.stdout,
      /--target local\|aws\|docker +Only the knots of this target \(default: every target\)$/m,
    );
  });
});

Deno.test("knot create of a local knot keeps --concurrency, --retries, --timeout and --memory for the maps that do not give them, and refuses --concurrency and a docker option on AWS or locally", async () => {
  await withHome(async (home) => {
    const made = await cli(home, [
      "knot",
      "create",
      "k",
      "examples/jobs.ts",
      "square",
      "--concurrency",
      "2",
      "--retries",
      "1",
      "--timeout",
      "30",
      "--memory",
      "200",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const record = JSON.parse(
      await Deno.readTextFile(join(home.env.CLOUDKNOT_LOCAL_DIR!, "k", "knot.json")),
    );
    assert.deepEqual(record.options, { concurrency: 2, retries: 1, timeout: 30, memory: 200 });
    const mapped = await cli(home, ["map", "--name", "k", "--json", "-q"], { stdin: "[3]" });
    assert.equal(mapped.code, 0, mapped.stderr);
    const { runId } = JSON.parse(mapped.stdout);
    const runs = home.env.CLOUDKNOT_LOCAL_RUNS!;
    let manifest: Record<string, unknown> | undefined;
    for await (const dir of Deno.readDir(runs)) {
      const file = join(runs, dir.name, "runs", runId, "run.json");
      manifest ??= await Deno.readTextFile(file).then(JSON.parse, () => undefined);
    }
    assert.deepEqual(
      [manifest?.attempts, manifest?.timeoutMs, manifest?.memoryMiB],
      [1, 30_000, 200],
    );
    for (
      const [args, said] of [
        [
          ["--target", "aws", "--concurrency", "2"],
          /^error: --concurrency is for --target docker or --target local: on AWS, see --max-vcpus$/m,
        ],
        [["--vcpus", "1"], /^error: --vcpus is for --target aws or --target docker$/m],
      ] as const
    ) {
      const r = await cli(home, ["knot", "create", "j", "examples/jobs.ts", "square", ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, said);
    }
  });
});

Deno.test("results, knot show and knot clobber refuse a local knot's directory that others may enter, saying chmod 700 mends it, and never take it for no knot", async () => {
  await withHome(async (home) => {
    const made = await cli(home, ["map", "examples/jobs.ts", "square", "--name", "open"], {
      stdin: "[1, 2]",
    });
    assert.equal(made.code, 0, made.stderr);
    const root = join(home.dir, "knots", "open");
    await Deno.chmod(root, 0o755);
    for (
      const args of [["results", "open"], ["knot", "show", "open"], [
        "knot",
        "clobber",
        "open",
        "--yes",
      ]]
    ) {
      const r = await cli(home, args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(
        r.stderr,
        new RegExp(
          `^error: Refusing to use ${root} for cloudknot's data: its mode is 0755, so other ` +
            `users may enter it\\. .*run chmod 700 on it`,
        ),
        args.join(" "),
      );
    }
    await Deno.chmod(root, 0o700);
    assert.equal((await cli(home, ["knot", "clobber", "open", "--yes"])).code, 0);
  });
});
