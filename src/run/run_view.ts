/**
 * The job view of a run: a summary line and a table of items, as plain text
 * for terminals and as HTML for Jupyter notebooks.
 *
 * @module
 */
import type { ItemView, MapRun } from "./map_run.ts";
import { escapeHtml } from "../util/summary.ts";

/** Rows shown before the view says how many more there are. */
const MAX_ROWS = 20;

const ORDER: Record<ItemView["status"], number> = {
  failed: 0,
  cancelled: 1,
  running: 2,
  pending: 3,
  succeeded: 4,
};

/**
 * Renders a run's summary line, such as
 * `squares run 20261126T1200Z-ab12 (local): 98/100 done, 2 failed · 3.1s`.
 *
 * @example Usage
 * ```ts
 * import { MapRun } from "@cloudknot/cloudknot";
 * import { summarizeRun } from "@cloudknot/cloudknot/run";
 *
 * const { run } = MapRun.create({ knot: "k", runId: "r", target: "local", total: 0, attempts: 1 });
 * console.log(summarizeRun(run)); // "k run r (local): 0/0 done · 0.0s"
 * ```
 *
 * @param run The run.
 * @returns One line.
 */
export function summarizeRun(run: MapRun<unknown>): string {
  const c = run.counts;
  const parts = [`${c.succeeded + c.failed}/${c.total} done`];
  if (c.failed > c.cancelled) parts.push(`${c.failed - c.cancelled} failed`);
  if (c.cancelled > 0) parts.push(`${c.cancelled} cancelled`);
  if (c.running > 0) parts.push(`${c.running} running`);
  if (c.retried > 0) parts.push(`${c.retried} retried`);
  if (run.cutShort) {
    parts.push(
      `cut short: the process that mapped it died after ${c.total} inputs were read, map the rest again`,
    );
  }
  const seconds = ((run.endedAt ?? Date.now()) - run.startedAt) / 1000;
  return `${run.knot} run ${run.runId} (${run.target}): ${parts.join(", ")} · ${
    seconds.toFixed(1)
  }s`;
}

function rows(run: MapRun<unknown>): { shown: ItemView[]; hidden: number } {
  const items = [...run.items].sort((a, b) =>
    ORDER[a.status] - ORDER[b.status] || a.index - b.index
  );
  return { shown: items.slice(0, MAX_ROWS), hidden: Math.max(0, items.length - MAX_ROWS) };
}

function duration(item: ItemView): string {
  if (item.startedAt === undefined) return "";
  return `${(((item.endedAt ?? Date.now()) - item.startedAt) / 1000).toFixed(1)}s`;
}

/**
 * Renders the job view as plain text.
 *
 * @example Usage
 * ```ts
 * import { MapRun } from "@cloudknot/cloudknot";
 * import { renderRunText } from "@cloudknot/cloudknot/run";
 *
 * const { run } = MapRun.create({ knot: "k", runId: "r", target: "local", total: 2, attempts: 1 });
 * console.log(renderRunText(run));
 * ```
 *
 * @param run The run.
 * @param errorOf An item's error as the reader should see it (the command line
 * puts cloudknot's advice in its own words); by default its message.
 * @returns The summary line and a table.
 */
export function renderRunText(
  run: MapRun<unknown>,
  errorOf: (item: ItemView) => string | undefined = (item) => item.error,
): string {
  const cost = run.lastCost;
  const { shown, hidden } = rows(run);
  const table = [["item", "status", "attempts", "time", "error"]];
  for (const item of shown) {
    table.push([
      String(item.index),
      item.status,
      String(item.attempts),
      duration(item),
      (errorOf(item) ?? "").split("\n")[0]!.slice(0, 80),
    ]);
  }
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  const lines = table.map((row) =>
    row.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd()
  );
  if (hidden > 0) lines.push(`… ${hidden} more items`);
  if (cost !== undefined) lines.push(cost.toString());
  return [summarizeRun(run), ...lines].join("\n");
}

const COLORS: Record<ItemView["status"], string> = {
  failed: "#c62828",
  cancelled: "#757575",
  running: "#1565c0",
  pending: "#757575",
  succeeded: "#2e7d32",
};

/**
 * Renders the job view as an HTML table, for notebooks.
 *
 * @example Usage
 * ```ts
 * import { MapRun } from "@cloudknot/cloudknot";
 * import { renderRunHtml } from "@cloudknot/cloudknot/run";
 *
 * const { run } = MapRun.create({ knot: "k", runId: "r", target: "local", total: 1, attempts: 1 });
 * console.log(renderRunHtml(run).startsWith("<div")); // true
 * ```
 *
 * @param run The run.
 * @param options `values`: add a column that previews each item's value.
 * @returns An HTML fragment.
 */
export function renderRunHtml(run: MapRun<unknown>, options: { values?: boolean } = {}): string {
  const { shown, hidden } = rows(run);
  const values = options.values ? previews(run, shown) : undefined;
  const body = shown.map((item) =>
    `<tr><td>${item.index}</td><td style="color:${COLORS[item.status]}">${item.status}</td>` +
    `<td>${item.attempts}</td><td>${duration(item)}</td>` +
    (values ? `<td><code>${escapeHtml(values.get(item.index) ?? "")}</code></td>` : "") +
    `<td><code>${escapeHtml((item.error ?? "").split("\n")[0]!)}</code></td></tr>`
  ).join("");
  const columns = values ? 6 : 5;
  const more = hidden > 0 ? `<tr><td colspan="${columns}">… ${hidden} more items</td></tr>` : "";
  const cost = run.lastCost?.toHtml() ?? "";
  return `<div class="cloudknot-run"><p><b>${escapeHtml(summarizeRun(run))}</b></p>` +
    `<table><thead><tr><th>item</th><th>status</th><th>attempts</th><th>time</th>` +
    `${values ? "<th>value</th>" : ""}<th>error</th></tr></thead>` +
    `<tbody>${body}${more}</tbody></table>${cost}</div>`;
}

/** A one-line preview of each shown item's value, once it has one. */
function previews(run: MapRun<unknown>, shown: ItemView[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const item of shown) {
    const s = run.settledItem(item.index);
    if (s?.status !== "fulfilled") continue;
    const text = Deno.inspect(s.value, {
      depth: 2,
      compact: true,
      breakLength: Infinity,
      colors: false,
    });
    out.set(item.index, text.length > 60 ? `${text.slice(0, 59)}…` : text);
  }
  return out;
}
