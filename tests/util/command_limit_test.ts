/**
 * Time limits on the deno commands that build artifacts: a command that
 * hangs is killed with what it started, and the caller gets a
 * CommandTimeoutError that names the command, the limit and how to raise it.
 * The hanging "deno" is a script that starts a child and waits for ever.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotConfigurationError } from "../../mod.ts";
import { cacheDependencies } from "../../src/image/dependencies.ts";
import { artifactFromModule } from "../../src/job/function_artifact.ts";
import { bundleRuntime } from "../../src/job/runtime_bundle.ts";
import { undeclaredNames } from "../../src/job/undeclared_names.ts";
import { CommandTimeoutError, limitMs, outputWithin } from "../../src/util/command_limit.ts";
import { goneWithin } from "../support/processes.ts";

/** A command that writes its pid and its child's to a file, then waits for ever. */
async function hangingCommand(): Promise<
  { dir: string; path: string; pids: () => Promise<number[]> }
> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-hang-" });
  const path = join(dir, "hang");
  const pidFile = join(dir, "pids");
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\necho $$ >> '${pidFile}'\nsleep 300 &\necho $! >> '${pidFile}'\nwait\n`,
  );
  await Deno.chmod(path, 0o755);
  const pids = async () =>
    (await Deno.readTextFile(pidFile)).trim().split("\n").filter(Boolean).map(Number);
  return { dir, path, pids };
}

async function withHang(
  test: (hang: Awaited<ReturnType<typeof hangingCommand>>) => Promise<void>,
): Promise<void> {
  const hang = await hangingCommand();
  try {
    await test(hang);
    const pids = await hang.pids();
    // A module's artifact runs `deno bundle` and `deno info` at once, so the command may have
    // run twice; whatever it started is gone.
    assert.ok(pids.length >= 2, `the command and its child ran: ${pids}`);
    for (const pid of pids) assert.ok(await goneWithin(pid, 10_000), `process ${pid} was killed`);
  } finally {
    for (const pid of await hang.pids().catch(() => [])) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone, as it should be.
      }
    }
    await Deno.remove(hang.dir, { recursive: true });
  }
}

Deno.test("a command past its limit is killed with its children and names the command, the limit and how to raise it", async () => {
  await withHang(async (hang) => {
    const e = await outputWithin(hang.path, { stdout: "piped", stderr: "piped" }, {
      command: "hang now",
      timeoutMs: 300,
      raise: "allow it longer with HANG_TIMEOUT=<seconds>",
    }).then(() => undefined, (e) => e);
    assert.ok(e instanceof CommandTimeoutError, String(e));
    assert.equal(e.name, "CommandTimeoutError");
    assert.equal(e.command, "hang now");
    assert.equal(e.timeoutMs, 300);
    assert.match(
      e.message,
      /^`hang now` did not finish within 0\.3 s and was killed; .*allow it longer with HANG_TIMEOUT=<seconds>$/,
    );
  });
});

Deno.test("deno bundle of a module is killed at its limit", async () => {
  await withHang(async (hang) => {
    const module = join(hang.dir, "jobs.ts");
    await Deno.writeTextFile(module, "export function f(x: number) { return x; }\n");
    const e = await artifactFromModule(module, "f", { deno: hang.path, timeoutMs: 300 })
      .then(() => undefined, (e) => e);
    assert.ok(e instanceof CommandTimeoutError, String(e));
    assert.match(e.message, /^`deno bundle .*jobs\.ts` did not finish within 0\.3 s/);
    assert.match(e.message, /CLOUDKNOT_DENO_TIMEOUT=<seconds>/);
  });
});

Deno.test("deno info and deno bundle of the job entry point are killed at their limit", async () => {
  await withHang(async (hang) => {
    const e = await bundleRuntime({ deno: hang.path, timeoutMs: 300, cacheDir: false })
      .then(() => undefined, (e) => e);
    assert.ok(e instanceof CommandTimeoutError, String(e));
    assert.match(e.message, /^`deno info .*main\.ts` did not finish within 0\.3 s/);
  });
});

Deno.test("deno info fetching a function's imports is killed at its limit", async () => {
  await withHang(async (hang) => {
    const e = await cacheDependencies(
      'import "npm:left-pad";\nexport default () => 1;\n',
      join(hang.dir, "deno_dir"),
      { deno: hang.path, timeoutMs: 300 },
    ).then(() => undefined, (e) => e);
    assert.ok(e instanceof CommandTimeoutError, String(e));
    assert.match(e.message, /^`deno info function\.js` did not finish within 0\.3 s/);
  });
});

Deno.test("deno lint looking for undeclared names is killed at its limit, and the check is left to the run", async () => {
  await withHang(async (hang) => {
    assert.equal(
      await undeclaredNames("export default (x) => x * factor;", {
        deno: hang.path,
        timeoutMs: 300,
      }),
      undefined,
    );
  });
});

Deno.test("the limits: the option, else the variable in seconds, else the default; bad values are refused", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(limitMs(5000, 600_000, "T", env({ T: "30" })), 5000);
  assert.equal(limitMs(undefined, 600_000, "T", env({ T: "30" })), 30_000);
  assert.equal(limitMs(undefined, 600_000, "T", env({ T: " " })), 600_000);
  assert.equal(limitMs(undefined, 600_000), 600_000);
  assert.throws(
    () => limitMs(undefined, 600_000, "T", env({ T: "soon" })),
    (e) =>
      e instanceof CloudknotConfigurationError &&
      e.message === 'T is "soon"; set it to a positive number of seconds, or unset it for 600',
  );
  assert.throws(() => limitMs(-1, 600_000), CloudknotConfigurationError);
});
