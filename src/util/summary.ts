/**
 * The short summary an object shows in a terminal (`Deno.customInspect`, so
 * `console.log` and a REPL print it) and in a Jupyter notebook
 * (`Symbol.for("Jupyter.display")`, read by Deno's kernel): a title line, then
 * one `label: value` line per field that has a value. Shown inside an array or
 * object, its lines are indented as Deno indents a nested value
 * ({@linkcode nestedText}). A class gets both from one list of fields with
 * {@linkcode showSummary}.
 *
 * @module
 */

/** One line of a summary: its label and its value, left out when `undefined`. */
export type SummaryField = readonly [label: string, value: string | number | undefined];

/** The text, and the notebook's display bundle (`text/plain` and `text/html`). */
function summarize(title: string, fields: readonly SummaryField[]) {
  const shown = fields.filter((f): f is readonly [string, string | number] => f[1] !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  const text = [title, ...shown.map(([l, v]) => `  ${`${l}:`.padEnd(width + 1)} ${v}`)].join("\n");
  const rows = shown.map(([l, v]) =>
    `<tr><th style="text-align:left">${escapeHtml(l)}</th><td>${escapeHtml(String(v))}</td></tr>`
  ).join("");
  const html = `<div class="cloudknot-summary"><b>${escapeHtml(title)}</b>` +
    `<table>${rows}</table></div>`;
  return { text, display: { "text/plain": text, "text/html": html } };
}

/**
 * Gives a class's objects their summary in a terminal and in a notebook:
 * defines `[Symbol.for("Deno.customInspect")]` (indented when nested,
 * {@linkcode nestedText}) and `[Symbol.for("Jupyter.display")]` on its
 * prototype, both rendered from the title and fields `describe` gives for
 * the object when it is shown: a title line, then one `label: value` line (a
 * table row in the notebook) per field that has a value. Called from the
 * class's `static {}` block, `describe` may read the object's private fields.
 *
 * @example Usage
 * ```ts
 * import { showSummary } from "./summary.ts";
 * import assert from "node:assert/strict";
 *
 * class Box {
 *   #size = 3;
 *   static {
 *     showSummary(Box, (box) => ["Box", [["size", box.#size], ["label", undefined]]]);
 *   }
 * }
 * assert.equal(Deno.inspect(new Box()), "Box\n  size: 3");
 * const display = Reflect.get(Box.prototype, Symbol.for("Jupyter.display")).call(new Box());
 * assert.ok(display["text/html"].includes("<td>3</td>"));
 * ```
 *
 * @param cls The class.
 * @param describe The title and fields of one of its objects.
 */
export function showSummary<T extends object>(
  cls: { readonly prototype: T },
  describe: (self: T) => readonly [title: string, fields: readonly SummaryField[]],
): void {
  const method = (value: (this: T, ...args: never[]) => unknown) => ({
    value,
    writable: true,
    configurable: true,
  });
  Object.defineProperties(cls.prototype, {
    [Symbol.for("Deno.customInspect")]: method(function (_inspect: unknown, place?: InspectPlace) {
      return nestedText(summarize(...describe(this)).text, place);
    }),
    [Symbol.for("Jupyter.display")]: method(function () {
      return summarize(...describe(this)).display;
    }),
  });
}

/** What `Deno.customInspect` is given about where the value is shown (the second argument). */
export interface InspectPlace {
  /** How many spaces the value is indented by, inside an array or object being shown. @default {0} */
  indentationLvl?: number;
}

/**
 * A multi-line text made fit to show as a value nested in an array or object:
 * its continuation lines get the indentation Deno gives the nested value, as
 * Deno indents a nested object's lines. Deno passes that indentation to
 * `Deno.customInspect` as `indentationLvl`.
 *
 * @example Usage
 * ```ts
 * import { nestedText } from "./summary.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(nestedText("Knot a\n  target: local", { indentationLvl: 2 }), "Knot a\n    target: local");
 * assert.equal(nestedText("Knot a\n  target: local"), "Knot a\n  target: local");
 * ```
 *
 * @param text The text as shown at the top level.
 * @param place Where it is shown: the options `Deno.customInspect` is given.
 * @returns The text with its continuation lines indented.
 */
export function nestedText(text: string, place?: InspectPlace): string {
  const level = place?.indentationLvl;
  if (typeof level !== "number" || !(level > 0)) return text;
  return text.replaceAll("\n", `\n${" ".repeat(level)}`);
}

/**
 * Escapes text for HTML.
 *
 * @example Usage
 * ```ts
 * import { escapeHtml } from "./summary.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapeHtml('<a href="x">'), "&#60;a href=&#34;x&#34;&#62;");
 * ```
 *
 * @param text The text.
 * @returns The escaped text.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
