/**
 * Formatting shared by the estimate, the cost report and the run's pictures,
 * and the table the estimate and the cost report show themselves as.
 *
 * @module
 */
import { escapeHtml, type InspectPlace, nestedText } from "../util/summary.ts";

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
 * Where a run's figures are from, as its table's title says it: `local`,
 * `docker`, or `AWS <compute>, <region>`.
 *
 * @param figures The target, and on AWS the compute type and region.
 * @returns The text.
 */
export function placeText(
  figures: { target: "aws" | "local" | "docker"; compute?: string; region?: string },
): string {
  if (figures.target !== "aws") return figures.target;
  return `AWS ${figures.compute ?? ""}${figures.region ? `, ${figures.region}` : ""}`;
}

/**
 * A table of `[label, value]` rows with notes under it (what the figures
 * assume): the estimate and the cost report. Printed, it is a titled text
 * table; in a notebook, an HTML table.
 *
 * @example Usage
 * ```ts
 * import { RowsTable } from "@cloudknot/cloudknot/cost";
 * import assert from "node:assert/strict";
 *
 * class Sizes extends RowsTable {
 *   readonly assumptions = ["Sizes are rounded."];
 *   rows(): [string, string][] {
 *     return [["inputs", "2 KB"]];
 *   }
 *   protected title(): string {
 *     return "Sizes:";
 *   }
 *   protected get htmlClass(): string {
 *     return "sizes";
 *   }
 * }
 * assert.equal(String(new Sizes()), "Sizes:\n  inputs  2 KB\n  - Sizes are rounded.");
 * ```
 */
export abstract class RowsTable {
  /** The notes under the rows, one sentence each. */
  abstract readonly assumptions: string[];

  /** The figures as `[label, value]` rows. */
  abstract rows(): [string, string][];

  /** The first line of the text: what the table is. */
  protected abstract title(): string;

  /** The class of the HTML fragment. */
  protected abstract get htmlClass(): string;

  /** A line between the rows and the notes in the text, when wanted. */
  protected get notesHeading(): string | undefined {
    return undefined;
  }

  /** The table and its notes as plain text. */
  toString(): string {
    const rows = this.rows();
    const width = Math.max(...rows.map(([k]) => k.length));
    const heading = this.notesHeading;
    return [
      this.title(),
      ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
      ...(heading !== undefined ? [heading] : []),
      ...this.assumptions.map((n) => `  - ${n}`),
    ].join("\n");
  }

  /** The table and its notes as an HTML fragment. */
  toHtml(): string {
    const body = this.rows().map(([k, v]) =>
      `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`
    ).join("");
    return `<div class="${this.htmlClass}"><table>${body}</table><ul>${
      this.assumptions.map((n) => `<li>${escapeHtml(n)}</li>`).join("")
    }</ul></div>`;
  }

  /** Shows the table in a Jupyter notebook. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/html": this.toHtml(), "text/plain": this.toString() };
  }

  /** Shows the table in `console.log`, indented as a nested value inside an array or object. */
  [Symbol.for("Deno.customInspect")](_inspect: unknown, place?: InspectPlace): string {
    return nestedText(this.toString(), place);
  }
}
