// The knot name `cloudknot map` derives from a module and an export.
import assert from "node:assert/strict";
import { knotNameFor } from "../../src/cli/common/knot_name.ts";
import { validateKnotName } from "../../src/util/validate.ts";

Deno.test("a derived knot name keeps a file's identity with a hash when its name is outside ASCII, and is the ASCII file name and export alone otherwise", async () => {
  const data = await knotNameFor("mods/数据.ts", "slow");
  assert.match(data, /^slow-[0-9a-f]{6}$/);
  assert.equal(await knotNameFor("/elsewhere/数据.ts", "slow"), data, "the hash is stable");
  assert.notEqual(await knotNameFor("mods/统计.ts", "slow"), data);
  assert.match(await knotNameFor("mods/数据.ts", "default"), /^knot-[0-9a-f]{6}$/);
  const accented = await knotNameFor("mods/ünï cödé.ts", "slow");
  assert.match(accented, /^n-c-d-slow-[0-9a-f]{6}$/);
  assert.notEqual(accented, await knotNameFor("mods/ünï cödé.ts", "fast"));
  // An export outside ASCII too.
  assert.match(await knotNameFor("jobs.ts", "平方"), /^jobs-[0-9a-f]{6}$/);
  // Cut to 55 characters with the hash kept, and a valid name.
  const long = await knotNameFor(`mods/${"é".repeat(10)}${"x".repeat(80)}.ts`, "slow");
  assert.equal(long.length, 55);
  assert.match(long, /^x+-[0-9a-f]{6}$/);
  for (const name of [data, accented, long]) assert.equal(validateKnotName(name), name);
  // ASCII names are made of the file name and the export alone, as ever.
  assert.equal(await knotNameFor("examples/monte_carlo_pi.ts", "default"), "monte-carlo-pi");
  assert.equal(await knotNameFor("examples/jobs.ts", "square"), "jobs-square");
  assert.equal(await knotNameFor("./2d.ts", "fit_curve"), "knot-2d-fit-curve");
  assert.equal(await knotNameFor("https://example.com/a/my_job.ts?x=1", "run"), "my-job-run");
  assert.equal(await knotNameFor(`${"a".repeat(60)}.ts`, "default"), "a".repeat(55));
});
