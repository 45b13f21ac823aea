import assert from "node:assert/strict";
import { join } from "node:path";
import { CancelledError, CloudknotError, CloudknotInputError } from "../../mod.ts";
import {
  Docker,
  DockerBuildError,
  DockerCommandError,
  DockerDaemonNotRunningError,
  DockerNotInstalledError,
} from "../../src/docker/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

/** Writes an executable shell script named `docker` into a fresh directory. */
async function fakeDocker(script: string): Promise<{ dir: string; binary: string }> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-fake-docker-" });
  const binary = join(dir, "docker");
  await Deno.writeTextFile(binary, `#!/bin/sh\n${script}\n`);
  await Deno.chmod(binary, 0o755);
  return { dir, binary };
}

Deno.test("a missing docker binary is a DockerNotInstalledError", async () => {
  for (const binary of ["/nonexistent/docker", "cloudknot-no-such-docker"]) {
    const error = await new Docker({ binary }).version().catch((e) => e);
    assert.ok(error instanceof DockerNotInstalledError, String(error));
    assert.ok(error instanceof CloudknotError);
    assert.equal(error.binary, binary);
    assert.match(error.message, /Install Docker/);
    assert.ok(error.cause instanceof Deno.errors.NotFound);
    // It names the option a caller of Knot.create() or DockerImage.create() has: `docker`.
    assert.match(
      error.message,
      /, or name a docker client that is not on PATH with the docker option of Knot\.create\(\) or DockerImage\.create\(\): `docker: new Docker\(\{ binary: "\/path\/to\/docker" \}\)`$/,
    );
  }
});

Deno.test("a daemon that is not running is a DockerDaemonNotRunningError", async () => {
  const fake = await fakeDocker(
    'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\nexit 1',
  );
  try {
    // Found on PATH through the driver's env, as a real install would be.
    const docker = new Docker({ env: { PATH: `${fake.dir}:${Deno.env.get("PATH")}` } });
    const error = await docker.ping().catch((e) => e);
    assert.ok(error instanceof DockerDaemonNotRunningError, String(error));
    assert.equal(error.problem, "not-running");
    assert.match(error.message, /^The Docker daemon is not running/);
    assert.match(error.message, /dockerd/);
    // Any command, not just ping.
    await assert.rejects(
      new Docker({ binary: fake.binary }).push("x/y:1", { logger: () => {} }),
      DockerDaemonNotRunningError,
    );
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("a socket without permission is a DockerDaemonNotRunningError that says so", async () => {
  const fake = await fakeDocker(
    'echo "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \\"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version\\": dial unix /var/run/docker.sock: connect: permission denied" >&2\nexit 1',
  );
  try {
    const error = await new Docker({ binary: fake.binary }).version().catch((e) => e);
    assert.ok(error instanceof DockerDaemonNotRunningError, String(error));
    assert.equal(error.problem, "permission-denied");
    assert.match(error.message, /\/var\/run\/docker\.sock/);
    assert.match(error.message, /docker group/);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

dockerTest("the real client against a socket that does not exist", async () => {
  const docker = new Docker({ env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
  const error = await docker.version().catch((e) => e);
  assert.ok(error instanceof DockerDaemonNotRunningError, String(error));
  assert.match(error.detail, /nonexistent\/docker\.sock/);
});

Deno.test("a failing command keeps the last 40 lines of a large output and its exit code", async () => {
  // 200k lines on stdout and on stderr: only concurrent reading avoids a deadlock.
  const fake = await fakeDocker(
    'i=0; while [ $i -lt 200000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done\nexit 3',
  );
  try {
    let count = 0;
    const docker = new Docker({ binary: fake.binary, logger: () => count++ });
    const error = await docker.push("example.com/x:1").catch((e) => e);
    assert.ok(error instanceof DockerCommandError, String(error));
    assert.equal(error.code, 3);
    assert.deepEqual(error.command, [fake.binary, "push", "example.com/x:1"]);
    assert.equal(error.tail.length, 40);
    // The streams are read side by side, so which one's last lines came last depends on the
    // scheduler: each stream's lines in the tail are its last ones, and one stream's last line
    // ends it.
    for (const stream of ["out", "err"]) {
      const lines: string[] = error.tail.filter((line: string) => line.startsWith(`${stream} `));
      assert.deepEqual(
        lines,
        lines.map((_: string, i: number) => `${stream} ${200000 - lines.length + i}`),
      );
    }
    const last = String(error.tail.at(-1));
    assert.ok(["out 199999", "err 199999"].includes(last), last);
    assert.equal(count, 400000);
    assert.match(error.message, /exit code 3: err 199999/);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("the default logger writes docker's output to stderr, never the program's stdout, and drops blank lines", async () => {
  const fake = await fakeDocker('echo "to out"\necho ""\necho "to err" >&2\nexit 0');
  try {
    const script = `
      import { Docker } from ${
      JSON.stringify(new URL("../../src/docker/mod.ts", import.meta.url).href)
    };
      await new Docker({ binary: ${JSON.stringify(fake.binary)} }).logout("example.com");
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-check", script],
      stdin: "null",
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    assert.equal(out.code, 0, decode(out.stderr));
    assert.equal(decode(out.stdout), "");
    // Each stream's lines in order (the two are read apart).
    const lines = decode(out.stderr).split("\n");
    assert.deepEqual(lines.sort(), ["", "to err", "to out"]);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("a logger that throws does not block the command, and its error is rethrown", async () => {
  const fake = await fakeDocker('i=0; while [ $i -lt 50000 ]; do echo "line $i"; i=$((i+1)); done');
  try {
    const docker = new Docker({
      binary: fake.binary,
      logger: () => {
        throw new Error("logger broke");
      },
    });
    await assert.rejects(docker.logout("example.com"), /logger broke/);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("an abort kills a command that ignores stdin, and rejects with CancelledError", async () => {
  const fake = await fakeDocker('echo "Pushing"\nexec sleep 60');
  try {
    const controller = new AbortController();
    const docker = new Docker({
      binary: fake.binary,
      logger: (line) => {
        if (line.text === "Pushing") controller.abort();
      },
    });
    const error = await docker.push("example.com/x:1", { signal: controller.signal }).catch((e) =>
      e
    );
    assert.ok(error instanceof CancelledError, String(error));
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("an abort falls back to SIGKILL when SIGTERM is ignored", async () => {
  const fake = await fakeDocker("trap '' TERM\necho ready\nwhile :; do sleep 0.05; done");
  try {
    const controller = new AbortController();
    const docker = new Docker({
      binary: fake.binary,
      killGraceMs: 200,
      logger: (line) => {
        if (line.text === "ready") controller.abort();
      },
    });
    await assert.rejects(
      docker.pull("example.com/x:1", { signal: controller.signal }),
      CancelledError,
    );
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("bad input is a CloudknotInputError before anything runs", async () => {
  const docker = new Docker({ binary: "/nonexistent/docker" });
  await assert.rejects(docker.run("x", { env: { "A=B": "1" } }), CloudknotInputError);
  await assert.rejects(docker.run("x", { memory: -1 }), CloudknotInputError);
  await assert.rejects(
    docker.run("x", { mounts: [{ source: "/a,b", target: "/c" }] }),
    CloudknotInputError,
  );
  await assert.rejects(docker.build(".", { tags: ["bad tag"] }), CloudknotInputError);
  await assert.rejects(
    docker.login("example.com", { username: "", password: "x" }),
    CloudknotInputError,
  );
});

Deno.test("run and build values travel in the environment, not on the command line", async () => {
  // The fake client prints its arguments and the variables it was given.
  const fake = await fakeDocker(
    'echo "args: $*"\necho "SECRET=$SECRET TOKEN=$TOKEN"\necho "docker: failed on purpose" >&2\nexit 125',
  );
  try {
    const lines: string[] = [];
    const docker = new Docker({
      binary: fake.binary,
      logger: (l) => l.stream === "stdout" && lines.push(l.text),
    });
    const error = await docker.run("img", {
      env: { SECRET: "s3cret", HOME: "/h0me" },
      command: ["true"],
    }).catch((e) => e);
    assert.ok(error instanceof DockerCommandError, String(error));
    assert.equal(error.code, 125);
    assert.deepEqual(lines, [
      "args: run --rm --env SECRET --env HOME=/h0me img true",
      "SECRET=s3cret TOKEN=",
    ]);
    // HOME is inline (docker reads its own HOME) but hidden in the error.
    assert.deepEqual(error.command, [
      fake.binary,
      "run",
      "--rm",
      "--env",
      "SECRET",
      "--env",
      "HOME=***",
      "img",
      "true",
    ]);
    assert.match(error.message, /exit code 125: docker: failed on purpose/);
    assert.ok(!error.message.includes("s3cret") && !error.message.includes("/h0me"));

    lines.length = 0;
    const build = await docker.build("ctx", { buildArgs: { TOKEN: "t0ken" } }).catch((e) => e);
    assert.ok(build instanceof DockerBuildError, String(build));
    assert.match(lines[0]!, /--build-arg TOKEN /);
    assert.equal(lines[1], "SECRET= TOKEN=t0ken");
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

dockerTest("a failing RUN names the step and keeps its output (legacy builder)", async () => {
  const base = await ensureBaseImage({ docker: new Docker({ logger: () => {} }) });
  const context = await Deno.makeTempDir({ prefix: "cloudknot-docker-fail-" });
  const tag = `cloudknot-test/fail-${crypto.randomUUID().slice(0, 8)}:1`;
  const docker = new Docker({ logger: () => {}, buildkit: false });
  try {
    // The base image has no shell, so RUN cannot start.
    await Deno.writeTextFile(join(context, "Dockerfile"), `FROM ${base}\nRUN echo hi\n`);
    const error = await docker.build(context, { tags: [tag] }).catch((e) => e);
    assert.ok(error instanceof DockerBuildError, String(error));
    assert.equal(error.step, "Step 2/2 : RUN echo hi");
    assert.ok(
      error.stepOutput.some((l: string) => l.includes("/bin/sh")),
      error.stepOutput.join("\n"),
    );
    assert.ok(error.tail.some((l: string) => l.includes("/bin/sh")));
    assert.match(error.message, /at Step 2\/2 : RUN echo hi/);
    assert.equal(await docker.inspectImage(tag), undefined);

    // A COPY of a missing file.
    await Deno.writeTextFile(join(context, "Dockerfile"), `FROM ${base}\nCOPY missing.txt /x\n`);
    const copy = await docker.build(context, { tags: [tag] }).catch((e) => e);
    assert.ok(copy instanceof DockerBuildError, String(copy));
    assert.equal(copy.step, "Step 2/2 : COPY missing.txt /x");
    assert.match(copy.message, /missing\.txt/);
  } finally {
    await docker.removeImage(tag, { force: true, missingOk: true });
    await Deno.remove(context, { recursive: true });
  }
});

/** A docker client that can build with BuildKit: buildx, or a client before 23 (built-in). */
async function buildkitClient(): Promise<string | undefined> {
  for (const binary of ["docker", "/usr/bin/docker"]) {
    const docker = new Docker({ binary, logger: () => {} });
    try {
      const { client } = await docker.version();
      if (Number(client.version.split(".")[0]) < 23) return binary;
      await docker.command(["buildx", "version"]);
      return binary;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

const bkBinary = await buildkitClient();

dockerTest("with BuildKit: plain progress, steps, and a failing step's output", async (t) => {
  if (bkBinary === undefined) {
    // Neither buildx nor a pre-23 client here; say so rather than pass silently.
    console.warn("No docker client with BuildKit support was found; the BuildKit test is skipped");
    await t.step({ name: "BuildKit build", ignore: true, fn: () => {} });
    return;
  }
  const base = await ensureBaseImage({ docker: new Docker({ logger: () => {} }) });
  const context = await Deno.makeTempDir({ prefix: "cloudknot-docker-bk-" });
  const tag = `cloudknot-test/bk-${crypto.randomUUID().slice(0, 8)}:1`;
  const lines: string[] = [];
  const steps: string[] = [];
  const docker = new Docker({
    binary: bkBinary,
    buildkit: true,
    logger: (l) => lines.push(l.text),
    onProgress: (e) =>
      e.step && steps.push(`${e.step.current}/${e.step.total} ${e.step.instruction}`),
  });
  try {
    assert.equal(await docker.builder(), "buildkit");
    await Deno.writeTextFile(join(context, "a.txt"), "a\n");
    await Deno.writeTextFile(join(context, "Dockerfile"), `FROM ${base}\nCOPY a.txt /a.txt\n`);
    const built = await docker.build(context, { tags: [tag] });
    assert.match(built.imageId, /^sha256:[0-9a-f]{64}$/);
    assert.ok(lines.some((l) => /^#\d+ /.test(l)), "plain progress lines");
    assert.deepEqual(steps, [`1/2 FROM docker.io/${base}`, "2/2 COPY a.txt /a.txt"]);

    await Deno.writeTextFile(join(context, "Dockerfile"), `FROM ${base}\nRUN echo hi\n`);
    const error = await docker.build(context, { tags: [tag] }).catch((e) => e);
    assert.ok(error instanceof DockerBuildError, String(error));
    assert.equal(error.step, "[2/2] RUN echo hi");
    assert.ok(
      error.stepOutput.some((l: string) => l.includes("/bin/sh")),
      error.stepOutput.join("\n"),
    );
  } finally {
    await docker.removeImage(tag, { force: true, missingOk: true });
    await Deno.remove(context, { recursive: true });
  }
});

Deno.test("BuildKit without the buildx plugin says how to fix it", async () => {
  const fake = await fakeDocker(
    'echo "ERROR: BuildKit is enabled but the buildx component is missing or broken." >&2\nexit 1',
  );
  try {
    const docker = new Docker({ binary: fake.binary, buildkit: true, logger: () => {} });
    const error = await docker.build("ctx").catch((e) => e);
    assert.ok(error instanceof DockerCommandError, String(error));
    assert.match(error.message, /buildx plugin is missing/);
    assert.match(error.message, /buildkit: false/);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("a build whose cached layer another process removed meanwhile is built again, up to three times", async () => {
  // The legacy builder's words (Docker 20.10) when an image it took from its cache is gone
  // by the time a step reads it: gc or a clobber removed a knot's image with its untagged
  // parents. Seen by building and removing images of one Dockerfile prefix in parallel.
  const id = "515d1e6b9dac872d4b988456036b0a8e9947463d57f555d96850b4beba34d641";
  const words = [
    // a cache lookup
    `unable to find image "sha256:${id}"`,
    // the step's container
    `No such image: sha256:${id}`,
    // a COPY's destination
    `failed to get destination image "sha256:${id}": No such image: sha256:${id}`,
    // the commit of the step's image
    `failed to get digest sha256:${id}: open /var/lib/docker/image/overlay2/imagedb/content/sha256/${id}: no such file or directory`,
    // the commit's link to its parent, in a LABEL step and in a COPY step
    `unknown parent image ID sha256:${id}`,
    `failed to export image: failed to set parent sha256:${id}: unknown parent image ID sha256:${id}`,
  ];
  const fake = await fakeDocker(`
count_file="$(dirname "$0")/builds"
count=$(($(cat "$count_file" 2>/dev/null || echo 0) + 1))
echo "$count" > "$count_file"
iid=""
while [ $# -gt 0 ]; do [ "$1" = "--iidfile" ] && iid="$2"; shift; done
echo "Step 9/11 : LABEL org.cloudknot.image=\\"x\\""
if [ "$count" -le "$FAILS" ]; then
  echo "$WORDS" >&2
  exit 1
fi
echo "sha256:0123" > "$iid"`);
  const builds = join(fake.dir, "builds");
  try {
    for (const said of words) {
      await Deno.remove(builds).catch(() => {});
      const lines: string[] = [];
      const twice = new Docker({
        binary: fake.binary,
        buildkit: false,
        env: { FAILS: "1", WORDS: said },
        logger: (l) => lines.push(l.text),
      });
      assert.deepEqual(await twice.build("ctx"), { imageId: "sha256:0123", tags: [] }, said);
      assert.equal((await Deno.readTextFile(builds)).trim(), "2", said);
      assert.ok(
        lines.some((l) => /cached layer of this build was removed .*attempt 2 of 3/.test(l)),
        lines.join("\n"),
      );
    }

    // A layer that keeps vanishing ends after the third build, with the builder's words.
    await Deno.remove(builds);
    const never = new Docker({
      binary: fake.binary,
      buildkit: false,
      env: { FAILS: "9", WORDS: words[3]! },
    });
    const error = await never.build("ctx", { logger: () => {} }).catch((e) => e);
    assert.ok(error instanceof DockerBuildError, String(error));
    assert.match(error.message, /failed to get digest sha256:515d/);
    assert.equal((await Deno.readTextFile(builds)).trim(), "3");
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("a build that fails for any other reason runs once", async () => {
  const fake = await fakeDocker(
    'echo x >> "$(dirname "$0")/builds"\necho "Step 2/3 : RUN false"\necho "The command \'/bin/sh -c false\' returned a non-zero code: 1" >&2\nexit 1',
  );
  try {
    const docker = new Docker({ binary: fake.binary, buildkit: false, logger: () => {} });
    assert.ok(await docker.build("ctx").catch((e) => e) instanceof DockerBuildError);
    assert.equal(await Deno.readTextFile(join(fake.dir, "builds")), "x\n");
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("removing a container with missingOk takes one whose removal another client has begun as gone, and still fails on other errors", async () => {
  const fake = await fakeDocker(
    'for a; do case "$a" in busy*) echo "Error response from daemon: removal of container $a is already in progress" >&2; exit 1;; bad*) echo "Error response from daemon: cannot remove $a: device busy" >&2; exit 1;; esac; done',
  );
  try {
    const docker = new Docker({ binary: fake.binary, logger: () => {} });
    await docker.removeContainer("busy-1", { force: true, missingOk: true });
    await assert.rejects(
      docker.removeContainer("busy-1", { force: true }),
      DockerCommandError,
    );
    await assert.rejects(
      docker.removeContainer("bad-1", { force: true, missingOk: true }),
      DockerCommandError,
    );
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});
