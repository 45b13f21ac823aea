import assert from "node:assert/strict";
import { join } from "node:path";
import { CancelledError } from "../../mod.ts";
import {
  Docker,
  DockerCommandError,
  type DockerOutputLine,
  type DockerProgressEvent,
} from "../../src/docker/mod.ts";
import { ensureBaseImage, HASH_LABEL, VERSION_LABEL } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

function collector(): { lines: DockerOutputLine[]; logger: (l: DockerOutputLine) => void } {
  const lines: DockerOutputLine[] = [];
  return { lines, logger: (l) => lines.push(l) };
}

function uniqueName(): string {
  return `cloudknot-test/docker-${crypto.randomUUID().slice(0, 8)}`;
}

/** A build context: a script and a Dockerfile on the offline base image. */
async function makeContext(base: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-docker-test-" });
  await Deno.writeTextFile(
    join(dir, "hello.ts"),
    [
      'const mounted = await Deno.readTextFile("/data/in.txt").catch(() => "no mount");',
      'console.log(`greeting=${Deno.env.get("GREETING")} foo=${Deno.env.get("FOO")} uid=${Deno.uid()} mounted=${mounted}`);',
      'console.error("to stderr");',
      "Deno.exit(Number(Deno.args[0] ?? 0));",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    join(dir, "Dockerfile"),
    [
      `FROM ${base}`,
      "ARG GREETING",
      "ENV GREETING=$GREETING",
      "COPY --chown=1000:1000 hello.ts /app/hello.ts",
      "USER 1000",
      'CMD ["deno", "run", "-A", "/app/hello.ts"]',
    ].join("\n") + "\n",
  );
  return dir;
}

dockerTest("ensureBaseImage makes an image that runs deno, as root and as uid 1000", async () => {
  const docker = new Docker({ logger: () => {} });
  const ref = await ensureBaseImage({ docker });
  // Idempotent: the same reference, and the labels match the running deno.
  assert.equal(await ensureBaseImage({ docker }), ref);
  const info = await docker.inspectImage(ref);
  assert.equal(info?.Config?.Labels?.[VERSION_LABEL], Deno.version.deno);
  assert.match(info?.Config?.Labels?.[HASH_LABEL] ?? "", /^[0-9a-f]{64}$/);
  for (const user of ["0", "1000"]) {
    const run = await docker.run(ref, {
      user,
      command: ["deno", "eval", "console.log(1 + 1, Deno.uid())"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `2 ${user}\n`);
  }
});

dockerTest("build streams lines and steps, then run, inspect, tag, list and remove", async () => {
  const base = await ensureBaseImage({ docker: new Docker({ logger: () => {} }) });
  const context = await makeContext(base);
  const data = await Deno.makeTempDir({ prefix: "cloudknot-docker-mount-" });
  await Deno.chmod(data, 0o755);
  await Deno.writeTextFile(join(data, "in.txt"), "from the host");
  const name = uniqueName();
  const log = collector();
  const progress: DockerProgressEvent[] = [];
  const docker = new Docker({ logger: log.logger, onProgress: (e) => progress.push(e) });
  const label = `org.cloudknot.test.run-${crypto.randomUUID().slice(0, 8)}`;
  const container = `cloudknot-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const built = await docker.build(context, {
      tags: [`${name}:a`, `${name}:b`],
      buildArgs: { GREETING: "hello" },
      labels: { [label]: "yes" },
    });
    assert.match(built.imageId, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(built.tags, [`${name}:a`, `${name}:b`]);

    // The output reached the logger as lines, the steps reached progress.
    assert.ok(log.lines.every((l) => l.operation === "build" && !l.text.includes("\n")));
    assert.ok(log.lines.some((l) => l.text.includes("COPY --chown=1000:1000 hello.ts")));
    // The legacy builder counts every instruction and adds one for the
    // labels; BuildKit counts only FROM and COPY.
    const steps = progress.filter((e) => e.step).map((e) => e.step!);
    const total = await docker.builder() === "legacy" ? 7 : 2;
    assert.deepEqual(steps.map((s) => s.current), Array.from({ length: total }, (_, i) => i + 1));
    assert.ok(steps.every((s) => s.total === total));
    assert.ok(steps.some((s) => s.instruction === "COPY --chown=1000:1000 hello.ts /app/hello.ts"));

    // Both tags point at the image, with its label; a missing image is undefined.
    const info = await docker.inspectImage(`${name}:b`);
    assert.equal(info?.Id, built.imageId);
    assert.deepEqual(info?.RepoTags?.toSorted(), [`${name}:a`, `${name}:b`]);
    assert.equal(info?.Config?.Labels?.[label], "yes");
    assert.equal(info?.Architecture, "amd64");
    assert.equal(await docker.inspectImage(`${name}:missing`), undefined);

    // Run: exit code, stdout and stderr, env, user, mounts, limits, labels.
    log.lines.length = 0;
    const run = await docker.run(`${name}:a`, {
      command: ["deno", "run", "-A", "/app/hello.ts", "3"],
      env: { FOO: "bar baz" },
      network: "none",
      cpus: 1,
      memory: 256,
      name: container,
      rm: false,
      labels: { [label]: "container" },
      mounts: [{ source: data, target: "/data", readonly: true }],
    });
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.name, container);
    assert.equal(run.stdout, "greeting=hello foo=bar baz uid=1000 mounted=from the host\n");
    assert.equal(run.stderr, "to stderr\n");
    // stdout and stderr are read concurrently, so only each stream's order is fixed.
    assert.deepEqual(
      log.lines.map((l) => `${l.operation} ${l.stream} ${l.text}`).toSorted(),
      [
        "run stderr to stderr",
        "run stdout greeting=hello foo=bar baz uid=1000 mounted=from the host",
      ],
    );

    const state = await docker.inspectContainer(container);
    assert.equal(state?.State.ExitCode, 3);
    assert.equal(state?.Config.Labels?.[label], "container");
    assert.equal(
      state?.HostConfig && (state.HostConfig as { Memory: number }).Memory,
      256 * 1024 * 1024,
    );
    await docker.removeContainer(container);
    assert.equal(await docker.inspectContainer(container), undefined);
    await docker.removeContainer(container, { missingOk: true });
    await assert.rejects(docker.removeContainer(container), DockerCommandError);

    // check: a non-zero exit throws; stdin reaches the container.
    await assert.rejects(
      docker.run(`${name}:a`, { command: ["deno", "eval", "Deno.exit(4)"], check: true }),
      (e) => e instanceof DockerCommandError && e.code === 4,
    );
    const echo = await docker.run(`${name}:a`, {
      command: [
        "deno",
        "eval",
        "console.log((await new Response(Deno.stdin.readable).text()).toUpperCase())",
      ],
      stdin: "shout",
    });
    assert.equal(echo.stdout, "SHOUT\n");

    // Tag, list by reference and by label, remove.
    await docker.tag(`${name}:a`, `${name}:c`);
    const listed = await docker.listImages({ reference: name });
    assert.deepEqual(listed.map((i) => i.tag).toSorted(), ["a", "b", "c"]);
    assert.ok(listed.every((i) => i.id === built.imageId && i.repository === name));
    const byLabel = await docker.listImages({ labels: { [label]: "yes" } });
    assert.deepEqual(byLabel.map((i) => i.tag).toSorted(), ["a", "b", "c"]);
    assert.deepEqual(await docker.listImages({ labels: { [label]: "no" } }), []);
    assert.equal((await docker.listImages({ labels: { [label]: true } })).length, 3);

    await docker.removeImage([`${name}:a`, `${name}:b`, `${name}:c`]);
    assert.equal(await docker.inspectImage(built.imageId), undefined);
    await docker.removeImage(`${name}:a`, { missingOk: true });
    await assert.rejects(docker.removeImage(`${name}:a`), DockerCommandError);
  } finally {
    await docker.removeContainer(container, { force: true, missingOk: true });
    await docker.removeImage([`${name}:a`, `${name}:b`, `${name}:c`], {
      force: true,
      missingOk: true,
    });
    await Deno.remove(context, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});

dockerTest("an abort signal stops a long run and removes its container", async (t) => {
  const base = await ensureBaseImage({ docker: new Docker({ logger: () => {} }) });
  const sleeper = "console.log('started'); await new Promise((r) => setTimeout(r, 60000))";
  for (const named of [true, false]) {
    await t.step(named ? "with a name" : "with a generated name", async () => {
      const label = `org.cloudknot.test.abort-${crypto.randomUUID().slice(0, 8)}`;
      const controller = new AbortController();
      const seen: string[] = [];
      const docker = new Docker({
        logger: (line) => {
          seen.push(line.text);
          if (line.text === "started") controller.abort(new Error("enough"));
        },
      });
      const name = named ? `cloudknot-test-${crypto.randomUUID().slice(0, 8)}` : undefined;
      const error = await docker.run(base, {
        command: ["deno", "eval", sleeper],
        labels: { [label]: "1" },
        signal: controller.signal,
        ...(name ? { name } : {}),
      }).catch((e) => e);
      assert.ok(error instanceof CancelledError, String(error));
      assert.equal((error.cause as Error).message, "enough");
      assert.deepEqual(seen, ["started"]);
      // The container is gone, running or not.
      const left = await docker.command(["ps", "--all", "--quiet", "--filter", `label=${label}`]);
      assert.equal(left.stdout, "");
      if (name) assert.equal(await docker.inspectContainer(name), undefined);
    });
  }
});

dockerTest("a signal that is already aborted runs nothing", async () => {
  const docker = new Docker({ logger: () => {} });
  await assert.rejects(
    docker.run("cloudknot-test/never:1", { signal: AbortSignal.abort() }),
    CancelledError,
  );
});
