// The README and docs/ hold together: relative links resolve (with their
// #anchors), and every TypeScript block is one the gates type-check.
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { allCodeBlocks, docFiles, ROOT, withoutCodeBlocks } from "./markdown.ts";

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a Markdown text's headings, outside code blocks. */
function anchors(text: string): Set<string> {
  const found = new Set<string>();
  for (const line of withoutCodeBlocks(text).split("\n")) {
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (heading) found.add(anchorOf(heading[1]!));
  }
  return found;
}

/** The relative links of a Markdown text, outside code blocks and code spans. */
function links(text: string): string[] {
  const prose = withoutCodeBlocks(text).replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

Deno.test("every relative link of the README and docs/ names a file that exists, and an anchor that exists", async () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of await docFiles()) {
    const text = await Deno.readTextFile(join(ROOT, file));
    for (const target of links(text)) {
      checked++;
      const [path, anchor] = target.split("#") as [string, string | undefined];
      const resolved = path === "" ? join(ROOT, file) : join(ROOT, dirname(file), path);
      const stat = await Deno.stat(resolved).catch(() => undefined);
      if (stat === undefined) {
        broken.push(`${file}: ${target} (no ${relative(ROOT, resolved)})`);
      } else if (anchor !== undefined && resolved.endsWith(".md")) {
        if (!anchors(await Deno.readTextFile(resolved)).has(anchor)) {
          broken.push(`${file}: ${target} (no heading #${anchor})`);
        }
      }
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked > 20, `only ${checked} links were found`);
});

Deno.test("the link check reads links outside code only, and anchors as GitHub makes them", () => {
  assert.deepEqual(links("[a](docs/x.md#y) `[b](c.md)` [d](https://e)\n```sh\n[f](g.md)\n```\n"), [
    "docs/x.md#y",
  ]);
  assert.deepEqual([
    ...anchors("# Command line\n```sh\n# not a heading\n```\n## `Knot.create()` options"),
  ], [
    "command-line",
    "knotcreate-options",
  ]);
  // A block inside a list item is code too.
  const listed = "- run:\n\n  ```sh\n  # not a heading [h](i.md)\n  ```\n\n# After\n";
  assert.deepEqual(links(listed), []);
  assert.deepEqual([...anchors(listed)], ["after"]);
});

Deno.test("no TypeScript block of the README or docs/ is left out of the type check", async () => {
  const skipped = (await allCodeBlocks()).filter((b) =>
    ["ts", "typescript", "tsx", "js", "javascript", "jsx"].includes(b.lang) &&
    (b.lang !== "ts" || b.attrs.length > 0)
  ).map((b) => `${b.file} (${b.section}): ${[b.lang, ...b.attrs].join(" ")}`);
  assert.deepEqual(skipped, []);
  // The gates check README.md docs/*.md: no page may sit deeper.
  assert.deepEqual((await docFiles()).filter((f) => f.split("/").length > 2), []);
});
