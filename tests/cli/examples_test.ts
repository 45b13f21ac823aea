import assert from "node:assert/strict";
import { join } from "node:path";
import { type Command, commandName, type Example } from "../../src/cli/common/command.ts";
import { COMMANDS } from "../../src/cli/registry.ts";
import { renderTopHelp } from "../../src/cli/help.ts";
import type { Style } from "../../src/cli/common/io.ts";
import { startEmulator } from "../emulator/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { DENO_DIR, SETTLED_AT_ONCE } from "./aws_helpers.ts";
import { childEnv, CLI, type CliHome, ROOT, shellQuote, withHome } from "./helpers.ts";

/** Whether an example needs AWS (the emulator) to work (`gc --local` does not). */
function needsAws(command: Command, example: Example): boolean {
  return command.name === "configure" ||
    (command.name === "gc" && !example.command.includes("--local")) ||
    ["pars", "image", "repo"].includes(command.group ?? "") ||
    /--target aws|squares-aws/.test(example.command);
}

/** The commands of the top-level help's example (`cloudknot --help`), which needs no AWS. */
function topHelpExamples(): string[] {
  const plain = Object.assign((_name: unknown, text: string) => text, { enabled: false }) as Style;
  const help = renderTopHelp({ commands: COMMANDS, version: "0", style: plain });
  return help.slice(help.indexOf("\nExample:\n") + 10).split("\n")
    .map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
}

/**
 * Runs examples as written, through `sh`, with `cloudknot` on the PATH, in a
 * folder that holds only what a user of the installed command has: their own
 * module `jobs.ts` (a copy of examples/jobs.ts); configure first, clobbering
 * last, so what the others use exists. `top` adds the top-level help's example.
 */
async function runExamples(
  home: CliHome,
  pick: (command: Command, example: Example) => boolean,
  env: Record<string, string> = {},
  top = false,
): Promise<number> {
  // `cloudknot` in the examples is `deno run -A cli.ts`, with the clone's import map, as the
  // command installed from a clone has it.
  const bin = join(home.dir, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "cloudknot"),
    `#!/bin/sh\nexec ${shellQuote(Deno.execPath())} run -A --quiet --config ${
      shellQuote(join(ROOT, "deno.json"))
    } ${shellQuote(CLI)} "$@"\n`,
    { mode: 0o755 },
  );
  const work = join(home.dir, "work");
  await Deno.mkdir(work);
  await Deno.copyFile(join(ROOT, "examples", "jobs.ts"), join(work, "jobs.ts"));
  const ordered = [
    ...COMMANDS.filter((c) => c.name === "configure"),
    ...COMMANDS.filter((c) => c.name !== "clobber" && c.name !== "configure"),
    ...COMMANDS.filter((c) => c.name === "clobber"),
  ];
  const lines = [
    ...(top ? topHelpExamples().map((line) => ({ what: "cloudknot --help", line })) : []),
    ...ordered.flatMap((command) =>
      command.examples.filter((example) => pick(command, example))
        .map((example) => ({ what: commandName(command), line: example.command }))
    ),
  ];
  for (const { what, line } of lines) {
    const { code, stdout, stderr } = await new Deno.Command("sh", {
      args: ["-c", line],
      cwd: work,
      env: childEnv({ ...home.env, ...env, PATH: `${bin}:${Deno.env.get("PATH")}` }),
      clearEnv: true,
      stdin: "null",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `${what}: ${line}\n${err}`);
    assert.notEqual(new TextDecoder().decode(stdout), "", line);
  }
  return lines.length;
}

Deno.test("every example in the help, the top-level help's too, works as written (local) in a folder holding only the user's own module", async () => {
  await withHome(async (home) => {
    assert.ok(await runExamples(home, (c, e) => !needsAws(c, e), {}, true) > 5);
  });
});

dockerTest(
  "every example in the help works as written (AWS, on the emulator) in a folder holding only the user's own module",
  async () => {
    const baseImage = await ensureBaseImage();
    // The examples name eu-west-1 and the profile "default".
    const emu = await startEmulator({
      runner: "docker",
      region: "eu-west-1",
      // Settled before the command line's first look: each later look is 2 s on.
      ...SETTLED_AT_ONCE,
    });
    try {
      await withHome(async (home) => {
        const homeDir = join(home.dir, "home");
        await Deno.mkdir(join(homeDir, ".aws"), { recursive: true });
        await Deno.writeTextFile(
          join(homeDir, ".aws", "config"),
          "[default]\nregion = eu-west-1\n",
        );
        // A named profile takes its keys from the shared files, not the environment.
        await Deno.writeTextFile(
          join(homeDir, ".aws", "credentials"),
          `[default]\naws_access_key_id = ${emu.credentials.accessKeyId}\n` +
            `aws_secret_access_key = ${emu.credentials.secretAccessKey}\n`,
        );
        const { AWS_ACCESS_KEY_ID: _, AWS_SECRET_ACCESS_KEY: __, ...endpoint } = emu.env;
        const ran = await runExamples(home, needsAws, {
          ...endpoint,
          HOME: homeDir,
          DENO_DIR,
          CLOUDKNOT_BASE_IMAGE: baseImage,
        });
        assert.ok(ran >= 15, `only ${ran} AWS examples ran`);
        // The clobbering examples left only what is shared: the bucket and the default repository.
        const left = emu.listResources().map((r) => `${r.type} ${r.id}`).sort();
        assert.deepEqual(left.filter((r) => !/^(role|instance-profile|security-group) /.test(r)), [
          "bucket my-lab-cloudknot",
          "repository cloudknot",
        ]);
      });
    } finally {
      await emu.close();
    }
  },
);
