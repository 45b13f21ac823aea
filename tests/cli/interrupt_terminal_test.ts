// Ctrl-C on a map whose progress is drawn on a terminal: the line that says the
// run is being cancelled replaces the progress line (and the ^C echoed after
// it), instead of being written at its end.
import assert from "node:assert/strict";
import { Knot } from "../../mod.ts";
import { childEnv, CLI, hasScript, shellQuote, withHome } from "./helpers.ts";

Deno.test({
  name:
    "on a terminal, the line an interrupt prints replaces the progress line instead of running on from it",
  ignore: !hasScript,
  async fn() {
    await withHome(async (home) => {
      await Knot.create({
        name: "endless",
        func: () => new Promise(() => {}),
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
      assert.match(out, /running\r\u001b\[KCancelling the run \(interrupted\)/);
    });
  },
});
