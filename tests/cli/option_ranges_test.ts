// The numbers the command line's options take (src/cli/common/ranges.ts): a value an option can
// never take is bad usage (exit code 2, the usage line, the flag and its range), refused before
// anything is read or made; the ranges are the library's.
import assert from "node:assert/strict";
import { join } from "node:path";
import { inRange, KNOT_RANGES, type NumberRange } from "../../src/cli/common/ranges.ts";
import { validateKnotOptions, validateMapOptions } from "../../src/knot_options.ts";
import { CloudknotInputError } from "../../src/util/errors.ts";
import { GROUPS } from "../../src/cli/registry.ts";
import { cliInProcess } from "../support/cli_in_process.ts";
import { type AwsHome, withAwsHome } from "./aws_helpers.ts";
import { cli, JOBS, withHome } from "./helpers.ts";

/**
 * The library's option of each flag, and the other (AWS) options its range is judged with on
 * AWS.
 */
const LIBRARY: Record<string, { key: string; contexts?: Record<string, unknown>[] }> = {
  concurrency: { key: "concurrency" },
  retries: { key: "retries" },
  timeout: { key: "timeout" },
  memory: { key: "memory" },
  // On AWS a number of vCPUs is taken when EC2 or Fargate takes it.
  vcpus: { key: "vcpus", contexts: [{}, { compute: "FARGATE" }] },
  // GPUs need instance types that have them; a bid needs SPOT; the least vCPUs, room above.
  gpus: { key: "gpus", contexts: [{ instanceTypes: ["g4dn"] }] },
  "max-vcpus": { key: "maxVcpus" },
  "min-vcpus": { key: "minVcpus", contexts: [{ maxVcpus: 100_000 }] },
  "bid-percentage": { key: "bidPercentage", contexts: [{ compute: "SPOT" }] },
  "volume-size": { key: "volumeSize" },
  "stuck-timeout": { key: "stuckTimeout" },
  "capacity-timeout": { key: "capacityTimeout" },
  "items-per-job": { key: "itemsPerJob" },
};

/** Whether the library takes `value` for the flag's option on the target, and if not, why. */
async function libraryTakes(
  target: "local" | "docker" | "aws",
  flag: string,
  value: number,
): Promise<{ taken: boolean; refusals: string[] }> {
  const { key, contexts: aws = [{}] } = LIBRARY[flag]!;
  const contexts = target === "aws" ? aws : [{}];
  const refusals: string[] = [];
  for (const context of contexts) {
    try {
      if (key === "itemsPerJob") validateMapOptions({ itemsPerJob: value }, target);
      else await validateKnotOptions({ name: "k", target, ...context, [key]: value });
      return { taken: true, refusals };
    } catch (e) {
      assert.ok(e instanceof CloudknotInputError, String(e));
      assert.equal(
        e.field,
        key,
        `${flag} ${value} on ${target} is refused for ${key}: ${e.message}`,
      );
      refusals.push(e.message);
    }
  }
  return { taken: false, refusals };
}

/** Numbers at each bound of a range, and just past it. */
function edges(range: NumberRange): { inside: number[]; outside: number[] } {
  const step = range.integer ? 1 : range.min === 0 ? 0.001 : range.min / 2;
  const inside = [range.above ? range.min + step : range.min, ...(range.also ?? [])];
  const outside = [range.above ? range.min : range.min - step];
  if (range.max !== undefined) {
    inside.push(range.max);
    outside.push(range.max + (range.integer ? 1 : 0.5));
  }
  if (range.integer) outside.push(range.min + 0.5);
  return { inside, outside: outside.filter((v) => !range.also?.includes(v)) };
}

Deno.test("each option's range on each target is the library's: its bounds are taken and the numbers past them refused", async () => {
  let checked = 0;
  for (
    const [target, ranges] of Object.entries(KNOT_RANGES) as [
      "local" | "docker" | "aws",
      Record<string, NumberRange>,
    ][]
  ) {
    for (const [flag, range] of Object.entries(ranges)) {
      const { inside, outside } = edges(range);
      for (const value of inside) {
        assert.ok(inRange(value, range), `${flag} ${value} is in its range on ${target}`);
        const { taken, refusals } = await libraryTakes(target, flag, value);
        assert.ok(taken, `the library takes ${flag} ${value} on ${target}: ${refusals}`);
        checked++;
      }
      for (const value of outside) {
        assert.ok(!inRange(value, range), `${flag} ${value} is out of its range on ${target}`);
        assert.ok(
          !(await libraryTakes(target, flag, value)).taken,
          `the library refuses ${flag} ${value} on ${target}`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked >= 60, `${checked} values checked`);
});

/** A command line, and what its error line must say. */
type Case = [args: string[], message: string];

/**
 * Runs each command line in this process and checks that it is bad usage: exit 2, the message
 * first, then the command's usage line, nothing on stdout and no AWS request.
 */
async function assertBadUsage(home: AwsHome, cases: Case[]): Promise<void> {
  for (const [args, message] of cases) {
    home.emu.requests.clear();
    const r = await cliInProcess(args, home.env).ended;
    const line = args.join(" ");
    assert.equal(r.code, 2, `${line}: ${r.stderr}`);
    assert.equal(r.stderr.split("\n")[0], `error: ${message}`, line);
    const grouped = Object.hasOwn(GROUPS, args[0]!);
    const name = grouped ? args.slice(0, 2).join(" ") : args[0];
    assert.match(r.stderr, new RegExp(`^Usage: cloudknot ${name} `, "m"), line);
    assert.equal(r.stdout, "", line);
    assert.deepEqual(home.emu.requests.filter(), [], `${line}: no AWS request`);
  }
}

/** The command line of each target's knot, for a flag. */
function commandOf(target: string, flag: string): string[] {
  // A new local or docker knot takes these at map time; on AWS, knot create takes them too.
  if (target === "aws" && ["retries", "timeout", "memory"].includes(flag)) {
    return ["knot", "create", "k", JOBS, "square", "--target", "aws"];
  }
  return ["map", JOBS, "square", "--target", target];
}

Deno.test("a number out of its option's range on the target is bad usage, before anything is read or made: exit 2, the usage line, the flag and its range, and no AWS request", async () => {
  await withAwsHome(async (home) => {
    const cases: Case[] = [
      // The library's refusal with 1 before: now bad usage, as --concurrency 0 was.
      [
        ["map", JOBS, "square", "--retries", "11"],
        '--retries takes an integer from 1 to 10, not "11"',
      ],
      [
        ["map", JOBS, "square", "--concurrency", "0"],
        '--concurrency takes an integer from 1 to 1,024, not "0"',
      ],
      [
        ["map", JOBS, "square", "--concurrency", "two"],
        '--concurrency takes an integer from 1 to 1,024, not "two"',
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--timeout", "30"],
        '--timeout takes an integer from 60 to 2,147,483 on AWS, not "30"',
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--vcpus", "2.5"],
        '--vcpus takes an integer from 1 to 256, or 0.25 or 0.5, on AWS, not "2.5"',
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--items-per-job", "0"],
        '--items-per-job takes an integer from 1 to 100,000, or auto, not "0"',
      ],
      [
        ["map", JOBS, "square", "--target", "docker", "--memory", "5"],
        '--memory takes an integer of at least 6 on docker, not "5"',
      ],
      [
        ["map", JOBS, "square", "--item-seconds", "0"],
        '--item-seconds takes a positive number, not "0"',
      ],
      [
        ["configure", "--expire-days", "0"],
        '--expire-days takes a positive integer, or never, not "0"',
      ],
      [["configure", "--sse", "AES128"], '--sse must be "AES256" or "aws:kms", not "AES128"'],
      [
        ["pars", "create", "p", "--tenancy", "shared"],
        '--tenancy must be "default" or "dedicated", not "shared"',
      ],
      [
        ["retry", "k", "--memory", "half"],
        '--memory takes a positive integer, or double, not "half"',
      ],
      [
        // The bound is the AMI's, not EBS's: the message says why, as the library's check does.
        ["knot", "create", "k", JOBS, "square", "--target", "aws", "--volume-size", "20"],
        '--volume-size takes an integer from 30 to 16,384, not "20": the instances run ' +
        "Batch's ECS-optimized Amazon Linux 2023 AMI, whose root snapshot is 30 GiB, and EC2 " +
        "launches none with a smaller root volume, so every job would wait in RUNNABLE; leave " +
        "--volume-size out for the AMI's 30 GiB",
      ],
      [["logs", "k", "--item", "-1"], '--item takes a whole number, not "-1"'],
      [
        ["logs", "k", "--item", "0", "--attempt", "0"],
        '--attempt takes a positive integer, not "0"',
      ],
    ];
    // And every flag of every target, just past its range.
    for (const [target, ranges] of Object.entries(KNOT_RANGES)) {
      for (const [flag, range] of Object.entries(ranges)) {
        const { outside } = edges(range);
        const value = String(outside.find((v) => Number.isInteger(v)) ?? outside[0]);
        // The words of its range, as a value that is no number is told them.
        const [, words, why] = (await cliInProcess(
          [...commandOf(target, flag), `--${flag}`, "x"],
          home.env,
        ).ended).stderr.match(/^error: (.*), not "x"(.*)$/m) ?? [];
        assert.ok(words?.startsWith(`--${flag} takes `), `--${flag} x on ${target}: ${words}`);
        cases.push([
          [...commandOf(target, flag), `--${flag}`, value],
          `${words}, not "${value}"${why}`,
        ]);
      }
    }
    await assertBadUsage(home, cases);
    assert.ok(cases.length >= 30, `${cases.length} cases`);
  });
});

Deno.test("a flag that another flag, or the command's argument, would make it ignore is bad usage, before anything is read or made: exit 2, the usage line, the flag to drop, and no AWS request", async () => {
  await withAwsHome(async (home) => {
    const unorderedJson = "--unordered prints the result lines as items finish, and --json " +
      "prints one document in input order instead of lines: drop --unordered, or drop --json";
    const cases: Case[] = [
      [["map", JOBS, "square", "--json", "--unordered"], unorderedJson],
      [["map", JOBS, "square", "--target", "aws", "--json", "--unordered"], unorderedJson],
      [["map", "--name", "k", "--json", "--unordered"], unorderedJson],
      [["results", "k", "--unordered", "--json"], unorderedJson],
      [["retry", "k", "--unordered", "--json"], unorderedJson],
      [
        ["logs", "01234567-89ab-cdef-0123-456789abcdef", "--target", "aws"],
        "--target picks among the knots of one name, and a job id names one AWS Batch job: " +
        "drop --target",
      ],
      [
        ["logs", "01234567-89ab-cdef-0123-456789abcdef:3", "--target", "local", "--follow"],
        "--target picks among the knots of one name, and a job id names one AWS Batch job: " +
        "drop --target",
      ],
    ];
    await assertBadUsage(home, cases);
  });
});

Deno.test("a value in its range that the knot's other options rule out stays an error with 1, naming both by their flags and instance types as a comma-separated list", async () => {
  await withAwsHome(async (home) => {
    const inputs = join(home.dir, "inputs.json");
    await Deno.writeTextFile(inputs, "[1]");
    const cases: [string[], RegExp][] = [
      [
        ["map", JOBS, "square", "--target", "aws", "--compute", "FARGATE", "--vcpus", "3"],
        /^error: On Fargate, --vcpus must be one of 0\.25, 0\.5, 1, 2, 4, 8, 16, not 3$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--vcpus", "0.5"],
        /^error: --vcpus must be an integer from 1 to 256, not 0\.5$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--bid-percentage", "50"],
        /^error: --bid-percentage needs --compute SPOT$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--compute", "FARGATE", "--gpus", "1"],
        /^error: Fargate has no GPUs: use --compute EC2 or SPOT for --gpus$/m,
      ],
      // The command line has no --desired-vcpus: the bounds it can give are named alone.
      [
        ["map", JOBS, "square", "--target", "aws", "--min-vcpus", "300"],
        /^error: --min-vcpus \(300\) must be at most --max-vcpus \(256, the default\)$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--min-vcpus", "3", "--max-vcpus", "2"],
        /^error: --min-vcpus \(3\) must be at most --max-vcpus \(2\)$/m,
      ],
      // Instance types are a comma-separated list, not an array.
      [
        ["map", JOBS, "square", "--target", "aws", "--gpus", "1"],
        /^error: --gpus needs instance types with GPUs: "optimal" lets .* pass --instance-types such as g4dn,g5 or p3$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--instance-types", ","],
        /^error: --instance-types must name at least one instance type on EC2, such as optimal \(the default\) or c5,m5$/m,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--instance-types", "m5,Big"],
        /^error: --instance-types must be comma-separated instance types such as "m5\.large", "c5"/m,
      ],
    ];
    for (const [args, message] of cases) {
      home.emu.requests.clear();
      const r = await cliInProcess([...args, "--inputs", inputs], home.env).ended;
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^Usage:/m);
      assert.deepEqual(home.emu.mutatingRequests(), []);
    }
  });
});

Deno.test("map refuses its own options and inputs on AWS before the knot is made: an env variable the job reads, a bad --env name, an input that is not an array of arguments with --starmap", async () => {
  await withAwsHome(async (home) => {
    const setUp = await cliInProcess(["configure", "--region", "us-east-1"], home.env).ended;
    assert.equal(setUp.code, 0, setUp.stderr);
    const cases: [string[], string, number, RegExp][] = [
      [
        ["map", JOBS, "square", "--env", "AWS_REGION=eu-west-1"],
        "[1]",
        1,
        /^error: --env must not set AWS_REGION: the job reads the run's data in S3 /m,
      ],
      [
        ["map", JOBS, "square", "--env", "PATH=/x"],
        "[1]",
        1,
        /^error: --env must not set PATH: the job's container finds deno on its image's PATH /m,
      ],
      [
        ["map", JOBS, "square", "--env", "1B=1"],
        "[1]",
        1,
        /^error: --env has an invalid variable name "1B"/m,
      ],
      [
        ["map", JOBS, "add", "--starmap"],
        "[[1, 2], 3]",
        2,
        /^error: with --starmap, each input must be an array of arguments; input 1 is not$/m,
      ],
    ];
    for (const [args, inputs, code, message] of cases) {
      home.emu.requests.clear();
      const file = join(home.dir, "inputs.json");
      await Deno.writeTextFile(file, inputs);
      const r = await cliInProcess([...args, "--target", "aws", "--inputs", file], home.env).ended;
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.deepEqual(home.emu.mutatingRequests(), [], args.join(" "));
    }
    // On the docker target too, before its knot's image is built.
    const file = join(home.dir, "inputs.json");
    const docker = await cliInProcess(
      ["map", JOBS, "square", "--env", "PATH=/x", "--target", "docker", "--inputs", file],
      home.env,
    ).ended;
    assert.equal(docker.code, 1, docker.stderr);
    assert.match(docker.stderr, /^error: --env must not set PATH: /m);
    assert.equal(await Deno.stat(join(home.dir, "knots")).catch(() => undefined), undefined);
  });
});

Deno.test("retry checks its numbers against the ranges of the run's target once it has read the run, and refuses a flag the target does not take as map does, before it runs anything", async () => {
  await withHome(async (home) => {
    const made = await cli(
      home,
      ["map", JOBS, "failOdd", "--name", "odd", "--retries", "1", "-q"],
      {
        stdin: "[1, 2]",
      },
    );
    assert.equal(made.code, 1, made.stderr);
    const runs = async () =>
      JSON.parse((await cli(home, ["knot", "show", "odd", "--json"])).stdout).runs.length;
    const before = await runs();
    assert.equal(before, 1);
    /** `cloudknot retry odd <args>` is bad usage, its first line `error`, and runs nothing. */
    const refused = async (args: string[], error: string) => {
      const r = await cli(home, ["retry", "odd", ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.split("\n")[0], error);
      assert.match(r.stderr, /^Usage: cloudknot retry /m);
      assert.equal(await runs(), before, "no run was made");
    };
    // A positive number, but past the longest attempt a local run takes.
    await refused(
      ["--timeout", "3000000"],
      'error: --timeout takes a positive number up to 2,147,483, not "3000000"',
    );
    // A flag the local target does not take is refused as map refuses it there, not ignored.
    const mapped = await cli(home, ["map", JOBS, "failOdd", "--name", "odd", "--vcpus", "2"], {
      stdin: "[1]",
    });
    assert.equal(mapped.code, 2, mapped.stderr);
    assert.match(mapped.stderr, /^error: --vcpus is for --target aws or --target docker$/m);
    await refused(
      ["--vcpus", "2"],
      "error: --vcpus is for a knot of --target aws or --target docker: knot odd's target is local",
    );
  });
});
