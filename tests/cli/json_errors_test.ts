// With --json, a command that meets an error prints no document: stdout stays empty, stderr has
// the one `error:` line (with the usage line for bad usage), and the exit code is the one
// docs/command_line.md gives (2 for bad usage, 1 for an error), alike for every command that
// takes --json. Against the emulator, in this process (and Docker not running, in another).
import assert from "node:assert/strict";
import { cliInProcess } from "../support/cli_in_process.ts";
import { withAwsHome } from "./aws_helpers.ts";
import { cli, JOBS } from "./helpers.ts";

/** A command line, the error it meets, and the exit code the docs give for it. */
type Case = { args: string[]; env?: Record<string, string>; code: 1 | 2; error: RegExp };

Deno.test("every command with --json prints no document on an error (bad usage, unknown knot or run, AWS refusing, Docker not running): stdout empty, one error line on stderr, exit 2 or 1", async () => {
  await withAwsHome(async (home) => {
    const made = await cli(home, ["map", JOBS, "square", "--name", "sq", "-q"], { stdin: "[1]" });
    assert.equal(made.code, 0, made.stderr);
    const refusing = { AWS_SECRET_ACCESS_KEY: "not-the-secret" };
    const cases: Case[] = [
      // Bad usage, of each command that takes --json.
      ...[
        ["configure"],
        ["cost", "sq"],
        ["gc"],
        ["image", "build", JOBS, "square"],
        ["image", "list"],
        ["image", "push", "img"],
        ["jobs", "sq"],
        ["knot", "create", "k", JOBS, "square"],
        ["knot", "list"],
        ["knot", "show", "sq"],
        ["logs", "sq"],
        ["map", JOBS, "square"],
        ["pars", "create", "p"],
        ["pars", "list"],
        ["repo", "list"],
        ["results", "sq"],
        ["retry", "sq"],
      ].map((args): Case => ({ args: [...args, "--bogus"], code: 2, error: /^Unknown option/ })),
      // An unknown knot, and an unknown run of a knot.
      ...["cost", "jobs", "logs", "results", "retry"].flatMap((command): Case[] => [
        { args: [command, "nope"], code: 1, error: /^There is no knot named "nope"/ },
        { args: [command, "sq", "nope"], code: 1, error: /^Knot sq has no run "nope"/ },
      ]),
      { args: ["knot", "show", "nope"], code: 1, error: /^There is no knot named "nope"/ },
      // AWS refusing the credentials.
      ...[
        ["gc"],
        ["repo", "list"],
        ["pars", "create", "p"],
        ["knot", "create", "k", JOBS, "square", "--target", "aws", "--compute", "FARGATE"],
      ].map((args): Case => ({
        args,
        env: refusing,
        code: 1,
        error: /SignatureDoesNotMatch|InvalidSignatureException/,
      })),
    ];
    for (const { args, env, code, error } of cases) {
      const line = [...args, "--json"].join(" ");
      const r = await cliInProcess([...args, "--json"], { ...home.env, ...env }).ended;
      assert.equal(r.code, code, `${line}: ${r.stderr}`);
      assert.equal(r.stdout, "", `${line}: no document`);
      const [first, ...rest] = r.stderr.split("\n").filter((l) => l.startsWith("error: "));
      assert.ok(first !== undefined && rest.length === 0, `${line}: one error line\n${r.stderr}`);
      assert.match(first.slice("error: ".length), error, line);
    }
    // Docker not running: the docker client runs in a process of its own, which reads the
    // command line's environment, so the command line runs in one too.
    const down = { DOCKER_HOST: `unix://${home.dir}/no-docker.sock` };
    for (
      const args of [
        ["image", "build", JOBS, "square", "--dir", `${home.dir}/image`],
        ["knot", "create", "kd", JOBS, "square", "--target", "docker"],
      ]
    ) {
      const line = [...args, "--json"].join(" ");
      const r = await cli(home, [...args, "--json"], { env: down });
      assert.equal(r.code, 1, `${line}: ${r.stderr}`);
      assert.equal(r.stdout, "", `${line}: no document`);
      assert.match(r.stderr, /^error: The Docker daemon is not running /m, line);
      assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error: ")).length, 1, line);
    }
  });
});
