/**
 * A picture of a run: each attempt drawn as a bar over time, one row per
 * Batch job (or array child) on AWS and one per worker locally, coloured by
 * how it ended, with the wait before each attempt drawn lighter. Plain SVG,
 * written here: no browser or plotting library is needed to make it, and any
 * browser or notebook shows it.
 *
 * Locally the records do not say which worker ran an attempt, so each
 * attempt goes in the first row free when it started: there are as many
 * rows as attempts ran at once, as there were workers busy.
 *
 * @module
 */
import type { AttemptOutcome, AttemptUsage, RunUsage } from "../cost/usage.ts";
import { formatSeconds } from "../cost/format.ts";
import { escapeHtml } from "../util/summary.ts";

/** The colour of each outcome, and of the wait before an attempt. */
export const TIMELINE_COLORS: Readonly<Record<AttemptOutcome | "waiting", string>> = {
  succeeded: "#2e7d32",
  retried: "#ef6c00",
  failed: "#c62828",
  cancelled: "#757575",
  running: "#1565c0",
  waiting: "#cfd8dc",
};

/** Options for {@linkcode renderTimeline}. */
export interface TimelineOptions {
  /** The picture's width in pixels. @default {900} */
  width?: number;
  /** The most rows drawn; the rest are counted below the picture. @default {60} */
  maxRows?: number;
  /** The time taken as "now" for attempts still running, epoch ms. @default {Date.now()} */
  now?: number;
}

interface Row {
  label: string;
  title: string;
  attempts: AttemptUsage[];
}

const LABEL = 110;
const ROW = 16;
const GAP = 4;
const TOP = 34;

/** One row per Batch job on AWS; locally, the first free row when each attempt started. */
function rowsOf(usage: RunUsage, now: number): Row[] {
  if (usage.target === "aws") {
    const byJob = new Map<string, AttemptUsage[]>();
    for (const a of usage.attempts) byJob.set(a.jobId, [...(byJob.get(a.jobId) ?? []), a]);
    return [...byJob.entries()]
      .sort(([, a], [, b]) => a[0]!.index - b[0]!.index)
      .map(([jobId, attempts]) => ({
        label: `item ${attempts[0]!.index}`,
        title: `AWS Batch job ${jobId}`,
        attempts: attempts.sort((x, y) => x.attempt - y.attempt),
      }));
  }
  const lanes: { end: number; attempts: AttemptUsage[] }[] = [];
  const timed = [...usage.attempts]
    .filter((a) => a.startedAt !== undefined || a.stoppedAt !== undefined)
    .sort((a, b) => (a.startedAt ?? a.stoppedAt!) - (b.startedAt ?? b.stoppedAt!));
  for (const a of timed) {
    const start = a.startedAt ?? a.stoppedAt!;
    let lane = lanes.find((l) => l.end <= start);
    if (lane === undefined) lanes.push(lane = { end: 0, attempts: [] });
    lane.attempts.push(a);
    lane.end = a.stoppedAt ?? now;
  }
  return lanes.map((lane, i) => ({
    label: `worker ${i + 1}`,
    title: `worker slot ${i + 1}`,
    attempts: lane.attempts,
  }));
}

function describe(a: AttemptUsage, now: number): string {
  const parts = [`item ${a.index} attempt ${a.attempt}: ${a.outcome}`];
  if (a.startedAt !== undefined) {
    parts.push(`ran ${formatSeconds(((a.stoppedAt ?? now) - a.startedAt) / 1000)}`);
  }
  if (a.queuedAt !== undefined && a.startedAt !== undefined) {
    parts.push(`waited ${formatSeconds(Math.max(0, a.startedAt - a.queuedAt) / 1000)}`);
  }
  if (a.reason) {
    // What happened, its first sentence: the advice after it is the failure's own to give, in
    // the words of whoever shows it.
    const line = a.reason.split("\n")[0]!;
    parts.push((/^.*?[.!?](?=\s|$)/.exec(line)?.[0] ?? line).slice(0, 200));
  }
  return parts.join(", ");
}

/**
 * Draws a run's attempts as an SVG timeline.
 *
 * @example Usage
 * ```ts
 * import { renderTimeline } from "@cloudknot/cloudknot/run";
 *
 * const svg = renderTimeline({
 *   knot: "k", runId: "r", target: "local",
 *   attempts: [{ jobId: "r:0", index: 0, attempt: 1, startedAt: 0, stoppedAt: 1000, outcome: "succeeded" }],
 * });
 * console.log(svg.startsWith("<svg")); // true
 * ```
 *
 * @param usage What the run's attempts used.
 * @param options The width, the most rows and the time taken as now.
 * @returns The SVG document.
 */
export function renderTimeline(usage: RunUsage, options: TimelineOptions = {}): string {
  const now = options.now ?? Date.now();
  const width = options.width ?? 900;
  const maxRows = options.maxRows ?? 60;
  const all = rowsOf(usage, now);
  const rows = all.slice(0, maxRows);
  const times = usage.attempts.flatMap((a) =>
    [a.queuedAt, a.startedAt, a.stoppedAt ?? (a.startedAt !== undefined ? now : undefined)]
      .filter((t): t is number => t !== undefined)
  );
  const t0 = times.length > 0 ? Math.min(...times) : now;
  const t1 = Math.max(t0 + 1, ...times);
  const plot = width - LABEL - 10;
  const x = (t: number) => LABEL + (t - t0) / (t1 - t0) * plot;
  const height = TOP + Math.max(1, rows.length) * (ROW + GAP) + 44;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="cloudknot-timeline" width="${width}" ` +
      `height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="4" y="14" font-weight="bold">${
      escapeHtml(`${usage.knot} run ${usage.runId} (${usage.target})`)
    }</text>`,
  );
  // The time axis: five ticks, in seconds from the first event.
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (t1 - t0) * i / 4;
    const tx = x(t).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${height - 40}" stroke="#eceff1"/>`,
      `<text x="${tx}" y="${TOP - 9}" text-anchor="${
        i === 0 ? "start" : i === 4 ? "end" : "middle"
      }" ` +
        `fill="#546e7a">${escapeHtml(formatSeconds((t - t0) / 1000))}</text>`,
    );
  }
  // Waits first, so a bar is never covered by the wait of a later attempt in its row.
  const waits: string[] = [];
  const bars: string[] = [];
  rows.forEach((row, i) => {
    const y = TOP + i * (ROW + GAP);
    out.push(
      `<text x="4" y="${y + ROW - 4}"><title>${escapeHtml(row.title)}</title>${
        escapeHtml(row.label)
      }</text>`,
    );
    for (const a of row.attempts) {
      const title = `<title>${escapeHtml(describe(a, now))}</title>`;
      if (a.queuedAt !== undefined && a.startedAt !== undefined && a.startedAt > a.queuedAt) {
        const qx = x(a.queuedAt);
        waits.push(
          `<rect class="wait" x="${qx.toFixed(1)}" y="${y + 4}" width="${
            Math.max(1, x(a.startedAt) - qx).toFixed(1)
          }" height="${ROW - 8}" fill="${TIMELINE_COLORS.waiting}">${title}</rect>`,
        );
      }
      const start = a.startedAt ?? a.stoppedAt;
      if (start === undefined) continue;
      const sx = x(start);
      const w = Math.max(2, x(a.stoppedAt ?? now) - sx);
      bars.push(
        `<rect class="attempt ${a.outcome}" x="${sx.toFixed(1)}" y="${y}" width="${
          w.toFixed(1)
        }" height="${ROW}" rx="2" fill="${TIMELINE_COLORS[a.outcome]}">${title}</rect>`,
      );
    }
  });
  out.push(...waits, ...bars);
  const legendY = height - 22;
  let lx = 4;
  if (all.length > rows.length) {
    out.push(
      `<text x="4" y="${legendY - 8}" fill="#546e7a">… ${
        all.length - rows.length
      } more rows not drawn</text>`,
    );
  }
  for (const [key, color] of Object.entries(TIMELINE_COLORS)) {
    out.push(
      `<rect x="${lx}" y="${legendY}" width="10" height="10" fill="${color}"/>`,
      `<text x="${lx + 14}" y="${legendY + 9}">${key}</text>`,
    );
    lx += 24 + key.length * 7;
  }
  out.push("</svg>");
  return out.join("");
}

/**
 * A run's timeline: the SVG, and how much it shows. A notebook shows the
 * picture; `String(timeline)` is the SVG.
 *
 * @example Usage
 * ```ts
 * import { Timeline } from "@cloudknot/cloudknot/run";
 *
 * const timeline = new Timeline({ knot: "k", runId: "r", target: "aws", attempts: [] });
 * console.log(timeline.rows); // 0
 * ```
 */
export class Timeline {
  /** The SVG document. */
  readonly svg: string;
  /** Rows in the run (Batch jobs, or local workers). */
  readonly rows: number;
  /** Attempts in the run. */
  readonly attempts: number;
  /** HTML shown beside the picture in a notebook (such as a table of the items' values). */
  readonly beside: string;

  /**
   * Draws a timeline.
   *
   * @param usage What the run's attempts used.
   * @param options How to draw it, and HTML to show beside it in a notebook.
   */
  constructor(usage: RunUsage, options: TimelineOptions & { beside?: string } = {}) {
    this.svg = renderTimeline(usage, options);
    this.rows = rowsOf(usage, options.now ?? Date.now()).length;
    this.attempts = usage.attempts.length;
    this.beside = options.beside ?? "";
  }

  /** The SVG document. */
  toString(): string {
    return this.svg;
  }

  /** Shows the picture (and what goes beside it) in a Jupyter notebook. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return {
      "text/html": `<div style="display:flex;gap:16px;align-items:flex-start">` +
        `<div>${this.svg}</div><div>${this.beside}</div></div>`,
      "image/svg+xml": this.svg,
      "text/plain": `Timeline: ${this.attempts} attempts in ${this.rows} rows`,
    };
  }

  /** Shows a summary in `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Timeline: ${this.attempts} attempts in ${this.rows} rows (String(timeline) is its SVG)`;
  }
}
