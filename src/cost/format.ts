/**
 * Formatting shared by the estimate, the cost report and the run's pictures.
 *
 * @module
 */
import { escapeHtml } from "../util/summary.ts";

/**
 * Formats seconds as `42s`, `3m 20s` or `2h 05m`.
 *
 * @param seconds The duration.
 * @returns The text.
 */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  }
  return `${Math.floor(seconds / 3600)}h ${
    String(Math.round((seconds % 3600) / 60)).padStart(2, "0")
  }m`;
}

/**
 * Formats a byte count as `512 B`, `1.5 KB`, `2.0 MB` (decimal units, as S3 bills).
 *
 * @param bytes The count.
 * @returns The text.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let n = bytes;
  let unit = "B";
  for (const u of units) {
    if (n < 1000) break;
    n /= 1000;
    unit = u;
  }
  return `${n.toFixed(1)} ${unit}`;
}

/**
 * Renders a titled table of `[label, value]` rows and its notes as plain text.
 *
 * @param title The first line.
 * @param rows The rows.
 * @param notes Sentences listed under the rows.
 * @param heading A line before the notes, when wanted.
 * @returns The text.
 */
export function rowsText(
  title: string,
  rows: [string, string][],
  notes: string[],
  heading?: string,
): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    title,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    ...(heading !== undefined ? [heading] : []),
    ...notes.map((n) => `  - ${n}`),
  ].join("\n");
}

/**
 * Renders `[label, value]` rows and their notes as an HTML fragment.
 *
 * @param className The fragment's class.
 * @param rows The rows.
 * @param notes Sentences listed under the rows.
 * @returns The HTML.
 */
export function rowsHtml(className: string, rows: [string, string][], notes: string[]): string {
  const body = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("");
  return `<div class="${className}"><table>${body}</table><ul>${
    notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")
  }</ul></div>`;
}
