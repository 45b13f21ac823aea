/**
 * A small INI reader and writer with two dialects:
 *
 * - `"aws"` reads the AWS shared `config` and `credentials` files exactly as
 *   the AWS SDK for JavaScript does (`@smithy/shared-ini-file-loader`
 *   `parseIni`): prefixed sections such as `[profile x]` become `profile.x`,
 *   `key =` with an empty value opens a sub-section whose indented keys come
 *   back as `key.sub`, `#` and `;` start a comment at the start of a line or
 *   after whitespace.
 * - `"configparser"` reads and writes files the way Python's `configparser`
 *   does with its default settings, which is how the Python cloudknot keeps its
 *   config file: keys are lower-cased, `key = value` or `key: value`, indented
 *   lines continue a value, full-line `#`/`;` comments, order preserved.
 *
 * @module
 */
import { CloudknotError } from "./errors.ts";

/** The dialect {@linkcode parseIni} reads. */
export type IniMode = "aws" | "configparser";

/**
 * A parsed INI file: section name to (key to value), both in file order.
 *
 * In `"aws"` mode the section names and sub-section keys follow the AWS SDK:
 * `[profile dev]` is `profile.dev`, `[default]` is `default`, and
 * `s3 =` followed by an indented `addressing_style = path` is the key
 * `s3.addressing_style`.
 */
export type IniDocument = Map<string, Map<string, string>>;

/** Options of {@linkcode parseIni}. */
export interface ParseIniOptions {
  /**
   * The dialect to read.
   *
   * @default {"aws"}
   */
  mode?: IniMode;
  /** The file name, used in error messages only. */
  fileName?: string;
}

/**
 * An INI file could not be read because a line breaks the dialect's syntax.
 *
 * @example Usage
 * ```ts
 * import { IniSyntaxError, parseIni } from "@cloudknot/cloudknot";
 *
 * try {
 *   parseIni("key = outside any section", { mode: "configparser" });
 * } catch (e) {
 *   if (e instanceof IniSyntaxError) console.log(e.line); // 1
 * }
 * ```
 */
export class IniSyntaxError extends CloudknotError {
  /** The 1-based line number of the offending line. */
  readonly line: number;
  /**
   * Makes a syntax error for one line.
   *
   * @param message What is wrong and how to fix it.
   * @param line The 1-based line number.
   */
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

const AWS_SECTION_TYPES = ["profile", "sso-session", "services"];
const AWS_PREFIX_RE = /^([\w-]+)\s(["'])?([\w\-@+.%:/]+)\2$/;
const AWS_BLOCKED = ["__proto__", "profile __proto__"];

function parseAws(text: string): IniDocument {
  const doc: IniDocument = new Map();
  let section: string | undefined;
  let subSection: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = (rawLine.split(/(^|\s)[;#]/)[0] ?? "").trim();
    if (line.startsWith("[") && line.endsWith("]")) {
      section = undefined;
      subSection = undefined;
      const name = line.substring(1, line.length - 1);
      const match = AWS_PREFIX_RE.exec(name);
      if (match) {
        const prefix = match[1]!;
        if (AWS_SECTION_TYPES.includes(prefix)) section = `${prefix}.${match[3]}`;
      } else {
        section = name;
      }
      if (AWS_BLOCKED.includes(name)) {
        throw new IniSyntaxError(`Found invalid profile name "${name}"; rename the section`, 0);
      }
      continue;
    }
    if (section === undefined) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.substring(0, eq).trim();
    const value = line.substring(eq + 1).trim();
    if (value === "") {
      subSection = key;
      continue;
    }
    if (subSection !== undefined && rawLine.trimStart() === rawLine) subSection = undefined;
    let entries = doc.get(section);
    if (!entries) doc.set(section, entries = new Map());
    entries.set(subSection === undefined ? key : `${subSection}.${key}`, value);
  }
  return doc;
}

const SECTION_RE = /^\[(.+)\]/;
const OPTION_RE = /^(.*?)\s*([=:])\s*(.*)$/;

function parseConfigParser(text: string, fileName: string): IniDocument {
  const doc: IniDocument = new Map();
  let current: Map<string, string[]> | undefined;
  let currentName = "";
  let option: string | undefined;
  let indentLevel = 0;
  const raw = new Map<string, Map<string, string[]>>();
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.at(-1) === "") lines.pop();
  for (const [index, line] of lines.entries()) {
    const lineNo = index + 1;
    const stripped = line.trim();
    const isComment = stripped.startsWith("#") || stripped.startsWith(";");
    const value = isComment ? "" : stripped;
    if (value === "") {
      // configparser keeps empty lines inside a multi-line value (but not
      // comment lines) and strips trailing ones when it joins the value.
      if (!isComment && current && option !== undefined) current.get(option)!.push("");
      continue;
    }
    const indent = line.search(/\S/);
    if (current && option !== undefined && indent > indentLevel) {
      current.get(option)!.push(value);
      continue;
    }
    indentLevel = indent;
    const header = SECTION_RE.exec(value);
    if (header) {
      currentName = header[1]!;
      if (raw.has(currentName)) {
        throw new IniSyntaxError(
          `Section "${currentName}" appears twice in ${fileName} (line ${lineNo}); merge the two sections`,
          lineNo,
        );
      }
      current = new Map();
      raw.set(currentName, current);
      option = undefined;
      continue;
    }
    if (!current) {
      throw new IniSyntaxError(
        `Line ${lineNo} of ${fileName} comes before any [section] header; add a section header above it`,
        lineNo,
      );
    }
    const match = OPTION_RE.exec(value);
    if (!match || match[1] === "") {
      throw new IniSyntaxError(
        `Line ${lineNo} of ${fileName} is not "key = value"; fix or remove the line`,
        lineNo,
      );
    }
    option = match[1]!.trimEnd().toLowerCase();
    if (current.has(option)) {
      throw new IniSyntaxError(
        `Key "${option}" appears twice in section "${currentName}" of ${fileName} (line ${lineNo}); keep one`,
        lineNo,
      );
    }
    current.set(option, [match[3]!.trim()]);
  }
  for (const [name, entries] of raw) {
    const section = new Map<string, string>();
    for (const [key, parts] of entries) section.set(key, parts.join("\n").trimEnd());
    doc.set(name, section);
  }
  return doc;
}

/**
 * Parses INI text in the AWS dialect (the default) or Python's configparser
 * dialect.
 *
 * @example Usage
 * ```ts
 * import { parseIni } from "@cloudknot/cloudknot";
 * import assert from "node:assert/strict";
 *
 * const aws = parseIni("[profile dev]\nregion = eu-west-1\ns3 =\n  addressing_style = path\n");
 * assert.equal(aws.get("profile.dev")?.get("s3.addressing_style"), "path");
 *
 * const py = parseIni("[aws]\nRegion: us-east-1\n", { mode: "configparser" });
 * assert.equal(py.get("aws")?.get("region"), "us-east-1");
 * ```
 *
 * @param text The file's text.
 * @param options The dialect and a file name for error messages.
 * @returns The sections with their keys and values, in file order.
 * @throws {IniSyntaxError} When a line breaks the dialect's rules.
 */
export function parseIni(text: string, options: ParseIniOptions = {}): IniDocument {
  return (options.mode ?? "aws") === "aws"
    ? parseAws(text)
    : parseConfigParser(text, options.fileName ?? "the INI text");
}

/**
 * Writes sections the way Python's `configparser` writes them: `[name]`, one
 * `key = value` line per key with continuation lines indented by a tab, and a
 * blank line after each section.
 *
 * @example Usage
 * ```ts
 * import { stringifyIni } from "@cloudknot/cloudknot";
 * import assert from "node:assert/strict";
 *
 * const text = stringifyIni(new Map([["aws", new Map([["region", "eu-west-1"]])]]));
 * assert.equal(text, "[aws]\nregion = eu-west-1\n\n");
 * ```
 *
 * @param doc The sections to write, in order.
 * @returns The file's text.
 * @throws {IniSyntaxError} When a section or key cannot be written so that it reads back the same.
 */
export function stringifyIni(doc: IniDocument): string {
  let out = "";
  for (const [name, entries] of doc) {
    if (name === "" || /[\r\n]/.test(name) || name.includes("]")) {
      throw new IniSyntaxError(
        `Section name ${JSON.stringify(name)} cannot be written; rename it`,
        0,
      );
    }
    out += `[${name}]\n`;
    for (const [key, value] of entries) {
      if (
        key.trim() !== key || key === "" || /[=:\r\n[]/.test(key) || key !== key.toLowerCase() ||
        key.startsWith("#") || key.startsWith(";")
      ) {
        throw new IniSyntaxError(
          `Key ${
            JSON.stringify(key)
          } in section "${name}" cannot be written; use a lower-case key without "=", ":" or line breaks`,
          0,
        );
      }
      out += `${key} = ${value.replace(/\r\n|\r/g, "\n").replaceAll("\n", "\n\t")}\n`;
    }
    out += "\n";
  }
  return out;
}
