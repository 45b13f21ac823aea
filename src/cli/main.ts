/**
 * The command line's dispatcher: finds the command, parses its options,
 * runs it, and turns what went wrong into one message and an exit code.
 *
 * @module
 */
import { parseArgs } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };
import { CloudknotError } from "../util/errors.ts";
import { closestWord } from "../util/validate.ts";
import {
  type Command,
  CommandContext,
  commandName,
  type OptionSpec,
  PROGRAM,
} from "./common/command.ts";
import { UsageError } from "./common/errors.ts";
import { isDiskRefusal } from "../targets/local/errors.ts";
import { inCliWords } from "./common/cli_words.ts";
import { renderCommandHelp, renderGroupHelp, renderTopHelp, usageLine } from "./help.ts";
import { type CliIo, denoIo, styleFor } from "./common/io.ts";
import { COMMON_OPTIONS } from "./common/options.ts";
import { COMMANDS, GROUPS } from "./registry.ts";

/** The package's version. */
export const VERSION: string = denoJson.version;

/** The flags `help` takes besides a command's name. */
const HELP_FLAGS: readonly string[] = ["--help", "-h", "--debug"];

/** The exit code when stdout was closed early (128 + SIGPIPE), as other tools do. */
const BROKEN_PIPE = 141;

/** Options for {@linkcode runCommandLine}. */
export interface RunCommandLineOptions {
  /** The io (default: this process's). */
  io?: Partial<CliIo>;
  /** The commands (default: every command of the registry). */
  commands?: Command[];
  /** What each group is for (default: the registry's groups). */
  groups?: Record<string, string>;
}

/** What the arguments name: a command, a group, or the help of either. */
type Target =
  | { kind: "command"; command: Command; rest: string[] }
  | { kind: "group"; group: string; rest: string[] };

/**
 * Runs the command line and resolves to its exit code: 0 on success, 1 for an
 * error (a bad value, a missing knot, a failed item), 2 for bad usage.
 *
 * @example Usage
 * ```ts ignore
 * import { runCommandLine } from "./main.ts";
 *
 * Deno.exit(await runCommandLine(["knot", "list", "--json"]));
 * ```
 *
 * @param args The arguments after the program's name.
 * @param options The io and the commands.
 * @returns The exit code.
 */
export async function runCommandLine(
  args: string[],
  options: RunCommandLineOptions = {},
): Promise<number> {
  const io: CliIo = { ...denoIo(), ...options.io };
  const commands = options.commands ?? COMMANDS;
  const groups = options.groups ?? GROUPS;
  const state: Setup["state"] = { debug: false };
  try {
    return await dispatch(args, { io, commands, groups, state });
  } catch (e) {
    return await report(e, {
      io,
      commands,
      groups,
      debug: state.debug,
      ...(state.command !== undefined ? { command: state.command } : {}),
    });
  } finally {
    // Let writes nobody waited for (such as the last progress line) finish.
    await Promise.all([io.stdout.write(""), io.stderr.write("")]).catch(() => {});
  }
}

interface Setup {
  io: CliIo;
  commands: Command[];
  groups: Record<string, string>;
  state: { debug: boolean; command?: Command };
}

async function dispatch(args: string[], setup: Setup): Promise<number> {
  const { io, commands, groups, state } = setup;
  const rest = [...args];
  let help = false;
  while (rest[0]?.startsWith("-")) {
    const flag = rest.shift()!;
    if (flag === "--help" || flag === "-h") help = true;
    else if (flag === "--version" || flag === "-V") {
      await io.stdout.write(`${PROGRAM} ${VERSION}\n`);
      return 0;
    } else if (flag === "--debug") state.debug = true;
    else {
      throw new UsageError(
        `Unknown option ${flag}: put a command first, as in "${PROGRAM} map --help"`,
      );
    }
  }
  const style = styleFor(io.stdout, io);
  if (rest.length === 0) {
    if (!help) throw new UsageError("Which command? Pass one of the commands below");
    await io.stdout.write(renderTopHelp({ commands, version: VERSION, style }));
    return 0;
  }
  if (rest[0] === "help") {
    rest.shift();
    // `help` takes a command's name and nothing else: a word it would not read is refused.
    const flag = rest.find((w) => w.startsWith("-") && !HELP_FLAGS.includes(w));
    if (flag !== undefined) {
      throw new UsageError(`Unknown option ${flag}: help takes a command's name only`);
    }
    const words = rest.filter((w) => !w.startsWith("-"));
    if (words.length === 0) {
      await io.stdout.write(renderTopHelp({ commands, version: VERSION, style }));
      return 0;
    }
    const found = find(words, commands, groups);
    if (found.kind === "group" && found.rest.length > 0) {
      throw new UsageError(
        `Unknown command "${words.join(" ")}"${suggest(words.join(" "), commands)}`,
        {
          command: found.group,
        },
      );
    }
    if (found.kind === "command" && found.rest.length > 0) {
      const name = commandName(found.command);
      throw new UsageError(
        `Unexpected argument "${found.rest[0]}": help takes a command's name only, as in ` +
          `"${PROGRAM} help ${name}"`,
      );
    }
    await io.stdout.write(helpFor(found, commands, groups, style));
    return 0;
  }
  const found = find(rest, commands, groups);
  if (found.kind === "group") {
    const word = found.rest.find((w) => !w.startsWith("-"));
    if (
      word === undefined &&
      (help || found.rest.includes("--help") || found.rest.includes("-h"))
    ) {
      await io.stdout.write(helpFor(found, commands, groups, style));
      return 0;
    }
    const members = commands.filter((c) => c.group === found.group).map((c) => c.name);
    throw new UsageError(
      word === undefined
        ? `${found.group} needs a command: ${members.join(", ")}`
        : `Unknown command "${found.group} ${word}"${suggest(`${found.group} ${word}`, commands)}`,
      { command: found.group },
    );
  }
  const { command } = found;
  state.command = command;
  const name = commandName(command);
  // `cloudknot --help map …` reads the rest as `cloudknot map --help …` does: an option or
  // argument the command does not take is refused, not ignored.
  if (help) found.rest.unshift("--help");
  const specs = { ...command.options, ...COMMON_OPTIONS };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(found.rest, specs),
      options: Object.fromEntries(
        Object.entries(specs).map(([long, spec]) => [long, {
          type: spec.type,
          ...(spec.short !== undefined ? { short: spec.short } : {}),
          ...(spec.multiple ? { multiple: true } : {}),
        }]),
      ),
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(parseErrorMessage(e, specs, found.rest), { command: name });
  }
  if (parsed.values.debug === true) state.debug = true;
  const positionals = parsed.positionals;
  if (positionals.length > command.args.length) {
    const takes = command.args.length === 0
      ? "no arguments"
      : `only ${command.args.map((a) => a.required ? `<${a.name}>` : `[${a.name}]`).join(" ")}`;
    throw new UsageError(
      `Unexpected argument "${positionals[command.args.length]}": ${name} takes ${takes}`,
      { command: name },
    );
  }
  if (parsed.values.help === true) {
    await io.stdout.write(renderCommandHelp(command, style));
    return 0;
  }
  const named: Record<string, string> = {};
  command.args.forEach((arg, i) => {
    const value = positionals[i];
    if (value !== undefined) named[arg.name] = value;
    else if (arg.required) {
      throw new UsageError(`${name} needs the <${arg.name}> argument: ${arg.description}`, {
        command: name,
      });
    }
  });
  const ctx = new CommandContext(command, {
    io,
    values: parsed.values as Record<string, string | boolean | string[] | undefined>,
    args: named,
    debug: state.debug,
  });
  return await command.run(ctx);
}

function find(words: string[], commands: Command[], groups: Record<string, string>): Target {
  const [word, ...rest] = words as [string, ...string[]];
  const top = commands.find((c) =>
    c.group === undefined && (c.name === word || c.aliases?.includes(word))
  );
  if (top !== undefined) return { kind: "command", command: top, rest };
  const inGroup = commands.filter((c) => c.group === word);
  if (inGroup.length > 0 || word in groups) {
    const sub = rest[0];
    const member = inGroup.find((c) => c.name === sub || c.aliases?.includes(sub ?? ""));
    if (member !== undefined) return { kind: "command", command: member, rest: rest.slice(1) };
    return { kind: "group", group: word, rest };
  }
  throw new UsageError(`Unknown command "${word}"${suggest(word, commands)}`);
}

function helpFor(
  found: Target,
  commands: Command[],
  groups: Record<string, string>,
  style: ReturnType<typeof styleFor>,
): string {
  if (found.kind === "command") return renderCommandHelp(found.command, style);
  return renderGroupHelp(
    found.group,
    groups[found.group] ?? "",
    commands.filter((c) => c.group === found.group),
    style,
  );
}

/**
 * Joins an option that takes a value with a negative number after it
 * (`--timeout -1` becomes `--timeout=-1`): `parseArgs` takes `-1` for an
 * option and refuses the pair as ambiguous, so the value's own check, which
 * says what is allowed, never ran.
 */
function joinNegativeValues(args: string[], specs: Record<string, { type: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return [...out, ...args.slice(i)];
    const next = args[i + 1];
    const spec = arg.startsWith("--") && !arg.includes("=") ? specs[arg.slice(2)] : undefined;
    if (spec?.type === "string" && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function suggest(word: string, commands: Command[]): string {
  const names = commands.flatMap((c) => [
    commandName(c),
    ...(c.aliases ?? []).map((a) => commandName({ ...c, name: a })),
  ]);
  const best = closestWord(word, names);
  return best === undefined
    ? `: run "${PROGRAM} --help" for the list of commands`
    : `: did you mean "${best}"?`;
}

/**
 * What `parseArgs` refused, in the command line's words: an unknown option
 * (with the closest one), a value missing after an option (`--name` last, or
 * followed by a word that starts with a dash, which `parseArgs` will not
 * take for its value), a value given to a flag (`--json=1`, `-q=1`).
 */
function parseErrorMessage(
  error: unknown,
  specs: Record<string, OptionSpec>,
  args: string[],
): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const words = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  // `'-o, --out <value>'` names both spellings: the one typed is said.
  const named = /'(-[^' ,]+)(?:, (--[^' ]+))?/.exec(message);
  const option = named?.[2] !== undefined && words.includes(named[2]) ? named[2] : named?.[1] ?? "";
  const longOf = (flag: string) =>
    flag.startsWith("--")
      ? flag
      : `--${Object.entries(specs).find(([, spec]) => spec.short === flag.slice(1))?.[0]}`;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    if (option === "-=") {
      // `-q=1`: parseArgs reads every character after one dash as a flag, "=" too.
      const word = words.find((w) => /^-[^-=]+=/.test(w)) ?? "";
      const short = word.slice(1, word.indexOf("=")).at(-1);
      const spec = Object.values(specs).find((s) => s.short === short);
      return spec?.type === "boolean"
        ? `Option -${short} takes no value`
        : `Unknown option ${word}`;
    }
    const best = closestWord(option.replace(/^-+/, ""), Object.keys(specs));
    return `Unknown option ${option}${best === undefined ? "" : `: did you mean --${best}?`}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    if (/argument missing/.test(message)) return `Option ${option} needs a value`;
    if (/argument is ambiguous/.test(message)) {
      return `Option ${option} needs a value (for a value that starts with a dash, write ` +
        `${longOf(option)}=-x)`;
    }
    if (/does not take an argument/.test(message)) return `Option ${option} takes no value`;
  }
  return message;
}

interface ReportSetup {
  io: CliIo;
  commands: Command[];
  groups: Record<string, string>;
  debug: boolean;
  /** The command that ran, when one did. */
  command?: Command;
}

/** A line that says what went wrong, in a tool's output. */
const FAILURE_LINE = /error|fail|not found|denied|no such|cannot|unable|invalid|unknown/i;

async function report(error: unknown, setup: ReportSetup): Promise<number> {
  const { io, commands, groups, debug } = setup;
  const style = styleFor(io.stderr, io);
  const prefix = style(["bold", "red"], "error:");
  const write = (text: string) => io.stderr.write(text).catch(() => {});
  if (error instanceof Deno.errors.BrokenPipe) return BROKEN_PIPE;
  if (error instanceof UsageError) {
    let usage = `${PROGRAM} <command> [arguments] [options]`;
    let more = `${PROGRAM} --help`;
    const command = commands.find((c) => commandName(c) === error.command);
    if (command !== undefined) {
      usage = usageLine(command);
      more = `${PROGRAM} ${commandName(command)} --help`;
    } else if (error.command !== undefined && (error.command in groups)) {
      const members = commands.filter((c) => c.group === error.command).map((c) => c.name);
      usage = `${PROGRAM} ${error.command} <${members.join("|")}> [options]`;
      more = `${PROGRAM} ${error.command} --help`;
    }
    await write(
      `${prefix} ${error.message}\n${style("bold", "Usage:")} ${usage}\n` +
        `Run "${more}" for the options and an example.\n`,
    );
    return 2;
  }
  if (debug) {
    await write(`${prefix} ${describeWithCauses(error)}\n`);
    return 1;
  }
  if (error instanceof CloudknotError || error instanceof Deno.errors.NotCapable) {
    // One line: the message's first line in the user's words, and of any
    // detail (a tool's output) the line that says what failed: its first
    // "error:" line (deno's), else its last line that reads as a failure
    // (a build's), else its last line.
    const [first, ...more] = inCliWords(error, setup.command).split("\n").map((line) =>
      line.trim()
    );
    const lines = more.filter((line) => line !== "" && !/^Output of /.test(line));
    const detail = (lines.find((line) => /^error:/i.test(line)) ??
      lines.findLast((line) => FAILURE_LINE.test(line)) ?? lines.at(-1))
      ?.replace(/^error:\s*/i, "");
    const hint = detail === undefined ? "" : ` ${detail} (run with --debug for the details)`;
    await write(`${prefix} ${first}${hint}\n`);
    return 1;
  }
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  if (isDiskRefusal(error)) {
    // A write the disk refused where no command words it (a config file, a bundle in TMPDIR, the
    // image cache): what happened, with the path Deno names, and what to do.
    const code = (error as { code?: string }).code;
    await write(
      `${prefix} A write was refused by the disk: ${message}. ${
        code === "EROFS"
          ? "That file system is read-only: make it writable"
          : code === "EIO"
          ? "The disk failed: check it"
          : "Free space on that disk"
      }, or point what writes there elsewhere (TMPDIR, HOME, CLOUDKNOT_LOCAL_DIR, ` +
        `CLOUDKNOT_CONFIG_FILE), then run the command again\n`,
    );
    return 1;
  }
  await write(
    `${prefix} ${name}: ${message} (an unexpected error; run with --debug for its stack)\n`,
  );
  return 1;
}

function describeWithCauses(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    if (current instanceof Error) {
      parts.push(current.stack ?? `${current.name}: ${current.message}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join("\nCaused by: ");
}
