// Validate, then mutate: every bad input to Knot, Pars, DockerImage,
// DockerRepo and the command line is refused with a typed error (or, on the
// command line, its message and exit code) before the first request that
// creates or changes anything: the emulator's request log shows no mutating
// call, and no image record or build directory is written.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CloudknotInputError,
  DockerImage,
  DockerRepo,
  Knot,
  Pars,
  UnknownPolicyError,
} from "../mod.ts";
import { runCommandLine } from "../src/cli/main.ts";
import type { CliIo } from "../src/cli/common/io.ts";
import { withEmulator } from "./resources/helpers.ts";
import { rejects } from "./support/rejects.ts";

const func = (x: number) => x;
const JOBS = "tests/cli/fixtures/jobs.ts";

/** The messages of the "Bad inputs" catalogue in docs/troubleshooting.md: its table's code spans. */
async function catalogue(): Promise<string[]> {
  const doc = await Deno.readTextFile(new URL("../docs/troubleshooting.md", import.meta.url));
  const start = doc.indexOf("## Bad inputs");
  // The section ends where the next one starts.
  const end = doc.indexOf("\n## ", start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  return section.split("\n").filter((line) => /^\| [^-]/.test(line)).slice(1)
    .flatMap((row) => [...row.split("|")[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

/** A library call that must be refused, and the option it must name. */
type LibraryCase = [label: string, call: () => Promise<unknown>, field: string, message: RegExp];

/** A command line that must be refused, and what it must say. */
type CliCase = [args: string[], message: RegExp];

/** Runs the command line in this process, with its environment and output in memory. */
async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const output = (sink: (text: string) => void) => ({
    write: (text: string) => (sink(text), Promise.resolve()),
    isTerminal: () => false,
  });
  const io: CliIo = {
    stdout: output(() => {}),
    stderr: output((text) => stderr += text),
    stdin: { readable: () => ReadableStream.from([]), isTerminal: () => false },
    env: (name) => env[name],
    noColor: true,
  };
  const code = await runCommandLine(args, { io });
  return { code, stderr };
}

Deno.test("every bad input is refused before anything is created", async (t) => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    /** What every refusal said, for the catalogue. */
    const said: string[] = [];
    const notAFunction = join(dir, "m.ts");
    await Deno.writeTextFile(notAFunction, "export const x = 42;\n");
    const cloudknotDir = join(dir, "home", ".cloudknot");
    const knot = (extra: Record<string, unknown>) =>
      Knot.create({
        name: "k",
        target: "aws",
        func,
        session,
        state,
        cloudknotDir,
        ...extra,
      } as never);
    const image = (extra: Record<string, unknown>) =>
      DockerImage.create({ func, name: "img", state, cloudknotDir, ...extra } as never);
    const library: LibraryCase[] = [
      // Knot.create on AWS: the issue's six, then the rest.
      ["repoName Bad_Repo", () => knot({ repoName: "Bad_Repo" }), "repoName", /Bad_Repo/],
      ["pars 'bad name!'", () => knot({ pars: "bad name!" }), "pars", /Invalid Pars name/],
      [
        "knot and Pars names too long for the knot's job role",
        () => knot({ name: "k".repeat(20), pars: "p".repeat(45) }),
        "name",
        /job role p{45}\.k{20}-job, longer than IAM's 64 characters/,
      ],
      [
        "a knot name too long for its job role with the default Pars",
        () => knot({ name: "k".repeat(55) }),
        "name",
        /job role emulator-default\.k{55}-job, longer than IAM's 64 characters/,
      ],
      ["imageTags latest", () => knot({ imageTags: ["latest"] }), "imageTags", /"latest"/],
      ["imageTags with a space", () => knot({ imageTags: ["has space"] }), "imageTags", /tag/],
      ["memory 1e9", () => knot({ memory: 1e9 }), "memory", /from 4 to 33,554,432/],
      ["maxVcpus 1e9", () => knot({ maxVcpus: 1e9 }), "maxVcpus", /from 1 to 100,000/],
      ["vcpus 257 on EC2", () => knot({ vcpus: 257 }), "vcpus", /from 1 to 256/],
      ["vcpus 32 on Fargate", () => knot({ compute: "FARGATE", vcpus: 32 }), "vcpus", /16/],
      [
        "memory 128 GiB on Fargate",
        () => knot({ compute: "FARGATE", vcpus: 16, memory: 131072 }),
        "memory",
        /122880/,
      ],
      ["gpus 17", () => knot({ gpus: 17 }), "gpus", /from 0 to 16/],
      ["gpus on Fargate", () => knot({ compute: "FARGATE", gpus: 1 }), "gpus", /no GPUs/],
      ["timeout 30", () => knot({ timeout: 30 }), "timeout", /from 60/],
      ["timeout 1e10", () => knot({ timeout: 1e10 }), "timeout", /2,147,483/],
      ["retries 11", () => knot({ retries: 11 }), "retries", /from 1 to 10/],
      ["minVcpus 1e9", () => knot({ minVcpus: 1e9 }), "minVcpus", /100,000/],
      [
        "minVcpus above maxVcpus",
        () => knot({ minVcpus: 300 }),
        "minVcpus",
        /^minVcpus \(300\) must be at most maxVcpus \(256, the default\)/,
      ],
      [
        "desiredVcpus above maxVcpus",
        () => knot({ desiredVcpus: 10, maxVcpus: 8 }),
        "desiredVcpus",
        /minVcpus ≤ desiredVcpus ≤ maxVcpus/,
      ],
      ["compute LAMBDA", () => knot({ compute: "LAMBDA" }), "compute", /one of EC2/],
      [
        "bidPercentage 0",
        () => knot({ compute: "SPOT", bidPercentage: 0 }),
        "bidPercentage",
        /from 1 to 100/,
      ],
      ["volumeSize 20000", () => knot({ volumeSize: 20000 }), "volumeSize", /16,384/],
      [
        "volumeSize 2, below the ECS-optimized AMI's root snapshot",
        () => knot({ volumeSize: 2 }),
        "volumeSize",
        /^volumeSize must be at least 30 \(GiB\), not 2: .*pass volumeSize of 30/,
      ],
      ["imageId ubuntu", () => knot({ imageId: "ubuntu" }), "imageId", /AMI id/],
      ["priority 1001", () => knot({ priority: 1001 }), "priority", /from 1 to 1,000/],
      ["stuckTimeout 100", () => knot({ stuckTimeout: 100 }), "stuckTimeout", /from 600/],
      [
        "six retry rules",
        () => knot({ evaluateOnExit: Array(6).fill({ onExitCode: "1", action: "EXIT" }) }),
        "evaluateOnExit",
        /at most 5/,
      ],
      // Batch's RegisterJobDefinition refuses both, after the knot's other resources were made.
      [
        "a retry rule with a key Batch does not have",
        () => knot({ evaluateOnExit: [{ action: "EXIT", onExitCode: "1", foo: 1 } as never] }),
        "evaluateOnExit",
        /^evaluateOnExit\[0\] has no key "foo": a rule's keys are action, onExitCode, onReason, onStatusReason$/,
      ],
      [
        "a retry rule whose onExitCode is a number",
        () => knot({ evaluateOnExit: [{ action: "RETRY", onExitCode: 137 as never }] }),
        "evaluateOnExit",
        /^evaluateOnExit\[0\]\.onExitCode must be a string of digits.*, not the number 137$/,
      ],
      ["tags ManagedBy", () => knot({ tags: { ManagedBy: "me" } }), "tags", /ManagedBy/],
      ["tags aws:", () => knot({ tags: { "aws:x": "y" } }), "tags", /aws:/],
      // IAM refuses it on the knot's job role, after the Pars was made.
      ["tags with a $", () => knot({ tags: { k: "a$b" } }), "tags", /_ \. : \/ = \+ - @/],
      // Its job role would pass IAM's 50 tags with the 4 cloudknot adds, after the Pars is made.
      [
        "49 tags",
        () =>
          knot({ tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`t${i}`, "v"])) }),
        "tags",
        /Too many tags \(49\): pass at most 45/,
      ],
      // A Map's entries are no own keys: its tags would be dropped without a word.
      ["tags a Map", () => knot({ tags: new Map([["team", "lab"]]) }), "tags", /not a Map/],
      // A name that is no string passed the name rule as its String() and failed at Batch.
      [
        "jobQueueName an array",
        () => knot({ jobQueueName: ["q"] }),
        "jobQueueName",
        /must be a string/,
      ],
      [
        "computeEnvironmentName a number",
        () => knot({ computeEnvironmentName: 123 }),
        "computeEnvironmentName",
        /not the number 123/,
      ],
      [
        "no instance types on EC2",
        () => knot({ instanceTypes: [] }),
        "instanceTypes",
        /at least one instance type on EC2/,
      ],
      [
        "a Fargate job of more vCPUs than maxVcpus",
        () => knot({ compute: "FARGATE", vcpus: 2, maxVcpus: 1 }),
        "maxVcpus",
        /no job could ever start/,
      ],
      [
        "jobQueueName with spaces",
        () => knot({ jobQueueName: "no spaces" }),
        "jobQueueName",
        /Invalid jobQueue name/,
      ],
      [
        "computeEnvironmentName of 129 characters",
        () => knot({ computeEnvironmentName: "c".repeat(129) }),
        "computeEnvironmentName",
        /up to 128/,
      ],
      [
        "baseImage not a reference",
        () => knot({ baseImage: "Not A Ref" }),
        "baseImage",
        /image reference/,
      ],
      ["pollInterval -1", () => knot({ pollInterval: -1 }), "pollInterval", /positive number/],
      ["session a string", () => knot({ session: "abc" }), "session", /AwsSession/],
      ["noImageCache yes", () => knot({ noImageCache: "yes" }), "noImageCache", /true or false/],
      [
        "dockerImage an object",
        () => knot({ func: undefined, dockerImage: {} }),
        "dockerImage",
        /DockerImage/,
      ],
      ["a typo: maxVcpu", () => knot({ maxVcpu: 8 }), "maxVcpu", /did you mean "maxVcpus"/],
      [
        "an option of map()",
        () => knot({ itemsPerJob: 4 }),
        "itemsPerJob",
        /itemsPerJob is an option of map\(\), for one run: knot\.map\(inputs, \{ itemsPerJob \}\)/,
      ],
      ["concurrency on AWS", () => knot({ concurrency: 4 }), "concurrency", /target "local"/],
      ["func 42", () => knot({ func: 42 }), "func", /must be a function/],
      ["func and module", () => knot({ module: "./x.ts" }), "func", /either func or module/],
      [
        "func importing a relative path",
        () => knot({ func: (0, eval)(`async () => await import("./helpers.ts")`) }),
        "func",
        /"\.\/helpers\.ts" is a relative path/,
      ],
      [
        "func importing a name of deno.json",
        () => knot({ func: (0, eval)(`async () => await import("is-number")`) }),
        "func",
        /"is-number" is a name that only your deno\.json/,
      ],
      ["knot name bad_name", () => knot({ name: "bad_name" }), "name", /Invalid knot name/],
      [
        "instance type unknown in the region",
        () => knot({ instanceTypes: ["zz9.mega"] }),
        "instanceTypes",
        /Unknown instance type zz9\.mega/,
      ],
      [
        "memory larger than every m5",
        () => knot({ instanceTypes: ["m5"], memory: 100_000 }),
        "memory",
        /65,536 MiB \(m5\.4xlarge\)/,
      ],
      [
        "vcpus more than any optimal instance has",
        () => knot({ vcpus: 128 }),
        "vcpus",
        /64 vCPUs/,
      ],
      // Batch's own picks have no GPUs: such jobs could never be placed.
      [
        "GPUs on optimal instances",
        () => knot({ gpus: 1 }),
        "instanceTypes",
        /gpus needs instance types with GPUs: "optimal" lets AWS Batch choose/,
      ],
      [
        "GPUs with default_x86_64 among the instance types",
        () => knot({ gpus: 1, instanceTypes: ["g5", "default_x86_64"] }),
        "instanceTypes",
        /"default_x86_64" lets AWS Batch/,
      ],
      // An amd64 image on Graviton hosts, or an arm64 image on x86 hosts or Fargate.
      [
        "a Graviton instance family for an amd64 image",
        () => knot({ instanceTypes: ["m6g"] }),
        "instanceTypes",
        /"m6g" is AWS Graviton \(arm64\), but the image is built for linux\/amd64/,
      ],
      [
        "Graviton types among x86 ones",
        () => knot({ instanceTypes: ["c5", "c7gn.large", "t4g"] }),
        "instanceTypes",
        /"c7gn\.large", "t4g" are AWS Graviton/,
      ],
      [
        "parsPolicies naming no policy",
        () => knot({ parsPolicies: ["NoSuchPolicy"] }),
        "parsPolicies",
        /^Unknown IAM policy "NoSuchPolicy" in parsPolicies: give the ARN or the name of a managed policy/,
      ],
      [
        "a knot and Pars name too long together for the job role",
        () => knot({ name: `k${"x".repeat(40)}`, pars: `p${"y".repeat(30)}` }),
        "name",
        /\(they have 72\); choose a shorter knot name, or a shorter Pars name with the pars option of Knot\.create$/,
      ],
      [
        "a Pars named with parsPolicies, which would make the knot's own instead",
        () => knot({ pars: "other", parsPolicies: ["AmazonS3ReadOnlyAccess"] }),
        "pars",
        /^parsPolicies makes a Pars of the knot's own with those policies, so the knot cannot use another: pass either pars \(a Pars to use\) or parsPolicies$/,
      ],
      [
        "Fargate memory given as a string",
        () => knot({ compute: "FARGATE", vcpus: 0.25, memory: "512" }),
        "memory",
        /^memory must be a number of MiB, such as 512, not "512"$/,
      ],
      [
        "Fargate vCPUs given as a string",
        () => knot({ compute: "FARGATE", vcpus: "1", memory: 2048 }),
        "vcpus",
        /^On Fargate, vcpus must be one of 0\.25, 0\.5, 1, .*, not "1"$/,
      ],
      [
        "parsPolicies more than a role may have",
        () => knot({ parsPolicies: Array.from({ length: 11 }, (_, i) => `policy-${i}`) }),
        "parsPolicies",
        /parsPolicies has 11 IAM policies, but IAM lets a role in this account have at most 10/,
      ],
      // Knot on the local target.
      [
        "an AWS option on the local target",
        () => Knot.create({ name: "k", func, maxVcpus: 8, dir } as never),
        "maxVcpus",
        /target "aws"/,
      ],
      [
        "concurrency 1e6",
        () => Knot.create({ name: "k", func, concurrency: 1e6, dir }),
        "concurrency",
        /from 1 to 1024/,
      ],
      [
        "local timeout past what a timer holds",
        () => Knot.create({ name: "k", func, timeout: 1e10, dir }),
        "timeout",
        /2,147,483/,
      ],
      [
        "a module export that is not a function",
        () => Knot.create({ name: "k", module: notAFunction, exportName: "x", dir }),
        "exportName",
        /Export x of .* is a number, not a function/,
      ],
      // Knot on the docker target: nothing is built.
      [
        "an AWS option on the docker target",
        () => Knot.create({ name: "k", func, target: "docker", compute: "SPOT", dir } as never),
        "compute",
        /is an option of target "aws", not of "docker"/,
      ],
      [
        "bad permissions on the docker target",
        () =>
          Knot.create({
            name: "k",
            func,
            target: "docker",
            permissions: { disk: true } as never,
            dir,
          }),
        "permissions",
        /permissions has an unknown kind "disk"/,
      ],
      [
        "network on the local target",
        () => Knot.create({ name: "k", func, network: "host", dir }),
        "network",
        /is an option of target "docker", not of "local"/,
      ],
      [
        "docker memory below Docker's 6 MiB",
        () => Knot.create({ name: "k", func, target: "docker", memory: 4, dir }),
        "memory",
        /from 6 to .* \(each container's memory limit\)/,
      ],
      [
        "docker vcpus past the machine's",
        () => Knot.create({ name: "k", func, target: "docker", vcpus: 1e6, dir }),
        "vcpus",
        /from 0\.01 to this machine's/,
      ],
      [
        "docker network not a name",
        () => Knot.create({ name: "k", func, target: "docker", network: "a b", dir }),
        "network",
        /name of a Docker network/,
      ],
      [
        "docker concurrency 0",
        () => Knot.create({ name: "k", func, target: "docker", concurrency: 0, dir }),
        "concurrency",
        /from 1 to 1024/,
      ],
      [
        "target mars",
        () => Knot.create({ name: "k", func, target: "mars", dir } as never),
        "target",
        /"local", "aws" or "docker"/,
      ],
      // Pars.create.
      [
        "Pars name",
        () => Pars.create({ name: "bad name!", session, state }),
        "name",
        /Invalid Pars/,
      ],
      [
        "Pars option typo",
        () => Pars.create({ name: "p", polices: ["x"], session, state } as never),
        "polices",
        /did you mean "policies"/,
      ],
      [
        "Pars session a number",
        () => Pars.create({ name: "p", session: 5, state } as never),
        "session",
        /AwsSession/,
      ],
      [
        "Pars session an object shaped like one",
        () =>
          Pars.create({
            name: "p",
            session: { region: session.region, profile: session.profile, iam: session.iam },
            state,
          } as never),
        "session",
        /session must be an AwsSession, not/,
      ],
      // DockerImage.create (nothing is written).
      ["image name", () => image({ name: "Bad Name" }), "name", /Invalid image name/],
      ["image platform", () => image({ platform: "amd64" }), "platform", /linux\/amd64/],
      [
        "image platform Deno is not built for",
        () => image({ platform: "linux/sparc" }),
        "platform",
        /Invalid platform "linux\/sparc": pass linux\/amd64 or linux\/arm64, the platforms Deno/,
      ],
      ["image baseImage", () => image({ baseImage: "a b" }), "baseImage", /image reference/],
      ["image func 1", () => image({ func: 1 }), "func", /must be a function/],
      [
        "image func importing a relative path",
        () => image({ func: (0, eval)(`async () => await import("../lib.ts")`) }),
        "func",
        /"\.\.\/lib\.ts" is a relative path/,
      ],
      ["image dir empty", () => image({ dir: "" }), "dir", /non-empty string/],
      ["image overwrite 1", () => image({ overwrite: 1 }), "overwrite", /true or false/],
      ["image option typo", () => image({ nmae: "x" }), "nmae", /did you mean "name"/],
      // DockerRepo.create.
      ["repo name", () => DockerRepo.create({ name: "Bad_Repo", session, state }), "name", /ECR/],
      [
        "repo tags",
        () => DockerRepo.create({ name: "ok", tags: { "aws:x": "y" }, session, state }),
        "tags",
        /aws:/,
      ],
      [
        "repo tags ManagedBy, which tells cloudknot's repositories",
        () => DockerRepo.create({ name: "ok", tags: { ManagedBy: "me" }, session, state }),
        "tags",
        /^The tag key ManagedBy is cloudknot's own/,
      ],
      [
        "repo tags a Map",
        () =>
          DockerRepo.create(
            { name: "ok", tags: new Map([["Team", "x"]]), session, state } as never,
          ),
        "tags",
        /not a Map/,
      ],
      // ECR takes 50 tags, and every repository gets Project and ManagedBy.
      [
        "repo 49 tags",
        () =>
          DockerRepo.create({
            name: "ok",
            tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`t${i}`, "v"])),
            session,
            state,
          }),
        "tags",
        /^Too many tags \(49\): pass at most 48; AWS allows 50 per repository and cloudknot adds Project and ManagedBy$/,
      ],
      [
        "repo 60 tags",
        () =>
          DockerRepo.create({
            name: "ok",
            tags: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`t${i}`, "v"])),
            session,
            state,
          }),
        "tags",
        /^Too many tags \(60\): pass at most 48;/,
      ],
      [
        "repo 50 tags with Project",
        () =>
          DockerRepo.create({
            name: "ok",
            tags: Object.fromEntries(
              Array.from({ length: 50 }, (_, i) => [i === 0 ? "Project" : `t${i}`, "v"]),
            ),
            session,
            state,
          }),
        "tags",
        /^Too many tags \(50\): pass at most 49; AWS allows 50 per repository and cloudknot adds ManagedBy$/,
      ],
      [
        "repo option typo",
        () => DockerRepo.create({ name: "ok", tag: {}, session, state } as never),
        "tag",
        /did you mean "tags"/,
      ],
    ];
    for (const [label, call, field, message] of library) {
      await t.step(label, async () => {
        emu.requests.clear();
        const e = await rejects(call());
        said.push(e.message);
        assert.ok(
          e instanceof CloudknotInputError,
          `${label}: ${e.name}: ${e.message}`,
        );
        assert.equal(e.field, field, `${label}: ${e.message}`);
        assert.match(e.message, message, label);
        if (/Unknown IAM policy/.test(message.source)) {
          assert.ok(e instanceof UnknownPolicyError, label);
        }
        assert.deepEqual(emu.mutatingRequests(), [], `${label}: no mutating call`);
      });
    }
    // No docker knot was made (its directory comes before its image's build).
    await assert.rejects(Deno.stat(join(dir, "k")), Deno.errors.NotFound);
    assert.deepEqual(await state.section("docker-image img"), undefined);
    assert.deepEqual(await state.section("docker-image k"), undefined);
    await assert.rejects(Deno.stat(join(cloudknotDir, "images")), Deno.errors.NotFound);

    const env: Record<string, string> = {
      ...emu.env,
      HOME: join(dir, "home"),
      CLOUDKNOT_CONFIG_FILE: join(dir, "cli-config"),
      CLOUDKNOT_LOCAL_DIR: join(dir, "knots"),
    };
    const create = ["knot", "create", "k", JOBS, "square", "--target", "aws"];
    const commandLines: CliCase[] = [
      [
        [...create, "--memory", "1000000000"],
        /--memory takes an integer from 4 to 33,554,432 on AWS, not "1000000000"/,
      ],
      [
        [...create, "--max-vcpus", "1000000000"],
        /--max-vcpus takes an integer from 1 to 100,000, not "1000000000"/,
      ],
      [
        [...create, "--vcpus", "-1"],
        /--vcpus takes an integer from 1 to 256, or 0\.25 or 0\.5, on AWS, not "-1"/,
      ],
      [
        [...create, "--timeout", "-1"],
        /--timeout takes an integer from 60 to 2,147,483 on AWS, not "-1"/,
      ],
      [[...create, "--timeout", "30"], /--timeout takes an integer from 60/],
      [[...create, "--repo", "Bad_Repo"], /Invalid ECR repository name "Bad_Repo"/],
      [[...create, "--pars", "bad name!"], /Invalid Pars name "bad name!"/],
      [[...create, "--compute", "LAMBDA"], /--compute must be one of EC2, SPOT, FARGATE/],
      [[...create, "--compute", "FARGATE", "--vcpus", "3"], /On Fargate, --vcpus must be one of/],
      [
        [...create, "--pars", "mypars", "--policy", "AmazonS3ReadOnlyAccess"],
        /--policy makes a Pars of the knot's own with those policies, so the knot cannot use another: pass either --pars \(a Pars to use\) or --policy/,
      ],
      [[...create, "--tag", "aws:x=y"], /Invalid tag key "aws:x"/],
      [[...create, "--instance-types", "zz9.mega"], /Unknown instance type zz9\.mega/],
      [[...create, "--gpus", "17"], /--gpus takes an integer from 0 to 16, not "17"/],
      [
        [...create, "--volume-size", "2"],
        /--volume-size takes an integer from 30 to 16,384, not "2"/,
      ],
      [[...create, "--retries", "11"], /--retries takes an integer from 1 to 10, not "11"/],
      [
        [...create, "--concurrency", "2"],
        /--concurrency is for --target docker or --target local: on AWS, see --max-vcpus/,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--concurrency", "2"],
        /--concurrency is for --target docker or --target local: on AWS, see --max-vcpus/,
      ],
      [[...create, "--base-image", "Not A Ref"], /Invalid --base-image "Not A Ref"/],
      [[...create, "--policy", "NoSuchPolicy"], /Unknown IAM policy "NoSuchPolicy" in --policy: /],
      [
        ["map", JOBS, "square", "--target", "aws", "--job-type", "weird"],
        /--job-type must be "array" or "independent"/,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--items-per-job", "0"],
        /--items-per-job takes an integer from 1 to 100,000, or auto, not "0"/,
      ],
      [
        ["map", JOBS, "square", "--target", "docker", "--items-per-job", "0"],
        /--items-per-job takes an integer from 1 to 100,000, or auto, not "0"/,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--items-per-job", "many"],
        /--items-per-job takes an integer from 1 to 100,000, or auto, not "many"/,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--item-seconds", "5"],
        /--item-seconds is read only by --dry-run, for its cost estimate: add --dry-run, or drop --item-seconds/,
      ],
      [
        ["map", JOBS, "square", "--target", "aws", "--json", "--unordered"],
        /--unordered prints the result lines as items finish, and --json prints one document in input order instead of lines: drop --unordered, or drop --json/,
      ],
      [["image", "build", JOBS, "square", "--tag", "latest"], /The tag "latest" is refused/],
      [["image", "push", "square", "--repo", "Bad_Repo"], /Invalid ECR repository name/],
      [["pars", "create", "bad-name!"], /Invalid Pars name "bad-name!"/],
      [["pars", "create", "p", "--ipv4-cidr", "10.0.0.0/8"], /--ipv4-cidr/],
    ];
    for (const [args, message] of commandLines) {
      await t.step(args.join(" "), async () => {
        emu.requests.clear();
        const { code, stderr } = await runCli(args, env);
        said.push(stderr);
        assert.notEqual(code, 0, stderr);
        assert.match(stderr, message);
        assert.doesNotMatch(stderr, /set(Region|Profile|S3Params)\(|Knot\.create/);
        assert.deepEqual(emu.mutatingRequests(), [], `${args.join(" ")}: no mutating call`);
      });
    }
    await assert.rejects(
      Deno.stat(join(dir, "home", ".cloudknot", "images")),
      Deno.errors.NotFound,
    );
    assert.ok(library.length + commandLines.length >= 40);
    // The catalogue of docs/troubleshooting.md says what the code says.
    const documented = await catalogue();
    assert.ok(documented.length >= 30, `${documented.length} messages in the catalogue`);
    for (const message of documented) {
      assert.ok(said.some((s) => s.includes(message)), `the catalogue's "${message}" is said`);
    }
  });
});
