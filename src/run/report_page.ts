/**
 * The report of a run as one self-contained HTML page: its summary, its
 * timeline (inline SVG), its cost report, and its failures with their errors
 * and the last lines of their output. Nothing is loaded from anywhere: the
 * page opens from a file, offline.
 *
 * @module
 */
import { escapeHtml } from "../util/summary.ts";
import type { CostReport } from "../cost/report.ts";

/** One failed item of a report. */
export interface ReportFailure {
  /** The item's index. */
  index: number;
  /** Its error's message. */
  message: string;
  /** Its error's remote stack, when there is one. */
  stack?: string;
  /** The last lines of its last attempt's output. */
  log: string[];
}

/** What a report page shows. */
export interface ReportPage {
  /** The page's title. */
  title: string;
  /** The run's summary line. */
  summary: string;
  /** The timeline's SVG. */
  timeline: string;
  /** The cost report. */
  cost: CostReport;
  /** The failed items (the first few). */
  failures: ReportFailure[];
  /** How many items failed in all. */
  failed: number;
  /** When the report was made, epoch ms. */
  madeAt: number;
}

const STYLE = `body{font-family:sans-serif;margin:24px;color:#263238}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}
pre{background:#f5f5f5;padding:8px;overflow-x:auto;font-size:12px;max-height:300px}
.failure{border-left:3px solid #c62828;padding-left:10px;margin:12px 0}
.muted{color:#78909c}`;

/**
 * Renders a run's report as one self-contained HTML page.
 *
 * @example Usage
 * ```ts
 * import { costReport } from "@cloudknot/cloudknot/cost";
 * import { renderReportPage } from "@cloudknot/cloudknot/run";
 *
 * const usage = { knot: "k", runId: "r", target: "local" as const, attempts: [] };
 * const html = renderReportPage({
 *   title: "k run r", summary: "k run r (local): 0/0 done", timeline: "<svg></svg>",
 *   cost: costReport(usage), failures: [], failed: 0, madeAt: 0,
 * });
 * console.log(html.startsWith("<!doctype html>")); // true
 * ```
 *
 * @param page What the page shows.
 * @returns The HTML document.
 */
export function renderReportPage(page: ReportPage): string {
  const failures = page.failures.map((f) =>
    `<div class="failure" id="item-${f.index}"><b>${escapeHtml(f.message)}</b>` +
    (f.stack ? `<pre>${escapeHtml(f.stack)}</pre>` : "") +
    (f.log.length > 0
      ? `<div class="muted">Last lines of its output:</div><pre>${
        escapeHtml(f.log.join("\n"))
      }</pre>`
      : `<div class="muted">It printed nothing.</div>`) +
    `</div>`
  ).join("");
  const more = page.failed > page.failures.length
    ? `<p class="muted">… and ${page.failed - page.failures.length} more failed items.</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style></head><body>
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.summary)}</p>
<h2>Timeline</h2>
<div id="timeline">${page.timeline}</div>
<h2>Cost</h2>
${page.cost.toHtml()}
<h2>Failures</h2>
${page.failed === 0 ? "<p>No item failed.</p>" : failures + more}
<p class="muted">Made by cloudknot on ${new Date(page.madeAt).toISOString()}.</p>
</body></html>
`;
}
