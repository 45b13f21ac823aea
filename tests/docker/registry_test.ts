import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Docker,
  DockerAuthError,
  DockerCommandError,
  type DockerOutputLine,
  type DockerProgressEvent,
} from "../../src/docker/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { startRegistry } from "../support/registry.ts";

dockerTest("login, push, pull and logout against an htpasswd registry on loopback", async () => {
  const base = await ensureBaseImage({ docker: new Docker({ logger: () => {} }) });
  await using registry = await startRegistry();
  const config = await Deno.makeTempDir({ prefix: "cloudknot-docker-config-" });
  const context = await Deno.makeTempDir({ prefix: "cloudknot-docker-push-" });
  const lines: DockerOutputLine[] = [];
  const progress: DockerProgressEvent[] = [];
  const docker = new Docker({
    env: { DOCKER_CONFIG: config },
    logger: (l) => lines.push(l),
    onProgress: (e) => progress.push(e),
  });
  const repo = `${registry.host}/cloudknot/push-${crypto.randomUUID().slice(0, 8)}`;
  const ref = `${repo}:1`;
  try {
    await Deno.writeTextFile(join(context, "answer.txt"), `${crypto.randomUUID()}\n`);
    await Deno.writeTextFile(
      join(context, "Dockerfile"),
      `FROM ${base}\nCOPY answer.txt /answer.txt\nUSER 1000\n`,
    );
    const built = await docker.build(context, { tags: [ref] });

    // Without credentials the registry refuses the push.
    const anonymous = await docker.push(ref).catch((e) => e);
    assert.ok(anonymous instanceof DockerAuthError, String(anonymous));

    // A wrong password is refused; the password never shows in the error.
    const wrong = await docker.login(registry.host, {
      username: registry.username,
      password: "wrong-password",
    }).catch((e) => e);
    assert.ok(wrong instanceof DockerAuthError, String(wrong));
    assert.equal(wrong.code, 1);
    assert.deepEqual(wrong.command, [
      "docker",
      "login",
      "--username",
      registry.username,
      "--password-stdin",
      registry.host,
    ]);
    assert.ok(!JSON.stringify({ m: wrong.message, t: wrong.tail }).includes("wrong-password"));

    // The right password logs in, into the isolated DOCKER_CONFIG only.
    await docker.login(registry.host, { username: registry.username, password: registry.password });
    assert.ok(lines.some((l) => l.operation === "login" && l.text.includes("Login Succeeded")));
    const stored = JSON.parse(await Deno.readTextFile(join(config, "config.json")));
    assert.equal(
      atob(stored.auths[registry.host].auth),
      `${registry.username}:${registry.password}`,
    );

    // Push: a digest, and layer progress.
    const pushed = await docker.push(ref);
    assert.match(pushed.digest ?? "", /^sha256:[0-9a-f]{64}$/);
    const layers = progress.filter((e) => e.operation === "push" && e.layer);
    assert.ok(layers.some((e) => e.layer!.status === "Pushed"), JSON.stringify(layers));
    const manifest = await fetch(
      `${registry.url}/v2/${repo.split("/").slice(1).join("/")}/manifests/1`,
      {
        method: "HEAD",
        headers: {
          authorization: `Basic ${btoa(`${registry.username}:${registry.password}`)}`,
          accept: "application/vnd.docker.distribution.manifest.v2+json",
        },
      },
    );
    await manifest.body?.cancel();
    assert.equal(manifest.headers.get("docker-content-digest"), pushed.digest);

    // Remove the local image, pull it back under a clean tag, and run it.
    await docker.removeImage(ref);
    assert.equal(await docker.inspectImage(ref), undefined);
    const pulled = await docker.pull(ref);
    assert.equal(pulled.digest, pushed.digest);
    const pulledLayers = progress.filter((e) => e.operation === "pull" && e.layer);
    assert.ok(
      pulledLayers.some((e) => e.layer!.status === "Pull complete"),
      JSON.stringify(pulledLayers),
    );
    const info = await docker.inspectImage(ref);
    assert.equal(info?.Id, built.imageId);
    assert.ok(info?.RepoDigests?.includes(`${repo}@${pushed.digest}`));
    const run = await docker.run(ref, {
      command: ["deno", "eval", "console.log(Deno.readTextFileSync('/answer.txt').trim())"],
    });
    assert.equal(run.stdout, await Deno.readTextFile(join(context, "answer.txt")));

    // After logout the registry refuses a pull.
    await docker.logout(registry.host);
    const after = JSON.parse(await Deno.readTextFile(join(config, "config.json")));
    assert.equal(after.auths?.[registry.host], undefined);
    await docker.removeImage(ref);
    const refused = await docker.pull(ref).catch((e) => e);
    assert.ok(refused instanceof DockerAuthError, String(refused));

    // A tag that does not exist is a plain command error.
    await docker.login(registry.host, { username: registry.username, password: registry.password });
    const missing = await docker.pull(`${repo}:nope`).catch((e) => e);
    assert.ok(missing instanceof DockerCommandError && !(missing instanceof DockerAuthError));
    assert.match(missing.message, /manifest unknown|not found/i);
  } finally {
    await docker.removeImage(ref, { force: true, missingOk: true });
    await Deno.remove(config, { recursive: true });
    await Deno.remove(context, { recursive: true });
  }
});
