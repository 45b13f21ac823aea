import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import { inCliWords } from "../../src/cli/common/cli_words.ts";
import {
  explainPermissionError,
  permissionFlags,
  validatePermissions,
} from "../../src/job/permissions.ts";

Deno.test("permissions become deno flags with the runtime's own needs granted narrowly", () => {
  assert.deepEqual(validatePermissions(undefined), { net: true });
  assert.deepEqual(
    permissionFlags(validatePermissions({ read: ["/data"], env: true, net: false }), {
      read: ["/app/function.js"],
      env: ["AWS_BATCH_JOB_ID"],
    }),
    ["--no-prompt", "--allow-read=/data,/app/function.js", "--allow-env"],
  );
  assert.deepEqual(permissionFlags({}, {}), ["--no-prompt"]);
  assert.throws(
    () => permissionFlags({}, { read: ["/a,b/function.js"] }),
    (e) => e instanceof CloudknotInputError && /holds a comma/.test(e.message),
  );
});

Deno.test("a permission error says which option grants it; other errors are left alone", () => {
  const denied = new Deno.errors.NotCapable(
    'Requires env access to "HOME", run again with the --allow-env flag',
  );
  const explained = explainPermissionError(denied) as Error;
  assert.ok(explained instanceof Deno.errors.NotCapable);
  assert.match(explained.message, /^Requires env access to "HOME": the knot's permissions/);
  assert.match(explained.message, /permissions: \{ env: \["HOME"\] \}/);
  assert.match(explained.message, /so the item is not retried/);
  assert.match(
    explained.message,
    /then map the items again, or retry them with it in run\.retry\(\{ permissions \}\) \(a retry without them keeps the permissions/,
  );
  const other = new TypeError("x");
  assert.equal(explainPermissionError(other), other);
});

Deno.test("a path Deno grants only with --allow-all is not explained as an option no knot has", async () => {
  // The message as Deno itself writes it, from a process that may read every file.
  const dir = await Deno.makeTempDir();
  const script = `${dir}/read_environ.js`;
  await Deno.writeTextFile(
    script,
    'try { Deno.readTextFileSync("/proc/self/environ"); } catch (e) { console.log(e.message); }',
  );
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", script],
    stdout: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  const message = new TextDecoder().decode(stdout).trim();
  assert.match(message, /Requires all access to "\/proc\/self\/environ"/);
  const explained = explainPermissionError(new Deno.errors.NotCapable(message)) as Error;
  assert.match(explained.message, /only with --allow-all, which a knot's permissions do not grant/);
  assert.doesNotMatch(explained.message, /permissions: \{ all:/);
});

Deno.test("Deno's --allow-read splits its list at every comma, also in repeated flags, so a refused path with one is granted by the directory above it, or the whole kind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/a,b`);
    await Deno.writeTextFile(`${dir}/a,b/f.txt`, "x");
    const script = `${dir}/read.js`;
    await Deno.writeTextFile(
      script,
      "try { Deno.readTextFileSync(Deno.args[0]); console.log('read'); } " +
        "catch (e) { console.log(e.name); }",
    );
    const run = async (...flags: string[]) => {
      const { stdout } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...flags, script, `${dir}/a,b/f.txt`],
        stdout: "piped",
        stderr: "null",
      }).output();
      return new TextDecoder().decode(stdout).trim();
    };
    // The path itself cannot be named, alone or beside another flag; the directory above can.
    assert.equal(await run(`--allow-read=${dir}/a,b`, `--allow-read=${script}`), "NotCapable");
    assert.equal(await run(`--allow-read=${dir}/a,b/f.txt,${script}`), "NotCapable");
    assert.equal(await run(`--allow-read=${dir}`), "read");

    const explain = (kind: string, target: string) =>
      (explainPermissionError(
        new Deno.errors.NotCapable(
          `Requires ${kind} access to "${target}", run again with the --allow-${kind} flag`,
        ),
      ) as Error).message;
    assert.match(
      explain("read", `${dir}/a,b/f.txt`),
      new RegExp(`Grant it with permissions: \\{ read: \\["${dir}"\\] \\}`),
    );
    assert.match(explain("write", "/a,b"), /Grant it with permissions: \{ write: \["\/"\] \}/);
    // A program's path is not granted by its directory: only all of the kind grants it.
    const program = explain("run", "/opt/a,b/tool");
    assert.match(
      program,
      /Deno's --allow-run flag cannot name it, as it holds a comma: Grant all of it with permissions: \{ run: true \} in Knot\.create, then map the items again/,
    );
    assert.match(
      inCliWords(new Error(program)),
      /Grant all of it with --allow run on cloudknot knot create or cloudknot map, then run cloudknot map again, or cloudknot retry with --allow run and the run.s others \(without --allow, cloudknot retry keeps/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a read refused or not found beside the function's artifact says to ship the file with files, not to grant read", () => {
  const refused = new Deno.errors.NotCapable(
    'Requires read access to "/app/model.json", run again with the --allow-read flag',
  );
  const beside = explainPermissionError(refused, "file:///app/function.js") as Error;
  assert.ok(beside instanceof Deno.errors.NotCapable);
  assert.match(
    beside.message,
    /^Requires read access to "\/app\/model\.json", beside the function's artifact/,
  );
  assert.match(beside.message, /Ship the file with the files option of Knot\.create/);
  assert.doesNotMatch(beside.message, /permissions: \{ read/);
  assert.match(inCliWords(beside), /Ship the file with --file \(a path relative/);
  // A read elsewhere is still one to grant.
  const elsewhere = explainPermissionError(
    new Deno.errors.NotCapable(
      'Requires read access to "/data/x", run again with the --allow-read flag',
    ),
    "file:///app/function.js",
  ) as Error;
  assert.match(elsewhere.message, /permissions: \{ read: \["\/data\/x"\] \}/);
  // In a folder the workers may read, the file is not found: said so too.
  const missing = new Deno.errors.NotFound(
    "No such file or directory (os error 2): readfile '/k/artifacts/ab/data/x.txt'",
  );
  const explained = explainPermissionError(missing, "file:///k/artifacts/ab/function.js") as Error;
  assert.equal(explained, missing);
  assert.match(
    explained.message,
    /readfile '\/k\/artifacts\/ab\/data\/x\.txt', beside the function's artifact: .*not shipped with it\. Ship the file/,
  );
  const other = new Deno.errors.NotFound(
    "No such file or directory (os error 2): readfile '/data/y'",
  );
  assert.equal(
    (explainPermissionError(other, "file:///k/artifacts/ab/function.js") as Error).message,
    "No such file or directory (os error 2): readfile '/data/y'",
  );
  // A local knot's artifact without files of its own lies in artifacts/ itself.
  const local = explainPermissionError(
    new Deno.errors.NotCapable(
      'Requires read access to "/k/artifacts/model.json", run again with the --allow-read flag',
    ),
    "file:///k/artifacts/ab.js",
  ) as Error;
  assert.match(local.message, /not shipped with it/);
  // A job run with a --function in a folder of the caller's may have files there it may not read:
  // that folder is not cloudknot's, so such a read is one to grant.
  const foreign = explainPermissionError(
    new Deno.errors.NotCapable(
      'Requires read access to "/work/secret.txt", run again with the --allow-read flag',
    ),
    "file:///work/function.js",
  ) as Error;
  assert.match(foreign.message, /permissions: \{ read: \["\/work\/secret\.txt"\] \}/);
  assert.doesNotMatch(foreign.message, /not shipped/);
});
