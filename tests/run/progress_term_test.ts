// The library's progress on a real terminal (a pseudo-terminal, through
// `script`): a TERM of dumb, as in Emacs' shell, gets plain lines instead of
// cursor codes, read only where the program may already read TERM, so that no
// permission prompt ever stops it.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CloudknotInputError } from "../../mod.ts";
import { validateProgress } from "../../src/run/progress.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLIENT = fileURLToPath(new URL("../fixtures/progress_client.ts", import.meta.url));

/** What clears a terminal's line: the progress redrawn in place. */
const CLEAR = "\r\u001b[K";

/** Quotes a word for `sh`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * What the progress client printed on a terminal whose TERM is `term`, run
 * with `permissions`. A permission prompt, which would wait for an answer,
 * ends the client and is what it printed.
 */
async function onTerminal(term: string, permissions: string[], mode = ""): Promise<string> {
  const command = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-lock",
    "--config",
    `${ROOT}deno.json`,
    ...permissions,
    CLIENT,
    ...(mode ? [mode] : []),
  ].map(shellQuote).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    cwd: ROOT,
    env: { NO_COLOR: "1", TERM: term },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  await child.stdin.close();
  let out = "";
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
    out += text;
    if (out.includes("Deno requests")) {
      child.kill("SIGKILL");
      break;
    }
  }
  await child.status;
  return out;
}

Deno.test("on a terminal whose TERM is dumb, the library's progress is plain lines, without cursor codes", async () => {
  const out = await onTerminal("dumb", ["--allow-env=TERM"]);
  assert.ok(!out.includes("\u001b"), JSON.stringify(out));
  assert.match(out, /\r?\nk: 1\/1 done · 0 running · .*took/);
});

Deno.test("on a terminal whose TERM is not dumb, the library's progress is redrawn in place", async () => {
  const out = await onTerminal("xterm-256color", ["--allow-env=TERM"]);
  assert.ok(out.includes(`${CLEAR}k: 1/1 done`), JSON.stringify(out));
});

Deno.test("a program that may not read TERM is not asked for it: its progress is redrawn, with no permission prompt", async () => {
  const out = await onTerminal("dumb", []);
  assert.ok(!out.includes("Deno requests"), JSON.stringify(out));
  assert.ok(out.includes(`${CLEAR}k: 1/1 done`), JSON.stringify(out));
});

Deno.test("progress given an env that says TERM is dumb draws plain lines on a terminal", async () => {
  const out = await onTerminal("xterm-256color", ["--allow-env=TERM"], "injected");
  assert.ok(!out.includes("\u001b"), JSON.stringify(out));
  assert.match(out, /k: 1\/1 done/);
});

Deno.test("a progress env that is not a function is refused, naming it", () => {
  assert.throws(
    () => validateProgress({ env: { TERM: "dumb" } } as never, "map()"),
    (e: unknown) =>
      e instanceof CloudknotInputError && e.field === "progress.env" &&
      /^progress\.env must be a function/.test(e.message),
  );
});
