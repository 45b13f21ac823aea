// A knot on AWS given a module bundles it once per create, adoption, update
// or dry run: the update's comparison of the function with the knot's own
// hands its bundle to the image it builds, and the dry run's to its plan; the
// warning about files the module's code reaches beside it is given once per
// image built (or planned), and not when the knot is adopted as it is.
import assert from "node:assert/strict";
import { join } from "node:path";
import { openAwsKnot } from "../../../src/targets/aws/aws_knot.ts";
import { planAwsKnot } from "../../../src/targets/aws/aws_plan.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { withFargateKnot } from "./helpers.ts";
import { countingDeno } from "../../support/counting_deno.ts";

const ITS_LOCATION = /^cloudknot: the module's code names its own location/;

dockerTest(
  "an AWS knot created, adopted, planned and updated from a module bundles it once each time, and warns of its files once per image",
  async () => {
    await withFargateKnot("bnd", async ({ dir, common }) => {
      const { deno, runs: bundles } = await countingDeno(dir);
      const module = join(dir, "sizes.ts");
      const write = (add: number) =>
        Deno.writeTextFile(
          module,
          "export function size(x: number): number {\n" +
            `  return x + new URL("./model.json", import.meta.url).href.length * 0 + ${add};\n}\n`,
        );
      await write(1);
      const warned: string[] = [];
      const spec = {
        ...common,
        module,
        exportName: "size",
        deno,
        warn: (m: string) => warned.push(m),
      };
      const located = () => warned.filter((m) => ITS_LOCATION.test(m)).length;

      const made = await openAwsKnot(spec);
      assert.equal(await bundles(), 1);
      assert.equal(located(), 1, warned.join("\n"));

      // Its own function again: compared, and adopted with no image built, so no warning.
      const adopted = await openAwsKnot(spec);
      assert.equal(adopted.target.resources.adopted, true);
      assert.equal(adopted.artifact.hash, made.artifact.hash);
      assert.equal(await bundles(), 2);
      assert.equal(located(), 1, warned.join("\n"));

      // Another function: its dry run compares it with the knot's and plans the image of it
      // with one bundle, and warns as the build would.
      await write(2);
      const plan = await planAwsKnot(spec);
      assert.ok(plan.steps.some((s) => s.action === "build" && s.kind === "image"), String(plan));
      assert.equal(await bundles(), 3);
      assert.equal(located(), 2, warned.join("\n"));

      // Its update: the bundle that told it another function is the one its image is built of.
      const updated = await openAwsKnot(spec);
      assert.equal(updated.target.resources.updated, true);
      assert.notEqual(updated.artifact.hash, made.artifact.hash);
      assert.equal(await bundles(), 4);
      assert.equal(located(), 3, warned.join("\n"));
      assert.equal(warned.filter((m) => / now runs module size /.test(m)).length, 1);
    });
  },
);
