/**
 * IAM policy evaluation for one principal's identity-based policies, as the
 * IAM user guide's "Policy evaluation logic" page describes it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 *
 * 1. an explicit `Deny` in any policy that matches the request denies it;
 * 2. otherwise an `Allow` that matches allows it;
 * 3. otherwise it is denied implicitly.
 *
 * A statement matches when its `Action` (or `NotAction`), its `Resource` (or
 * `NotResource`) and all of its `Condition` blocks match. Actions compare
 * without regard to case and resources with it, and both take the wildcards
 * `*` (any run of characters) and `?` (one character)
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
 *
 * Conditions
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
 * `StringEquals`, `StringNotEquals`, `StringLike` and `StringNotLike`, with
 * `IfExists`. Several values of one key match when any does; several keys
 * and operators must all match. A key the request lacks makes the positive
 * operators false and the negated ones true (`...IfExists`: true). Other
 * operators are not modeled: a statement that uses one never matches, so an
 * `Allow` with one allows nothing (and a `Deny` with one denies nothing).
 * Permissions boundaries, session policies, SCPs and resource-based policies
 * are not modeled either.
 *
 * @module
 */

/** What is asked: an action on a resource, with the request's condition keys. */
export interface PolicyRequest {
  /** The action, such as `s3:GetObject`. */
  action: string;
  /** The resource's ARN. */
  resource: string;
  /** Condition keys, such as `s3:prefix`; a key that is absent is not in the request. */
  context?: Record<string, string | undefined>;
}

/** The outcome of {@linkcode evaluatePolicies}. */
export type PolicyDecision = "allow" | "explicit-deny" | "implicit-deny";

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * Whether a value matches an IAM pattern with `*` and `?` wildcards.
 *
 * @example Usage
 * ```ts ignore
 * wildcardMatch("s3:Get*", "s3:GetObject", true); // true
 * ```
 */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${re}$`, ignoreCase ? "is" : "s").test(value);
}

const OPERATORS: Record<string, { negated: boolean; like: boolean }> = {
  StringEquals: { negated: false, like: false },
  StringNotEquals: { negated: true, like: false },
  StringLike: { negated: false, like: true },
  StringNotLike: { negated: true, like: true },
};

function conditionMatches(
  condition: Statement["Condition"],
  context: Record<string, string | undefined>,
): boolean {
  for (const [operatorName, keys] of Object.entries(condition ?? {})) {
    const ifExists = operatorName.endsWith("IfExists");
    const op = OPERATORS[ifExists ? operatorName.slice(0, -"IfExists".length) : operatorName];
    if (op === undefined) return false; // not modeled: the statement does not apply
    for (const [key, values] of Object.entries(keys)) {
      // Condition key names are not case-sensitive.
      const found = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase());
      const value = found?.[1];
      if (value === undefined) {
        if (ifExists || op.negated) continue;
        return false;
      }
      const any = list(values).some((v) => op.like ? wildcardMatch(v, value) : v === value);
      if (op.negated ? any : !any) return false;
    }
  }
  return true;
}

function statementMatches(s: Statement, request: PolicyRequest): boolean {
  const action = s.Action !== undefined
    ? list(s.Action).some((a) => wildcardMatch(a, request.action, true))
    : s.NotAction !== undefined &&
      !list(s.NotAction).some((a) => wildcardMatch(a, request.action, true));
  if (!action) return false;
  const resource = s.Resource !== undefined
    ? list(s.Resource).some((r) => wildcardMatch(r, request.resource))
    : s.NotResource !== undefined &&
      !list(s.NotResource).some((r) => wildcardMatch(r, request.resource));
  if (!resource) return false;
  return conditionMatches(s.Condition, request.context ?? {});
}

/**
 * Evaluates a request against a principal's policy documents (JSON text).
 *
 * @example Usage
 * ```ts ignore
 * evaluatePolicies([doc], { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" });
 * ```
 */
export function evaluatePolicies(documents: string[], request: PolicyRequest): PolicyDecision {
  let allowed = false;
  for (const doc of documents) {
    const parsed = JSON.parse(doc) as { Statement?: Statement | Statement[] };
    const statements = parsed.Statement === undefined
      ? []
      : Array.isArray(parsed.Statement)
      ? parsed.Statement
      : [parsed.Statement];
    for (const s of statements) {
      if (!statementMatches(s, request)) continue;
      if (s.Effect === "Deny") return "explicit-deny";
      if (s.Effect === "Allow") allowed = true;
    }
  }
  return allowed ? "allow" : "implicit-deny";
}
