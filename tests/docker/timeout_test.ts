/**
 * Every docker call has a time limit: a `docker` client that hangs (a script
 * on the driver's `binary`) is stopped at its kind's limit, and the call
 * rejects with a CommandTimeoutError naming the command, the limit and how
 * to raise it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Docker } from "../../src/docker/mod.ts";
import { CommandTimeoutError } from "../../src/util/command_limit.ts";

/**
 * Runs `test` with drivers of a `docker` that hangs. The limits the tests set (seconds, not less) let
 * the hanging script start and note its pid first on a loaded machine, so that the check that it was
 * stopped has a process to look at.
 */
async function withHangingDocker(
  test: (docker: (options?: ConstructorParameters<typeof Docker>[0]) => Docker) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-hang-docker-" });
  const binary = join(dir, "docker");
  const pidFile = join(dir, "pids");
  await Deno.writeTextFile(binary, `#!/bin/sh\necho $$ >> '${pidFile}'\nexec sleep 300\n`);
  await Deno.chmod(binary, 0o755);
  const pids = async () =>
    (await Deno.readTextFile(pidFile).catch(() => "")).trim().split("\n").filter(Boolean)
      .map(Number);
  try {
    await test((options) =>
      new Docker({ binary, killGraceMs: 100, buildkit: false, logger: () => {}, ...options })
    );
    assert.ok((await pids()).length > 0);
    for (const pid of await pids()) {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
      assert.ok(stat === undefined || / Z /.test(stat), `docker ${pid} was stopped`);
    }
  } finally {
    for (const pid of await pids()) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone, as it should be.
      }
    }
    await Deno.remove(dir, { recursive: true });
  }
}

async function timeoutOf(call: Promise<unknown>): Promise<CommandTimeoutError> {
  const e = await call.then(() => undefined, (e) => e);
  assert.ok(e instanceof CommandTimeoutError, String(e));
  return e;
}

Deno.test("a short docker command is stopped at the driver's limit for other commands", async () => {
  await withHangingDocker(async (docker) => {
    const e = await timeoutOf(docker({ timeouts: { other: 2_000 } }).version());
    assert.equal(e.timeoutMs, 2_000);
    assert.match(e.command, /\/docker version$/);
    assert.match(
      e.message,
      /did not finish within 2 s and was killed; .*check that the Docker daemon answers \(docker version\), or allow it longer with the Docker option timeouts\.other \(or pass a larger timeoutMs to the call\)$/,
    );
  });
});

Deno.test("a call's own timeoutMs wins over the driver's", async () => {
  await withHangingDocker(async (docker) => {
    const e = await timeoutOf(
      docker({ timeouts: { other: 60_000 } }).inspectImage("app:1", { timeoutMs: 1_500 }),
    );
    assert.equal(e.timeoutMs, 1_500);
    assert.match(e.command, /\/docker image inspect$/);
  });
});

Deno.test("docker build is stopped at its limit, which CLOUDKNOT_DOCKER_BUILD_TIMEOUT raises", async () => {
  await withHangingDocker(async (docker) => {
    const context = await Deno.makeTempDir();
    try {
      const e = await timeoutOf(docker({ timeouts: { build: 2_000 } }).build(context));
      assert.match(e.command, /\/docker build \/tmp\/.+$/);
      assert.match(e.message, /allow it longer with CLOUDKNOT_DOCKER_BUILD_TIMEOUT=<seconds>/);
    } finally {
      await Deno.remove(context, { recursive: true });
    }
  });
});

Deno.test("docker push and pull are stopped at their limit, which CLOUDKNOT_DOCKER_PUSH_TIMEOUT raises", async () => {
  await withHangingDocker(async (docker) => {
    const driver = docker({ timeouts: { transfer: 2_000 } });
    const push = await timeoutOf(driver.push("127.0.0.1:5000/app:1"));
    assert.match(push.message, /^`.*\/docker push 127\.0\.0\.1:5000\/app:1` did not finish/);
    assert.match(push.message, /CLOUDKNOT_DOCKER_PUSH_TIMEOUT=<seconds>/);
    const pull = await timeoutOf(driver.pull("127.0.0.1:5000/app:1"));
    assert.match(pull.message, /CLOUDKNOT_DOCKER_PUSH_TIMEOUT=<seconds>/);
    // A driver made with withEnv keeps the limits.
    await timeoutOf(driver.withEnv({ DOCKER_CONFIG: "/nowhere" }).push("127.0.0.1:5000/app:1"));
  });
});
