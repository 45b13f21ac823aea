/**
 * `viewJobs`: a table of AWS Batch jobs, with each array job's children
 * summarised by status; plain text for terminals and HTML for notebooks.
 * Unlike the original's `view_jobs`, it shows array children (#255) and
 * takes any number of jobs (100 ids per DescribeJobs call).
 *
 * @module
 */
import type { AwsSession } from "../../../aws/session.ts";
import { describeJobs, JOB_STATUS_ORDER } from "./jobs.ts";
import { CloudknotInputError } from "../../../util/errors.ts";
import { describeValue, validateOptionKeys } from "../../../util/validate.ts";
import { escapeHtml, type InspectPlace, nestedText } from "../../../util/summary.ts";

/** One row of a {@linkcode JobsView}. */
export interface JobRow {
  /** The job's id. */
  jobId: string;
  /** The job's name (empty when the job was not found). */
  jobName: string;
  /** Its status, or `NOT FOUND` when Batch does not know the id. */
  status: string;
  /** Why it has its status. */
  statusReason?: string;
  /** When it was created, in epoch milliseconds. */
  createdAt?: number;
  /** Attempts so far (array parents have none). */
  attempts: number;
  /** An array parent's size. */
  arraySize?: number;
  /** An array parent's children by status (only statuses with children). */
  children?: Record<string, number>;
}

/** Options for {@linkcode viewJobs}. */
export interface ViewJobsOptions {
  /** The AWS session. */
  session: AwsSession;
  /** Aborts the DescribeJobs calls. */
  signal?: AbortSignal;
}

const VIEW_JOBS_OPTION_KEYS: Readonly<Record<keyof ViewJobsOptions, true>> = {
  session: true,
  signal: true,
};

const RANK: Record<string, number> = Object.fromEntries(
  JOB_STATUS_ORDER.map((s, i) => [s, i]),
);

const COLORS: Record<string, string> = {
  SUBMITTED: "#757575",
  PENDING: "#757575",
  RUNNABLE: "#757575",
  STARTING: "#1565c0",
  RUNNING: "#1565c0",
  FAILED: "#c62828",
  SUCCEEDED: "#2e7d32",
};

/**
 * A table of jobs: `console.log` prints it, and a Jupyter notebook displays
 * it as HTML.
 *
 * @example Usage
 * ```ts
 * import { JobsView } from "@cloudknot/cloudknot";
 *
 * const view = new JobsView([
 *   { jobId: "a1", jobName: "squares-r-0", status: "PENDING", attempts: 0, arraySize: 25, children: { SUCCEEDED: 20, RUNNING: 5 } },
 * ]);
 * console.log(view.toString().includes("20 SUCCEEDED, 5 RUNNING")); // true
 * ```
 */
export class JobsView {
  /** The rows, sorted by status (SUBMITTED first, SUCCEEDED last), then by creation time. */
  readonly rows: readonly JobRow[];

  /**
   * Makes a view of rows; {@linkcode viewJobs} makes them from job ids.
   *
   * @param rows The rows, in any order.
   */
  constructor(rows: readonly JobRow[]) {
    this.rows = [...rows].sort((a, b) =>
      (RANK[a.status] ?? 99) - (RANK[b.status] ?? 99) ||
      (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.jobId.localeCompare(b.jobId)
    );
  }

  /** Counts of jobs by status. */
  get counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.rows) out[row.status] = (out[row.status] ?? 0) + 1;
    return out;
  }

  /** The table as plain text. */
  toString(): string {
    const table = [["Job ID", "Name", "Status", "Children", "Reason"]];
    for (const row of this.rows) {
      table.push([
        row.jobId,
        row.jobName,
        row.status,
        childrenText(row),
        (row.statusReason ?? "").split("\n")[0]!.slice(0, 60),
      ]);
    }
    const widths = table[0]!.map((_, col) => Math.max(...table.map((r) => r[col]!.length)));
    const lines = table.map((r) =>
      r.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd()
    );
    return [summary(this), ...lines].join("\n");
  }

  /** Shows the table as HTML in a Jupyter notebook. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    const body = this.rows.map((row) =>
      `<tr><td><code>${escapeHtml(row.jobId)}</code></td><td>${escapeHtml(row.jobName)}</td>` +
      `<td style="color:${COLORS[row.status] ?? "#000"}">${escapeHtml(row.status)}</td>` +
      `<td>${escapeHtml(childrenText(row))}</td><td>${escapeHtml(row.statusReason ?? "")}</td></tr>`
    ).join("");
    const html = `<div class="cloudknot-jobs"><p><b>${escapeHtml(summary(this))}</b></p>` +
      `<table><thead><tr><th>Job ID</th><th>Name</th><th>Status</th><th>Children</th>` +
      `<th>Reason</th></tr></thead><tbody>${body}</tbody></table></div>`;
    return { "text/html": html, "text/plain": this.toString() };
  }

  /** Shows the table in `console.log`. */
  [Symbol.for("Deno.customInspect")](_inspect: unknown, place?: InspectPlace): string {
    return nestedText(this.toString(), place);
  }
}

function summary(view: JobsView): string {
  const counts = view.counts;
  const parts = Object.keys(counts)
    .sort((a, b) => (RANK[a] ?? 99) - (RANK[b] ?? 99))
    .map((s) => `${counts[s]} ${s}`);
  return `${view.rows.length} jobs${parts.length > 0 ? `: ${parts.join(", ")}` : ""}`;
}

function childrenText(row: JobRow): string {
  if (row.arraySize === undefined) return "";
  const parts = Object.entries(row.children ?? {})
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (RANK[a] ?? 99) - (RANK[b] ?? 99))
    .map(([s, n]) => `${n} ${s}`);
  return `${row.arraySize}: ${parts.join(", ")}`;
}

/**
 * Describes jobs (100 ids per DescribeJobs call) and returns a table of
 * them, sorted by status like the original's `view_jobs`, with each array
 * job's children summarised by status. Ids Batch does not know show as
 * `NOT FOUND`.
 *
 * @example Usage
 * ```ts ignore
 * import { viewJobs } from "@cloudknot/cloudknot";
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const session = await AwsSession.create();
 * console.log(await viewJobs(["3f9a…", "77c1…"], { session }));
 * ```
 *
 * @param jobs Job ids, or objects with a `jobId` (such as `BatchJob`s).
 * @param options The session.
 * @returns The table.
 */
export async function viewJobs(
  jobs: Iterable<string | { jobId: string }>,
  options: ViewJobsOptions,
): Promise<JobsView> {
  validateOptionKeys(options, VIEW_JOBS_OPTION_KEYS, "viewJobs()");
  const listed = jobs !== null && typeof jobs === "object" && Symbol.iterator in jobs
    ? Array.from(
      jobs,
      (j: unknown) => typeof j === "object" && j !== null && "jobId" in j ? j.jobId : j,
    )
    : undefined;
  if (listed === undefined || listed.some((id) => typeof id !== "string" || id === "")) {
    throw new CloudknotInputError(
      `viewJobs takes a list of job ids or BatchJob handles, such as ["3f9a…", job], not ` +
        (listed === undefined
          ? describeValue(jobs)
          : `a list holding ${describeValue(listed.find((id) => typeof id !== "string" || !id))}`),
      { field: "jobs" },
    );
  }
  const ids = [...new Set(listed as string[])];
  const found = await describeJobs(
    options.session.batch,
    ids,
    options.signal ? { signal: options.signal } : {},
  );
  return new JobsView(ids.map((jobId): JobRow => {
    const d = found.get(jobId);
    if (d === undefined) return { jobId, jobName: "", status: "NOT FOUND", attempts: 0 };
    const row: JobRow = {
      jobId,
      jobName: d.jobName,
      status: d.status,
      attempts: d.attempts?.length ?? 0,
    };
    if (d.statusReason !== undefined) row.statusReason = d.statusReason;
    if (d.createdAt !== undefined) row.createdAt = d.createdAt;
    const size = d.arrayProperties?.size;
    if (size !== undefined) {
      row.arraySize = size;
      row.children = { ...d.arrayProperties?.statusSummary };
    }
    return row;
  }));
}
