// A Knot shows as a short summary in a terminal (Deno.inspect, console.log)
// and in a notebook (the Jupyter display bundle), never as its function's source.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../mod.ts";

Deno.test("a knot shows its name, target, function, folder and what its items run with, not its source", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-knot-test-" });
  try {
    const knot = await Knot.create({
      name: "squares",
      dir,
      concurrency: 2,
      timeout: 30,
      permissions: { read: ["/data"] },
      func: function square(x: number) {
        const secretSauce = 7;
        return x * x + secretSauce;
      },
    });
    const text = Deno.inspect(knot);
    assert.equal(
      text,
      "Knot squares\n  target:      local\n  function:    square (func)\n" +
        `  folder:      ${join(dir, "squares")}\n  concurrency: 2 workers\n  retries:     3\n` +
        "  timeout:     30 s\n  permissions: read=/data",
    );
    const shown = (knot as unknown as Record<symbol, () => Record<string, string>>)[
      Symbol.for("Jupyter.display")
    ]!();
    assert.deepEqual(Object.keys(shown).sort(), ["text/html", "text/plain"]);
    assert.equal(shown["text/plain"], text);
    assert.match(shown["text/html"]!, /<b>Knot squares<\/b>/);
    assert.match(shown["text/html"]!, /<th[^>]*>function<\/th><td>square \(func\)<\/td>/);
    for (const shape of [text, shown["text/html"]!]) assert.doesNotMatch(shape, /secretSauce/);

    await knot.clobber();
    assert.match(Deno.inspect(knot), /^Knot squares \(clobbered\)\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("knots shown in an array or an object indent their summaries' lines as Deno indents nested values", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-knot-test-" });
  try {
    const [a, b] = await Promise.all(
      ["one", "two"].map((name) =>
        Knot.create({ name, dir, concurrency: 1, retries: 1, func: (x: number) => x + 1 })
      ),
    );
    const rows = (name: string, indent: string) =>
      [
        `target:      local`,
        `function:    func (func)`,
        `folder:      ${join(dir, name)}`,
        `concurrency: 1 worker`,
        `retries:     1`,
        `permissions: net`,
      ].map((row) => `\n${indent}${row}`).join("");
    assert.equal(
      Deno.inspect([a, b]),
      `[\n  Knot one${rows("one", "    ")},\n  Knot two${rows("two", "    ")}\n]`,
    );
    assert.equal(
      Deno.inspect({ run: { knot: a } }),
      `{\n  run: {\n    knot: Knot one${rows("one", "      ")}\n  }\n}`,
    );
    // At the top level, nothing changes.
    assert.equal(Deno.inspect(a), `Knot one${rows("one", "  ")}`);
    await Promise.all([a!.clobber(), b!.clobber()]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
