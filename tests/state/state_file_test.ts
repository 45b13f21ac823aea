import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError } from "../../mod.ts";
import { StateFile, StateFileError, StateLockError } from "../../src/state/mod.ts";
import { tmpfsTest, withTmpfs } from "../support/tmpfs.ts";
import { whileReadersLook } from "../support/mark_looks.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the path is $CLOUDKNOT_CONFIG_FILE or ~/.aws/cloudknot", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(new StateFile({ env: env({}), homeDir: "/home/u" }).path, "/home/u/.aws/cloudknot");
  assert.equal(
    new StateFile({ env: env({ CLOUDKNOT_CONFIG_FILE: "/etc/ck" }), homeDir: "/home/u" }).path,
    "/etc/ck",
  );
});

Deno.test("reading never writes, and an absent file reads as empty", async () => {
  await withDir(async (dir) => {
    const state = new StateFile({ path: join(dir, "sub", "cloudknot") });
    assert.deepEqual(await state.read(), new Map());
    assert.equal(await state.get("aws", "region"), undefined);
    await assert.rejects(() => Deno.stat(join(dir, "sub")), Deno.errors.NotFound);
  });
});

Deno.test("sections and keys keep their order and Python's configparser reads the file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const state = new StateFile({ path });
    await state.setMany("aws", { configured: "True", region: "eu-west-1" });
    await state.setMany("knot my-knot", { region: "eu-west-1", "job-queue": "arn:aws:batch:q" });
    await state.set("aws", "profile", "default");
    await state.remove("aws", "configured");
    await state.setMany("pars p", { vpc: "vpc-1" });
    await state.remove("pars p");
    const doc = await state.read();
    assert.deepEqual([...doc.keys()], ["aws", "knot my-knot"]);
    assert.deepEqual([...doc.get("aws")!], [["region", "eu-west-1"], ["profile", "default"]]);
    const py = await new Deno.Command("python3", {
      args: [
        "-c",
        "import configparser,json,sys; c=configparser.ConfigParser(); c.read(sys.argv[1]); " +
        "print(json.dumps({s: dict(c[s]) for s in c.sections()}))",
        path,
      ],
    }).output();
    assert.equal(py.code, 0, new TextDecoder().decode(py.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(py.stdout)), {
      "aws": { region: "eu-west-1", profile: "default" },
      "knot my-knot": { region: "eu-west-1", "job-queue": "arn:aws:batch:q" },
    });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  });
});

const MOD = new URL("../../src/state/mod.ts", import.meta.url).href;

/** Runs `deno eval` on a script that has `state`, a StateFile on `path`. */
function writer(path: string, body: string): Deno.Command {
  const script = `import { StateFile } from ${JSON.stringify(MOD)};
    const state = new StateFile({ path: ${JSON.stringify(path)} });
    ${body}`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
}

/** N processes, each making M concurrent `set()` calls; every one must land. */
async function assertNothingLost(path: string, processes: number, writes: number) {
  const outs = await Promise.all(
    Array.from({ length: processes }, (_, p) => {
      const child = writer(
        path,
        `await Promise.all(Array.from({ length: ${writes} }, (_, i) =>
           state.set("writer ${p}", "k" + i, String(i))));`,
      ).spawn();
      child.stdin.close();
      return child.output();
    }),
  );
  for (const out of outs) assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const doc = await new StateFile({ path }).read();
  for (let p = 0; p < processes; p++) {
    assert.equal(doc.get(`writer ${p}`)?.size, writes, `writer ${p} lost updates`);
  }
  await assertOnlyTheFile(join(path, ".."));
}

/** Nothing is left beside the file: no lock, no temporary file. */
async function assertOnlyTheFile(dir: string) {
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  assert.deepEqual(names, ["cloudknot"]);
}

/** A child that takes the lock and holds it until told to go on (a line on stdin). */
async function holder(path: string) {
  const child = writer(
    path,
    `await state.update(async (doc) => {
       doc.set("holder", new Map([["done", "yes"]]));
       console.log("holding");
       const buf = new Uint8Array(1);
       await Deno.stdin.read(buf);
     });`,
  ).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await lines.read()).value?.trim(), "holding");
  return {
    child,
    async finish() {
      const err = child.stderr.text();
      const stdin = child.stdin.getWriter();
      await stdin.write(new Uint8Array([10])).catch(() => {});
      await stdin.close().catch(() => {});
      while (!(await lines.read()).done) { /* drain */ }
      return { status: await child.status, stderr: await err };
    },
  };
}

Deno.test("6 processes × 40 concurrent writes lose no update and no writer fails", async () => {
  await withDir(async (dir) => {
    await assertNothingLost(join(dir, "cloudknot"), 6, 40);
  });
});

Deno.test("a stale lock file left by a crashed process loses no update, old or fresh", async () => {
  for (const age of [60_000, 0]) {
    await withDir(async (dir) => {
      const path = join(dir, "cloudknot");
      await Deno.writeTextFile(`${path}.lock`, "999999 0\n");
      const when = new Date(Date.now() - age);
      await Deno.utime(`${path}.lock`, when, when);
      await assertNothingLost(path, 6, 40);
    });
  }
});

Deno.test("a writer killed with SIGKILL while it holds the lock does not hold up the next one", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    await new StateFile({ path }).set("aws", "region", "eu-west-1");
    const held = await holder(path);
    held.child.kill("SIGKILL");
    const { status } = await held.finish();
    assert.equal(status.signal, "SIGKILL");
    // lockTimeoutMs 0: the lock must be free on the first try, with no waiting.
    const next = new StateFile({ path, lockTimeoutMs: 0 });
    await next.set("aws", "profile", "dev");
    assert.deepEqual([...(await next.section("aws"))!], [
      ["region", "eu-west-1"],
      ["configured", "True"],
      ["profile", "dev"],
    ]);
    assert.equal(await next.section("holder"), undefined);
    await assertOnlyTheFile(dir);
  });
});

Deno.test("a live holder is waited for; one that holds too long is named in a typed error", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const held = await holder(path);
    await assert.rejects(
      () => new StateFile({ path, lockTimeoutMs: 0 }).set("aws", "region", "x"),
      (e) =>
        e instanceof StateLockError && e.path === path &&
        e.message.includes(`(pid ${held.child.pid})`) && e.message.includes(`${path}.lock`),
    );
    const waiting = new StateFile({ path }).set("aws", "region", "eu-west-1");
    const { status, stderr } = await held.finish();
    assert.equal(status.code, 0, stderr);
    await waiting;
    const doc = await new StateFile({ path }).read();
    assert.equal(doc.get("holder")?.get("done"), "yes");
    assert.equal(doc.get("aws")?.get("region"), "eu-west-1");
  });
});

Deno.test("an update from inside a change to the same file is refused, not left waiting for itself", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const state = new StateFile({ path });
    await assert.rejects(
      () => state.update(() => new StateFile({ path }).set("aws", "region", "x")),
      (e) => e instanceof StateFileError && /inside a change to the same file/.test(e.message),
    );
    await state.set("aws", "region", "y");
    assert.equal(await state.get("aws", "region"), "y");
  });
});

Deno.test("the file keeps its mode: owner-only when new, the user's choice after", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const state = new StateFile({ path });
    await state.set("aws", "region", "x");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await Deno.chmod(path, 0o640);
    await state.set("aws", "region", "y");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o640);
  });
});

Deno.test("a read-only file is refused with a typed error and left as it was", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const state = new StateFile({ path });
    await state.set("aws", "region", "x");
    const before = await Deno.readTextFile(path);
    await Deno.chmod(path, 0o400);
    await assert.rejects(
      () => state.set("aws", "region", "y"),
      (e) =>
        e instanceof StateFileError && e.path === path &&
        /is read-only \(mode 0400\); cloudknot did not change it\. Make it writable \(chmod u\+w /
          .test(e.message),
    );
    assert.equal(await Deno.readTextFile(path), before);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o400);
  });
});

Deno.test("a path that is a symbolic link is written through to its target and stays a link", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(join(dir, "dotfiles"));
    const target = join(dir, "dotfiles", "cloudknot");
    await Deno.writeTextFile(target, "[aws]\nregion = x\n");
    const link = join(dir, "cloudknot");
    await Deno.symlink("dotfiles/cloudknot", link);
    const state = new StateFile({ path: link });
    await state.set("aws", "profile", "dev");
    assert.ok((await Deno.lstat(link)).isSymlink);
    assert.equal(
      await Deno.readTextFile(target),
      "[aws]\nregion = x\nprofile = dev\nconfigured = True\n",
    );
    // A link whose target does not exist yet creates the target.
    const dangling = join(dir, "other");
    await Deno.symlink(join(dir, "dotfiles", "new"), dangling);
    await new StateFile({ path: dangling }).set("aws", "region", "y");
    assert.ok((await Deno.lstat(dangling)).isSymlink);
    assert.equal(
      await new StateFile({ path: join(dir, "dotfiles", "new") }).get("aws", "region"),
      "y",
    );
  });
});

Deno.test("a path that is a directory is refused with a typed error and nothing is made beside it", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    await Deno.mkdir(path);
    const state = new StateFile({ path });
    for (const call of [() => state.set("aws", "region", "x"), () => state.get("aws", "region")]) {
      await assert.rejects(
        call,
        (e) => e instanceof StateFileError && e.path === path && /is a directory/.test(e.message),
      );
    }
    await assertOnlyTheFile(dir);
  });
});

Deno.test("a user's comments and layout are kept through changes", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    await Deno.writeTextFile(
      path,
      "# my cloudknot settings\n\n[aws]\n; the lab account\nProfile: lab\nregion = us-east-1\n\n" +
        "# old knot, keep for now\n[knot old]\njob-queue = q\n",
    );
    const state = new StateFile({ path });
    await state.set("aws", "region", "eu-west-1");
    await state.set("pars p", "vpc", "vpc-1");
    await state.remove("knot old", "job-queue");
    assert.equal(
      await Deno.readTextFile(path),
      "# my cloudknot settings\n\n[aws]\n; the lab account\nProfile: lab\nregion = eu-west-1\n" +
        "configured = True\n\n# old knot, keep for now\n\n[pars p]\nvpc = vpc-1\n\n",
    );
  });
});

Deno.test("a temporary file left by a writer killed before its rename is cleared by the next write", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    await Deno.writeTextFile(`${path}.tmp-${crypto.randomUUID()}`, "[half");
    await new StateFile({ path }).set("aws", "region", "x");
    await assertOnlyTheFile(dir);
  });
});

Deno.test("a write to [aws] marks the file configured = True, as the Python original needs, and a removal of it stays", async () => {
  await withDir(async (dir) => {
    const state = new StateFile({ path: join(dir, "cloudknot") });
    await state.set("knot k", "region", "x");
    assert.equal(await state.get("aws", "configured"), undefined);
    await state.set("aws", "region", "eu-west-1");
    assert.equal(await state.get("aws", "configured"), "True");
    await state.remove("aws", "configured");
    assert.equal(await state.get("aws", "configured"), undefined);
    await state.set("aws", "configured", "False");
    await state.set("aws", "region", "us-east-1");
    assert.equal(await state.get("aws", "configured"), "False");
  });
});

Deno.test("the file never holds a secret", async () => {
  await withDir(async (dir) => {
    const state = new StateFile({ path: join(dir, "cloudknot") });
    for (const key of ["aws_secret_access_key", "session-token", "password"]) {
      await assert.rejects(() => state.set("aws", key, "x"), CloudknotInputError);
    }
    assert.deepEqual(await state.read(), new Map());
  });
});

Deno.test("assertWritable refuses a read-only file or a directory as an update would, and passes a file not made yet, changing nothing", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const state = new StateFile({ path });
    await state.assertWritable();
    await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
    await state.set("aws", "region", "x");
    await state.assertWritable();
    await Deno.chmod(path, 0o400);
    await assert.rejects(
      () => state.assertWritable(),
      (e) => e instanceof StateFileError && /is read-only \(mode 0400\)/.test(e.message),
    );
    const folder = new StateFile({ path: dir });
    await assert.rejects(
      () => folder.assertWritable(),
      (e) => e instanceof StateFileError && /is a directory/.test(e.message),
    );
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["cloudknot"]);
  });
});

tmpfsTest(
  "on a full disk an update fails with a typed error naming the file and what to do, and leaves the file, no lock and no temporary file",
  async () => {
    await withTmpfs(64 * 1024, async (dir) => {
      const path = join(dir, "cloudknot");
      const state = new StateFile({ path });
      await state.set("aws", "region", "x");
      const before = await Deno.readTextFile(path);
      // Fill the disk.
      const fill = await Deno.open(join(dir, "fill"), { write: true, create: true });
      try {
        const block = new Uint8Array(4096);
        while (true) await fill.write(block);
      } catch (e) {
        assert.ok(/No space left/.test((e as Error).message), String(e));
      } finally {
        fill.close();
      }
      await assert.rejects(
        () => state.set("aws", "region", "y".repeat(10_000)),
        (e) =>
          e instanceof StateFileError && e.path === path &&
          e.message.startsWith(`Cannot write the cloudknot config file ${path} (No space left`) &&
          /cloudknot did not change it\. Free space on that disk/.test(e.message),
      );
      assert.equal(await Deno.readTextFile(path), before);
      assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
        "cloudknot",
        "fill",
      ]);
    });
  },
);

Deno.test("a lock path that cannot be opened is a typed error naming the file, and the file is left as it was", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const state = new StateFile({ path });
    await state.set("aws", "region", "x");
    await Deno.mkdir(`${path}.lock`);
    await assert.rejects(
      () => state.set("aws", "region", "y"),
      (e) =>
        e instanceof StateFileError && e.path === path &&
        e.message.startsWith(`Cannot write the cloudknot config file ${path} (`),
    );
    assert.equal(await state.get("aws", "region"), "x");
  });
});

/** A child that marks `section` as being made and keeps it until told to go on. */
async function maker(path: string, section: string) {
  const child = writer(
    path,
    `await state.whileMaking(${JSON.stringify(section)}, async () => {
       console.log("making");
       await Deno.stdin.read(new Uint8Array(1));
       await state.set(${JSON.stringify(section)}, "made", "yes");
     });`,
  ).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await lines.read()).value?.trim(), "making");
  return { child, lines };
}

Deno.test("a record another process is making is listed until it is written, a second maker waits for it, and a killed maker's mark is gone at once", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const state = new StateFile({ path });
    assert.deepEqual(await state.making(), []);
    const first = await maker(path, "knot sq");
    assert.deepEqual(await state.making(), ["knot sq"]);
    // A second maker of the same record waits, is told so, then finds it written.
    let told = 0;
    const second = state.whileMaking(
      "knot sq",
      async () => await state.get("knot sq", "made"),
      () => told++,
    );
    // Another record is not held up.
    assert.equal(await state.whileMaking("knot other", () => Promise.resolve(1)), 1);
    // Told while the first still makes it: a bounded wait for that, however loaded the machine.
    for (let i = 0; told === 0 && i < 3000; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(told, 1);
    const stdin = first.child.stdin.getWriter();
    await stdin.write(new Uint8Array([10]));
    await stdin.close();
    assert.equal(await second, "yes");
    assert.equal((await first.child.status).code, 0);
    await first.child.stderr.cancel();
    while (!(await first.lines.read()).done) { /* drain */ }
    assert.deepEqual(await state.making(), []);
    await assertOnlyTheFile(dir);

    // Killed while making: the kernel frees the mark; its file is left, listed as nothing.
    const killed = await maker(path, "pars lab");
    assert.deepEqual(await state.making(), ["pars lab"]);
    killed.child.kill("SIGKILL");
    assert.equal((await killed.child.status).signal, "SIGKILL");
    killed.child.stdin.close().catch(() => {});
    await killed.child.stderr.cancel();
    while (!(await killed.lines.read()).done) { /* drain */ }
    assert.deepEqual(await state.making(), []);
    // The next maker takes it at once, and leaves nothing behind.
    assert.deepEqual(await state.whileMaking("pars lab", () => state.making()), ["pars lab"]);
    await assertOnlyTheFile(dir);
  });
});

Deno.test("a hold its holder left is ended even while readers look at its mark without a pause: they are waited out, not taken for a live holder", async () => {
  await withDir(async (dir) => {
    const state = new StateFile({ path: join(dir, "cloudknot") });
    // Left by a holder that was killed: the file, and no lock on it.
    const mark = await state.holdFile("cloudknot/sq:hold-1");
    let undone = false;
    // Two readers (`holdsLeft()`, as another gc runs it) whose looks overlap.
    const ended = await whileReadersLook(
      mark,
      6,
      () => state.endHoldLeft("cloudknot/sq:hold-1", () => Promise.resolve(void (undone = true))),
      () => assert.equal(undone, false),
    );
    assert.equal(ended, true);
    assert.equal(undone, true);
    assert.deepEqual(await state.holdsLeft(), []);
  });
});
