/**
 * XML reading and writing for the query, EC2 and S3 protocols, plus a decoder
 * driven by per-service shape hints. Documents are parsed by
 * `@rgrove/parse-xml` (a compliant, dependency-free parser of about 36 kB; it
 * replaced fast-xml-parser, whose 147 kB were more than the rest of a job's
 * runtime, which parses S3's XML too), into the shape the AWS SDK's parser
 * gives: no attributes, no tag value coercion, whitespace kept.
 *
 * @module
 */
import { parseXml as parseDocument, XmlElement, XmlText } from "@rgrove/parse-xml";

/** A parsed XML element: text, or child name to element(s). */
export type XmlNode = string | { [name: string]: XmlNode | XmlNode[] };

/**
 * Parses XML into nested objects in which every child is an array, so lists
 * with one element stay lists. An element with no child element is its text
 * (`""` when empty); text between child elements is dropped when it is only
 * whitespace, else kept under `#text`.
 *
 * @param text The XML text.
 * @returns The document.
 * @throws {Error} When the text is not well-formed XML.
 */
export function parseXml(text: string): Record<string, XmlNode[]> {
  const doc = parseDocument(text, { ignoreUndefinedEntities: true });
  return elementsOf(doc.children) as Record<string, XmlNode[]>;
}

function elementsOf(
  nodes: readonly unknown[],
): { [name: string]: XmlNode[] } {
  const out: { [name: string]: XmlNode[] } = {};
  let text = "";
  for (const node of nodes) {
    if (node instanceof XmlElement) (out[node.name] ??= []).push(toNode(node));
    else if (node instanceof XmlText) text += node.text;
  }
  if (text.trim() !== "") out["#text"] = [text];
  return out;
}

function toNode(element: XmlElement): XmlNode {
  if (!element.children.some((c) => c instanceof XmlElement)) {
    const text = element.children.map((c) => c instanceof XmlText ? c.text : "").join("");
    // Indentation alone (a formatted empty element) is no value.
    return text.trim() === "" && text.includes("\n") ? "" : text;
  }
  return elementsOf(element.children);
}

/**
 * The first child element of a parsed node with the given name.
 *
 * @param node A parsed node.
 * @param name The child's name.
 * @returns The child, or `undefined`.
 */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (node === undefined || typeof node === "string") return undefined;
  const value = node[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The text of a child element.
 *
 * @param node A parsed node.
 * @param name The child's name.
 * @returns The text, `""` for an empty element, or `undefined` when absent.
 */
export function text(node: XmlNode | undefined, name: string): string | undefined {
  const value = child(node, name);
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : "";
}

/**
 * How to turn XML elements into typed values, by element name. A name that
 * means different things in different places is qualified by its parent
 * element (`imagesSet/enaSupport`); qualified names are looked up first.
 */
export interface ShapeHints {
  /** Elements that are lists (their children are list members). */
  lists?: ReadonlySet<string>;
  /**
   * Elements that are maps (`<entry><key>…</key><value>…</value></entry>`
   * children); the kind of their values is read as `<map>/value`.
   */
  maps?: ReadonlySet<string>;
  /** Elements whose text is a number. */
  numbers?: ReadonlySet<string>;
  /** Elements whose text is `true`/`false`. */
  booleans?: ReadonlySet<string>;
  /** Elements whose text is an ISO-8601 timestamp. */
  timestamps?: ReadonlySet<string>;
  /** Elements whose text is URL-encoded (IAM policy documents). */
  urlEncoded?: ReadonlySet<string>;
  /** Wire element name to API member name, where they differ (EC2). */
  renames?: Readonly<Record<string, string>>;
  /** The name of list member elements: `member` (query) or `item` (EC2). */
  memberName: string;
  /** Capitalise element names that are not renamed (EC2 wire names are lowerCamel). */
  capitalize?: boolean;
}

/**
 * Decodes a parsed element into plain values using the hints: lists become
 * arrays (also with one or no member), scalars are converted, and EC2 names
 * are mapped to API member names.
 *
 * @param node The parsed element.
 * @param hints The service's shape hints.
 * @param parent The element's name (for qualified hints); `""` for the root.
 * @returns The decoded value.
 */
export function decodeXml(
  node: XmlNode | undefined,
  hints: ShapeHints,
  parent = "",
): Record<string, unknown> {
  if (node === undefined || typeof node === "string") return {};
  const out: Record<string, unknown> = {};
  for (const [wire, values] of Object.entries(node)) {
    const name = hints.renames?.[`${parent}/${wire}`] ?? hints.renames?.[wire] ??
      (hints.capitalize ? wire[0]!.toUpperCase() + wire.slice(1) : wire);
    const first = Array.isArray(values) ? values[0] : values;
    out[name] = decodeValue(parent, wire, first, hints);
  }
  return out;
}

function has(set: ReadonlySet<string> | undefined, parent: string, wire: string): boolean {
  return set !== undefined && (set.has(`${parent}/${wire}`) || set.has(wire));
}

function decodeValue(
  parent: string,
  wire: string,
  value: XmlNode | undefined,
  hints: ShapeHints,
): unknown {
  if (has(hints.lists, parent, wire)) {
    if (value === undefined || typeof value === "string") return [];
    const members = value[hints.memberName];
    const list = Array.isArray(members) ? members : members === undefined ? [] : [members];
    return list.map((m) => decodeMember(parent, wire, m, hints));
  }
  if (has(hints.maps, parent, wire)) {
    if (value === undefined || typeof value === "string") return {};
    const entries = value.entry;
    const list = Array.isArray(entries) ? entries : entries === undefined ? [] : [entries];
    return Object.fromEntries(list.map((entry) => [
      text(entry, "key") ?? "",
      scalar(wire, "value", text(entry, "value") ?? "", hints),
    ]));
  }
  if (typeof value === "string" || value === undefined) {
    return scalar(parent, wire, value ?? "", hints);
  }
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === hints.memberName) {
    const members = value[hints.memberName] as XmlNode[];
    return members.map((m) => decodeMember(parent, wire, m, hints));
  }
  return decodeXml(value, hints, wire);
}

function decodeMember(parent: string, wire: string, value: XmlNode, hints: ShapeHints): unknown {
  if (typeof value === "string") return scalar(parent, wire, value, hints);
  return decodeXml(value, hints, wire);
}

function scalar(parent: string, wire: string, value: string, hints: ShapeHints): unknown {
  if (has(hints.numbers, parent, wire)) return Number(value);
  if (has(hints.booleans, parent, wire)) return value === "true";
  if (has(hints.timestamps, parent, wire)) return new Date(value);
  if (has(hints.urlEncoded, parent, wire)) return decodeURIComponent(value);
  return value;
}

/**
 * Escapes text for an XML element.
 *
 * @param value The raw text.
 * @returns The escaped text.
 */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r\n]/g, (c) =>
    ({
      "&": "&amp;",
      "<": "&lt;",
      ">": "&gt;",
      '"': "&quot;",
      "'": "&apos;",
      "\r": "&#x0D;",
      "\n": "&#x0A;",
    })[c]!);
}
