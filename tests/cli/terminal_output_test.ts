// A map whose progress is drawn on a terminal: what it prints meanwhile, its
// results (when stdout is the same terminal) and the line an interrupt prints,
// replaces the progress line, drawn again below, instead of running on from it.
import assert from "node:assert/strict";
import { type CliIo, main } from "../../cli.ts";
import { Knot } from "../../mod.ts";
import { join } from "node:path";
import { childEnv, CLI, hasScript, mapGated, shellQuote, withHome } from "./helpers.ts";

/** What clears a terminal's line. */
const CLEAR = "\r\u001b[K";

Deno.test({
  name:
    "on a terminal, the line an interrupt prints replaces the progress line instead of running on from it",
  ignore: !hasScript,
  async fn() {
    await withHome(async (home) => {
      await Knot.create({
        name: "endless",
        // A timer keeps it going: a promise nothing can settle fails at once.
        func: () => new Promise(() => setInterval(() => {}, 1000)),
        dir: home.env.CLOUDKNOT_LOCAL_DIR,
      });
      const command = [Deno.execPath(), "run", "-A", "--quiet", CLI, "map", "--name", "endless"]
        .map(shellQuote).join(" ");
      // In a pseudo-terminal; the shell says the command's process id, which exec keeps.
      const child = new Deno.Command("script", {
        args: [
          "-qec",
          `echo "pid $$"; echo '[1]' > items.json; exec ${command} --inputs items.json`,
          "/dev/null",
        ],
        cwd: home.dir,
        env: childEnv({ ...home.env, TERM: "xterm-256color" }),
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!/endless: 0\/1 done · 1 running/.test(out)) {
        const { value, done } = await reader.read();
        assert.ok(!done, out);
        out += value;
      }
      Deno.kill(Number(/pid (\d+)/.exec(out)![1]), "SIGINT");
      for (let r = await reader.read(); !r.done; r = await reader.read()) out += r.value;
      await child.stdin.close();
      assert.equal((await child.status).code, 130, out);
      assert.ok(out.includes(`running${CLEAR}Cancelling the run (interrupted)`), out);
    });
  },
});

Deno.test("on a terminal that is both stdout and stderr, each result starts a line of its own instead of running on from the progress line", async () => {
  await withHome(async (home) => {
    const env: Record<string, string> = { ...home.env, TERM: "xterm-256color" };
    await Knot.create({ name: "screen", func: (x: number) => x + 1, dir: env.CLOUDKNOT_LOCAL_DIR });
    // One screen: what either stream writes, in order.
    let screen = "";
    const terminal = {
      write: (text: string) => Promise.resolve(void (screen += text)),
      isTerminal: () => true,
    };
    const io: CliIo = {
      stdout: terminal,
      stderr: terminal,
      stdin: {
        readable: () => ReadableStream.from([new TextEncoder().encode("[1, 2, 3]")]),
        isTerminal: () => false,
      },
      env: (name) => env[name],
      noColor: true,
    };
    assert.equal(await main(["map", "--name", "screen", "--concurrency", "1"], io), 0, screen);
    assert.ok(screen.includes(`${CLEAR}screen: 0/3 done`), "the progress is drawn");
    // A result is at the start of a line: after a newline, or after the progress line is cleared.
    for (const index of [0, 1, 2]) {
      assert.match(screen, new RegExp(`(^|\\n|\\r\\u001b\\[K)\\{"index":${index},`));
    }
    assert.doesNotMatch(screen, /done[^\r\n]*\{"index"/);
  });
});

Deno.test("on a terminal that is both stdout and stderr, results of a run still going start lines of their own instead of running on from its progress line", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "release");
    const { output: mapped } = await mapGated(home, "going", marker);
    let screen = "";
    const waiting = Promise.withResolvers<void>();
    const terminal = {
      write: (text: string) => {
        screen += text;
        if (screen.includes(`${CLEAR}going: 0/1 done`)) waiting.resolve();
        return Promise.resolve();
      },
      isTerminal: () => true,
    };
    const env: Record<string, string> = { ...home.env, TERM: "xterm-256color" };
    const io: CliIo = {
      stdout: terminal,
      stderr: terminal,
      stdin: { readable: () => ReadableStream.from([]), isTerminal: () => false },
      env: (name) => env[name],
      noColor: true,
    };
    const results = main(["results", "going"], io);
    // Its progress is drawn: the result comes after.
    await waiting.promise;
    await Deno.writeTextFile(marker, "");
    assert.equal(await results, 0, screen);
    assert.equal((await mapped).code, 0);
    assert.match(screen, new RegExp(`(^|\\n|\\r\\u001b\\[K)\\{"index":0,`));
    assert.doesNotMatch(screen, /done[^\r\n]*\{"index"/);
  });
});
