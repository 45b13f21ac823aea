/**
 * A plan: what a call would create, adopt, build, push, write and submit,
 * found out with read-only requests and nothing changed, and what running it
 * would cost. A dry run (`dryRun: true`, or `--dry-run` on the command line)
 * returns one instead of doing the work.
 *
 * @module
 */
import type { Estimate } from "../cost/estimate.ts";
import { escapeHtml, type InspectPlace, nestedText } from "../util/summary.ts";

/** What one step of a plan does. */
export type PlanAction =
  /** Makes a resource that does not exist. */
  | "create"
  /** Uses a resource that exists, as it is. */
  | "adopt"
  /** Builds an image on this machine. */
  | "build"
  /** Pushes an image to a repository. */
  | "push"
  /** Writes an object or a record. */
  | "write"
  /** Submits jobs, or starts worker processes. */
  | "run";

/** One step of a plan. */
export interface PlanStep {
  /** What it does. */
  action: PlanAction;
  /** The kind of thing, such as `"compute environment"`. */
  kind: string;
  /** Its name (or ARN, or path). */
  name: string;
  /** The options that matter, such as `{ type: "FARGATE", maxvCpus: 256 }`. */
  details?: Record<string, string | number | boolean | string[]>;
}

/** The parts of a {@linkcode Plan}. */
export interface PlanFields {
  /** What the plan is for, such as `Create knot squares on AWS (us-east-1)`. */
  title: string;
  /** Its steps, in the order they would happen. */
  steps: PlanStep[];
  /** What running it would cost, when known. */
  estimate?: Estimate;
  /** Anything else to know, one sentence each (such as options ignored when adopting). */
  notes?: string[];
}

function detail(value: string | number | boolean | string[]): string {
  return Array.isArray(value) ? value.join(", ") : String(value);
}

/**
 * A plan of what a call would do, with nothing done. Printed, a list of
 * steps; in a notebook, a table.
 *
 * @example Usage
 * ```ts
 * import { Plan } from "@cloudknot/cloudknot";
 *
 * const plan = new Plan({
 *   title: "Create knot squares on AWS (us-east-1)",
 *   steps: [{ action: "create", kind: "job queue", name: "squares-ck-jq", details: { priority: 1 } }],
 * });
 * console.log(plan.find("job queue")?.action); // "create"
 * ```
 */
export class Plan implements PlanFields {
  /** What the plan is for. */
  readonly title: string;
  /** Its steps. */
  readonly steps: PlanStep[];
  /** What running it would cost, when known. */
  readonly estimate?: Estimate;
  /** Anything else to know. */
  readonly notes: string[];

  /**
   * Makes a plan.
   *
   * @param fields Its title, steps, estimate and notes.
   */
  constructor(fields: PlanFields) {
    this.title = fields.title;
    this.steps = fields.steps;
    if (fields.estimate !== undefined) this.estimate = fields.estimate;
    this.notes = fields.notes ?? [];
  }

  /**
   * The first step about a kind of thing (and, when given, of that name).
   *
   * @param kind The kind, such as `"compute environment"`.
   * @param name The name.
   * @returns The step, if the plan has one.
   */
  find(kind: string, name?: string): PlanStep | undefined {
    return this.steps.find((s) => s.kind === kind && (name === undefined || s.name === name));
  }

  /** The plan as plain text. */
  toString(): string {
    const lines = [`${this.title} (dry run: nothing was changed)`];
    for (const step of this.steps) {
      const details = Object.entries(step.details ?? {})
        .map(([k, v]) => `${k}: ${detail(v)}`).join(", ");
      lines.push(
        `  ${step.action.padEnd(6)} ${step.kind} ${step.name}${details ? ` (${details})` : ""}`,
      );
    }
    for (const note of this.notes) lines.push(`  note: ${note}`);
    if (this.estimate !== undefined) lines.push(String(this.estimate));
    return lines.join("\n");
  }

  /** The plan as an HTML fragment. */
  toHtml(): string {
    const rows = this.steps.map((s) =>
      `<tr><td>${s.action}</td><td>${escapeHtml(s.kind)}</td><td><code>${
        escapeHtml(s.name)
      }</code></td><td>${
        escapeHtml(
          Object.entries(s.details ?? {}).map(([k, v]) => `${k}: ${detail(v)}`).join(", "),
        )
      }</td></tr>`
    ).join("");
    return `<div class="cloudknot-plan"><p><b>${
      escapeHtml(this.title)
    }</b> (dry run: nothing was changed)</p>` +
      `<table><thead><tr><th>action</th><th>kind</th><th>name</th><th>options</th></tr></thead>` +
      `<tbody>${rows}</tbody></table>` +
      (this.notes.length > 0
        ? `<ul>${this.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`
        : "") +
      (this.estimate?.toHtml() ?? "") + `</div>`;
  }

  /** Shows the plan in a Jupyter notebook. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/html": this.toHtml(), "text/plain": this.toString() };
  }

  /** Shows the plan in `console.log`. */
  [Symbol.for("Deno.customInspect")](_inspect: unknown, place?: InspectPlace): string {
    return nestedText(this.toString(), place);
  }
}
