/**
 * Help text: usage lines, each command's help, each group's help and the
 * command list, rendered from the commands' declarations.
 *
 * @module
 */
import { type Command, commandName, type OptionSpec, PROGRAM } from "./common/command.ts";
import type { Style } from "./common/io.ts";
import { COMMON_OPTIONS } from "./common/options.ts";

const WIDTH = 88;

/**
 * Wraps text to a width, indenting every line after the first.
 *
 * @param text The text; its own newlines are kept.
 * @param width The widest line.
 * @param indent The indent of continuation lines.
 * @returns The wrapped text.
 */
function wrap(text: string, width: number, indent: number): string {
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(" ")) {
      if (line !== "" && line.length + 1 + word.length > width - indent) {
        out.push(line);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    out.push(line);
  }
  return out.join(`\n${" ".repeat(indent)}`);
}

/**
 * A command's usage line, such as `cloudknot map <module> [export] [options]`.
 *
 * @example Usage
 * ```ts ignore
 * console.log(usageLine(map)); // "cloudknot map <module> [export] [options]"
 * ```
 *
 * @param command The command.
 * @returns The line.
 */
export function usageLine(command: Command): string {
  const args = command.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`));
  return [PROGRAM, commandName(command), ...args, "[options]"].join(" ");
}

function optionLabel(name: string, spec: OptionSpec): string {
  const long = `--${name}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}`;
  return spec.short === undefined ? long : `-${spec.short}, ${long}`;
}

function twoColumns(rows: [string, string][], style: Style): string[] {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) =>
    `  ${style("cyan", left.padEnd(width))}${wrap(right, WIDTH, width + 2)}`
  );
}

function examples(command: Command, style: Style): string[] {
  const lines = [style("bold", command.examples.length > 1 ? "Examples:" : "Example:")];
  for (const example of command.examples) {
    lines.push(`  ${style("dim", `# ${example.description}`)}`, `  ${example.command}`);
  }
  return lines;
}

/**
 * A command's help: usage, description, arguments, options and examples.
 *
 * @example Usage
 * ```ts ignore
 * console.log(renderCommandHelp(map, style));
 * ```
 *
 * @param command The command.
 * @param style Styles headings.
 * @returns The help text, ending with a newline.
 */
export function renderCommandHelp(command: Command, style: Style): string {
  const lines = [`${style("bold", "Usage:")} ${usageLine(command)}`, "", command.summary];
  if (command.aliases?.length) lines.push(`Also: ${command.aliases.join(", ")}`);
  if (command.description) lines.push("", wrap(command.description, WIDTH, 0));
  if (command.args.length > 0) {
    lines.push("", style("bold", "Arguments:"));
    lines.push(...twoColumns(command.args.map((a) => [a.name, a.description]), style));
  }
  const options = { ...command.options, ...COMMON_OPTIONS };
  lines.push("", style("bold", "Options:"));
  lines.push(
    ...twoColumns(
      Object.entries(options).map(([name, spec]) => [
        optionLabel(name, spec),
        spec.multiple ? `${spec.description} (may be repeated)` : spec.description,
      ]),
      style,
    ),
  );
  lines.push("", ...examples(command, style));
  return lines.join("\n") + "\n";
}

/**
 * The help of a group of commands, such as `knot`.
 *
 * @example Usage
 * ```ts ignore
 * console.log(renderGroupHelp("knot", "Manage knots", commands, style));
 * ```
 *
 * @param group The group's name.
 * @param summary What the group is for.
 * @param commands The group's commands.
 * @param style Styles headings.
 * @returns The help text, ending with a newline.
 */
export function renderGroupHelp(
  group: string,
  summary: string,
  commands: Command[],
  style: Style,
): string {
  const lines = [
    `${style("bold", "Usage:")} ${PROGRAM} ${group} <${
      commands.map((c) => c.name).join("|")
    }> [options]`,
    "",
    summary,
    "",
    style("bold", "Commands:"),
    ...twoColumns(commands.map((c) => [commandName(c), c.summary]), style),
    "",
    `Run "${PROGRAM} ${group} <command> --help" for a command's options and an example.`,
  ];
  return lines.join("\n") + "\n";
}

/** Options for {@linkcode renderTopHelp}. */
export interface TopHelpOptions {
  /** Every command. */
  commands: Command[];
  /** The version. */
  version: string;
  /** Styles headings. */
  style: Style;
}

/**
 * The top-level help: what the program is, its commands, the global options
 * and the exit codes.
 *
 * @example Usage
 * ```ts ignore
 * console.log(renderTopHelp({ commands, version: "0.1.0", style }));
 * ```
 *
 * @param options The commands, the version and the styler.
 * @returns The help text, ending with a newline.
 */
export function renderTopHelp(options: TopHelpOptions): string {
  const { commands, style } = options;
  const rows: [string, string][] = commands.map((c) => [
    [commandName(c), ...(c.aliases ?? [])].join(", "),
    c.summary,
  ]);
  rows.push(["help <command>", "Show a command's help"]);
  const lines = [
    `${PROGRAM} ${options.version}: run a TypeScript function over many inputs, on this machine or on AWS Batch`,
    "",
    `${style("bold", "Usage:")} ${PROGRAM} <command> [arguments] [options]`,
    `       (from a clone of the project: deno run -A cli.ts <command> ...)`,
    "",
    style("bold", "Commands:"),
    ...twoColumns(rows, style),
    "",
    style("bold", "Global options:"),
    ...twoColumns([
      ["-h, --help", "Show help; with a command, that command's help"],
      ["-V, --version", "Print the version"],
      ["--debug", "Show the whole error, with its stack, when one happens"],
    ], style),
    "",
    style("bold", "Exit codes:"),
    ...twoColumns([
      ["0", "Success"],
      ["1", "An error: a value the other options rule out, a missing knot, or an item that failed"],
      [
        "2",
        "Bad usage: an unknown command, option or argument, a missing argument, or a value its " +
        "option never takes (out of its range)",
      ],
      ["130", "Interrupted (Ctrl-C): map and retry cancel their run; logs --follow stops"],
      ["141", "Stdout was closed before everything was printed"],
    ], style),
    "",
    "Results go to stdout; progress, logs and errors go to stderr. NO_COLOR turns colour off.",
    "",
    style("bold", "Example:"),
    `  ${
      style("dim", "# Square three numbers on this machine, one JSON line per result, with the")
    }`,
    `  ${style("dim", "# function square that your module jobs.ts exports")}`,
    `  echo '[1, 2, 3]' | ${PROGRAM} map jobs.ts square`,
  ];
  return lines.join("\n") + "\n";
}
