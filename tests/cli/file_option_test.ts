import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, ndjson, withHome } from "./helpers.ts";

const SCORE = `export async function score(x: number): Promise<number> {
  const model = JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url)));
  return model.weight * x;
}
`;

Deno.test("map --file ships a data file beside the module's function; without it the item and the warning say to pass --file, and a path it cannot ship is refused naming --file", async () => {
  await withHome(async (home) => {
    const project = join(home.dir, "project");
    await Deno.mkdir(project);
    await Deno.writeTextFile(join(project, "job.ts"), SCORE);
    await Deno.writeTextFile(join(project, "model.json"), '{"weight": 5}');
    const module = join(project, "job.ts");
    const shipped = await cli(home, ["map", module, "score", "--file", "./model.json"], {
      stdin: "[1, 2]",
    });
    assert.equal(shipped.code, 0, shipped.stderr);
    assert.deepEqual(ndjson(shipped.stdout).map((l) => l.value), [5, 10]);
    assert.doesNotMatch(shipped.stderr, /names its own location/);
    const show = await cli(home, ["knot", "show", "job-score"]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /with 1 file, 13 bytes/);

    const bare = await cli(home, ["map", module, "score", "--name", "bare", "--retries", "1"], {
      stdin: "[1]",
    });
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /Ship the files it reads beside the function with --file/);
    assert.match(bare.stdout, /Ship the file with --file \(a path relative to the module's folder/);
    assert.doesNotMatch(bare.stderr, /files option of Knot\.create/);
    // The run's summary says to ship it and map again, not to grant a permission or retry.
    assert.match(
      bare.stderr,
      /^1 of 1 items read a file beside the function that was not shipped: 0; ship it with --file \(a path relative to the module's folder\) on cloudknot map or cloudknot knot create, then map them again$/m,
    );
    assert.doesNotMatch(bare.stderr, /refused a permission|--allow|cloudknot retry/);

    const outside = await cli(home, ["knot", "create", "far", module, "score", "--file", "../x"]);
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /^error: --file: "\.\.\/x" is outside the module's folder/);
    const missing = await cli(home, ["map", module, "score", "--file", "nothere.json"], {
      stdin: "[1]",
    });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: --file: "nothere\.json" does not exist in the module's/);
    const alone = await cli(home, ["map", "--name", "bare", "--file", "./model.json"], {
      stdin: "[1]",
    });
    assert.notEqual(alone.code, 0);
    assert.match(alone.stderr, /--file needs the module it is beside/);
  });
});
