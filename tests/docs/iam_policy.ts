// The IAM policy of the docs (docs/iam.md): reading it, checking its grammar, mapping the
// AWS operations the project calls to IAM actions and resources, and
// evaluating whether the policy allows them.
import { fileURLToPath } from "node:url";
import { codeBlocks } from "./markdown.ts";

/** An IAM policy document. */
export interface Policy {
  Version: string;
  Statement: Statement[];
}

/** One statement. */
export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The page of the docs that holds the policy. */
export const IAM_PAGE: string = fileURLToPath(new URL("../../docs/iam.md", import.meta.url));

/** The one JSON block of the IAM page (docs/iam.md), as text. */
export async function docsPolicyText(): Promise<string> {
  const blocks = codeBlocks(await Deno.readTextFile(IAM_PAGE)).filter((b) => b.lang === "json");
  if (blocks.length !== 1) {
    throw new Error(`docs/iam.md has ${blocks.length} json blocks; it must have exactly one`);
  }
  return blocks[0]!.code;
}

const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);
const ACTION = /^[a-z0-9-]+:[A-Za-z0-9*?]+$/;
const RESOURCE = /^(\*|arn:(aws|aws-cn|aws-us-gov|\*):[a-z0-9-*]+:[a-z0-9-*]*:(\d{12}|\*)?:.+)$/;
const CONDITION_OPERATORS =
  /^(ForAllValues:|ForAnyValue:)?(String(Not)?Equals(IgnoreCase)?|String(Not)?Like|Numeric(Not)?Equals|Numeric(Less|Greater)Than(Equals)?|Date(Not)?Equals|Date(Less|Greater)Than(Equals)?|Bool|ArnEquals|ArnLike|ArnNotEquals|ArnNotLike|IpAddress|NotIpAddress|Null)(IfExists)?$/;

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * The problems of an identity-based policy, by the IAM policy grammar
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html)
 * and the managed-policy size limit; none when it is valid.
 */
export function policyProblems(policy: unknown): string[] {
  const problems: string[] = [];
  if (policy === null || typeof policy !== "object" || Array.isArray(policy)) {
    return ["The policy is not a JSON object"];
  }
  const p = policy as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!["Version", "Id", "Statement"].includes(key)) {
      problems.push(`Unknown top-level key ${key}`);
    }
  }
  if (p.Version !== "2012-10-17") problems.push(`Version must be "2012-10-17"`);
  const statements = list(p.Statement);
  if (p.Statement === undefined || statements.length === 0) problems.push("No Statement");
  const sids = new Set<string>();
  statements.forEach((s, i) => {
    const where = `Statement ${i}`;
    if (s === null || typeof s !== "object" || Array.isArray(s)) {
      problems.push(`${where} is not an object`);
      return;
    }
    const st = s as Record<string, unknown>;
    for (const key of Object.keys(st)) {
      if (!STATEMENT_KEYS.has(key)) problems.push(`${where} has ${key}, not allowed here`);
    }
    if (st.Sid !== undefined) {
      if (typeof st.Sid !== "string" || !/^[A-Za-z0-9]+$/.test(st.Sid)) {
        problems.push(`${where}: Sid must be letters and digits`);
      } else if (sids.has(st.Sid)) problems.push(`${where}: Sid ${st.Sid} is not unique`);
      else sids.add(st.Sid);
    }
    if (st.Effect !== "Allow" && st.Effect !== "Deny") {
      problems.push(`${where}: Effect must be Allow or Deny`);
    }
    if ((st.Action === undefined) === (st.NotAction === undefined)) {
      problems.push(`${where}: exactly one of Action and NotAction`);
    }
    if ((st.Resource === undefined) === (st.NotResource === undefined)) {
      problems.push(`${where}: exactly one of Resource and NotResource`);
    }
    for (const a of list(st.Action ?? st.NotAction)) {
      if (typeof a !== "string" || (a !== "*" && !ACTION.test(a))) {
        problems.push(`${where}: bad action ${JSON.stringify(a)}`);
      }
    }
    for (const r of list(st.Resource ?? st.NotResource)) {
      if (typeof r !== "string" || !RESOURCE.test(r)) {
        problems.push(`${where}: bad resource ${JSON.stringify(r)}`);
      }
    }
    if (st.Condition !== undefined) {
      const c = st.Condition;
      if (c === null || typeof c !== "object" || Array.isArray(c)) {
        problems.push(`${where}: Condition must be an object`);
      } else {
        for (const [op, block] of Object.entries(c)) {
          if (!CONDITION_OPERATORS.test(op)) problems.push(`${where}: unknown condition ${op}`);
          if (block === null || typeof block !== "object" || Array.isArray(block)) {
            problems.push(`${where}: condition ${op} must map keys to values`);
            continue;
          }
          for (const [key, value] of Object.entries(block)) {
            if (!/^[A-Za-z0-9-]+:[A-Za-z0-9/_-]+$/.test(key)) {
              problems.push(`${where}: bad condition key ${key}`);
            }
            if (!list(value).every((v) => typeof v === "string")) {
              problems.push(`${where}: condition ${key} takes strings`);
            }
          }
        }
      }
    }
  });
  // A customer managed policy holds at most 6,144 characters, whitespace excluded.
  const size = JSON.stringify(policy).length;
  if (size > 6144) problems.push(`The policy has ${size} characters; the limit is 6144`);
  return problems;
}

function globToRegExp(glob: string, caseInsensitive: boolean): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\/]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${body}$`, caseInsensitive ? "i" : "");
}

/**
 * Whether the policy's Allow statements (conditions aside) allow an action on
 * a resource. A resource of `"*"` stands for a resource the request does not
 * name: only a statement on `"*"` covers it.
 */
export function allows(policy: Policy, action: string, resource: string): boolean {
  return policy.Statement.some((s) => {
    if (s.Effect !== "Allow" || s.Action === undefined || s.Resource === undefined) return false;
    const actionOk = list(s.Action).some((a) => globToRegExp(a as string, true).test(action));
    const resourceOk = list(s.Resource).some((r) =>
      r === "*" || (resource !== "*" && globToRegExp(r as string, false).test(resource))
    );
    return actionOk && resourceOk;
  });
}

/** S3 operations whose IAM action is not `s3:<operation>`. */
const S3_ACTIONS: Record<string, string> = {
  HeadBucket: "s3:ListBucket",
  ListObjectsV2: "s3:ListBucket",
  PutBucketEncryption: "s3:PutEncryptionConfiguration",
  PutPublicAccessBlock: "s3:PutBucketPublicAccessBlock",
  PutBucketLifecycleConfiguration: "s3:PutLifecycleConfiguration",
  HeadObject: "s3:GetObject",
  CreateMultipartUpload: "s3:PutObject",
  UploadPart: "s3:PutObject",
  CompleteMultipartUpload: "s3:PutObject",
  DeleteObjects: "s3:DeleteObject",
};

/** S3 actions on objects (the rest are on the bucket). */
const S3_OBJECT_ACTIONS = new Set([
  "s3:GetObject",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:AbortMultipartUpload",
]);

/** The IAM action of an operation, by the service's IAM prefix. */
export function actionFor(service: string, operation: string): string {
  if (service === "s3") return S3_ACTIONS[operation] ?? `s3:${operation}`;
  return `${service}:${operation}`;
}

/**
 * The resource a request acts on, as IAM names it, or `"*"` when the
 * request's resource is not one the policy scopes (or cannot be named).
 */
export function resourceFor(
  request: { service: string; operation: string; params: Record<string, unknown> },
  accountId: string,
): string {
  const p = request.params;
  if (request.service === "iam") {
    if (typeof p.InstanceProfileName === "string") {
      return `arn:aws:iam::${accountId}:instance-profile/${p.InstanceProfileName}`;
    }
    if (typeof p.RoleName === "string") return `arn:aws:iam::${accountId}:role/${p.RoleName}`;
    return "*";
  }
  if (request.service === "s3" && typeof p.Bucket === "string") {
    const action = actionFor("s3", request.operation);
    if (S3_OBJECT_ACTIONS.has(action)) {
      return `arn:aws:s3:::${p.Bucket}/${typeof p.Key === "string" ? p.Key : "object"}`;
    }
    return `arn:aws:s3:::${p.Bucket}`;
  }
  return "*";
}

/**
 * The roles a request passes to a service (which needs `iam:PassRole` on each):
 * a compute environment's service role, instance role (through its instance
 * profile, of the same name) and spot fleet role; a job definition's job role
 * and execution role.
 */
export function passedRoles(
  request: { service: string; operation: string; params: Record<string, unknown> },
  accountId: string,
): string[] {
  const p = request.params as Record<string, Record<string, unknown> | string | undefined>;
  const roles: string[] = [];
  const role = (value: unknown) => {
    if (typeof value !== "string" || value === "") return;
    const name = value.split("/").pop()!;
    roles.push(`arn:aws:iam::${accountId}:role/${name}`);
  };
  if (request.service === "batch" && request.operation === "CreateComputeEnvironment") {
    role(p.serviceRole);
    const resources = p.computeResources as Record<string, unknown> | undefined;
    role(resources?.instanceRole);
    role(resources?.spotIamFleetRole);
  }
  if (request.service === "batch" && request.operation === "RegisterJobDefinition") {
    const container = p.containerProperties as Record<string, unknown> | undefined;
    role(container?.jobRoleArn);
    role(container?.executionRoleArn);
  }
  return roles;
}

/**
 * The service-linked role a request may make AWS create on the caller's
 * behalf (which needs `iam:CreateServiceLinkedRole` for that service): a
 * managed compute environment that names no service role uses AWS Batch's
 * `AWSServiceRoleForBatch`, made when the account has none
 * (https://docs.aws.amazon.com/batch/latest/userguide/using-service-linked-roles.html).
 */
export function serviceLinkedRole(
  request: { service: string; operation: string; params: Record<string, unknown> },
  accountId: string,
): { service: string; arn: string } | undefined {
  const p = request.params;
  if (
    request.service === "batch" && request.operation === "CreateComputeEnvironment" &&
    !p.serviceRole && p.type === "MANAGED"
  ) {
    return {
      service: "batch.amazonaws.com",
      arn:
        `arn:aws:iam::${accountId}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch`,
    };
  }
  return undefined;
}

/**
 * Whether a statement allows `iam:CreateServiceLinkedRole` for the service
 * (its `iam:AWSServiceName` condition names it, or it has no condition).
 */
export function allowsServiceLinkedRole(policy: Policy, service: string, arn: string): boolean {
  return policy.Statement.some((s) => {
    if (!allows({ ...policy, Statement: [s] }, "iam:CreateServiceLinkedRole", arn)) return false;
    const names = (s.Condition as Record<string, Record<string, unknown>> | undefined)
      ?.StringEquals?.["iam:AWSServiceName"];
    return names === undefined || list(names as string | string[]).includes(service);
  });
}

/**
 * Checks every request of an emulator's log against the policy: what it
 * denies (`action on resource`, each once), and every action the requests
 * needed (passed roles and service-linked roles included).
 */
export function deniedCalls(
  policy: Policy,
  requests: readonly { service: string; operation: string; params: Record<string, unknown> }[],
  accountId: string,
): { denied: string[]; seen: Set<string> } {
  const denied = new Set<string>();
  const seen = new Set<string>();
  for (const request of requests) {
    const action = actionFor(request.service, request.operation);
    seen.add(action);
    const resource = resourceFor(request, accountId);
    if (!allows(policy, action, resource)) denied.add(`${action} on ${resource}`);
    for (const role of passedRoles(request, accountId)) {
      seen.add("iam:PassRole");
      if (!allows(policy, "iam:PassRole", role)) denied.add(`iam:PassRole on ${role}`);
    }
    const linked = serviceLinkedRole(request, accountId);
    if (linked !== undefined) {
      seen.add("iam:CreateServiceLinkedRole");
      if (!allowsServiceLinkedRole(policy, linked.service, linked.arn)) {
        denied.add(`iam:CreateServiceLinkedRole for ${linked.service}`);
      }
    }
  }
  return { denied: [...denied], seen };
}
