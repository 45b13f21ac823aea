import assert from "node:assert/strict";
import { endChild } from "./processes.ts";

Deno.test("endChild of a child that has ended already waits for nothing and does not throw", async () => {
  const child = new Deno.Command("true", { stdin: "null", stdout: "null", stderr: "null" }).spawn();
  assert.equal((await child.status).code, 0);
  assert.equal((await endChild(child)).code, 0);
});

Deno.test("endChild ends a child that runs with the signal given", async () => {
  const child = new Deno.Command("sleep", {
    args: ["600"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  assert.equal((await endChild(child, "SIGKILL")).signal, "SIGKILL");
});
