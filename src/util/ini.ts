/**
 * A small INI reader and writer with two dialects:
 *
 * - `"aws"` reads the AWS shared `config` and `credentials` files exactly as
 *   the AWS SDK for JavaScript does (`@smithy/shared-ini-file-loader`
 *   `parseIni`): prefixed sections such as `[profile x]` become `profile.x`,
 *   `key =` with an empty value opens a sub-section whose indented keys come
 *   back as `key.sub`, `#` and `;` start a comment at the start of a line or
 *   after whitespace. Lines the SDK skips silently but the AWS CLI refuses
 *   (text that is not `key = value`, a key before any section, an unclosed
 *   `[section`) are an {@linkcode IniSyntaxError} naming the file and line,
 *   so a broken file is not read as a file with missing settings.
 * - `"configparser"` reads and writes files the way Python's `configparser`
 *   does with its default settings, which is how the Python cloudknot keeps its
 *   config file: keys are lower-cased, `key = value` or `key: value`, indented
 *   lines continue a value, full-line `#`/`;` comments, order preserved.
 *   {@linkcode updateIni} writes changes into an existing file's text and
 *   keeps everything else in it: comments, blank lines, spelling of keys.
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
 * import { IniSyntaxError, parseIni } from "@cloudknot/cloudknot/state";
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

function parseAws(text: string, fileName: string): IniDocument {
  const doc: IniDocument = new Map();
  let section: string | undefined;
  let subSection: string | undefined;
  let seenHeader = false;
  // A byte-order mark (from some Windows editors) would hide the first header.
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (const [index, rawLine] of lines.entries()) {
    const lineNo = index + 1;
    const where = `Line ${lineNo} of ${fileName}`;
    const line = (rawLine.split(/(^|\s)[;#]/)[0] ?? "").trim();
    if (line.startsWith("[") && line.endsWith("]")) {
      section = undefined;
      subSection = undefined;
      seenHeader = true;
      const name = line.substring(1, line.length - 1);
      const match = AWS_PREFIX_RE.exec(name);
      if (match) {
        const prefix = match[1]!;
        if (AWS_SECTION_TYPES.includes(prefix)) section = `${prefix}.${match[3]}`;
      } else {
        section = name;
      }
      if (AWS_BLOCKED.includes(name)) {
        throw new IniSyntaxError(
          `${where} names the invalid profile "${name}"; rename the section`,
          lineNo,
        );
      }
      continue;
    }
    // The SDK skips the lines below without a word, which reads a broken file
    // as one with settings missing; the AWS CLI refuses them (botocore's
    // ConfigParseError), and so do we, saying where. An indented line is a
    // continuation for the CLI, so it is left to the rules below.
    if (line !== "" && rawLine.trimStart() === rawLine) {
      if (line.startsWith("[")) {
        throw new IniSyntaxError(
          `${where} starts a [section] header but does not end with "]"; close the bracket`,
          lineNo,
        );
      }
      if (!seenHeader) {
        throw new IniSyntaxError(
          `${where} comes before any [section] header; put it under [default] or [profile name]`,
          lineNo,
        );
      }
      if (line.startsWith("=") || !/[=:]/.test(line)) {
        throw new IniSyntaxError(
          `${where} is not "key = value"; fix or remove the line`,
          lineNo,
        );
      }
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

/** Where a key's lines are: from its `key = value` line to its last continuation line. */
interface KeySpan {
  /** The index of the key's line. */
  start: number;
  /** The index after its last non-blank continuation line. */
  end: number;
}

/** A section as found in the text: its header line, its keys' lines, its end. */
interface ScannedSection {
  name: string;
  header: number;
  end: number;
  keys: Map<string, KeySpan>;
}

/** A configparser file read with the position of every section and key. */
interface Scanned {
  lines: string[];
  sections: ScannedSection[];
  doc: IniDocument;
}

function scanConfigParser(text: string, fileName: string): Scanned {
  const sections: ScannedSection[] = [];
  let current: ScannedSection | undefined;
  let values: Map<string, string[]> | undefined;
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
      if (!isComment && values && option !== undefined) values.get(option)!.push("");
      continue;
    }
    const indent = line.search(/\S/);
    if (values && option !== undefined && indent > indentLevel) {
      values.get(option)!.push(value);
      current!.keys.get(option)!.end = index + 1;
      continue;
    }
    indentLevel = indent;
    const header = SECTION_RE.exec(value);
    if (header) {
      const name = header[1]!;
      if (raw.has(name)) {
        throw new IniSyntaxError(
          `Section "${name}" appears twice in ${fileName} (line ${lineNo}); merge the two sections`,
          lineNo,
        );
      }
      if (current) current.end = index;
      current = { name, header: index, end: lines.length, keys: new Map() };
      sections.push(current);
      values = new Map();
      raw.set(name, values);
      option = undefined;
      continue;
    }
    if (!current || !values) {
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
    if (values.has(option)) {
      throw new IniSyntaxError(
        `Key "${option}" appears twice in section "${current.name}" of ${fileName} (line ${lineNo}); keep one`,
        lineNo,
      );
    }
    values.set(option, [match[3]!.trim()]);
    current.keys.set(option, { start: index, end: index + 1 });
  }
  const doc: IniDocument = new Map();
  for (const [name, entries] of raw) {
    const section = new Map<string, string>();
    for (const [key, parts] of entries) section.set(key, parts.join("\n").trimEnd());
    doc.set(name, section);
  }
  return { lines, sections, doc };
}

/**
 * Parses INI text in the AWS dialect (the default) or Python's configparser
 * dialect.
 *
 * @example Usage
 * ```ts
 * import { parseIni } from "@cloudknot/cloudknot/state";
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
    ? parseAws(text, options.fileName ?? "the INI text")
    : scanConfigParser(text, options.fileName ?? "the INI text").doc;
}

/**
 * Writes sections the way Python's `configparser` writes them: `[name]`, one
 * `key = value` line per key with continuation lines indented by a tab, and a
 * blank line after each section.
 *
 * @example Usage
 * ```ts
 * import { stringifyIni } from "@cloudknot/cloudknot/state";
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
    out += [...formatSection(name, entries), ""].join("\n") + "\n";
  }
  return out;
}

function formatHeader(name: string): string {
  if (name === "" || /[\r\n]/.test(name) || name.includes("]")) {
    throw new IniSyntaxError(
      `Section name ${JSON.stringify(name)} cannot be written; rename it`,
      0,
    );
  }
  return `[${name}]`;
}

function formatEntry(section: string, key: string, value: string): string {
  if (
    key.trim() !== key || key === "" || /[=:\r\n[]/.test(key) || key !== key.toLowerCase() ||
    key.startsWith("#") || key.startsWith(";")
  ) {
    throw new IniSyntaxError(
      `Key ${
        JSON.stringify(key)
      } in section "${section}" cannot be written; use a lower-case key without "=", ":" or line breaks`,
      0,
    );
  }
  return `${key} = ${value.replace(/\r\n|\r/g, "\n").replaceAll("\n", "\n\t")}`;
}

function formatSection(name: string, entries: Map<string, string>): string[] {
  return [formatHeader(name), ...[...entries].map(([k, v]) => formatEntry(name, k, v))];
}

/**
 * Writes `doc` into the text of an existing configparser-dialect file,
 * changing only what differs: a changed value's lines are rewritten, a
 * removed key loses its lines (with any comment between its continuation
 * lines), a removed section its header and keys (and the comments among
 * them), new keys go after the last key of their section and new sections
 * at the end. Comments, blank lines and the
 * spelling of unchanged lines are kept, which `stringifyIni` (like Python's
 * `configparser.write`) would lose. No npm INI library keeps comments on
 * write (`ini` drops them), hence this.
 *
 * @example Usage
 * ```ts
 * import { updateIni } from "./ini.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "# mine\n[aws]\nRegion: us-east-1 \n";
 * const doc = new Map([["aws", new Map([["region", "us-east-1"], ["profile", "dev"]])]]);
 * assert.equal(updateIni(text, doc), "# mine\n[aws]\nRegion: us-east-1 \nprofile = dev\n");
 * ```
 *
 * @param text The file's current text (empty for a new file).
 * @param doc What the file must hold afterwards.
 * @param fileName The file name, for error messages.
 * @returns The new text, which reads back as `doc`.
 * @throws {IniSyntaxError} When the text cannot be read, or a section or key cannot be written.
 */
export function updateIni(text: string, doc: IniDocument, fileName = "the INI text"): string {
  const { lines, sections, doc: old } = scanConfigParser(text, fileName);
  const out = lines.slice(0, sections[0]?.header ?? lines.length);
  for (const section of sections) {
    const entries = doc.get(section.name);
    const spans = [...section.keys].sort(([, a], [, b]) => a.start - b.start);
    const body = spans.at(-1)?.[1].end ?? section.header + 1;
    if (!entries) {
      // The lines after its last key (blank lines, notes on the next section) stay.
      out.push(...lines.slice(body, section.end));
      continue;
    }
    const before = old.get(section.name)!;
    let at = section.header;
    const keep = (to: number) => {
      out.push(...lines.slice(at, to));
      at = to;
    };
    for (const [key, span] of spans) {
      keep(span.start);
      const value = entries.get(key);
      if (value === before.get(key)) keep(span.end);
      else {
        if (value !== undefined) out.push(formatEntry(section.name, key, value));
        at = span.end;
      }
    }
    keep(body);
    for (const [key, value] of entries) {
      if (!section.keys.has(key)) out.push(formatEntry(section.name, key, value));
    }
    keep(section.end);
  }
  for (const [name, entries] of doc) {
    if (old.has(name)) continue;
    if (out.length > 0 && out.at(-1)!.trim() !== "") out.push("");
    out.push(...formatSection(name, entries), "");
  }
  const joined = out.length ? out.join("\n") + "\n" : "";
  return /\r\n/.test(text) ? joined.replaceAll("\n", "\r\n") : joined;
}
