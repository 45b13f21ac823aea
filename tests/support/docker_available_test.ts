import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const fixture = fileURLToPath(new URL("./testdata/needs_docker.ts", import.meta.url));

/** Runs the fixture in a child `deno test` with Docker pointed at a socket that does not exist. */
async function runWithoutDocker(ci: boolean): Promise<{ code: number; output: string }> {
  const env: Record<string, string> = {
    DOCKER_HOST: "unix:///nonexistent/docker.sock",
    NO_COLOR: "1",
  };
  if (ci) env.CI = "true";
  else env.CI = "false";
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check", fixture],
    env,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
}

Deno.test("without Docker, dockerTest fails under CI=true", async () => {
  const { code, output } = await runWithoutDocker(true);
  assert.notEqual(code, 0, output);
  assert.match(output, /Docker is required under CI=true: The Docker daemon is not running/);
  assert.match(output, /0 passed \| 1 failed/);
});

Deno.test("without Docker, dockerTest ignores the test elsewhere and says why", async () => {
  const { code, output } = await runWithoutDocker(false);
  assert.equal(code, 0, output);
  assert.match(output, /Skipping the tests that need Docker: The Docker daemon is not running/);
  assert.match(output, /0 passed \| 0 failed \| 1 ignored/);
});
