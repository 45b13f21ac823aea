/**
 * Small XML helpers for the emulator's responses.
 *
 * @module
 */
import { XMLParser } from "./deps.ts";

/**
 * Escapes text for an XML element (AWS leaves quotes unescaped in text).
 *
 * @example Usage
 * ```ts ignore
 * xmlEscape("a<b"); // "a&lt;b"
 * ```
 */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

/** A JSON-like value rendered as nested XML elements. */
export type XmlValue = string | number | boolean | Date | null | undefined | XmlNode | XmlValue[];

/** Child elements by name; an array value repeats the element. */
export interface XmlNode {
  [name: string]: XmlValue;
}

/**
 * Renders nested objects as XML elements: arrays repeat the element, `Date`s
 * become ISO-8601, `undefined` members are left out.
 *
 * @example Usage
 * ```ts ignore
 * xmlElements({ Name: "b", Item: [1, 2] }); // "<Name>b</Name><Item>1</Item><Item>2</Item>"
 * ```
 */
export function xmlElements(node: XmlNode): string {
  let out = "";
  for (const [name, value] of Object.entries(node)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) out += xmlElement(name, v);
  }
  return out;
}

function xmlElement(name: string, value: XmlValue): string {
  if (value === undefined) return "";
  if (value === null) return `<${name}/>`;
  if (value instanceof Date) return `<${name}>${isoSeconds(value)}</${name}>`;
  if (Array.isArray(value)) return value.map((v) => xmlElement(name, v)).join("");
  if (typeof value === "object") return `<${name}>${xmlElements(value)}</${name}>`;
  return `<${name}>${xmlEscape(String(value))}</${name}>`;
}

/**
 * Formats a date the way AWS XML does (`2024-01-02T03:04:05.000Z`).
 *
 * @example Usage
 * ```ts ignore
 * isoSeconds(new Date(0)); // "1970-01-01T00:00:00.000Z"
 * ```
 */
export function isoSeconds(d: Date): string {
  return d.toISOString();
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  removeNSPrefix: true,
  isArray: () => false,
});

/**
 * Parses an XML document into plain objects (text values stay strings; repeated
 * elements become arrays). Throws on malformed XML.
 *
 * @example Usage
 * ```ts ignore
 * parseXml("<a><b>1</b></a>"); // { a: { b: "1" } }
 * ```
 */
export function parseXml(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (!trimmed.startsWith("<")) throw new Error("Not XML");
  return parser.parse(trimmed, true) as Record<string, unknown>;
}
