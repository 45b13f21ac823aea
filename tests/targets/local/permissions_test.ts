import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, type ItemError, Knot } from "../../../mod.ts";
import { withKnot } from "./helpers.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";

const readFile = (path: string) => Deno.readTextFile(path);

Deno.test("by default a function cannot read the user's credentials: Deno's error names the option", async () => {
  const home = await Deno.makeTempDir();
  try {
    const credentials = join(home, ".aws", "credentials");
    await Deno.mkdir(join(home, ".aws"));
    await Deno.writeTextFile(credentials, "[default]\naws_secret_access_key = secret\n");
    await withKnot({ name: "nosy", retries: 1, func: readFile }, async (knot) => {
      const [settled] = await (await knot.map([credentials], { progress: false })).settled();
      assert.equal(settled!.status, "rejected");
      const reason = (settled as { reason: ItemError }).reason;
      assert.equal(reason.kind, "refused");
      assert.equal(reason.remote.name, "NotCapable");
      assert.ok(reason.message.includes(`Requires read access to "${credentials}"`));
      assert.ok(reason.message.includes(`permissions: { read: ["${credentials}"] }`));
    });
    // Granted, it reads it.
    await withKnot({
      name: "trusted",
      func: readFile,
      permissions: { read: [join(home, ".aws")] },
    }, async (knot) => {
      assert.deepEqual(await (await knot.map([credentials], { progress: false })).results(), [
        "[default]\naws_secret_access_key = secret\n",
      ]);
    });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a refused permission fails the item at its first attempt, saying to grant it and map again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = join(dir, "secret.txt");
    await Deno.writeTextFile(secret, "hidden");
    await withKnot({ name: "refused", retries: 3, func: readFile }, async (knot) => {
      const run = await knot.map([secret], { progress: false });
      const [settled] = await run.settled();
      assert.equal(settled!.status, "rejected");
      const reason = (settled as { reason: ItemError }).reason;
      assert.equal(reason.kind, "refused");
      // One attempt of the 3 the knot allows: a second would be refused alike.
      assert.equal(reason.attempt, 1);
      assert.equal(
        reason.message,
        `Item 0 threw NotCapable: Requires read access to "${secret}": the knot's permissions ` +
          "do not allow it, so the item is not retried. Grant it with permissions: " +
          `{ read: [${JSON.stringify(secret)}] } in Knot.create (read: true for all), then map ` +
          "the items again, or retry them with it in run.retry({ permissions }) (a retry " +
          "without them keeps the permissions its run had); by default a function may use the " +
          "network and nothing else",
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a refused permission wrapped in another error (its cause, or an AggregateError's) fails the item at its first attempt too, as refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = join(dir, "secret.txt");
    await Deno.writeTextFile(secret, "hidden");
    await withKnot({
      name: "wrapped-refusal",
      retries: 3,
      func: async (how: string, path: string) => {
        try {
          return await Deno.readTextFile(path);
        } catch (e) {
          if (how === "cause") throw new Error("could not read the settings", { cause: e });
          if (how === "deeper") {
            throw new Error("the job failed", {
              cause: new Error("could not read the settings", { cause: e }),
            });
          }
          if (how === "aggregate") {
            throw new AggregateError([new Error("no cache"), e], "no source could be read");
          }
          throw new Error(`not a refusal: ${how}`);
        }
      },
    }, async (knot) => {
      const hows = ["cause", "deeper", "aggregate", "other"];
      const run = await knot.map(hows.map((how) => [how, secret] as [string, string]), {
        starmap: true,
        progress: false,
      });
      const settled = await run.settled();
      const ends = settled.map((s) => {
        const reason = (s as { reason: ItemError }).reason;
        return `${reason.kind} after ${reason.attempt}`;
      });
      // An error that wraps no refusal is retried as any other.
      assert.deepEqual(ends, [
        "refused after 1",
        "refused after 1",
        "refused after 1",
        "threw after 3",
      ]);
      const cause = (settled[0] as { reason: ItemError }).reason;
      assert.equal(cause.remote.message, "could not read the settings");
      // The item's error names the refusal it wraps, and what to grant, in the caller's words.
      const grant = `Grant it with permissions: { read: [${
        JSON.stringify(secret)
      }] } in Knot.create`;
      assert.match(String(cause.remote.cause?.message), /^Requires read access to .*Grant it with/);
      for (const s of settled.slice(0, 3)) {
        const { message } = (s as { reason: ItemError }).reason;
        assert.ok(
          message.includes(
            `, which wraps Deno's refusal: Requires read access to "${secret}": the knot's ` +
              `permissions do not allow it, so the item is not retried. ${grant}`,
          ),
          message,
        );
      }
      assert.match(
        (settled[2] as { reason: ItemError }).reason.message,
        /^Item 2 threw AggregateError: no source could be read, which wraps Deno's refusal/,
      );
      assert.ok(
        inCliWords(cause).includes(`Grant it with --allow read=${secret} on cloudknot knot create`),
        inCliWords(cause),
      );
      assert.doesNotMatch(
        (settled[3] as { reason: ItemError }).reason.message,
        /wraps Deno's refusal/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a refused path that holds a comma is granted by the directory above it, which the advice names in both words, and granting it lets the item read the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "in,out"));
    const secret = join(dir, "in,out", "secret.txt");
    await Deno.writeTextFile(secret, "hidden");
    await withKnot({ name: "comma-refused", retries: 1, func: readFile }, async (knot) => {
      const [settled] = await (await knot.map([secret], { progress: false })).settled();
      const reason = (settled as { reason: ItemError }).reason;
      assert.equal(reason.kind, "refused");
      assert.ok(
        reason.message.includes(
          `Grant it with permissions: { read: [${JSON.stringify(dir)}] } in Knot.create (read: ` +
            "true for all), then map the items again",
        ),
        reason.message,
      );
      assert.match(reason.message, /that is the directory above it without a comma/);
      const words = inCliWords(reason);
      assert.ok(
        words.includes(
          `Grant it with --allow read=${dir} on cloudknot knot create or cloudknot map`,
        ),
        words,
      );
      assert.doesNotMatch(words, /--allow read=\S*,/);
    });
    // What it says to grant works: the worker (a deno run with --allow-read of it) reads the file.
    await withKnot({
      name: "comma-granted",
      func: readFile,
      permissions: { read: [dir] },
    }, async (knot) => {
      assert.deepEqual(await (await knot.map([secret], { progress: false })).results(), ["hidden"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the default allows the network and nothing else; env is the run's own", async () => {
  await withKnot({
    name: "probe",
    retries: 1,
    func: async (what: string) => {
      const tryIt = async (f: () => unknown) => {
        try {
          await f();
          return "allowed";
        } catch (e) {
          return (e as Error).name;
        }
      };
      switch (what) {
        case "write":
          return await tryIt(() => Deno.writeTextFile("/tmp/cloudknot-probe", "x"));
        case "env":
          return await tryIt(() => Deno.env.get("HOME"));
        case "own-env":
          return await tryIt(() => Deno.env.get("MY_SETTING"));
        case "run":
          return await tryIt(() => new Deno.Command("true").output());
        case "sys":
          return await tryIt(() => Deno.hostname());
        case "net": {
          // Connecting is allowed; nothing listens on this port.
          return await tryIt(() => Deno.connect({ hostname: "127.0.0.1", port: 1 })).then((r) =>
            r === "NotCapable" ? r : "allowed"
          );
        }
      }
    },
  }, async (knot) => {
    const probes = ["write", "env", "own-env", "run", "sys", "net"];
    const run = await knot.map(probes, { progress: false, env: { MY_SETTING: "on" } });
    assert.deepEqual(await run.results(), [
      "NotCapable",
      "NotCapable",
      "allowed",
      "NotCapable",
      "NotCapable",
      "allowed",
    ]);
  });
});

Deno.test("permissions are checked at create time and kept by the knot", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [permissions, pattern] of [
        [{ disk: true }, /unknown kind "disk"/],
        [{ read: "/tmp" }, /permissions.read must be true, false or a list/],
        [{ read: ["/a,b"] }, /holds a comma/],
      ] as const
    ) {
      await assert.rejects(
        () => Knot.create({ name: "bad", dir, func: (x: number) => x, permissions } as never),
        (e) => e instanceof CloudknotInputError && pattern.test(e.message),
      );
    }
    await Knot.create({ name: "keeps", dir, func: (x: number) => x, permissions: { env: true } });
    const record = JSON.parse(await Deno.readTextFile(join(dir, "keeps", "knot.json")));
    assert.deepEqual(record.permissions, { env: true });
    await Knot.create({ name: "keeps", dir });
    const adopted = JSON.parse(await Deno.readTextFile(join(dir, "keeps", "knot.json")));
    assert.deepEqual(adopted.permissions, { env: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the job's variables reach every reader: Deno.env, process.env, and child processes", async () => {
  const readers = async (_x: number) => {
    const process = (await import("node:process")).default;
    const out = await new Deno.Command("sh", {
      args: ["-c", "echo $AWS_BATCH_JOB_ARRAY_INDEX"],
    }).output();
    return [
      Deno.env.get("AWS_BATCH_JOB_ARRAY_INDEX"),
      process.env.AWS_BATCH_JOB_ARRAY_INDEX,
      Deno.env.toObject().AWS_BATCH_JOB_ARRAY_INDEX,
      new TextDecoder().decode(out.stdout).trim(),
    ];
  };
  // With run allowed, the variables are in the process's environment.
  await withKnot(
    { name: "readers", func: readers, permissions: { env: true, run: ["sh"] } },
    async (knot) => {
      const results = await (await knot.map([0, 0, 0], { progress: false })).results();
      assert.deepEqual(results, ["0", "1", "2"].map((i) => [i, i, i, i]));
    },
  );
  // Without it, they are laid over Deno.env, which process.env reads too.
  await withKnot({
    name: "overlay",
    func: async (_x: number) => {
      const process = (await import("node:process")).default;
      return [
        Deno.env.get("AWS_BATCH_JOB_ARRAY_INDEX"),
        process.env.AWS_BATCH_JOB_ARRAY_INDEX,
        Deno.env.toObject().AWS_BATCH_JOB_ARRAY_INDEX,
        "AWS_BATCH_JOB_ARRAY_INDEX" in process.env,
      ];
    },
    permissions: { env: true },
  }, async (knot) => {
    const results = await (await knot.map([0, 0], { progress: false })).results();
    assert.deepEqual(results, [["0", "0", "0", true], ["1", "1", "1", true]]);
  });
});

Deno.test("a refusal thrown where nothing caught it (a timer's callback) or rejected where nobody awaited it says what to grant first, as one the function threw", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = join(dir, "secret.txt");
    await Deno.writeTextFile(secret, "hidden");
    await withKnot({
      name: "loose-refusal",
      retries: 3,
      permissions: { net: true, read: false },
      func: (how: string, path: string) => {
        if (how === "timer") {
          return new Promise((resolve) =>
            setTimeout(() => resolve(Deno.readTextFileSync(path)), 1)
          );
        }
        let refusal: unknown;
        try {
          Deno.readTextFileSync(path);
        } catch (e) {
          refusal = e;
        }
        Promise.reject(refusal);
        return "returned";
      },
    }, async (knot) => {
      const run = await knot.map([["timer", secret], ["unawaited", secret]], {
        starmap: true,
        progress: false,
      });
      const said = `Requires read access to "${secret}": the knot's permissions do not allow ` +
        `it, so the item is not retried. Grant it with permissions: { read: [${
          JSON.stringify(secret)
        }] } in Knot.create`;
      for (const [index, s] of (await run.settled()).entries()) {
        const reason = (s as { reason: ItemError }).reason;
        assert.equal(`${reason.kind} after ${reason.attempt}`, "refused after 1");
        assert.ok(
          reason.message.startsWith(`Item ${index} threw NotCapable: ${said}`),
          reason.message,
        );
        assert.doesNotMatch(reason.message, /run again with the --allow-read flag/);
        assert.ok(
          inCliWords(reason).includes(
            `Grant it with --allow read=${secret} on cloudknot knot create`,
          ),
          inCliWords(reason),
        );
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
