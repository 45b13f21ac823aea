/**
 * A strict structural comparison for codec tests: two values are isomorphic
 * when they have the same shape, the same primitive values (by `Object.is`,
 * so `-0` differs from `0` and `NaN` equals `NaN`), the same prototypes, the
 * same key order, the same holes, and the same sharing: an object that
 * appears twice on one side appears twice (as one object) on the other.
 */

// deno-lint-ignore no-explicit-any
type Any = any;

const TYPED = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  ...("Float16Array" in globalThis ? [(globalThis as Any).Float16Array] : []),
];

function show(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "symbol") return v.toString();
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

/** Options for {@linkcode difference}. */
export interface IsomorphicOptions {
  /** Treat a null-prototype object on the expected side like a plain object. */
  nullProtoAsPlain?: boolean;
}

/** Returns a description of the first difference, or undefined when isomorphic. */
export function difference(
  actual: unknown,
  expected: unknown,
  options: IsomorphicOptions = {},
): string | undefined {
  const forward = new Map<object, object>();
  const backward = new Map<object, object>();
  const compare = (a: Any, b: Any, path: string): string | undefined => {
    if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
    if (typeof a !== "object" || a === null || b === null) {
      return Object.is(a, b) ? undefined : `${path}: ${show(a)} vs ${show(b)}`;
    }
    const paired = forward.get(a);
    if (paired !== undefined) {
      return paired === b ? undefined : `${path}: sharing differs (left object seen before)`;
    }
    if (backward.has(b)) return `${path}: sharing differs (right object seen before)`;
    forward.set(a, b);
    backward.set(b, a);
    const protoA = Object.getPrototypeOf(a);
    let protoB = Object.getPrototypeOf(b);
    if (protoB === null && options.nullProtoAsPlain) protoB = Object.prototype;
    if (protoA !== protoB) {
      return `${path}: prototype ${protoA?.constructor?.name} vs ${protoB?.constructor?.name}`;
    }
    const keys = (o: object) => JSON.stringify(Object.keys(o));
    const props = (p: string): string | undefined => {
      if (keys(a) !== keys(b)) return `${p}: keys ${keys(a)} vs ${keys(b)}`;
      for (const k of Object.keys(a)) {
        const d = compare(a[k], b[k], `${p}[${JSON.stringify(k)}]`);
        if (d) return d;
      }
      return undefined;
    };
    if (Array.isArray(a)) {
      if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
      return props(path);
    }
    if (a instanceof Map) {
      if (a.size !== b.size) return `${path}: size ${a.size} vs ${b.size}`;
      const ea = [...a], eb = [...b];
      for (let i = 0; i < ea.length; i++) {
        const d = compare(ea[i]![0], eb[i][0], `${path}<key ${i}>`) ??
          compare(ea[i]![1], eb[i][1], `${path}<value ${i}>`);
        if (d) return d;
      }
      return undefined;
    }
    if (a instanceof Set) {
      if (a.size !== b.size) return `${path}: size ${a.size} vs ${b.size}`;
      const va = [...a], vb = [...b];
      for (let i = 0; i < va.length; i++) {
        const d = compare(va[i], vb[i], `${path}<item ${i}>`);
        if (d) return d;
      }
      return undefined;
    }
    if (a instanceof Date) {
      return Object.is(a.getTime(), b.getTime())
        ? undefined
        : `${path}: date ${a.getTime()} vs ${b.getTime()}`;
    }
    if (a instanceof RegExp) {
      return a.source === b.source && a.flags === b.flags ? undefined : `${path}: ${a} vs ${b}`;
    }
    if (
      a instanceof Number || a instanceof String || a instanceof Boolean || a instanceof BigInt
    ) {
      return Object.is(a.valueOf(), b.valueOf())
        ? undefined
        : `${path}: boxed ${show(a.valueOf())} vs ${show(b.valueOf())}`;
    }
    if (a instanceof ArrayBuffer) {
      if (a.byteLength !== b.byteLength) return `${path}: byteLength`;
      if (a.resizable !== b.resizable || a.maxByteLength !== b.maxByteLength) {
        return `${path}: resizable/maxByteLength`;
      }
      const x = new Uint8Array(a), y = new Uint8Array(b);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${path}: byte ${i}`;
      return undefined;
    }
    if (ArrayBuffer.isView(a)) {
      if (a.byteOffset !== b.byteOffset || a.byteLength !== b.byteLength) {
        return `${path}: view offset/length ${a.byteOffset}/${a.byteLength} vs ${b.byteOffset}/${b.byteLength}`;
      }
      if (TYPED.some((T) => a instanceof T) && (a as Uint8Array).length !== b.length) {
        return `${path}: view length`;
      }
      return compare(a.buffer, b.buffer, `${path}.buffer`);
    }
    if (a instanceof Error) {
      const ea = a as Any;
      for (const field of ["name", "message", "stack"]) {
        if (ea[field] !== b[field]) {
          return `${path}.${field}: ${show(ea[field])} vs ${show(b[field])}`;
        }
      }
      for (const field of ["cause", "errors"]) {
        if (Object.hasOwn(a, field) !== Object.hasOwn(b, field)) {
          return `${path}: own ${field} differs`;
        }
        if (Object.hasOwn(a, field)) {
          const d = compare(ea[field], b[field], `${path}.${field}`);
          if (d) return d;
        }
      }
      const own = (o: object) => Object.keys(o).filter((k) => k !== "name");
      if (JSON.stringify(own(a)) !== JSON.stringify(own(b))) {
        return `${path}: error keys ${JSON.stringify(own(a))} vs ${JSON.stringify(own(b))}`;
      }
      for (const k of own(a)) {
        const d = compare(ea[k], b[k], `${path}[${JSON.stringify(k)}]`);
        if (d) return d;
      }
      return undefined;
    }
    return props(path);
  };
  return compare(actual, expected, "$");
}

/** Throws when the values are not isomorphic. */
export function assertIsomorphic(
  actual: unknown,
  expected: unknown,
  options?: IsomorphicOptions,
): void {
  const d = difference(actual, expected, options);
  if (d !== undefined) throw new Error(`Values differ at ${d}`);
}
