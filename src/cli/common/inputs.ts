/**
 * Reading a map's inputs: a JSON array, or NDJSON (one JSON value per line),
 * from a file or from stdin.
 *
 * @module
 */
import { CloudknotInputError } from "../../util/errors.ts";
import type { CliInput } from "./io.ts";

/**
 * A JSON parser's message on one line: it quotes the text it refused as it
 * is, line breaks and all, and the command line's error is one line whose
 * further lines it would take for a tool's output (a detail `--debug` shows).
 */
function oneLine(message: string): string {
  return message.replace(/\r\n|\r|\n/g, "\\n");
}

/** Options for {@linkcode parseInputs}. */
export interface ParseInputsOptions {
  /** The text is NDJSON: one JSON value per line (blank lines are skipped). */
  ndjson: boolean;
  /** Where the text came from, for messages. */
  source: string;
}

/**
 * Parses inputs: a JSON array of items, or NDJSON; a leading byte order mark
 * is skipped.
 *
 * @example Usage
 * ```ts
 * import { parseInputs } from "./inputs.ts";
 *
 * console.log(parseInputs("1\n2\n", { ndjson: true, source: "stdin" })); // [ 1, 2 ]
 * console.log(parseInputs("[[1, 2]]", { ndjson: false, source: "stdin" })); // [ [ 1, 2 ] ]
 * ```
 *
 * @param text The text.
 * @param options The format and where the text came from.
 * @returns The items.
 * @throws {CloudknotInputError} When the text is not valid JSON or NDJSON.
 */
export function parseInputs(text: string, options: ParseInputsOptions): unknown[] {
  const { source } = options;
  // A byte order mark, as Windows editors and PowerShell write, is not part of the JSON.
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  if (options.ndjson) {
    const items: unknown[] = [];
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === "") continue;
      try {
        items.push(JSON.parse(line));
      } catch (e) {
        throw new CloudknotInputError(
          `Line ${i + 1} of the inputs (${source}) is not valid JSON: ${
            oneLine((e as Error).message)
          }`,
          { field: "inputs" },
        );
      }
    }
    return items;
  }
  if (text.trim() === "") {
    throw new CloudknotInputError(
      `The inputs (${source}) are empty: pass a JSON array of items ([] for none)`,
      { field: "inputs" },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const hint = text.trim().includes("\n")
      ? "; for one JSON value per line, pass --ndjson"
      : "; pass a JSON array of items";
    throw new CloudknotInputError(
      `The inputs (${source}) are not valid JSON: ${oneLine((e as Error).message)}${hint}`,
      { field: "inputs" },
    );
  }
  if (!Array.isArray(parsed)) {
    throw new CloudknotInputError(
      `The inputs (${source}) must be a JSON array of items, not ${
        parsed === null ? "null" : typeof parsed === "object" ? "an object" : `a ${typeof parsed}`
      }: wrap them in [ ], or pass --ndjson for one item per line`,
      { field: "inputs" },
    );
  }
  return parsed;
}

/** Options for {@linkcode readInputs}. */
export interface ReadInputsOptions {
  /** `--inputs`: a file, `-` for stdin, or `undefined`. */
  file?: string;
  /** `--ndjson` was given. */
  ndjson: boolean;
  /** The command line's stdin. */
  stdin: CliInput;
  /** Reads a file (default: `Deno.readTextFile`). */
  readFile?: (path: string) => Promise<string>;
}

/**
 * Reads the inputs from a file or stdin. Without `file`, stdin is read when it
 * is not a terminal; the caller reports missing inputs when this returns
 * `undefined`. A file whose name ends in `.ndjson` or `.jsonl` is NDJSON.
 *
 * @example Usage
 * ```ts ignore
 * const items = await readInputs({ file: "inputs.json", ndjson: false, stdin: io.stdin });
 * ```
 *
 * @param options Where the inputs are and their format.
 * @returns The items, or `undefined` when there is nothing to read.
 * @throws {CloudknotInputError} When the file cannot be read or the text cannot be parsed.
 */
export async function readInputs(options: ReadInputsOptions): Promise<unknown[] | undefined> {
  const { file, stdin } = options;
  if (file === undefined && stdin.isTerminal()) return undefined;
  if (file === undefined || file === "-") {
    const text = await new Response(stdin.readable()).text();
    return parseInputs(text, { ndjson: options.ndjson, source: "stdin" });
  }
  let text: string;
  try {
    text = await (options.readFile ?? Deno.readTextFile)(file);
  } catch (e) {
    throw new CloudknotInputError(
      `Cannot read the inputs file ${file}: ${(e as Error).message}`,
      { field: "inputs", cause: e },
    );
  }
  return parseInputs(text, {
    ndjson: options.ndjson || /\.(ndjson|jsonl)$/i.test(file),
    source: file,
  });
}
