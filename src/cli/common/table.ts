/**
 * Plain-text tables and times for the command line's human-readable output.
 *
 * @module
 */
import type { CommandContext } from "./command.ts";
import type { Style } from "./io.ts";

/** How a list command shows its items: see {@linkcode printList}. */
export interface ListView<T> {
  /** The table's column names. */
  header: string[];
  /** One item's cells. */
  cells: (item: T) => string[];
  /** What to say on stderr when there are no items, with the command that makes one. */
  empty: string;
  /** One item as `--json` prints it. @default {the item itself} */
  json?: (item: T) => unknown;
}

/**
 * Prints what a list command found: with `--json`, one JSON array on
 * stdout; otherwise a table, or, when there is nothing, a hint on stderr.
 *
 * @example Usage
 * ```ts ignore
 * return await printList(ctx, records, {
 *   header: ["NAME", "REGION"],
 *   cells: (p) => [p.name, p.region],
 *   empty: "No Pars yet: make one with `cloudknot pars create`",
 * });
 * ```
 *
 * @param ctx The running command, with its `json` flag.
 * @param items The items, in the order to show.
 * @param view The table, the hint and the JSON of an item.
 * @returns The exit code, 0.
 */
export async function printList<T>(
  ctx: CommandContext,
  items: T[],
  view: ListView<T>,
): Promise<number> {
  if (ctx.flag("json")) {
    await ctx.print(JSON.stringify(view.json ? items.map(view.json) : items));
  } else if (items.length === 0) {
    await ctx.log(view.empty);
  } else {
    await ctx.print(renderTable(view.header, items.map(view.cells), ctx.out));
  }
  return 0;
}

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

/**
 * What a list's cell adds for a knot or Pars whose clobber has not finished:
 * ` (being clobbered)` while another process clobbers it, ` (clobber
 * unfinished)` once that clobber stopped part-way; nothing otherwise.
 *
 * @example Usage
 * ```ts
 * import { clobberLabel } from "./table.ts";
 *
 * console.log(clobberLabel({ clobberStartedAt: 0, clobberRunning: false })); // " (clobber unfinished)"
 * ```
 *
 * @param record When its clobber began, and whether it still runs.
 * @returns The words to add.
 */
export function clobberLabel(
  record: { clobberStartedAt?: number; clobberRunning?: boolean },
): string {
  if (record.clobberStartedAt === undefined) return "";
  return record.clobberRunning ? " (being clobbered)" : " (clobber unfinished)";
}
