import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, type ItemError, Knot } from "../../../mod.ts";
import { assertRefusedLeaveNoFolder } from "../../support/refused_create.ts";

/** A module that reads a model beside it and a file of a folder beside it, by import.meta.url. */
const SCORE = `export async function score(x: number): Promise<number> {
  const model = JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url)));
  const extra = Number(await Deno.readTextFile(new URL("./data/extra.txt", import.meta.url)));
  return model.weight * x + extra;
}
export async function peek(path: string): Promise<string> {
  return await Deno.readTextFile(path);
}
export async function scribble(): Promise<void> {
  await Deno.writeTextFile(new URL("./model.json", import.meta.url), "{}");
}
`;

/** A project folder with the module and its data files, and a local knots directory. */
async function withProject(
  body: (project: string, dir: string, warnings: string[]) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-files-" });
  try {
    const project = join(root, "project");
    await Deno.mkdir(join(project, "data", "deep"), { recursive: true });
    await Deno.writeTextFile(join(project, "job.ts"), SCORE);
    await Deno.writeTextFile(join(project, "model.json"), '{"weight": 2}');
    await Deno.writeTextFile(join(project, "data", "extra.txt"), "100");
    await Deno.writeTextFile(join(project, "data", "deep", "more.txt"), "more");
    await Deno.writeTextFile(join(project, "secret.txt"), "not shipped");
    await body(project, join(root, "knots"), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("a module that reads files beside it by import.meta.url maps with files: they are shipped beside its function", async () => {
  await withProject(async (project, dir) => {
    const warnings: string[] = [];
    const knot = await Knot.create({
      name: "score",
      module: join(project, "job.ts"),
      exportName: "score",
      files: ["./model.json", "./data/"],
      dir,
      concurrency: 1,
      warn: (m) => warnings.push(m),
    });
    assert.deepEqual(await (await knot.map([1, 2], { progress: false })).results(), [102, 104]);
    // Its uses of import.meta.url are in the module whose folder the files mirror: no warning.
    assert.deepEqual(warnings, []);
    const record = JSON.parse(await Deno.readTextFile(join(dir, "score", "knot.json")));
    assert.equal(record.artifact, `artifacts/${record.hash}/function.js`);
    assert.deepEqual(record.files, { count: 3, bytes: 13 + 3 + 4 });
    const folder = join(dir, "score", "artifacts", record.hash);
    assert.equal(await Deno.readTextFile(join(folder, "data", "deep", "more.txt")), "more");
    // Only what was named is shipped.
    await assert.rejects(Deno.stat(join(folder, "secret.txt")), Deno.errors.NotFound);
    await knot.clobber();
  });
});

Deno.test("a knot that ships files may read only them: another path is refused, and the shipped files cannot be written", async () => {
  await withProject(async (project, dir) => {
    const secret = join(project, "secret.txt");
    const peek = await Knot.create({
      name: "peek",
      module: join(project, "job.ts"),
      exportName: "peek",
      files: ["./model.json"],
      dir,
      concurrency: 1,
    });
    const [read] = await (await peek.map([secret], { progress: false })).settled();
    const refused = (read as { reason: ItemError }).reason;
    assert.equal(refused.kind, "refused");
    assert.ok(refused.message.includes(`Requires read access to "${secret}"`), refused.message);
    assert.ok(refused.message.includes(`permissions: { read: ["${secret}"] }`), refused.message);
    // A file looked for in the function's own folder and not shipped: not there, and said so.
    const record = JSON.parse(await Deno.readTextFile(join(dir, "peek", "knot.json")));
    const unshipped = join(dir, "peek", "artifacts", record.hash, "secret.txt");
    const [missing] = await (await peek.map([unshipped], { progress: false })).settled();
    const notFound = (missing as { reason: ItemError }).reason;
    assert.equal(notFound.remote.name, "NotFound");
    assert.match(notFound.message, /not shipped with it\. Ship the file with the files option/);
    const scribble = await Knot.create({
      name: "scribble",
      module: join(project, "job.ts"),
      exportName: "scribble",
      files: ["./model.json"],
      dir,
      concurrency: 1,
    });
    const [wrote] = await (await scribble.map([null], { progress: false })).settled();
    const denied = (wrote as { reason: ItemError }).reason;
    assert.equal(denied.kind, "refused");
    assert.ok(denied.message.includes("Requires write access"), denied.message);
    await peek.clobber();
    await scribble.clobber();
  });
});

Deno.test("without files, a module that reads a file beside it fails saying to ship it with files, not to grant read", async () => {
  await withProject(async (project, dir) => {
    const warnings: string[] = [];
    const knot = await Knot.create({
      name: "unshipped",
      module: join(project, "job.ts"),
      exportName: "score",
      dir,
      concurrency: 1,
      retries: 2,
      warn: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /with the files option of Knot\.create/);
    const run = await knot.map([1], { progress: false });
    const [settled] = await run.settled();
    const reason = (settled as { reason: ItemError }).reason;
    // The run's error does not offer run.retry(), which runs the run's function without the file.
    const mapError = await run.results().then(() => undefined, (e: Error) => e);
    assert.ok(mapError !== undefined);
    assert.doesNotMatch(mapError.message, /run\.retry/);
    assert.equal(reason.kind, "refused");
    assert.equal(reason.attempt, 1);
    const beside = join(dir, "unshipped", "artifacts", "model.json");
    assert.ok(reason.message.includes(`Requires read access to "${beside}"`), reason.message);
    assert.match(reason.message, /not shipped with it/);
    assert.match(reason.message, /Ship the file with the files option of Knot\.create/);
    assert.doesNotMatch(reason.message, /permissions: \{ read:/);
    await knot.clobber();
  });
});

Deno.test("without files, a module that reads a file beside it as it loads fails saying to ship it with files, not to grant read", async () => {
  await withProject(async (project, dir) => {
    await Deno.writeTextFile(
      join(project, "at_load.ts"),
      'const model = JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url)));\n' +
        "export function score(x: number): number {\n  return model.weight * x;\n}\n",
    );
    const knot = await Knot.create({
      name: "unshipped-at-load",
      module: join(project, "at_load.ts"),
      exportName: "score",
      dir,
      concurrency: 1,
      warn: () => {},
    });
    const [settled] = await (await knot.map([1], { progress: false })).settled();
    const reason = (settled as { reason: ItemError }).reason;
    assert.equal(reason.kind, "infrastructure");
    assert.match(reason.message, /: Cannot load the function: Requires read access to "/);
    assert.match(reason.message, /not shipped with it/);
    assert.match(reason.message, /Ship the file with the files option of Knot\.create/);
    assert.doesNotMatch(reason.message, /--allow-read flag/);
    await knot.clobber();
  });
});

Deno.test("a changed data file is a changed function: a new hash and new results; the same files keep the hash", async () => {
  await withProject(async (project, dir) => {
    const options = {
      name: "changing",
      module: join(project, "job.ts"),
      exportName: "score",
      files: ["./model.json", "./data/"],
      dir,
      concurrency: 1,
    };
    const first = await Knot.create(options);
    const hash = () =>
      Deno.readTextFile(join(dir, "changing", "knot.json")).then((t) => JSON.parse(t).hash);
    const before = await hash();
    assert.deepEqual(await (await first.map([1], { progress: false })).results(), [102]);
    await Knot.create(options);
    assert.equal(await hash(), before);
    await Deno.writeTextFile(join(project, "model.json"), '{"weight": 3}');
    const second = await Knot.create(options);
    const after = await hash();
    assert.notEqual(after, before);
    assert.deepEqual(await (await second.map([1], { progress: false })).results(), [103]);
    // A file added to a shipped folder changes it too.
    await Deno.writeTextFile(join(project, "data", "new.txt"), "x");
    await Knot.create(options);
    assert.notEqual(await hash(), after);
    await second.clobber();
  });
});

Deno.test("a knot whose artifact is one file (the layout before files) still opens, runs, and its failed run retries on the knot made again with files", async () => {
  await withProject(async (project, dir) => {
    // Written the old way: artifacts/<hash>.js, named by its record.
    const old = await Knot.create({
      name: "layout",
      module: join(project, "job.ts"),
      exportName: "score",
      dir,
      concurrency: 1,
      warn: () => {},
    });
    const record = JSON.parse(await Deno.readTextFile(join(dir, "layout", "knot.json")));
    assert.equal(record.artifact, `artifacts/${record.hash}.js`);
    const failed = await old.map([1, 2], { progress: false });
    await failed.settled();
    // Opened by name, it runs the artifact its record names.
    const adopted = await Knot.create({ name: "layout", dir, concurrency: 1 });
    const [again] = await (await adopted.map([1], { progress: false })).settled();
    assert.equal(again!.status, "rejected");
    // Made again with files, the old run's items retry on the new function.
    const fixed = await Knot.create({
      name: "layout",
      module: join(project, "job.ts"),
      exportName: "score",
      files: ["./model.json", "./data/"],
      dir,
      concurrency: 1,
    });
    const retried = await (await fixed.collect(failed.runId)).retry();
    assert.deepEqual(await retried.results(), [102, 104]);
    await fixed.clobber();
  });
});

Deno.test("files that leave the module's folder, are missing or take a runtime name are refused naming the path, before the knot is made", async () => {
  await withProject(async (project, dir) => {
    await Deno.symlink("/etc", join(project, "etc"));
    await Deno.writeTextFile(join(project, "data", "function.js"), "");
    await Deno.writeTextFile(join(project, "function.js"), "");
    const cases: [string[], RegExp][] = [
      [["../outside.json"], /"\.\.\/outside\.json" is outside the module's folder/],
      [["/etc/hostname"], /"\/etc\/hostname" is not relative to the module's folder/],
      [
        ["./missing.json", "./gone/"],
        /"\.\/missing\.json", "\.\/gone\/" do not exist in the module's folder/,
      ],
      [["./etc"], /"\.\/etc" is a symlink to \/etc, outside the module's folder/],
      [["./function.js"], /"function\.js" would take the place of the runtime's function\.js/],
      [["."], /"\." is the module's folder itself/],
    ];
    for (const [files, message] of cases) {
      const error = await Knot.create({
        name: "refused",
        module: join(project, "job.ts"),
        exportName: "score",
        files,
        dir,
      }).then(() => undefined, (e) => e);
      assert.ok(error instanceof CloudknotInputError, String(error));
      assert.equal(error.field, "files");
      assert.match(error.message, message);
    }
    // Nothing was made.
    await assert.rejects(Deno.stat(join(dir, "refused")), Deno.errors.NotFound);
    const func = await Knot.create({ name: "refused", func: (x: number) => x, files: ["./a"], dir })
      .then(() => undefined, (e) => e);
    assert.ok(func instanceof CloudknotInputError);
    assert.match(func.message, /files needs module: a func has no folder/);
  });
});

Deno.test("with files, code in another folder that names its location is still warned about", async () => {
  await withProject(async (project, dir) => {
    await Deno.mkdir(join(project, "lib"));
    await Deno.writeTextFile(
      join(project, "lib", "load.ts"),
      `export const load = () => Deno.readTextFile(new URL("./x.txt", import.meta.url));\n`,
    );
    await Deno.writeTextFile(
      join(project, "main.ts"),
      `import { load } from "./lib/load.ts";\nexport default () => load();\n`,
    );
    const warnings: string[] = [];
    const plan = await Knot.create({
      name: "nested",
      module: join(project, "main.ts"),
      files: ["./model.json"],
      dir,
      dryRun: true,
      warn: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(`${join(project, "lib", "load.ts")}:1 uses import.meta.url`));
    assert.match(warnings[0]!, /only that folder's modules find them there/);
    // The plan names what is shipped.
    assert.match(String(plan), /1 file, 13 bytes/);
  });
});

Deno.test("a local knot refused for its module or its files leaves no folder, and the create with them right then works", async () => {
  await withProject(async (project, dir) => {
    const options = { name: "again", module: join(project, "job.ts"), exportName: "score", dir };
    await assertRefusedLeaveNoFolder(options, join(dir, "again"));
    const knot = await Knot.create({ ...options, files: ["./model.json", "./data/"] });
    assert.deepEqual(await (await knot.map([1], { progress: false })).results(), [102]);
  });
});
