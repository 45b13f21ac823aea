import assert from "node:assert/strict";
import { join } from "node:path";
import { type Command, commandName, type Example } from "../../src/cli/common/command.ts";
import { COMMANDS } from "../../src/cli/registry.ts";
import { startEmulator } from "../emulator/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { DENO_DIR } from "./aws_helpers.ts";
import { childEnv, CLI, type CliHome, ROOT, shellQuote, withHome } from "./helpers.ts";

/** Whether an example needs AWS (the emulator) to work (`gc --local` does not). */
function needsAws(command: Command, example: Example): boolean {
  return command.name === "configure" ||
    (command.name === "gc" && !example.command.includes("--local")) ||
    ["pars", "image", "repo"].includes(command.group ?? "") ||
    /--target aws|squares-aws/.test(example.command);
}

/**
 * Runs examples as written, through `sh`, with `cloudknot` on the PATH;
 * configure first, clobbering last, so what the others use exists.
 */
async function runExamples(
  home: CliHome,
  pick: (command: Command, example: Example) => boolean,
  env: Record<string, string> = {},
): Promise<number> {
  // `cloudknot` in the examples is `deno run -A cli.ts`.
  const bin = join(home.dir, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "cloudknot"),
    `#!/bin/sh\nexec ${shellQuote(Deno.execPath())} run -A --quiet ${shellQuote(CLI)} "$@"\n`,
    { mode: 0o755 },
  );
  const ordered = [
    ...COMMANDS.filter((c) => c.name === "configure"),
    ...COMMANDS.filter((c) => c.name !== "clobber" && c.name !== "configure"),
    ...COMMANDS.filter((c) => c.name === "clobber"),
  ];
  let ran = 0;
  for (const command of ordered) {
    for (const example of command.examples) {
      if (!pick(command, example)) continue;
      const { code, stdout, stderr } = await new Deno.Command("sh", {
        args: ["-c", example.command],
        cwd: ROOT,
        env: childEnv({ ...home.env, ...env, PATH: `${bin}:${Deno.env.get("PATH")}` }),
        clearEnv: true,
        stdin: "null",
      }).output();
      const err = new TextDecoder().decode(stderr);
      assert.equal(code, 0, `${commandName(command)}: ${example.command}\n${err}`);
      assert.notEqual(new TextDecoder().decode(stdout), "", example.command);
      ran++;
    }
  }
  return ran;
}

Deno.test("every example in the help works as written (local)", async () => {
  await withHome(async (home) => {
    assert.ok(await runExamples(home, (c, e) => !needsAws(c, e)) > 5);
  });
});

dockerTest("every example in the help works as written (AWS, on the emulator)", async () => {
  const baseImage = await ensureBaseImage();
  // The examples name eu-west-1 and the profile "default".
  const emu = await startEmulator({
    runner: "docker",
    region: "eu-west-1",
    // Settled before the command line's first look: each later look is 2 s on (aws_helpers.ts).
    ceValidDelayMs: 0,
    tickMs: 10,
  });
  try {
    await withHome(async (home) => {
      const homeDir = join(home.dir, "home");
      await Deno.mkdir(join(homeDir, ".aws"), { recursive: true });
      await Deno.writeTextFile(join(homeDir, ".aws", "config"), "[default]\nregion = eu-west-1\n");
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
});
