// A run's report is one self-contained page that draws: rendered by headless
// Chromium from a file, its timeline shows the attempts' bars.
import assert from "node:assert/strict";
import { join } from "node:path";
import { TIMELINE_COLORS } from "../../src/run/mod.ts";
import { chromiumTest, screenshot } from "../support/chromium.ts";
import { countColor, decodePng } from "../support/png.ts";
import { withKnot } from "../targets/local/helpers.ts";

chromiumTest(
  "a run's report page renders in headless Chromium and its timeline draws",
  async () => {
    await withKnot({
      name: "drawn",
      retries: 2,
      func: async (x: number) => {
        await new Promise((r) => setTimeout(r, 200));
        if (x === 3) throw new RangeError("three is not allowed");
        return x;
      },
    }, async (knot, dir) => {
      const run = await knot.map([1, 2, 3, 4], { progress: false });
      await run.done;
      const page = await run.report();
      // Self-contained: nothing is loaded from anywhere.
      assert.doesNotMatch(page, /<script|<link|src=|@import|url\(/);
      assert.match(page, /Item 2 threw RangeError: three is not allowed/);
      const file = join(dir, "report.html");
      await Deno.writeTextFile(file, page);
      const pixels = decodePng(await screenshot(file));
      assert.equal(pixels.width, 1000);
      // The bars of the attempts that succeeded, were retried and failed are drawn.
      const succeeded = countColor(pixels, TIMELINE_COLORS.succeeded);
      const retried = countColor(pixels, TIMELINE_COLORS.retried);
      const failed = countColor(pixels, TIMELINE_COLORS.failed);
      assert.ok(succeeded > 1000, `only ${succeeded} pixels of succeeded bars`);
      assert.ok(retried > 200, `only ${retried} pixels of retried bars`);
      assert.ok(failed > 200, `only ${failed} pixels of failed bars`);
    });
  },
);
