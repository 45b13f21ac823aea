// Docker.withEnv: a driver with more environment and the same logger, binary and limits.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Docker, type DockerOutputLine } from "../../src/docker/mod.ts";

Deno.test("withEnv adds environment and keeps the binary and the logger", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-with-env-" });
  try {
    // A stand-in client that prints the variables a real one would read.
    const binary = join(dir, "docker");
    await Deno.writeTextFile(
      binary,
      '#!/bin/sh\necho "config=$DOCKER_CONFIG host=$DOCKER_HOST args=$*"\n',
    );
    await Deno.chmod(binary, 0o755);
    const lines: DockerOutputLine[] = [];
    const docker = new Docker({
      binary,
      env: { DOCKER_HOST: "unix:///x.sock" },
      logger: (l) => lines.push(l),
    });
    const isolated = docker.withEnv({ DOCKER_CONFIG: join(dir, "cfg") });
    assert.equal(isolated.binary, binary);
    assert.deepEqual(isolated.env, {
      DOCKER_HOST: "unix:///x.sock",
      DOCKER_CONFIG: join(dir, "cfg"),
    });
    assert.deepEqual(docker.env, { DOCKER_HOST: "unix:///x.sock" });
    const { stdout } = await isolated.command(["info"], { operation: "run" });
    assert.equal(stdout, `config=${join(dir, "cfg")} host=unix:///x.sock args=info\n`);
    assert.deepEqual(lines.map((l) => l.text), [stdout.trim()]);
    assert.equal(
      (await docker.command(["info"])).stdout,
      "config= host=unix:///x.sock args=info\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
