import assert from "node:assert/strict";
import { CloudknotInputError, Knot } from "../../mod.ts";
import { rejects } from "../support/rejects.ts";
import { closestWord } from "../../src/util/validate.ts";

Deno.test("closestWord names a word within two edits, or else the one option that starts with it", () => {
  assert.equal(closestWord("memroy", ["memory", "vcpus"]), "memory");
  assert.equal(closestWord("export", ["exportName", "module"]), "exportName");
  assert.equal(closestWord("ex", ["exportName"]), undefined);
  assert.equal(closestWord("max", ["maxVcpus", "maxAttempts"]), undefined);
  assert.equal(closestWord("zzz", ["memory"]), undefined);
});

Deno.test("Knot.create() with export instead of exportName asks whether exportName was meant", async () => {
  const e = await Knot.create({ name: "k", module: "m.ts", export: "f" } as never).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(e), /has no option "export": did you mean "exportName"\?/);
});

Deno.test("an option of map() given to Knot.create(), or one of Knot.create() given to map(), says where it goes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const create = (extra: Record<string, unknown>) =>
      rejects(
        Knot.create({ name: "k", func: (x: number) => x, dir, ...extra } as never),
        CloudknotInputError,
      );
    let e = await create({ itemsPerjob: 3 });
    assert.equal(
      e.message,
      'Knot.create() has no option "itemsPerjob": itemsPerJob is an option of map(), ' +
        "for one run: knot.map(inputs, { itemsPerJob })",
    );
    assert.equal(e.field, "itemsPerjob");
    e = await create({ env: { MODE: "fast" } });
    assert.match(e.message, /^Knot\.create\(\) has no option "env": env is an option of map\(\)/);
    // Nothing was made.
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);

    const knot = await Knot.create({ name: "k", func: (x: number) => x, dir });
    e = await rejects(knot.map([1], { retries: 1 } as never), CloudknotInputError);
    assert.equal(
      e.message,
      'map() has no option "retries": retries is an option of Knot.create(), for every run of ' +
        'the knot: Knot.create({ name: "k", retries })',
    );
    e = await rejects(knot.map([1], { timout: 60 } as never), CloudknotInputError);
    assert.match(
      e.message,
      /^map\(\) has no option "timout": timeout is an option of Knot\.create/,
    );
    // A typo of map()'s own options is still just a typo.
    e = await rejects(knot.map([1], { starmpa: true } as never), CloudknotInputError);
    assert.equal(e.message, 'map() has no option "starmpa": did you mean "starmap"?');
    assert.deepEqual(await knot.runs(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
