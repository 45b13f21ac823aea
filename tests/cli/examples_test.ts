import assert from "node:assert/strict";
import { join } from "node:path";
import { commandName } from "../../src/cli/command.ts";
import { COMMANDS } from "../../src/cli/registry.ts";
import { childEnv, CLI, ROOT, shellQuote, withHome } from "./helpers.ts";

Deno.test("every example in the help works as written", async () => {
  await withHome(async (home) => {
    // `cloudknot` in the examples is `deno run -A cli.ts`.
    const bin = join(home.dir, "bin");
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      join(bin, "cloudknot"),
      `#!/bin/sh\nexec ${shellQuote(Deno.execPath())} run -A --quiet ${shellQuote(CLI)} "$@"\n`,
      { mode: 0o755 },
    );
    // Clobbering comes last, so the knots the other examples use still exist.
    const ordered = [
      ...COMMANDS.filter((c) => c.name !== "clobber"),
      ...COMMANDS.filter((c) => c.name === "clobber"),
    ];
    for (const command of ordered) {
      for (const example of command.examples) {
        const { code, stdout, stderr } = await new Deno.Command("sh", {
          args: ["-c", example.command],
          cwd: ROOT,
          env: childEnv({ ...home.env, PATH: `${bin}:${Deno.env.get("PATH")}` }),
          clearEnv: true,
          stdin: "null",
        }).output();
        const err = new TextDecoder().decode(stderr);
        assert.equal(code, 0, `${commandName(command)}: ${example.command}\n${err}`);
        assert.notEqual(new TextDecoder().decode(stdout), "", example.command);
      }
    }
  });
});
