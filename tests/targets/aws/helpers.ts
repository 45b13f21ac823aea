// A test bed for the AWS target: an emulator whose Batch jobs run the real
// job entry point (src/job/main.ts) as local processes, plus a bucket, a job
// role, a compute environment, a queue and a job definition made directly
// through the AWS client layer.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ItemSettled, JobFunction } from "../../../mod.ts";
import { AwsSession } from "../../../src/aws/mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { recordSection } from "../../../src/state/sections.ts";
import {
  artifactFromFunc,
  readItems,
  RecordWriter,
  runAttempt,
  runItem,
} from "../../../src/job/mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { Pars } from "../../../src/resources/pars.ts";
import { forEachPooled } from "../../../src/util/pooled.ts";
import { TextLineStream } from "../../../src/util/text_line_stream.ts";
import { RUNTIME_PROTOCOL, RUNTIME_PROTOCOL_TAG } from "../../../src/job/runtime_protocol.ts";
import type { Permissions } from "../../../src/job/permissions.ts";
import type { MapRun } from "../../../src/run/map_run.ts";
import { openS3Store } from "../../../src/store/mod.ts";
import { parseJobCommand } from "../../../src/targets/aws/batch/command.ts";
import {
  ensureComputeEnvironment,
  ensureJobQueue,
  validateComputeOptions,
} from "../../../src/targets/aws/batch/mod.ts";
import { AwsTarget, type AwsTargetOptions } from "../../../src/targets/aws/aws_target.ts";
import { type AwsKnotRecord, writeAwsKnot } from "../../../src/targets/aws/catalog.ts";
import {
  type Emulator,
  type EmulatorOptions,
  InlineRunner,
  type JobRunner,
  ProcessRunner,
  startEmulator,
} from "../../emulator/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { propagateIam } from "../../support/lag_ends.ts";
import { cliInProcess } from "../../support/cli_in_process.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { type AwsHome, withHomeOn } from "../../cli/aws_helpers.ts";

/** The tag of a job definition whose jobs run this checkout's job runtime. */
export const RUNTIME_TAGS: Record<string, string> = {
  [RUNTIME_PROTOCOL_TAG]: String(RUNTIME_PROTOCOL),
};

/** The job entry point a container runs. */
export const MAIN = new URL("../../../src/job/main.ts", import.meta.url).pathname;
/** The repository's root, the job processes' working directory (for deno.json). */
export const ROOT = new URL("../../../", import.meta.url).pathname;

/** What {@linkcode setupBatchResources} made. */
export interface BatchResources {
  /** The bucket. */
  bucket: string;
  /** The job role's ARN. */
  jobRoleArn: string;
  /** The queue's ARN. */
  jobQueue: string;
  /** The job definition's ARN. */
  jobDefinition: string;
}

/**
 * Makes, through the AWS client layer, what a knot's jobs need: a bucket, a
 * job role trusting ecs-tasks (so jobs get container credentials), an ECS
 * instance role and profile, an EC2 compute environment, a queue and a job
 * definition with `attempts` attempts.
 */
export async function setupBatchResources(
  session: AwsSession,
  options: {
    name?: string;
    attempts?: number;
    maxvCpus?: number;
    timeoutSeconds?: number;
    permissions?: Permissions;
    /** A Fargate compute environment, queue and job definition (1 vCPU, 2 GiB), not EC2. */
    fargate?: boolean;
  } = {},
): Promise<BatchResources> {
  const p = options.name ?? "ck";
  const bucket = `${p}-bucket`;
  await session.s3.createBucket({ Bucket: bucket });
  const trust = (service: string) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
    });
  const role = await session.iam.createRole({
    RoleName: `${p}-job`,
    AssumeRolePolicyDocument: trust("ecs-tasks.amazonaws.com"),
  });
  // The jobs read and write the bucket with the role's credentials, which
  // S3 (and the emulator) authorizes against the role's policies.
  await session.iam.putRolePolicy({
    RoleName: `${p}-job`,
    PolicyName: "bucket",
    PolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
          Resource: `arn:aws:s3:::${bucket}/*`,
        },
        { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${bucket}` },
      ],
    }),
  });
  await session.iam.createRole({
    RoleName: `${p}-instance`,
    AssumeRolePolicyDocument: trust("ec2.amazonaws.com"),
  });
  await session.iam.createInstanceProfile({ InstanceProfileName: `${p}-instance` });
  await session.iam.addRoleToInstanceProfile({
    InstanceProfileName: `${p}-instance`,
    RoleName: `${p}-instance`,
  });
  const subnets = await session.ec2.describeSubnets({
    Filters: [{ Name: "default-for-az", Values: ["true"] }],
  });
  const groups = await session.ec2.describeSecurityGroups({
    Filters: [{ Name: "group-name", Values: ["default"] }],
  });
  // Fargate's task-execution role, as a Pars has.
  const executionRole = options.fargate
    ? (await session.iam.createRole({
      RoleName: `${p}-task-exec`,
      AssumeRolePolicyDocument: trust("ecs-tasks.amazonaws.com"),
    })).Role.Arn
    : undefined;
  // As a knot makes them: the client waits out IAM's lag on the new profile.
  const wait = { pollMs: 20, timeoutMs: 30_000, onWait: () => {} };
  const ce = await ensureComputeEnvironment(session, {
    name: `${p}-ce`,
    compute: validateComputeOptions({
      maxVcpus: options.maxvCpus ?? 10_000,
      ...(options.fargate ? { compute: "FARGATE", vcpus: 1, memory: 2048 } : {}),
    }),
    placement: {
      ecsInstanceProfile: `${p}-instance`,
      jobRole: role.Role.Arn,
      subnets: (subnets.Subnets ?? []).map((s) => s.SubnetId!),
      securityGroup: groups.SecurityGroups![0]!.GroupId!,
    },
    tags: {},
  }, wait);
  const jobQueueArn = await ensureJobQueue(session, {
    name: `${p}-queue`,
    priority: 1,
    computeEnvironment: ce,
    tags: {},
  }, wait);
  const def = await session.batch.registerJobDefinition({
    jobDefinitionName: `${p}-def`,
    type: "container",
    containerProperties: {
      image: "cloudknot/job:test",
      command: [],
      jobRoleArn: role.Role.Arn,
      resourceRequirements: [
        { type: "VCPU", value: "1" },
        { type: "MEMORY", value: options.fargate ? "2048" : "512" },
      ],
      ...(options.fargate
        ? {
          executionRoleArn: executionRole,
          networkConfiguration: { assignPublicIp: "ENABLED" },
        }
        : {}),
      // What the function may do in the container, as a knot's job definition says.
      ...(options.permissions !== undefined
        ? {
          environment: [{
            name: "CLOUDKNOT_PERMISSIONS",
            value: JSON.stringify(options.permissions),
          }],
        }
        : {}),
    },
    ...(options.fargate ? { platformCapabilities: ["FARGATE"] } : {}),
    retryStrategy: { attempts: options.attempts ?? 1 },
    ...(options.timeoutSeconds !== undefined
      ? { timeout: { attemptDurationSeconds: options.timeoutSeconds } }
      : {}),
    // Its jobs run this checkout's job runtime (src/job/main.ts), as a knot's revision says.
    tags: RUNTIME_TAGS,
  });
  return {
    bucket,
    jobRoleArn: role.Role.Arn,
    jobQueue: jobQueueArn,
    jobDefinition: def.jobDefinitionArn,
  };
}

/** A running test bed. */
export interface TestBed {
  /** The emulator. */
  emu: Emulator;
  /** A session against it. */
  session: AwsSession;
  /** The resources. */
  resources: BatchResources;
  /** A state file in a temporary directory. */
  state: StateFile;
  /** The temporary directory (function artifact, state file). */
  dir: string;
  /** The knot's name. */
  knot: string;
  /** The key prefix of the knot's job data in the bucket. */
  prefix: string;
  /** Makes a target for the test bed's knot. */
  target(options?: Partial<AwsTargetOptions>): AwsTarget;
  /** Stops everything and removes the directory. */
  close(): Promise<void>;
}

/**
 * Starts an emulator whose jobs run `deno run -A src/job/main.ts --function
 * <artifact of func>` and sets up the Batch resources.
 */
export async function startTestBed(
  func: JobFunction,
  options: {
    attempts?: number;
    emulator?: EmulatorOptions;
    timeoutSeconds?: number;
    knot?: string;
    maxvCpus?: number;
    permissions?: Permissions;
    /** Wraps the process runner that runs the job entry point, to hold or watch attempts. */
    wrapRunner?: (inner: JobRunner) => JobRunner;
    /** Fargate resources, not EC2 ({@linkcode setupBatchResources}). */
    fargate?: boolean;
  } = {},
): Promise<TestBed> {
  const dir = await Deno.makeTempDir({ prefix: "ck-aws-target-" });
  const artifact = await artifactFromFunc(func);
  const functionPath = join(dir, "function.js");
  await Deno.writeTextFile(functionPath, artifact.source);
  const entrypoint = () => [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    MAIN,
    "--function",
    pathToFileURL(functionPath).href,
  ];
  const emu = await startEmulator({
    entrypoint,
    cwd: ROOT,
    ceValidDelayMs: 10,
    tickMs: 10,
    ...(options.wrapRunner
      ? { runner: options.wrapRunner(new ProcessRunner({ entrypoint, cwd: ROOT })) }
      : {}),
    ...options.emulator,
  });
  try {
    const session = await sessionFor(emu);
    const resources = await setupBatchResources(session, {
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      ...(options.timeoutSeconds !== undefined ? { timeoutSeconds: options.timeoutSeconds } : {}),
      ...(options.maxvCpus !== undefined ? { maxvCpus: options.maxvCpus } : {}),
      ...(options.permissions !== undefined ? { permissions: options.permissions } : {}),
      ...(options.fargate ? { fargate: true } : {}),
    });
    // The bed stands for a knot made a while ago: IAM has shown its roles to ECS. (An EC2
    // environment's validation waits that long anyway; a Fargate one has no profile to wait on.)
    if (options.fargate) propagateIam(emu);
    const state = new StateFile({ path: join(dir, "cloudknot") });
    const knot = options.knot ?? "squares";
    // Every AWS target is a knot's: its record is there to remember its runs.
    await state.setMany(recordSection("knot", knot), { target: "aws" });
    return {
      emu,
      session,
      resources,
      state,
      dir,
      knot,
      prefix: `cloudknot/${knot}`,
      target: (overrides = {}) =>
        new AwsTarget({
          session,
          state,
          knot,
          bucket: resources.bucket,
          prefix: `cloudknot/${knot}`,
          jobQueue: resources.jobQueue,
          jobDefinition: resources.jobDefinition,
          attempts: options.attempts ?? 1,
          profile: "default",
          region: emu.region,
          pollIntervalMs: 50,
          maxPollIntervalMs: 400,
          reconcileDelayMs: 20,
          ...overrides,
        }),
      close: async () => {
        await emu.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  } catch (e) {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
}

/** Records the test bed's knot in its config file, as `cloudknot knot create` would. */
export async function recordKnot(bed: TestBed): Promise<void> {
  const [ce] = (await bed.session.batch.describeComputeEnvironments({
    computeEnvironments: ["ck-ce"],
  })).computeEnvironments ?? [];
  const record: AwsKnotRecord = {
    name: bed.knot,
    region: bed.emu.region,
    profile: "default",
    pars: "ck",
    dockerImage: bed.knot,
    dockerRepo: "ck-repo",
    imageUri: "",
    computeEnvironment: ce!.computeEnvironmentArn!,
    jobQueue: bed.resources.jobQueue,
    jobDefinition: bed.resources.jobDefinition,
    jobDefinitionName: "ck-def",
    jobRole: bed.resources.jobRoleArn,
    bucket: bed.resources.bucket,
    sse: undefined,
    prefix: bed.prefix,
    retries: 1,
    compute: "EC2",
    imageTags: [bed.knot],
    runs: [],
  };
  await writeAwsKnot(bed.state, record);
}

/** The command line running against the test bed in a process of its own (`spawnCli`). */
export interface SpawnedCli {
  /** Its process. */
  child: Deno.ChildProcess;
  /** All it prints on stdout, once it ends. */
  stdout: Promise<string>;
  /** Waits until what it printed on stdout so far matches `pattern` (it fails if it ends first). */
  printed(pattern: RegExp): Promise<void>;
  /** What it printed on stdout so far. */
  out(): string;
  /** Reads its stderr until what it said so far matches `pattern` (it fails if it ends first). */
  until(pattern: RegExp): Promise<void>;
  /** Reads the rest of its stderr, to its end, and gives all it said. */
  rest(): Promise<string>;
  /** What it said on stderr so far. */
  said(): string;
}

/**
 * Runs the command line against the test bed in a process of its own (`deno run cli.ts`), so
 * that a test can send it signals, reading its stderr a line at a time; `env` adds to or
 * overrides the test bed's environment (such as `AWS_ENDPOINT_URL`, to reach AWS through a
 * front a test unplugs).
 *
 * @example Usage
 * ```ts ignore
 * const retry = spawnCli(bed, ["retry", bed.knot, runId]);
 * await retry.until(/retries 1 items/m);
 * retry.child.kill("SIGINT");
 * ```
 */
export function spawnCli(
  bed: TestBed,
  args: string[],
  env: Record<string, string> = {},
): SpawnedCli {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "cli.ts", ...args],
    cwd: ROOT,
    env: { ...bed.emu.env, CLOUDKNOT_CONFIG_FILE: bed.state.path, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const err = child.stderr.pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream()).getReader();
  let said = "";
  // Stdout is read as it comes, whole (not by line: what it ends with is kept as printed).
  let out = "";
  let over = false;
  const watchers = new Set<() => void>();
  const stdout = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      out += text;
      for (const watch of watchers) watch();
    }
    over = true;
    for (const watch of watchers) watch();
    return out;
  })();
  return {
    child,
    stdout,
    printed: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const watch = () => {
          if (pattern.test(out)) resolve();
          else if (over) {
            reject(new Error(`the command line ended before it printed ${pattern}:\n${out}`));
          } else return;
          watchers.delete(watch);
        };
        watchers.add(watch);
        watch();
      }),
    out: () => out,
    until: async (pattern) => {
      while (!pattern.test(said)) {
        const { value, done } = await err.read();
        assert.ok(!done, `the command line ended before it said ${pattern}:\n${said}`);
        said += `${value}\n`;
      }
    },
    rest: async () => {
      for (let r = await err.read(); !r.done; r = await err.read()) said += `${r.value}\n`;
      return said;
    },
    said: () => said,
  };
}

/**
 * Makes the test bed's knot one `cloudknot retry` accepts (its record and its Pars) and leaves on
 * it a run of one item cancelled while its job ran (an item that sleeps ten minutes), its job ended:
 * a retry of the run runs the item again, in a job that sleeps.
 *
 * @example Usage
 * ```ts ignore
 * const runId = await cancelledRun(bed);
 * const retry = spawnCli(bed, ["retry", bed.knot, runId]);
 * ```
 *
 * @returns The run's id.
 */
export async function cancelledRun(bed: TestBed): Promise<string> {
  await recordKnot(bed);
  await Pars.create({ name: "ck", session: bed.session, state: bed.state });
  const run = await bed.target().map({
    items: encodeItems([{ sleep: 600_000 }]),
    starmap: false,
    env: {},
  });
  await untilRunning(bed.emu);
  await run.cancel("Not now");
  await run.done.catch(() => {});
  await bed.emu.waitForJobs(30_000);
  return run.runId;
}

/** Waits until a job of the emulator runs. */
export async function untilRunning(emu: Emulator): Promise<void> {
  while (![...emu.batch.jobs.values()].some((j) => j.status === "RUNNING")) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the command line against the test bed, in this process. */
export function cli(bed: TestBed, args: string[]): ReturnType<typeof cliInProcess> {
  return cliInProcess(args, { ...bed.emu.env, CLOUDKNOT_CONFIG_FILE: bed.state.path });
}

/**
 * Registers another job definition for the test bed's image and job role
 * (1 vCPU, 512 MiB), as a knot's would be with these settings.
 *
 * @example Usage
 * ```ts ignore
 * const arn = await registerDefinition(bed, "timed", { environment: { CLOUDKNOT_TIMEOUT: "1" }, timeoutSeconds: 61 });
 * ```
 */
export async function registerDefinition(
  bed: TestBed,
  name: string,
  options: {
    attempts?: number;
    environment?: Record<string, string>;
    timeoutSeconds?: number;
    /** Its jobs' memory, in MiB. @default {512} */
    memory?: number;
  } = {},
): Promise<string> {
  const environment = Object.entries(options.environment ?? {});
  const { jobDefinitionArn } = await bed.session.batch.registerJobDefinition({
    jobDefinitionName: name,
    type: "container",
    containerProperties: {
      image: "cloudknot/job:test",
      command: [],
      jobRoleArn: bed.resources.jobRoleArn,
      resourceRequirements: [
        { type: "VCPU", value: "1" },
        { type: "MEMORY", value: String(options.memory ?? 512) },
      ],
      ...(environment.length > 0
        ? { environment: environment.map(([name, value]) => ({ name, value })) }
        : {}),
    },
    retryStrategy: { attempts: options.attempts ?? 1 },
    ...(options.timeoutSeconds !== undefined
      ? { timeout: { attemptDurationSeconds: options.timeoutSeconds } }
      : {}),
    // Its jobs run this checkout's job runtime (src/job/main.ts), as a knot's revision says.
    tags: RUNTIME_TAGS,
  });
  return jobDefinitionArn;
}

/**
 * The function the tests run: what it does depends on the item. It is
 * shipped by its source, so it uses nothing from this module.
 */
// deno-lint-ignore no-explicit-any explicit-module-boundary-types
export async function job(input: any, second?: any): Promise<unknown> {
  if (second !== undefined) return input + second; // starmap
  if (input === null || typeof input !== "object") return input * input;
  if ("env" in input) return Deno.env.get(input.env);
  if ("throw" in input) throw new TypeError(`bad item ${input.throw}`);
  if ("exit" in input) {
    console.log(`exiting with ${input.exit}`);
    Deno.exit(input.exit);
  }
  if ("flaky" in input) {
    if (Deno.env.get("AWS_BATCH_JOB_ATTEMPT") === "1") throw new Error("the first attempt fails");
    return "second time lucky";
  }
  if ("slowFirst" in input) {
    // Longer than a test runs: the test ends the first attempt (a Spot reclaim).
    if (Deno.env.get("AWS_BATCH_JOB_ATTEMPT") === "1") {
      await new Promise((r) => setTimeout(r, 600_000));
    }
    return "in time";
  }
  if ("sleep" in input) {
    console.log(`sleeping ${input.sleep} ms`);
    await new Promise((r) => setTimeout(r, input.sleep));
    return "slept";
  }
  if ("nothing" in input) return undefined;
  if ("read" in input) return await Deno.readTextFile(input.read);
  if ("spawn" in input) {
    await new Deno.Command(input.spawn, { stdout: "null", stderr: "null" }).output();
    return "spawned";
  }
  if ("unsendable" in input) return { cb: () => input.unsendable };
  if ("log" in input) {
    for (const line of input.log) console.log(line);
    return input.log.length;
  }
  return input;
}

/**
 * Starts another process that maps `items` on the test bed's knot, one item
 * per child, in array jobs of at most `maxArraySize` children submitted one
 * at a time: a client `killAt` can kill at one of its requests.
 *
 * @example Usage
 * ```ts ignore
 * await killAt(bed.emu, { service: "batch", operation: "SubmitJob", nth: 2 }, () => mapInChild(bed, [1, 2, 3]));
 * ```
 */
export function mapInChild(
  bed: TestBed,
  items: unknown[],
  options: { maxArraySize?: number } = {},
): Deno.ChildProcess {
  const script = `
    import { AwsSession } from "./src/aws/mod.ts";
    import { StateFile } from "./src/state/mod.ts";
    import { encodeItems } from "./src/job/codec.ts";
    import { AwsTarget } from "./src/targets/aws/aws_target.ts";
    const session = await AwsSession.create();
    const target = new AwsTarget({
      session, state: new StateFile(), knot: ${JSON.stringify(bed.knot)},
      bucket: ${JSON.stringify(bed.resources.bucket)}, prefix: ${JSON.stringify(bed.prefix)},
      jobQueue: ${JSON.stringify(bed.resources.jobQueue)},
      jobDefinition: ${JSON.stringify(bed.resources.jobDefinition)}, attempts: 1,
      profile: "default", region: session.region, maxArraySize: ${options.maxArraySize ?? 2},
      submitConcurrency: 1,
    });
    await target.map({
      items: encodeItems(${JSON.stringify(items)}), starmap: false, env: {}, itemsPerJob: 1,
    });
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    cwd: ROOT,
    env: { ...bed.emu.env, CLOUDKNOT_CONFIG_FILE: bed.state.path },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Counts the emulator's jobs whose name starts with a prefix (parents and single jobs only). */
export function jobsNamed(emu: Emulator, prefix: string): { jobId: string; arraySize?: number }[] {
  return [...emu.batch.jobs.values()]
    .filter((j) => j.parent === undefined && j.jobName.startsWith(prefix))
    .map((j) => ({
      jobId: j.jobId,
      ...(j.arraySize !== undefined ? { arraySize: j.arraySize } : {}),
    }));
}

/**
 * A job runner that runs the job entry's logic in this process: it reads the
 * job's command (`--run`, `--offset`/`--index`, `--starmap`), opens the run's
 * S3 store with the container's credentials and calls `runAttempt`, so the
 * S3 traffic is real while no process starts per child. One session (from the
 * first child's container credentials) serves every child. A child of more
 * than one item (`--slice`) reads its slice with two ranged reads, as the job
 * entry does when the client does not tell it the inputs' size
 * (`CLOUDKNOT_INPUTS_BYTES`, which this runner ignores), and runs `--concurrency` items at once in this process, where
 * the entry starts worker processes, writing the records in segments as the
 * entry does (`RecordWriter`); it does not skip items on a retry (the
 * real entry, `src/job/main.ts`, is tested end to end in `slices_test.ts`).
 */
export function inlineJobRunner(
  func: JobFunction,
  options: { capacity?: number } = {},
): InlineRunner {
  let session: Promise<AwsSession> | undefined;
  return new InlineRunner(async (req) => {
    session ??= AwsSession.create({
      env: (name) => req.environment[name],
      readTextFile: () => Promise.resolve(undefined),
      retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 8 },
    });
    const command = parseJobCommand(req.command);
    const slice = command.slice ?? 1;
    const index = command.index ?? (command.offset ?? 0) + (req.arrayIndex ?? Number.NaN) * slice;
    const run = await openS3Store(command.run!, { session: await session });
    if (slice > 1) {
      const stop = Math.min(index + slice, command.end ?? Infinity);
      const bytes = await readItems(run, index, stop);
      let failed = false;
      // Records go out in segments, as the job entry writes them.
      const writer = new RecordWriter(run, req.attempt);
      await forEachPooled(bytes, command.concurrency ?? 1, async (item, i) => {
        const { record, bytes: out } = await runItem({ fn: func, kind: "func" }, item, {
          index: index + i,
          attempt: req.attempt,
          jobId: req.jobId,
          starmap: command.starmap,
        });
        await writer.add(index + i, out);
        if (record.status !== "ok") failed = true;
      });
      await writer.close();
      return { exitCode: failed ? 1 : 0 };
    }
    const { record } = await runAttempt(run, { fn: func, kind: "func" }, {
      index,
      attempt: req.attempt,
      jobId: req.jobId,
      starmap: command.starmap,
    });
    return { exitCode: record.status === "ok" ? 0 : 1 };
  }, options.capacity !== undefined ? { capacity: options.capacity } : {});
}

/** Prints a line, waits for the file at `path`, prints another and returns its text (a job's function). */
export async function printsAround(path: string): Promise<string> {
  console.log("before the wait");
  while (true) {
    try {
      const text = await Deno.readTextFile(path);
      console.log("after the wait");
      return text;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Maps one item, the path of a file its job waits for (`waitsForFile`,
 * `printsAround`), on the bed's target; gives the run and its job's id.
 */
export async function mapWaiting(
  bed: TestBed,
  file: string,
): Promise<{ run: MapRun<string>; jobId: string }> {
  const run = await bed.target().map<string>({
    items: encodeItems([file]),
    starmap: false,
    env: {},
  });
  const [{ jobId }] = jobsNamed(bed.emu, `squares-${run.runId}-`) as [{ jobId: string }];
  return { run, jobId };
}

/**
 * Writes a file a job waits for ({@linkcode waitsForFile}) whole: written
 * beside it, then renamed, so that the job never reads it half-written.
 */
export async function releaseFile(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.part`, text);
  await Deno.rename(`${path}.part`, path);
}

/**
 * Waits until the file at `path` exists, then returns its text (a job's
 * function, shipped by its source). Tests write it with {@linkcode releaseFile}.
 */
export async function waitsForFile(path: string): Promise<string> {
  while (true) {
    try {
      return await Deno.readTextFile(path);
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Wraps a job runner so that its containers take their time to stop: a stop
 * (TerminateJob) reaches a container only once `release` resolves, for
 * `startTestBed`'s `wrapRunner`.
 */
export function slowToStop(release: Promise<unknown>): (inner: JobRunner) => JobRunner {
  return (inner) => ({
    ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
    run: async (req) => {
      const late = new AbortController();
      req.signal.addEventListener("abort", () => {
        void release.then(() => late.abort(req.signal.reason));
      }, { once: true });
      return await inner.run({ ...req, signal: late.signal });
    },
  });
}

/** What a test of knot `name` runs with: {@linkcode withKnotBed}. */
export interface KnotBed {
  emu: Emulator;
  session: AwsSession;
  state: StateFile;
  /** The knot's own directory (cloudknot's own under it, `home`). */
  dir: string;
  /** The options every `Knot.create` of the knot takes. */
  common: {
    name: string;
    target: "aws";
    session: AwsSession;
    state: StateFile;
    cloudknotDir: string;
    pollInterval: number;
  };
  baseImage: string;
}

/** An emulator whose jobs run in containers and a config file, for the knot beds of one test. */
export interface KnotBeds {
  /** The emulator. */
  emu: Emulator;
  /** The config file every knot of the test is made with, as one user's knots are. */
  state: StateFile;
  /** The test's own directory (the config file's, cloudknot's own under it, and each bed's). */
  dir: string;
}

/**
 * Runs `test` with an emulator whose jobs run in containers and a config file of its own, for the
 * knot beds of the steps of one test ({@linkcode withKnotBed}'s `beds`); removes them after.
 *
 * Why share them: each new emulator has a registry of its own, into which a knot's first push sends
 * the 100 MB test base image again, compressed anew by dockerd (about 6 s of a core each time);
 * the knots of one emulator push it once. They share the config file too, as one user's knots do:
 * the default Pars is the config file's that made it, and another's is refused.
 *
 * @param test The test.
 */
export async function withKnotBeds(test: (beds: KnotBeds) => Promise<void>): Promise<void> {
  const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-knot-bed-" });
  try {
    await test({ emu, state: new StateFile({ path: join(dir, "cloudknot") }), dir });
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A test of a file whose knots share one emulator and config file: its name and its body. */
export type KnotBedStep = [name: string, fn: (beds: KnotBeds) => Promise<void>];

/**
 * Runs `steps` in order, each a step of test `t`, with the emulator and config file of one
 * {@linkcode withKnotBeds}.
 *
 * @param t The test.
 * @param steps Each step's name and body.
 */
export async function runKnotBedSteps(t: Deno.TestContext, steps: KnotBedStep[]): Promise<void> {
  await withKnotBeds(async (beds) => {
    for (const [name, fn] of steps) await t.step(name, () => fn(beds));
  });
}

/**
 * Runs `test` with an emulator whose jobs run in containers, a config file of
 * its own and the options knot `name` is created with; removes them after.
 *
 * @param name The knot's name.
 * @param test The test.
 * @param options `beds`: the emulator and config file of {@linkcode withKnotBeds} to use instead
 *   of the bed's own; the bed's directory is a folder of theirs named for the knot either way.
 */
export async function withKnotBed(
  name: string,
  test: (bed: KnotBed) => Promise<void>,
  options: { beds?: KnotBeds } = {},
): Promise<void> {
  if (options.beds === undefined) {
    return await withKnotBeds((beds) => withKnotBed(name, test, { beds }));
  }
  const { emu, state } = options.beds;
  const dir = join(options.beds.dir, name);
  await Deno.mkdir(dir);
  try {
    const session = await sessionFor(emu);
    const common = {
      name,
      target: "aws" as const,
      session,
      state,
      cloudknotDir: join(dir, "home"),
      pollInterval: 100,
    };
    await test({ emu, session, state, dir, common, baseImage: await ensureBaseImage() });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Each item's value, or what it threw. */
export function outcomes(settled: ItemSettled<unknown>[]): unknown[] {
  return settled.map((s) =>
    s.status === "fulfilled" ? s.value : s.reason.message.replace(/^Item \d+ threw /, "")
  );
}

/**
 * Runs `test` on a knot bed ({@linkcode withKnotBed}) of a knot name of its
 * own (the local image's name is the knot's: one no other test on this Docker
 * daemon uses), with the options of a small Fargate knot.
 */
export async function withFargateKnot(
  prefix: string,
  test: (
    bed: KnotBed & { common: KnotBed["common"] & typeof FARGATE & { baseImage: string } },
  ) => Promise<void>,
  options: { beds?: KnotBeds } = {},
): Promise<void> {
  await withKnotBed(`${prefix}-${crypto.randomUUID().slice(0, 8)}`, async (bed) => {
    await test({ ...bed, common: { ...bed.common, baseImage: bed.baseImage, ...FARGATE } });
  }, options);
}

/** A small Fargate knot. */
export const FARGATE = { compute: "FARGATE" as const, vcpus: 0.25, memory: 512 };

/**
 * Runs a command-line test body (`withAwsHome`'s) on the emulator and config file of
 * {@linkcode withKnotBeds}, as a step beside the library's knots of the test: its commands
 * push the base image into the registry those knots pushed it into already, instead of starting
 * an emulator and a registry of its own. The home's other directories (knots, runs, HOME) are
 * its own and removed after.
 *
 * @param beds The emulator and config file of the test.
 * @param body The test body.
 */
export function withAwsHomeOn(
  beds: KnotBeds,
  body: (home: AwsHome) => Promise<void>,
): Promise<void> {
  return withHomeOn(beds.emu, beds.state.path, body);
}

/**
 * Writes the record of knot `mended` whose compute environment, queue and job definition are
 * gone (deleted outside cloudknot), with its bucket `mended-bucket`: given its function again, the
 * knot is made again under the record's names, with the record's Pars `mended-pars`.
 *
 * @example Usage
 * ```ts ignore
 * await writeMendedKnot(emu, session, state);
 * ```
 */
export async function writeMendedKnot(
  emu: Emulator,
  session: AwsSession,
  state: StateFile,
): Promise<void> {
  const arn = (kind: string, id: string) =>
    `arn:aws:batch:${emu.region}:${emu.accountId}:${kind}/${id}`;
  await session.s3.createBucket({ Bucket: "mended-bucket" });
  await writeAwsKnot(state, {
    name: "mended",
    region: emu.region,
    profile: session.profile,
    pars: "mended-pars",
    dockerImage: "mended",
    dockerRepo: "mended-repo",
    imageUri: "",
    computeEnvironment: arn("compute-environment", "mended-ce"),
    jobQueue: arn("job-queue", "mended-queue"),
    jobDefinition: arn("job-definition", "mended-def:1"),
    jobDefinitionName: "mended-def",
    bucket: "mended-bucket",
    sse: undefined,
    prefix: "cloudknot/mended",
    retries: 1,
    compute: "FARGATE",
    imageTags: ["mended"],
    runs: [],
  });
}
