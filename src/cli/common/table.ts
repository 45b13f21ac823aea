/**
 * Plain-text tables and times for the command line's human-readable output.
 *
 * @module
 */
import type { Style } from "./io.ts";

/**
 * Renders rows as columns padded to their widest cell, with a styled header.
 *
 * @example Usage
 * ```ts
 * import { renderTable } from "./table.ts";
 *
 * const style = Object.assign((_: unknown, text: string) => text, { enabled: false });
 * console.log(renderTable(["NAME", "RUNS"], [["squares", "2"]], style));
 * // NAME     RUNS
 * // squares  2
 * ```
 *
 * @param header The column names.
 * @param rows The cells, one array per row.
 * @param style Styles the header.
 * @returns The table, one line per row, without a trailing newline.
 */
export function renderTable(header: string[], rows: string[][], style: Style): string {
  const widths = header.map((h, col) =>
    Math.max(h.length, ...rows.map((r) => (r[col] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd();
  return [style("bold", line(header)), ...rows.map(line)].join("\n");
}

/**
 * A time as `2026-11-26 12:01:02Z`.
 *
 * @example Usage
 * ```ts
 * import { formatTime } from "./table.ts";
 *
 * console.log(formatTime(0)); // "1970-01-01 00:00:00Z"
 * ```
 *
 * @param epochMs The time in epoch milliseconds.
 * @returns The text.
 */
export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
