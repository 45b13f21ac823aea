import assert from "node:assert/strict";
import { dockerAvailability } from "./docker_available.ts";

Deno.test("docker availability: missing pieces are ignored off CI and must fail under CI", async () => {
  const off = await dockerAvailability(["/nonexistent/binary"], { env: () => undefined });
  assert.equal(off.available, false);
  assert.equal(off.ignore, true);
  assert.match(off.reason!, /nonexistent/);
  const onCi = await dockerAvailability([], {
    env: (k) => (k === "CI" ? "true" : undefined),
    docker: "/nonexistent/docker",
  });
  assert.equal(onCi.available, false);
  assert.equal(onCi.ignore, false);
  assert.match(onCi.reason!, /docker version/);
});
