/**
 * Generates the response shape hints of the query-protocol services
 * (CloudFormation, EC2, IAM, STS) from the official service models, limited to the shapes the
 * operations in each service's operation table return, and writes them to
 * `src/aws/services/<service>.generated.ts`.
 *
 * The models come from the `aws-sdk` v2 package, which ships them as JSON;
 * they are imported here (and in the test that checks the generated files
 * are current), never by the library, so they are no dependency of the
 * published package.
 *
 * Run: `deno task gen:aws`.
 *
 * @module
 */
import cloudformationModel from "npm:aws-sdk@2.1693.0/apis/cloudformation-2010-05-15.min.json" with {
  type: "json",
};
import ec2Model from "npm:aws-sdk@2.1693.0/apis/ec2-2016-11-15.min.json" with { type: "json" };
import iamModel from "npm:aws-sdk@2.1693.0/apis/iam-2010-05-08.min.json" with { type: "json" };
import stsModel from "npm:aws-sdk@2.1693.0/apis/sts-2011-06-15.min.json" with { type: "json" };
import { CLOUDFORMATION_OPERATIONS } from "../src/aws/services/cloudformation.ts";
import { EC2_OPERATIONS } from "../src/aws/services/ec2.ts";
import { IAM_OPERATIONS } from "../src/aws/services/iam.ts";
import { STS_OPERATIONS } from "../src/aws/services/sts.ts";

/** A member or shape reference in a minified service model. */
interface ShapeRef {
  shape?: string;
  type?: string;
  locationName?: string;
  flattened?: boolean;
  members?: Record<string, ShapeRef>;
  member?: ShapeRef;
  value?: ShapeRef;
}

/** A minified service model (`apis/<service>-<version>.min.json`). */
interface Model {
  metadata: { apiVersion: string; uid: string };
  operations: Record<string, { output?: ShapeRef }>;
  shapes: Record<string, ShapeRef>;
}

/** One service to generate hints for. */
interface Target {
  /** The service file's stem, e.g. `ec2`. */
  file: string;
  /** The constant's prefix, e.g. `EC2`. */
  prefix: string;
  /** The service's name in prose. */
  title: string;
  model: Model;
  /** The operations whose output shapes to cover. */
  operations: readonly string[];
  /** The name of list member elements. */
  memberName: "item" | "member";
  /** Whether wire names are lowerCamel and API names capitalised (EC2). */
  capitalize: boolean;
}

const TARGETS: Target[] = [
  {
    file: "cloudformation",
    prefix: "CLOUDFORMATION",
    title: "AWS CloudFormation",
    model: cloudformationModel as Model,
    operations: Object.keys(CLOUDFORMATION_OPERATIONS),
    memberName: "member",
    capitalize: false,
  },
  {
    file: "ec2",
    prefix: "EC2",
    title: "Amazon EC2",
    model: ec2Model as Model,
    operations: Object.keys(EC2_OPERATIONS),
    memberName: "item",
    capitalize: true,
  },
  {
    file: "iam",
    prefix: "IAM",
    title: "AWS IAM",
    model: iamModel as Model,
    operations: Object.keys(IAM_OPERATIONS),
    memberName: "member",
    capitalize: false,
  },
  {
    file: "sts",
    prefix: "STS",
    title: "AWS STS",
    model: stsModel as Model,
    operations: Object.keys(STS_OPERATIONS),
    memberName: "member",
    capitalize: false,
  },
];

const KINDS = ["lists", "numbers", "booleans", "timestamps"] as const;
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
export function shapeHints(target: Target): GeneratedHints {
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
  const out: GeneratedHints = { lists: [], numbers: [], booleans: [], timestamps: [], renames: [] };
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

function set(name: string, values: string[]): string {
  if (values.length === 0) return "";
  return `  ${name}: new Set([\n${
    values.map((v) => `    ${JSON.stringify(v)},\n`).join("")
  }  ]),\n`;
}

function key(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

/**
 * The text of one generated file.
 *
 * @param target The service.
 * @returns The TypeScript source.
 */
export function generatedFile(target: Target): string {
  const hints = shapeHints(target);
  const { model } = target;
  const renames = hints.renames.length === 0
    ? ""
    : `  renames: {\n${
      hints.renames.map(([wire, name]) => `    ${key(wire)}: ${JSON.stringify(name)},\n`).join("")
    }  },\n`;
  return `/**
 * ${target.title}'s response shape hints, generated by \`scripts/gen_aws.ts\`
 * from the service model (aws-sdk 2.1693.0, \`apis/${model.metadata.uid}.min.json\`)
 * for the operations in \`${target.prefix}_OPERATIONS\`. Do not edit: run
 * \`deno task gen:aws\`.
 *
 * @module
 */
import type { ShapeHints } from "../protocols/xml.ts";

/** How to decode ${target.title}'s response XML, from its service model. */
export const ${target.prefix}_SHAPE_HINTS: ShapeHints = {
  memberName: ${JSON.stringify(target.memberName)},
${target.capitalize ? "  capitalize: true,\n" : ""}${set("lists", hints.lists)}${
    set("numbers", hints.numbers)
  }${set("booleans", hints.booleans)}${set("timestamps", hints.timestamps)}${renames}};
`;
}

/**
 * Every generated file, by path from the repository root.
 *
 * @returns Path → text.
 */
export function generatedFiles(): Record<string, string> {
  return Object.fromEntries(
    TARGETS.map((t) => [`src/aws/services/${t.file}.generated.ts`, generatedFile(t)]),
  );
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  for (const [path, text] of Object.entries(generatedFiles())) {
    await Deno.writeTextFile(new URL(path, root), text);
    console.log(`wrote ${path}`);
  }
}
