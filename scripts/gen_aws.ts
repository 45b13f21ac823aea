/**
 * Generates, from the official service models, what each AWS service file
 * would otherwise copy by hand, for the operations of its API type
 * (`BatchApi`, …): each operation's wire metadata (restJson's HTTP method,
 * path, query and header members; whether the model leaves it unsigned), the
 * paginators the model gives those operations (`*.paginators.json`), and for
 * the query-protocol services (CloudFormation, EC2, IAM, STS) the response
 * shape hints, limited to the shapes those operations return. They are
 * written as data to `src/aws/services/<service>.generated.json`, which the
 * service file imports and hands to `defineService`. It also checks that the
 * API type names the items of exactly the operations the model pages, and
 * the same items (`ListJobs: [ListJobsRequest, ListJobsResponse,
 * "jobSummaryList"]`), so the paginated iterators are typed from the model.
 *
 * The models come from the `aws-sdk` v2 package, which ships them as JSON;
 * they are imported here (and in the test that checks the generated files
 * are current), never by the library, so they are no dependency of the
 * published package. The v2 models do not say which operations are
 * idempotent, so that stays in each service file.
 *
 * Run: `deno task gen:aws`.
 *
 * @module
 */
import batchModel from "npm:aws-sdk@2.1693.0/apis/batch-2016-08-10.min.json" with { type: "json" };
import batchPages from "npm:aws-sdk@2.1693.0/apis/batch-2016-08-10.paginators.json" with {
  type: "json",
};
import cloudformationModel from "npm:aws-sdk@2.1693.0/apis/cloudformation-2010-05-15.min.json" with {
  type: "json",
};
import cloudformationPages from "npm:aws-sdk@2.1693.0/apis/cloudformation-2010-05-15.paginators.json" with {
  type: "json",
};
import ec2Model from "npm:aws-sdk@2.1693.0/apis/ec2-2016-11-15.min.json" with { type: "json" };
import ec2Pages from "npm:aws-sdk@2.1693.0/apis/ec2-2016-11-15.paginators.json" with {
  type: "json",
};
import ecrModel from "npm:aws-sdk@2.1693.0/apis/ecr-2015-09-21.min.json" with { type: "json" };
import ecrPages from "npm:aws-sdk@2.1693.0/apis/ecr-2015-09-21.paginators.json" with {
  type: "json",
};
import iamModel from "npm:aws-sdk@2.1693.0/apis/iam-2010-05-08.min.json" with { type: "json" };
import iamPages from "npm:aws-sdk@2.1693.0/apis/iam-2010-05-08.paginators.json" with {
  type: "json",
};
import logsModel from "npm:aws-sdk@2.1693.0/apis/logs-2014-03-28.min.json" with { type: "json" };
import logsPages from "npm:aws-sdk@2.1693.0/apis/logs-2014-03-28.paginators.json" with {
  type: "json",
};
import ssoModel from "npm:aws-sdk@2.1693.0/apis/sso-2019-06-10.min.json" with { type: "json" };
import ssoOidcModel from "npm:aws-sdk@2.1693.0/apis/sso-oidc-2019-06-10.min.json" with {
  type: "json",
};
import stsModel from "npm:aws-sdk@2.1693.0/apis/sts-2011-06-15.min.json" with { type: "json" };

/** A member or shape reference in a minified service model. */
interface ShapeRef {
  shape?: string;
  type?: string;
  location?: string;
  locationName?: string;
  flattened?: boolean;
  members?: Record<string, ShapeRef>;
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
}

/** One operation of a minified service model. */
interface ModelOperation {
  http?: { method?: string; requestUri?: string };
  input?: ShapeRef;
  output?: ShapeRef;
  authtype?: string;
}

/** A minified service model (`apis/<service>-<version>.min.json`). */
interface Model {
  metadata: { apiVersion: string; uid: string; protocol: string };
  operations: Record<string, ModelOperation>;
  shapes: Record<string, ShapeRef>;
}

/** A service's paginators (`apis/<service>-<version>.paginators.json`). */
interface Pages {
  pagination: Record<string, {
    input_token?: string | string[];
    output_token?: string | string[];
    result_key?: string | string[];
    more_results?: string;
  }>;
}

/** How a query-protocol service's response XML is read. */
interface XmlTarget {
  model: Model;
  /** The operations whose output shapes to cover. */
  operations: readonly string[];
  /** The name of list member elements. */
  memberName: "item" | "member";
  /** Whether wire names are lowerCamel and API names capitalised (EC2). */
  capitalize: boolean;
}

/** One service to generate a file for. */
interface Target {
  /** The generated file's stem, e.g. `ec2`. */
  file: string;
  /** The stem of the service file whose API type lists the operations, e.g. `ec2`. */
  source: string;
  /** That API type, e.g. `Ec2Api`. */
  api: string;
  model: Model;
  pages?: Pages;
  /** For a query-protocol service, how its response XML is read. */
  xml?: Pick<XmlTarget, "memberName" | "capitalize">;
}

const TARGETS: Target[] = [
  {
    file: "batch",
    source: "batch",
    api: "BatchApi",
    model: batchModel as Model,
    pages: batchPages,
  },
  {
    file: "cloudformation",
    source: "cloudformation",
    api: "CloudFormationApi",
    model: cloudformationModel as Model,
    pages: cloudformationPages,
    xml: { memberName: "member", capitalize: false },
  },
  {
    file: "ec2",
    source: "ec2",
    api: "Ec2Api",
    model: ec2Model as Model,
    pages: ec2Pages,
    xml: { memberName: "item", capitalize: true },
  },
  {
    file: "ecr",
    source: "ecr",
    api: "EcrApi",
    model: ecrModel as Model,
    pages: ecrPages,
  },
  {
    file: "iam",
    source: "iam",
    api: "IamApi",
    model: iamModel as Model,
    pages: iamPages,
    xml: { memberName: "member", capitalize: false },
  },
  {
    file: "logs",
    source: "logs",
    api: "LogsApi",
    model: logsModel as Model,
    pages: logsPages,
  },
  {
    file: "sso",
    source: "sso",
    api: "SsoApi",
    model: ssoModel as Model,
  },
  {
    file: "sso_oidc",
    source: "sso",
    api: "SsoOidcApi",
    model: ssoOidcModel as Model,
  },
  {
    file: "sts",
    source: "sts",
    api: "StsApi",
    model: stsModel as Model,
    xml: { memberName: "member", capitalize: false },
  },
];

/** One operation of a service's API type. */
export interface ApiOperation {
  name: string;
  /** The output member holding each page's items, for an operation that pages. */
  items?: string;
}

/**
 * The operations of a service's API type, in its order, read from the
 * service file's source: each entry `  Name: [Input, Output]` or
 * `  Name: [Input, Output, "items"]` of `export type <Api> = {` (the layout
 * `deno fmt` gives it, on one line or several).
 *
 * @param target The service.
 * @returns The operations.
 */
export function apiOperations(target: Target): ApiOperation[] {
  const url = new URL(`../src/aws/services/${target.source}.ts`, import.meta.url);
  const text = Deno.readTextFileSync(url);
  const start = text.indexOf(`export type ${target.api} = {\n`);
  if (start < 0) throw new Error(`${target.source}.ts has no type ${target.api}`);
  const body = text.slice(start, text.indexOf("\n};\n", start));
  return [...body.matchAll(/^ {2}(\w+): \[([^\]]*)\]/gm)].map((m) => {
    const items = /"(\w+)"/.exec(m[2]!)?.[1];
    return items === undefined ? { name: m[1]! } : { name: m[1]!, items };
  });
}

const KINDS = ["lists", "maps", "numbers", "booleans", "timestamps"] as const;
type Kind = typeof KINDS[number];

const SCALAR_KINDS: Record<string, Kind> = {
  integer: "numbers",
  long: "numbers",
  float: "numbers",
  double: "numbers",
  boolean: "booleans",
  timestamp: "timestamps",
};

/** What one element means in one place: its kinds and its API name when renamed. */
interface Use {
  kinds: Set<Kind>;
  rename?: string;
}

/** The hints of one service, as plain data. */
export interface GeneratedHints {
  lists: string[];
  maps: string[];
  numbers: string[];
  booleans: string[];
  timestamps: string[];
  renames: [string, string][];
}

function resolve(model: Model, ref: ShapeRef): ShapeRef {
  if (ref.shape === undefined) return ref;
  const shape = model.shapes[ref.shape];
  if (shape === undefined) throw new Error(`The model has no shape ${ref.shape}`);
  const { shape: _, ...own } = ref;
  return { ...shape, ...own };
}

function capitalized(name: string): string {
  return name[0]!.toUpperCase() + name.slice(1);
}

/**
 * Works out the hints of one service. The decoder reads hints by element
 * name, so an element that means different things in different places gets
 * entries qualified by its parent element (`parent/name`), which the decoder
 * reads first.
 *
 * @param target The service.
 * @returns The hints, sorted.
 */
export function shapeHints(target: XmlTarget): GeneratedHints {
  const { model } = target;
  // element name → parent element name → use
  const uses = new Map<string, Map<string, Use>>();
  const use = (wire: string, parent: string): Use => {
    const byParent = uses.get(wire) ?? uses.set(wire, new Map()).get(wire)!;
    return byParent.get(parent) ?? byParent.set(parent, { kinds: new Set() }).get(parent)!;
  };
  const visited = new Set<string>();
  const walk = (ref: ShapeRef, parent: string, where: string): void => {
    const shape = resolve(model, ref);
    const type = shape.type ?? "string";
    if (type === "map") throw new Error(`${where}: maps in responses are not supported`);
    if (type !== "structure") return;
    for (const [name, memberRef] of Object.entries(shape.members ?? {})) {
      const member = resolve(model, memberRef);
      const wire = member.locationName ?? name;
      // An element named like list items (EC2's deprecated
      // InferenceAcceleratorInfo.Accelerators) cannot be told from them by
      // name; the decoder reads its parent as a list.
      if (wire === target.memberName) continue;
      const here = use(wire, parent);
      if ((target.capitalize ? capitalized(wire) : wire) !== name) here.rename = name;
      const memberType = member.type ?? "string";
      if (memberType === "map") {
        // `<Name><entry><key>…</key><value>…</value></entry>…</Name>`, with
        // scalar values (IAM's SummaryMap), read by their kind under the map.
        const key = member.key?.locationName ?? "key";
        const value = resolve(model, member.value!);
        const valueKind = SCALAR_KINDS[value.type ?? "string"];
        if (
          member.flattened || key !== "key" || (member.value!.locationName ?? "value") !== "value"
        ) {
          throw new Error(
            `${where}.${name}: only maps of <entry><key/><value/></entry> are supported`,
          );
        }
        if (value.type === "structure" || value.type === "list" || value.type === "map") {
          throw new Error(`${where}.${name}: only maps of scalars are supported`);
        }
        here.kinds.add("maps");
        if (valueKind !== undefined) use("value", wire).kinds.add(valueKind);
        continue;
      }
      let innerRef = memberRef;
      if (memberType === "list") {
        innerRef = member.member!;
        const items = innerRef.locationName ?? "member";
        if (member.flattened || items !== target.memberName) {
          throw new Error(`${where}.${name}: only lists of <${target.memberName}> are supported`);
        }
        here.kinds.add("lists");
      }
      const inner = resolve(model, innerRef);
      const kind = SCALAR_KINDS[inner.type ?? "string"];
      if (kind !== undefined) here.kinds.add(kind);
      // A named shape is walked once per element name; inline shapes cannot recurse.
      const seen = innerRef.shape === undefined ? undefined : `${innerRef.shape}:${wire}`;
      if (inner.type === "structure" && !(seen !== undefined && visited.has(seen))) {
        if (seen !== undefined) visited.add(seen);
        walk(inner, wire, `${where}.${name}`);
      }
    }
  };
  for (const operation of target.operations) {
    const spec = model.operations[operation];
    if (spec === undefined) throw new Error(`${model.metadata.uid} has no operation ${operation}`);
    if (spec.output !== undefined) walk(spec.output, "", operation);
  }
  const out: GeneratedHints = {
    lists: [],
    maps: [],
    numbers: [],
    booleans: [],
    timestamps: [],
    renames: [],
  };
  for (const [wire, byParent] of uses) {
    const all = [...byParent.entries()];
    const same = all.every(([, u]) =>
      u.rename === all[0]![1].rename &&
      [...KINDS].every((k) => u.kinds.has(k) === all[0]![1].kinds.has(k))
    );
    for (const [parent, u] of same ? [all[0]!] : all) {
      const key = same ? wire : `${parent}/${wire}`;
      for (const kind of u.kinds) out[kind].push(key);
      if (u.rename !== undefined) out.renames.push([key, u.rename]);
    }
  }
  for (const kind of KINDS) out[kind].sort();
  out.renames.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return out;
}

/** One operation's wire metadata, as the generated table holds it. */
type Wire = Record<string, string | boolean | Record<string, string>>;

/**
 * What the model says of one operation on the wire: for restJson its method,
 * path template, and the input members it sends as query parameters or
 * headers; for every protocol, whether it is unsigned (`authtype: none`).
 */
function wire(model: Model, name: string): Wire {
  const operation = model.operations[name];
  if (operation === undefined) throw new Error(`${model.metadata.uid} has no operation ${name}`);
  const out: Wire = {};
  if (operation.authtype === "none") out.unsigned = true;
  if (model.metadata.protocol === "rest-json") {
    out.method = operation.http?.method ?? "POST";
    out.path = operation.http?.requestUri ?? "/";
    const members = operation.input === undefined
      ? {}
      : resolve(model, operation.input).members ?? {};
    for (const place of ["query", "headers"] as const) {
      const location = place === "query" ? "querystring" : "header";
      const found = Object.entries(members).filter(([, m]) => m.location === location);
      if (found.length > 0) {
        out[place] = Object.fromEntries(found.map(([member, m]) => [member, m.locationName!]));
      }
    }
  } else if (operation.http?.requestUri !== undefined && operation.http.requestUri !== "/") {
    throw new Error(`${name}: only restJson operations have their own path`);
  }
  return out;
}

/**
 * The model's paginators of the given operations, as `Paginator`s: those with
 * one input and one output token (EC2's DescribeRegions lists without
 * tokens). Where the model names several result keys, the first is the items.
 * The API type must name the same items for exactly these operations.
 */
function paginators(target: Target, operations: readonly ApiOperation[]): [string, Wire][] {
  const out: [string, Wire][] = [];
  for (const { name, items: declared } of operations) {
    const page = target.pages?.pagination[name];
    const pages = page?.input_token !== undefined && page.output_token !== undefined;
    const items = Array.isArray(page?.result_key) ? page.result_key[0] : page?.result_key;
    if (declared !== (pages ? items : undefined)) {
      throw new Error(
        `${target.source}.ts: ${target.api}.${name} must ${
          pages ? `end with "${items}", the items of the model's paginator` : "not name items"
        }`,
      );
    }
    if (!pages) continue;
    if (typeof page.input_token !== "string" || typeof page.output_token !== "string") {
      throw new Error(`${name}: only paginators with one token are supported`);
    }
    if (items === undefined) throw new Error(`${name}: the paginator has no result key`);
    const p: Wire = { inputToken: page.input_token, outputToken: page.output_token, items };
    if (page.more_results !== undefined) p.moreResults = page.more_results;
    out.push([name, p]);
  }
  return out;
}

/**
 * The text of one generated file: JSON, which the service file imports (and
 * a job's `runtime.js` carries, for STS and SSO, so it holds only data).
 *
 * @param target The service.
 * @returns The JSON text.
 */
export function generatedFile(target: Target): string {
  const { model } = target;
  const operations = apiOperations(target);
  const pages = paginators(target, operations);
  const data: Record<string, unknown> = {
    wire: Object.fromEntries(operations.map(({ name }) => [name, wire(model, name)])),
  };
  if (pages.length > 0) data.paginators = Object.fromEntries(pages);
  if (target.xml) {
    const { renames, ...sets } = shapeHints({
      model,
      operations: operations.map(({ name }) => name),
      ...target.xml,
    });
    data.hints = {
      memberName: target.xml.memberName,
      ...(target.xml.capitalize ? { capitalize: true } : {}),
      ...Object.fromEntries(Object.entries(sets).filter(([, values]) => values.length > 0)),
      ...(renames.length > 0 ? { renames: Object.fromEntries(renames) } : {}),
    };
  }
  return `${JSON.stringify(data, null, 2)}\n`;
}

/**
 * Every generated file, by path from the repository root.
 *
 * @returns Path → text.
 */
export function generatedFiles(): Record<string, string> {
  return Object.fromEntries(
    TARGETS.map((t) => [`src/aws/services/${t.file}.generated.json`, generatedFile(t)]),
  );
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  for (const [path, text] of Object.entries(generatedFiles())) {
    await Deno.writeTextFile(new URL(path, root), text);
    console.log(`wrote ${path}`);
  }
}
