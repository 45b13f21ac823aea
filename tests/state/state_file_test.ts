import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, StateFile, StateLockError } from "../../mod.ts";

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

Deno.test("concurrent processes never lose each other's changes", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    const mod = new URL("../../mod.ts", import.meta.url).href;
    const script = (id: number) => `
      import { StateFile } from ${JSON.stringify(mod)};
      const state = new StateFile({ path: ${JSON.stringify(path)} });
      for (let i = 0; i < 15; i++) {
        await state.update((doc) => {
          const s = doc.get("counters") ?? new Map();
          s.set("total", String(Number(s.get("total") ?? 0) + 1));
          s.set("writer-${id}", String(i + 1));
          doc.set("counters", s);
        });
      }`;
    const outs = await Promise.all(
      [1, 2, 3, 4].map((id) =>
        new Deno.Command(Deno.execPath(), { args: ["eval", script(id)], stderr: "inherit" })
          .output()
      ),
    );
    assert.ok(outs.every((o) => o.success));
    const counters = await new StateFile({ path }).section("counters");
    assert.equal(counters?.get("total"), "60");
    for (const id of [1, 2, 3, 4]) assert.equal(counters?.get(`writer-${id}`), "15");
  });
});

Deno.test("a held lock times out with a typed error; a stale one is taken over", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "cloudknot");
    await Deno.writeTextFile(`${path}.lock`, "4242 0\n");
    const impatient = new StateFile({ path, lockTimeoutMs: 50 });
    await assert.rejects(
      () => impatient.set("aws", "region", "x"),
      (e) => e instanceof StateLockError && /pid 4242/.test(e.message),
    );
    const old = new Date(Date.now() - 60_000);
    await Deno.utime(`${path}.lock`, old, old);
    await new StateFile({ path, lockTimeoutMs: 50 }).set("aws", "region", "x");
    assert.equal(await impatient.get("aws", "region"), "x");
    await assert.rejects(() => Deno.stat(`${path}.lock`), Deno.errors.NotFound);
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
