/**
 * The official AWS API models (aws-sdk v2 `min.json`) as resolved shape trees,
 * and request validation with v2's own `ParamValidator`.
 *
 * @module
 */
import { AWSv2, RAW_MODELS } from "./deps.ts";

/** One resolved shape of a v2 model (the subset the emulator reads). */
export interface ModelShape {
  /** `structure`, `list`, `map`, `string`, `integer`, `long`, `boolean`, `timestamp`, `blob`, `float`, `double`. */
  type: string;
  /** The wire name: locationName, else the member name. */
  name?: string;
  /** Members of a structure. */
  members?: Record<string, ModelShape>;
  /** The member shape of a list. */
  member?: ModelShape;
  /** The key shape of a map. */
  key?: ModelShape;
  /** The value shape of a map. */
  value?: ModelShape;
  /** Required member names of a structure. */
  required?: string[];
  /** Whether a list or map is flattened on the wire. */
  flattened?: boolean;
  /** EC2: the name is an explicit queryName. */
  isQueryName?: boolean;
  /** Where a REST member is bound: `uri`, `querystring`, `header`, `headers`, `statusCode`. */
  location?: string;
  /** The explicit wire name. */
  locationName?: string;
  /** The payload member of a REST structure. */
  payload?: string;
  /** The query protocol's result wrapper element. */
  resultWrapper?: string;
  /** The XML namespace of a payload. */
  xmlNamespace?: { uri?: string };
}

/** One operation of a v2 model. */
export interface ModelOperation {
  /** The operation name, e.g. `SubmitJob`. */
  name: string;
  /** The input shape. */
  input: ModelShape;
  /** The output shape. */
  output: ModelShape;
  /** The HTTP method. */
  httpMethod: string;
  /** The request URI template. */
  httpPath: string;
}

/** A resolved v2 API model. */
export interface ModelApi {
  /** Operations keyed by lower-camel name. */
  operations: Record<string, ModelOperation>;
  /** The protocol: `rest-json`, `json`, `query`, `ec2`, `rest-xml`. */
  protocol: string;
  /** The API version. */
  apiVersion: string;
  /** The query protocols' XML namespace. */
  xmlNamespaceUri?: string;
}

// deno-lint-ignore no-explicit-any
const V2 = AWSv2 as any;
const apis = new Map<string, ModelApi>();
const byName = new Map<string, Map<string, ModelOperation>>();

/**
 * Returns the resolved model of one service.
 *
 * @example Usage
 * ```ts ignore
 * const api = modelApi("batch");
 * ```
 */
export function modelApi(service: string): ModelApi {
  let api = apis.get(service);
  if (!api) {
    const raw = RAW_MODELS[service];
    if (!raw) throw new Error(`No model for service ${service}`);
    api = new V2.Model.Api(raw) as ModelApi;
    apis.set(service, api);
    const ops = new Map<string, ModelOperation>();
    for (const op of Object.values(api.operations)) ops.set(op.name, op);
    byName.set(service, ops);
  }
  return api;
}

/**
 * Returns one operation of a service's model by its wire name, or undefined.
 *
 * @example Usage
 * ```ts ignore
 * const op = modelOperation("batch", "SubmitJob");
 * ```
 */
export function modelOperation(service: string, name: string): ModelOperation | undefined {
  modelApi(service);
  return byName.get(service)!.get(name);
}

/** One problem found in request parameters. */
export interface ValidationProblem {
  /** `MissingRequiredParameter`, `UnexpectedParameter`, `InvalidParameterType`, … */
  code: string;
  /** v2's message, e.g. `Missing required key 'jobDefinition' in params`. */
  message: string;
}

/**
 * Validates parameters against an input shape with v2's `ParamValidator`, and
 * returns every problem found (an empty list when valid).
 *
 * @example Usage
 * ```ts ignore
 * const problems = validateParams(modelOperation("batch", "SubmitJob")!.input, { jobName: "j" });
 * ```
 */
export function validateParams(shape: ModelShape, params: unknown): ValidationProblem[] {
  const validator = new V2.ParamValidator(true);
  try {
    validator.validate(shape, params);
    return [];
  } catch (e) {
    // deno-lint-ignore no-explicit-any
    const err = e as any;
    const list = Array.isArray(err.errors) ? err.errors : [err];
    // deno-lint-ignore no-explicit-any
    return list.map((x: any) => ({ code: String(x.code), message: String(x.message) }));
  }
}

/**
 * Checks JSON wire types strictly (v2's validator accepts numeric strings where
 * numbers belong): numbers must be JSON numbers, booleans JSON booleans.
 *
 * @example Usage
 * ```ts ignore
 * strictJsonTypes(shape, body); // ["Expected number at 'arrayProperties.size'"]
 * ```
 */
export function strictJsonTypes(shape: ModelShape, value: unknown, path = ""): string[] {
  if (value === null || value === undefined) return [];
  const at = path || "params";
  switch (shape.type) {
    case "structure": {
      if (typeof value !== "object" || Array.isArray(value)) return [`Expected object at '${at}'`];
      const out: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const m = shape.members?.[k];
        if (m) out.push(...strictJsonTypes(m, v, path ? `${path}.${k}` : k));
      }
      return out;
    }
    case "list":
      if (!Array.isArray(value)) return [`Expected list at '${at}'`];
      return value.flatMap((v, i) => strictJsonTypes(shape.member!, v, `${at}[${i}]`));
    case "map":
      if (typeof value !== "object" || Array.isArray(value)) return [`Expected map at '${at}'`];
      return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
        strictJsonTypes(shape.value!, v, `${at}.${k}`)
      );
    case "integer":
    case "long":
      return typeof value === "number" && Number.isInteger(value)
        ? []
        : [`Expected integer at '${at}'`];
    case "float":
    case "double":
      return typeof value === "number" ? [] : [`Expected number at '${at}'`];
    case "boolean":
      return typeof value === "boolean" ? [] : [`Expected boolean at '${at}'`];
    case "string":
      return typeof value === "string" ? [] : [`Expected string at '${at}'`];
    case "timestamp":
      return typeof value === "number" || typeof value === "string"
        ? []
        : [`Expected timestamp at '${at}'`];
    default:
      return [];
  }
}
