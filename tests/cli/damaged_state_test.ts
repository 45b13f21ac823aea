// What cannot be read is said as it is, never taken for nothing: a local knot's damaged record is
// not "no knot", and a damaged config file (which records the knots on AWS) leaves the knots of
// this machine readable and mappable.
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, JOBS, ndjson, withHome } from "./helpers.ts";

Deno.test("a local knot whose record is damaged is listed as damaged and refused with the record's own error, not as no knot", async () => {
  await withHome(async (home) => {
    const made = await cli(home, ["map", JOBS, "square", "--name", "torn"], { stdin: "[1]" });
    assert.equal(made.code, 0, made.stderr);
    await Deno.writeTextFile(join(home.dir, "knots", "torn", "knot.json"), '{"name":');
    // knot list lists it, as damaged, and says why on stderr.
    const listed = await cli(home, ["knot", "list"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^torn +\? \(record damaged\) +- +- +-$/m);
    assert.match(listed.stderr, /^Knot torn cannot be listed: .*knot\.json\) is damaged/m);
    const json = JSON.parse((await cli(home, ["knot", "list", "--json"])).stdout);
    assert.equal(json[0].name, "torn");
    // One whose directory others may enter is listed as such, and hides no other knot.
    const open = await cli(home, ["map", JOBS, "square", "--name", "open"], { stdin: "[1]" });
    assert.equal(open.code, 0, open.stderr);
    const ok = await cli(home, ["map", JOBS, "square", "--name", "fine"], { stdin: "[1]" });
    assert.equal(ok.code, 0, ok.stderr);
    await Deno.chmod(join(home.dir, "knots", "open"), 0o755);
    const all = await cli(home, ["knot", "list"]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^open +\? \(not private\) +- +- +-$/m);
    assert.match(all.stdout, /^fine +local /m);
    assert.match(all.stderr, /^Knot open cannot be listed: Refusing to use /m);
    assert.match(json[0].error, /knot\.json\) is damaged/);
    for (const args of [["results", "torn"], ["knot", "show", "torn"], ["jobs", "torn"]]) {
      const r = await cli(home, args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, /knot\.json\) is damaged/, args.join(" "));
      assert.doesNotMatch(r.stderr, /There is no knot named/, args.join(" "));
    }
  });
});

Deno.test("a damaged config file leaves a local knot's results, show, list, map and clobber working", async () => {
  await withHome(async (home) => {
    const made = await cli(home, ["map", JOBS, "square", "--name", "warm"], { stdin: "[1, 2]" });
    assert.equal(made.code, 0, made.stderr);
    const config = home.env.CLOUDKNOT_CONFIG_FILE!;
    await Deno.writeTextFile(config, "[knot broken\n\u0000\u0001\n");
    const results = await cli(home, ["results", "warm"]);
    assert.equal(results.code, 0, results.stderr);
    assert.deepEqual(ndjson(results.stdout), [{ index: 0, value: 1 }, { index: 1, value: 4 }]);
    for (const args of [["map", "--name", "warm"], ["map", JOBS, "square", "--name", "warm"]]) {
      const mapped = await cli(home, args, { stdin: "[3]" });
      assert.equal(mapped.code, 0, `${args.join(" ")}: ${mapped.stderr}`);
      assert.deepEqual(ndjson(mapped.stdout), [{ index: 0, value: 9 }]);
    }
    assert.equal((await cli(home, ["knot", "show", "warm"])).code, 0);
    // knot list lists this machine's knots, then says the AWS ones are not listed, and why.
    const listed = await cli(home, ["knot", "list"]);
    assert.equal(listed.code, 1);
    assert.match(listed.stdout, /^warm +local /m);
    assert.match(
      listed.stderr,
      new RegExp(`^The knots on AWS are not listed: Line 1 of ${config} .*--target local`, "m"),
    );
    const clobbered = await cli(home, ["knot", "clobber", "warm", "--yes"]);
    assert.equal(clobbered.code, 0, clobbered.stderr);
    // A new knot's name is checked against the AWS ones the config file would name: it says
    // what is wrong with the file rather than make a knot that may clash with one.
    const fresh = await cli(home, ["map", JOBS, "square", "--name", "fresh"], { stdin: "[1]" });
    assert.equal(fresh.code, 1);
    assert.match(fresh.stderr, new RegExp(`^error: Line 1 of ${config} `, "m"));
    // What needs the config file still says what is wrong with it.
    const aws = await cli(home, ["results", "elsewhere"]);
    assert.equal(aws.code, 1);
    assert.match(aws.stderr, new RegExp(`^error: Line 1 of ${config} `));
    assert.equal(await Deno.readTextFile(config), "[knot broken\n\u0000\u0001\n");
  });
});
