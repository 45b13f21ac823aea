/**
 * The query protocols (awsQuery for IAM/STS, ec2Query for EC2): a form body
 * parsed back into the model's shape, and output objects rendered as the
 * model's XML.
 *
 * @module
 */
import type { ModelShape } from "./models.ts";
import { xmlEscape } from "./xml.ts";

/** The result of parsing a form against a shape. */
export interface ParsedForm {
  /** The parameters in the model's shape. */
  params: Record<string, unknown>;
  /** Form keys that no model member consumed. */
  unknownKeys: string[];
}

function ucfirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function wireName(m: ModelShape, memberName: string, ec2: boolean): string {
  const name = m.name ?? memberName;
  if (!ec2 || m.isQueryName) return name;
  return ucfirst(name);
}

/**
 * Parses `application/x-www-form-urlencoded` pairs into the input shape of an
 * operation, following the v2 SDK's serializer rules in reverse (`.member.N`
 * lists, `.entry.N.key` maps, flattened lists, EC2's `.N` lists).
 *
 * @example Usage
 * ```ts ignore
 * parseForm(new Map([["Tags.member.1.Key", "a"]]), op.input, false);
 * ```
 */
export function parseForm(
  form: Map<string, string>,
  shape: ModelShape,
  ec2: boolean,
): ParsedForm {
  const consumed = new Set<string>(["Action", "Version"]);
  const keys = [...form.keys()];
  const params = (readStructure(form, keys, consumed, "", shape, ec2) ?? {}) as Record<
    string,
    unknown
  >;
  return { params, unknownKeys: keys.filter((k) => !consumed.has(k)) };
}

function readStructure(
  form: Map<string, string>,
  keys: string[],
  consumed: Set<string>,
  prefix: string,
  shape: ModelShape,
  ec2: boolean,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [memberName, m] of Object.entries(shape.members ?? {})) {
    const wire = wireName(m, memberName, ec2);
    const v = readMember(form, keys, consumed, prefix ? `${prefix}.${wire}` : wire, m, ec2);
    if (v !== undefined) {
      out[memberName] = v;
      any = true;
    }
  }
  return any ? out : undefined;
}

function indicesUnder(keys: string[], base: string): number[] {
  const found = new Set<number>();
  const p = `${base}.`;
  for (const k of keys) {
    if (!k.startsWith(p)) continue;
    const seg = k.slice(p.length).split(".")[0]!;
    if (/^[0-9]+$/.test(seg)) found.add(Number(seg));
  }
  return [...found].sort((a, b) => a - b);
}

function readMember(
  form: Map<string, string>,
  keys: string[],
  consumed: Set<string>,
  key: string,
  shape: ModelShape,
  ec2: boolean,
): unknown {
  switch (shape.type) {
    case "structure":
      return readStructure(form, keys, consumed, key, shape, ec2);
    case "list": {
      const member = shape.member!;
      let base: string;
      if (ec2) base = key;
      else if (shape.flattened) {
        base = member.name ? [...key.split(".").slice(0, -1), member.name].join(".") : key;
      } else base = `${key}.${member.name ?? "member"}`;
      if (!ec2 && form.has(key) && form.get(key) === "") {
        consumed.add(key);
        return [];
      }
      const idx = indicesUnder(keys, base);
      if (idx.length === 0) return undefined;
      return idx.map((i) => readMember(form, keys, consumed, `${base}.${i}`, member, ec2));
    }
    case "map": {
      const base = shape.flattened ? key : `${key}.entry`;
      const idx = indicesUnder(keys, base);
      if (idx.length === 0) return undefined;
      const out: Record<string, unknown> = {};
      for (const i of idx) {
        const k = readMember(
          form,
          keys,
          consumed,
          `${base}.${i}.${shape.key?.name ?? "key"}`,
          shape.key!,
          ec2,
        );
        const v = readMember(
          form,
          keys,
          consumed,
          `${base}.${i}.${shape.value?.name ?? "value"}`,
          shape.value!,
          ec2,
        );
        if (typeof k === "string") out[k] = v;
      }
      return out;
    }
    default: {
      if (!form.has(key)) return undefined;
      consumed.add(key);
      const raw = form.get(key)!;
      switch (shape.type) {
        case "integer":
        case "long":
          return /^-?[0-9]+$/.test(raw) ? Number(raw) : raw;
        case "float":
        case "double":
          return raw !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
        case "boolean":
          return raw === "true" ? true : raw === "false" ? false : raw;
        case "timestamp": {
          const d = /^[0-9]+(\.[0-9]+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
          return Number.isNaN(d.getTime()) ? raw : d;
        }
        default:
          return raw;
      }
    }
  }
}

/**
 * Renders an output object as the model's XML members (without the outer
 * response element).
 *
 * @example Usage
 * ```ts ignore
 * renderXmlMembers(op.output, { Role: { RoleName: "r" } });
 * ```
 */
export function renderXmlMembers(shape: ModelShape, value: Record<string, unknown>): string {
  let out = "";
  for (const [memberName, m] of Object.entries(shape.members ?? {})) {
    const v = value[memberName];
    if (v === undefined || v === null) continue;
    out += renderXmlValue(m.name ?? memberName, m, v);
  }
  return out;
}

function renderXmlValue(name: string, shape: ModelShape, v: unknown): string {
  switch (shape.type) {
    case "structure":
      return `<${name}>${renderXmlMembers(shape, v as Record<string, unknown>)}</${name}>`;
    case "list": {
      const items = v as unknown[];
      const member = shape.member!;
      if (shape.flattened) {
        return items.map((i) => renderXmlValue(member.name ?? name, member, i)).join("");
      }
      const inner = items.map((i) => renderXmlValue(member.name ?? "member", member, i)).join("");
      return `<${name}>${inner}</${name}>`;
    }
    case "map": {
      const entries = Object.entries(v as Record<string, unknown>);
      const kn = shape.key?.name ?? "key";
      const vn = shape.value?.name ?? "value";
      const one = ([k, val]: [string, unknown]) =>
        `${renderXmlValue(kn, shape.key!, k)}${renderXmlValue(vn, shape.value!, val)}`;
      if (shape.flattened) return entries.map((e) => `<${name}>${one(e)}</${name}>`).join("");
      return `<${name}>${entries.map((e) => `<entry>${one(e)}</entry>`).join("")}</${name}>`;
    }
    case "timestamp": {
      const d = v instanceof Date ? v : new Date(typeof v === "number" ? v * 1000 : String(v));
      return `<${name}>${d.toISOString()}</${name}>`;
    }
    case "blob": {
      const s = v instanceof Uint8Array ? btoa(String.fromCharCode(...v)) : String(v);
      return `<${name}>${s}</${name}>`;
    }
    default:
      return `<${name}>${xmlEscape(String(v))}</${name}>`;
  }
}

/**
 * Splits a form body (or query string) into its pairs, decoding `+` as a
 * space as form encoding requires.
 *
 * @example Usage
 * ```ts ignore
 * parseFormBody("Action=GetRole&RoleName=r"); // Map { Action => GetRole, RoleName => r }
 * ```
 */
export function parseFormBody(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(text)) out.set(k, v);
  return out;
}
