/**
 * What a subcommand is: its name, arguments, options, examples and the
 * function that runs it. A subcommand is declared in one file under
 * `src/cli/commands/` that exports a {@linkcode Command}, listed once in
 * `src/cli/registry.ts`; its `run` loads what it does from
 * `src/cli/actions/` with `import()`, so that a command loads only its own.
 *
 * @module
 */
import { UsageError } from "./errors.ts";
import { type CliIo, type Style, styleFor } from "./io.ts";
import { inRange, type NumberRange, rangeInWords } from "./ranges.ts";

/** The program's name in usage lines and examples. */
export const PROGRAM = "cloudknot";

/** One option of a command. */
export interface OptionSpec {
  /** A flag (`boolean`) or an option with a value (`string`). */
  type: "string" | "boolean";
  /** A one-letter alias, such as `"y"` for `-y`. */
  short?: string;
  /**
   * The option may be given more than once; its values are collected in order.
   * The help adds "(may be repeated)" to its description, which so does not say it.
   */
  multiple?: boolean;
  /** The value's placeholder in the help, such as `"FILE"`. */
  value?: string;
  /** One sentence for the help. */
  description: string;
}

/** One positional argument of a command. */
export interface ArgumentSpec {
  /** Its name in the usage line. */
  name: string;
  /** Whether it must be given. */
  required: boolean;
  /** One sentence for the help. */
  description: string;
}

/** An example in a command's help: a command line that works from a clone of the project. */
export interface Example {
  /** What it does. */
  description: string;
  /** The command line, as typed in a shell. */
  command: string;
}

/** A subcommand. */
export interface Command {
  /** The group it belongs to, such as `"knot"` for `knot list`. */
  group?: string;
  /** Its name within its group. */
  name: string;
  /** Other names it answers to. */
  aliases?: string[];
  /** One line for the command list. */
  summary: string;
  /** More about it, for its help. */
  description?: string;
  /** Its positional arguments, in order; required ones first. */
  args: ArgumentSpec[];
  /** Its options (`--help` and `--debug` are added to every command). */
  options: Record<string, OptionSpec>;
  /** At least one example. */
  examples: Example[];
  /** Runs it and resolves to the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/**
 * Declares a subcommand (an identity function that checks the shape).
 *
 * @example Usage
 * ```ts
 * import { defineCommand } from "./command.ts";
 *
 * export const hello = defineCommand({
 *   name: "hello",
 *   summary: "Greets",
 *   args: [],
 *   options: {},
 *   examples: [{ description: "Greet", command: "cloudknot hello" }],
 *   async run(ctx) {
 *     await ctx.print("hello");
 *     return 0;
 *   },
 * });
 * ```
 *
 * @param command The command.
 * @returns The same command.
 */
export function defineCommand(command: Command): Command {
  return command;
}

/**
 * The full name of a command, such as `"knot list"`.
 *
 * @example Usage
 * ```ts
 * import { commandName } from "./command.ts";
 *
 * console.log(commandName({ group: "knot", name: "list" })); // "knot list"
 * ```
 *
 * @param command The command.
 * @returns Its group and name.
 */
export function commandName(command: Pick<Command, "group" | "name">): string {
  return command.group === undefined ? command.name : `${command.group} ${command.name}`;
}

/** The parsed values of a command line. */
export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** Options for a {@linkcode CommandContext}. */
export interface CommandContextOptions {
  /** The io to use. */
  io: CliIo;
  /** The parsed option values. */
  values: OptionValues;
  /** The positional arguments, by name. */
  args: Record<string, string>;
  /** Whether `--debug` was given. */
  debug: boolean;
}

/**
 * What a running command sees: its arguments and options, typed accessors
 * that turn bad values into usage errors, and its outputs.
 *
 * @example Usage
 * ```ts ignore
 * const n = ctx.integer("concurrency", { min: 1 }); // a UsageError when not a number
 * await ctx.print(JSON.stringify({ n }));
 * ```
 */
export class CommandContext {
  /** The command being run. */
  readonly command: Command;
  /** The io. */
  readonly io: CliIo;
  /** Whether `--debug` was given. */
  readonly debug: boolean;
  /** Styles text for stdout. */
  readonly out: Style;
  /** Styles text for stderr. */
  readonly err: Style;
  #values: OptionValues;
  #args: Record<string, string>;

  /**
   * Makes a context.
   *
   * @param command The command being run.
   * @param options Its io and parsed command line.
   */
  constructor(command: Command, options: CommandContextOptions) {
    this.command = command;
    this.io = options.io;
    this.debug = options.debug;
    this.#values = options.values;
    this.#args = options.args;
    this.out = styleFor(options.io.stdout, options.io);
    this.err = styleFor(options.io.stderr, options.io);
  }

  /**
   * A positional argument.
   *
   * @param name Its name.
   * @returns Its value, or `undefined` when it was not given.
   */
  arg(name: string): string | undefined {
    return this.#args[name];
  }

  /**
   * A flag.
   *
   * @param name Its long name.
   * @returns Whether it was given.
   */
  flag(name: string): boolean {
    return this.#values[name] === true;
  }

  /**
   * An option's value (the last one, when given more than once).
   *
   * @param name Its long name.
   * @returns The value, or `undefined`.
   */
  string(name: string): string | undefined {
    const value = this.#values[name];
    if (Array.isArray(value)) return value.at(-1) as string | undefined;
    return typeof value === "string" ? value : undefined;
  }

  /**
   * Every value of an option given more than once.
   *
   * @param name Its long name.
   * @returns The values, in order.
   */
  strings(name: string): string[] {
    const value = this.#values[name];
    if (Array.isArray(value)) return value.map(String);
    return typeof value === "string" ? [value] : [];
  }

  /**
   * An option's value as a number of a range.
   *
   * @param name Its long name.
   * @param range The numbers it takes (see `ranges.ts`); its word, if any, is not taken here.
   * @returns The number, or `undefined` when the option was not given.
   * @throws {UsageError} When the value is not a number of the range, naming the range.
   */
  number(name: string, range: NumberRange): number | undefined {
    const value = this.numberOrWord(name, { ...range, word: undefined });
    return value as number | undefined;
  }

  /**
   * An option's value as a number of a range, or the range's word (such as
   * `auto` or `never`, in any case).
   *
   * @param name Its long name.
   * @param range The numbers it takes, and its word.
   * @returns The number, the word (as the range spells it), or `undefined` when not given.
   * @throws {UsageError} When the value is neither, naming the range.
   */
  numberOrWord(name: string, range: NumberRange): number | string | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const trimmed = text.trim();
    if (range.word !== undefined && trimmed.toLowerCase() === range.word.toLowerCase()) {
      return range.word;
    }
    // Digits only for an integer (not "1e3", "0x10"), but for the numbers it takes besides.
    let value = trimmed === "" ? NaN : Number(trimmed);
    if (range.integer && !/^[+-]?\d+$/.test(trimmed) && !range.also?.includes(value)) {
      value = NaN;
    }
    if (!inRange(value, range)) {
      throw this.usage(
        `--${name} takes ${rangeInWords(range)}, not "${text}"` +
          (range.why !== undefined ? `: ${range.why}` : ""),
      );
    }
    return value;
  }

  /**
   * An option's value as an integer.
   *
   * @param name Its long name.
   * @param options The smallest value allowed.
   * @returns The integer, or `undefined` when the option was not given.
   * @throws {UsageError} When the value is not an integer of at least `min`.
   */
  integer(name: string, options: { min?: number } = {}): number | undefined {
    return this.number(name, { integer: true, min: options.min ?? -Infinity });
  }

  /**
   * An option's value as a positive number.
   *
   * @param name Its long name.
   * @returns The number, or `undefined` when the option was not given.
   * @throws {UsageError} When the value is not a positive number.
   */
  positive(name: string): number | undefined {
    return this.number(name, { integer: false, min: 0, above: true });
  }

  /**
   * Makes a usage error for this command.
   *
   * @param message What is wrong.
   * @returns The error, to throw.
   */
  usage(message: string): UsageError {
    return new UsageError(message, { command: commandName(this.command) });
  }

  /**
   * Writes a line of results to stdout.
   *
   * @param line The line, without its newline.
   */
  print(line: string): Promise<void> {
    return this.io.stdout.write(`${line}\n`);
  }

  /**
   * Writes a line of information to stderr.
   *
   * @param line The line, without its newline.
   */
  log(line: string): Promise<void> {
    return this.io.stderr.write(`${line}\n`);
  }

  /**
   * Writes a warning to stderr, in yellow, without waiting: for the `warn`
   * callbacks of the library (waits, ignored options, stuck runs).
   *
   * @param message The warning.
   */
  warn(message: string): void {
    this.log(this.err("yellow", message)).catch(() => {});
  }
}
