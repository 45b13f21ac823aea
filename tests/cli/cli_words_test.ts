// Library messages in a command-line user's words (src/cli/common/cli_words.ts).
import assert from "node:assert/strict";
import { inCliWords } from "../../src/cli/common/cli_words.ts";
import type { Command } from "../../src/cli/common/command.ts";
import { logs } from "../../src/cli/commands/logs.ts";
import { map } from "../../src/cli/commands/map.ts";
import { errorSummary } from "../../src/cli/common/item_output.ts";
import { DockerNotInstalledError } from "../../src/docker/errors.ts";
import { errorToRecord } from "../../src/job/error_record.ts";
import { ItemError } from "../../src/job/item_error.ts";
import { explainPermissionError } from "../../src/job/permissions.ts";
import { explainProcessPermission } from "../../src/util/process_permission.ts";
import { checkJobEnvironment } from "../../src/targets/aws/batch/command.ts";
import { CloudknotError, CloudknotInputError } from "../../src/util/errors.ts";
import { KnotClobberedWhileOpeningError } from "../../src/targets/local/errors.ts";

Deno.test("the library's options and bare knot commands in a message become the command line's", () => {
  const cases: [string, string][] = [
    [
      'The knot named "sqd" in /k/sqd runs on the docker target, not locally: pass target: ' +
      '"docker", choose another name, or clobber that knot first',
      'The knot named "sqd" in /k/sqd runs on the docker target, not locally: pass --target ' +
      "docker, choose another name, or clobber that knot first",
    ],
    [
      "Make it writable (chmod u+w /c) or point CLOUDKNOT_CONFIG_FILE (or the path option) at " +
      "another file",
      "Make it writable (chmod u+w /c) or point CLOUDKNOT_CONFIG_FILE at another file",
    ],
    [
      'Module m.ts has no export named "x": pass one of its exported function names as exportName',
      'Module m.ts has no export named "x": pass one of its exported function names as the ' +
      "export argument",
    ],
    [
      'Knot sq has no run "z": list its runs with `knot show sq`',
      'Knot sq has no run "z": list its runs with `cloudknot knot show sq`',
    ],
    ["see `cloudknot knot list`", "see `cloudknot knot list`"],
    // A module slow to load, whose items a timeout bounds.
    [
      "Each worker loads it before its first item; with a timeout (Knot.create({ timeout })), a " +
      "worker still loading it after the timeout (30 s at least) fails its items",
      "Each worker loads it before its first item; with a timeout (--timeout), a worker still " +
      "loading it after the timeout (30 s at least) fails its items",
    ],
    // A knot's compute environment: knot show names it on the command line.
    [
      "see it in the AWS Batch console (knot.aws.computeEnvironment names it, as " +
      "`cloudknot knot show k` does)",
      "see it in the AWS Batch console (`cloudknot knot show k` names it)",
    ],
    [
      "its status reason says why (`cloudknot knot show`, or the AWS Batch console for " +
      "knot.aws.computeEnvironment); clobber the knot and create it again",
      "its status reason says why (`cloudknot knot show`); clobber the knot and create it again",
    ],
    // gc's and a knot lock's advice names both ways for a library user, the command alone here.
    [
      "The image sha256:ab was kept: it has gained the tag v2 since gc looked (pushed again); " +
      "look again (findGarbage(), or cloudknot gc) to judge it anew",
      "The image sha256:ab was kept: it has gained the tag v2 since gc looked (pushed again); " +
      "run cloudknot gc again to judge it anew",
    ],
    [
      "(DescribeJobDefinitions: denied); gc lists it (findGarbage(), or `cloudknot gc`) while " +
      "this config file has no knot sq",
      "(DescribeJobDefinitions: denied); `cloudknot gc` lists it while this config file has no " +
      "knot sq",
    ],
    [
      "a knot it left half-made is made again here, or removed by the knot's clobber: " +
      "knot.clobber(), or cloudknot knot clobber dk",
      "a knot it left half-made is made again here, or removed with cloudknot knot clobber dk",
    ],
    [
      'Pars "me-default" was made with AWS profile "work" but the current profile is "default"; ' +
      'call setProfile("work") or use a session with that profile, or pass another Pars with ' +
      'Knot.create({ pars: "NAME" })',
      'Pars "me-default" was made with AWS profile "work" but the current profile is "default"; ' +
      "run cloudknot configure --profile work, or pass another Pars with --pars NAME",
    ],
    // AWS_REGION does not override [aws] region of the config file, so it is not offered.
    [
      'Knot "kc" lives in region us-east-1 but the current region is us-west-2; call ' +
      'setRegion("us-east-1") or use a session in us-east-1, or choose another name',
      'Knot "kc" lives in region us-east-1 but the current region is us-west-2; run cloudknot ' +
      "configure --region us-east-1, or choose another name",
    ],
    [
      "the job's memory limit is 512 MiB: give the item more than 512 MiB with the memory option " +
      "of Knot.create or run.retry, or make the item smaller",
      "the job's memory limit is 512 MiB: give the item more than 512 MiB with --memory on " +
      "cloudknot map or retry, or make the item smaller",
    ],
    [
      "Refusing to delete cloudknot: it is the default ECR repository, which every knot shares. " +
      "Remove only your image's tag with repo.removeImage(tag), or change the default",
      "Refusing to delete cloudknot: it is the default ECR repository, which every knot shares. " +
      "Remove only a knot's image tags with cloudknot knot clobber <knot> --repo, or change the " +
      "default",
    ],
    [
      "clobber them first, or pass { force: true } to delete it anyway",
      "clobber them first, or pass --force to delete it anyway",
    ],
    // The library's way to name a docker client off PATH is an option the command line lacks.
    [
      new DockerNotInstalledError("docker").message,
      'Docker is not installed: could not run "docker". Install Docker ' +
      "(https://docs.docker.com/get-docker/, or `apt-get install docker.io` on Debian and " +
      "Ubuntu), or put the directory of the docker client on PATH",
    ],
    [
      "or build with the legacy builder: `new Docker({ buildkit: false })` or DOCKER_BUILDKIT=0",
      "or build with the legacy builder: DOCKER_BUILDKIT=0 in the environment",
    ],
    [
      "before it submitted this item's job, so it never ran; map it again with run.retry() on " +
      'the run\'s handle (knot.collect("20260101T000000Z-abc123") of knot sq-2)',
      "before it submitted this item's job, so it never ran; map it again with cloudknot retry " +
      "sq-2 20260101T000000Z-abc123",
    ],
    // An attempt past its timeout, locally (the pool knows the run) and in a container.
    [
      "The attempt ran longer than its timeout of 1.5s and was killed. Make the item faster, or " +
      "give it more time with the timeout option of Knot.create or run.retry: " +
      'run.retry({ timeout: 3 }) on the run\'s handle (knot.collect("20260101T000000Z-abc123") ' +
      "of knot sq-2) maps the run's failed items again",
      "The attempt ran longer than its timeout of 1.5s and was killed. Make the item faster, or " +
      "give it more time with --timeout on cloudknot map or retry: cloudknot retry sq-2 " +
      "20260101T000000Z-abc123 --timeout 3 maps the run's failed items again",
    ],
    [
      "The attempt ran longer than its timeout of 60s and was killed. Make the item faster, or " +
      "give it more time with the timeout option of Knot.create or run.retry: " +
      "run.retry({ timeout: 120 }) on the run's handle maps the run's failed items again",
      "The attempt ran longer than its timeout of 60s and was killed. Make the item faster, or " +
      "give it more time with --timeout on cloudknot map or retry: cloudknot retry <knot> <run> " +
      "--timeout 120 maps the run's failed items again",
    ],
    // Workers that run out of memory before they start (job/pool.ts): the retry's memory.
    [
      "Worker processes run out of memory before they start (code 133): the limit of 2 MiB is " +
      "too small for Deno. The item never ran: map it again with more memory, " +
      'run.retry({ memory: 64 }) on the run\'s handle (knot.collect("20260101T000000Z-abc123") ' +
      "of knot sq-2)",
      "Worker processes run out of memory before they start (code 133): the limit of 2 MiB is " +
      "too small for Deno. The item never ran: map it again with more memory, cloudknot retry " +
      "sq-2 20260101T000000Z-abc123 --memory 64",
    ],
    // A retry's resources its knot's jobs cannot have (targets/aws/groups.ts): the retry's
    // flags, and the knot create's for the knot its items could be mapped on instead.
    [
      "the most vCPUs any has is 64 vCPUs (m4.16xlarge); give the retry at most 64 vCPUs with " +
      "the vcpus option of run.retry(), or map the items on a knot with larger instanceTypes in " +
      "Knot.create (a new knot, or this one clobbered and created again)",
      "the most vCPUs any has is 64 vCPUs (m4.16xlarge); give the retry at most 64 vCPUs with " +
      "--vcpus on cloudknot retry, or map the items on a knot with larger --instance-types on " +
      "cloudknot knot create (a new knot, or this one clobbered and created again)",
    ],
    [
      "give the retry fewer vCPUs or less memory with the vcpus and memory options of " +
      "run.retry(), or map the items on a knot with a larger maxVcpus in Knot.create",
      "give the retry fewer vCPUs or less memory with --vcpus and --memory on cloudknot retry, " +
      "or map the items on a knot with a larger --max-vcpus on cloudknot knot create",
    ],
  ];
  for (const [library, cli] of cases) {
    assert.equal(inCliWords(new CloudknotError(library)), cli);
  }
});

Deno.test("the option an input error is about becomes its flag where it is named as an option, not where it counts something", () => {
  const cases: [string, string, Command, string][] = [
    [
      "Item 1 of run R ran 1 attempt: attempt takes 1",
      "attempt",
      logs,
      "Item 1 of run R ran 1 attempt: --attempt takes 1",
    ],
    [
      "Item 1 ran 3 attempts: attempt must be at most 3",
      "attempt",
      logs,
      "Item 1 ran 3 attempts: --attempt must be at most 3",
    ],
    ["attempt: the latest is 2", "attempt", logs, "--attempt: the latest is 2"],
    [
      "the memory: 512 MiB is too little; memory must be at least 1024",
      "memory",
      map,
      "the memory: 512 MiB is too little; --memory must be at least 1024",
    ],
  ];
  for (const [library, field, command, cli] of cases) {
    assert.equal(inCliWords(new CloudknotInputError(library, { field }), command), cli);
  }
});

Deno.test("the options an adopted knot ignored, or a dry run's would ignore, are named as the command's flags and arguments", async () => {
  const { knotCreate } = await import("../../src/cli/commands/knot_create.ts");
  assert.equal(
    inCliWords(
      new Error(
        "cloudknot: knot sq exists, so it was adopted as it is and these options were ignored: " +
          "module, exportName, pars, parsPolicies, baseImage, compute, vcpus, memory, tags; " +
          "clobber the knot or choose another name to change them",
      ),
      knotCreate,
    ),
    "cloudknot: knot sq exists, so it was adopted as it is and these options were ignored: " +
      "the module argument, the export argument, --pars, --policy, --base-image, --compute, " +
      "--vcpus, --memory, --tag; clobber the knot or choose another name to change them",
  );
  // A dry run's note on a knot that exists (targets/aws/aws_plan.ts).
  assert.equal(
    inCliWords(
      new Error("these options would be ignored: module, exportName, memory, maxVcpus"),
      knotCreate,
    ),
    "these options would be ignored: the module argument, the export argument, --memory, " +
      "--max-vcpus",
  );
});

Deno.test("the options a refused update found the knot's own are named as flags with their values as typed", async () => {
  const { map } = await import("../../src/cli/commands/map.ts");
  const refused = new CloudknotInputError(
    "On Fargate, 0.25 vCPU takes memory of 512 to 2048 MiB in steps of 512 (512, 1024 or 2048), " +
      'not 4096 (knot oom keeps its own compute "FARGATE", retries 1, vcpus 0.25, maxVcpus 256, ' +
      'instanceTypes ["m5","c5"] where they are not given: give them with the update too); ' +
      "nothing was changed",
    { field: "memory" },
  );
  assert.equal(
    inCliWords(refused, map),
    "On Fargate, 0.25 vCPU takes memory of 512 to 2048 MiB in steps of 512 (512, 1024 or 2048), " +
      "not 4096 (knot oom keeps its own --compute FARGATE, --retries 1, --vcpus 0.25, " +
      "--max-vcpus 256, --instance-types m5,c5 where they are not given: give them with the " +
      "update too); nothing was changed",
  );
});

Deno.test("the permissions a refused update found the knot's own are named as the --allow flags that give them", async () => {
  const { knotCreate } = await import("../../src/cli/commands/knot_create.ts");
  const refused = (permissions: string) =>
    new CloudknotInputError(
      "maxVcpus (8) is below one job's vcpus (100): no job could ever start (knot ka" +
        ' keeps its own compute "EC2", retries 1, ' +
        `permissions ${permissions}, instanceTypes ["optimal"] where they are not given: give ` +
        "them with the update too); nothing was changed",
      { field: "vcpus" },
    );
  const words = (permissions: string) => inCliWords(refused(permissions), knotCreate);
  assert.equal(
    words('{"net":true,"read":["/tmp"]}'),
    "--max-vcpus (8) is below one job's vcpus (100): no job could ever start (knot ka keeps its own --compute EC2, --retries 1, " +
      "--allow read=/tmp, --instance-types optimal where they are not given: give them with the " +
      "update too); nothing was changed",
  );
  assert.match(
    words('{"env":true,"net":["api.example.com"],"write":["/my data","/tmp"]}'),
    / --allow env --allow net=api\.example\.com --allow 'write=\/my data,\/tmp', --instance-types /,
  );
  assert.match(words('{"net":true}'), / --retries 1, --allow net, --instance-types /);
  // No flag gives permissions without net: they stay as the library words them.
  assert.match(
    words('{"read":true}'),
    / --retries 1, permissions \{"read":true\}, --instance-types /,
  );
});

Deno.test("pars create names the tenancy option by its flag", async () => {
  const { parsCreate } = await import("../../src/cli/commands/pars_create.ts");
  assert.equal(
    inCliWords(
      new CloudknotInputError('Invalid instanceTenancy "weird": use "default" or "dedicated"', {
        field: "instanceTenancy",
      }),
      parsCreate,
    ),
    'Invalid --tenancy "weird": use "default" or "dedicated"',
  );
});

Deno.test("an AWS item's advice after a lost host or an unconfirmed cancel names the command line's commands and flags", async () => {
  const { batchFailureRecord } = await import("../../src/targets/aws/batch/failure.ts");
  const spot = batchFailureRecord({
    jobId: "p:3",
    jobName: "k-r-0",
    jobQueue: "q",
    jobDefinition: "d",
    status: "FAILED",
    statusReason: "Host EC2 (instance i-0abc) terminated.",
    attempts: [{ statusReason: "Host EC2 (instance i-0abc) terminated." }],
  }, { index: 3 });
  const cli = inCliWords(new CloudknotError(spot.error.message));
  assert.match(
    cli,
    /run it again with cloudknot retry <knot> <run>; a knot made with more retries \(--retries on cloudknot knot create, up to 10\)/,
  );
  assert.doesNotMatch(cli, /run\.retry|Knot\.create/);
  const unconfirmed =
    "Item 0 was cancelled: No longer needed; its AWS Batch job j1 had not stopped 60 s " +
    "after being told to, so whether the item ended before it " +
    'stopped is not known: once the job has stopped, collect the run again (knot.collect("r1") of ' +
    "knot k) to read how it ended";
  assert.equal(
    inCliWords(new CloudknotError(unconfirmed)),
    "Item 0 was cancelled: No longer needed; its AWS Batch job j1 had not stopped 60 s after being " +
      "told to, so whether the item ended before it stopped is not known: once the job has " +
      "stopped, run cloudknot results k r1 to read how it ended",
  );
});

Deno.test("a refused permission's item error names --allow on knot create or map, and mapping again or retrying with it", () => {
  const explained = explainPermissionError(
    new Deno.errors.NotCapable(
      'Requires read access to "/data/in put.csv", run again with the --allow-read flag',
    ),
  ) as Error;
  const error = ItemError.fromRecord({
    version: 1,
    status: "error",
    kind: "refused",
    index: 4,
    attempt: 1,
    jobId: "j",
    endedAt: 0,
    error: errorToRecord(explained),
  }, { attempts: 3 });
  assert.equal(
    errorSummary(error),
    'Item 4 threw NotCapable: Requires read access to "/data/in put.csv": the knot\'s ' +
      "permissions do not allow it, so the item is not retried. Grant it with --allow " +
      "'read=/data/in put.csv' on cloudknot knot create or cloudknot map (--allow read for all), " +
      "then run cloudknot map again, or cloudknot retry with that --allow and the run's others " +
      "(without --allow, cloudknot retry keeps the permissions its run had); by default a " +
      "function may use the network and nothing else",
  );
  // The run's error says how a retry grants it, and a retry waiting for a run's jobs how to stop.
  assert.equal(
    inCliWords(
      new Error(
        "1 of 1 items failed; … map them again with run.retry({ permissions }) on the run's " +
          'handle (knot.collect("r1") of knot k), its permissions granting what each refused ' +
          "item's error names",
      ),
    ),
    "1 of 1 items failed; … map them again with cloudknot retry k r1 --allow KIND=LIST, its " +
      "--allow granting what each refused item's error names",
  );
  assert.match(
    inCliWords(
      new Error(
        "… runs again only the items without a result then; to stop waiting, abort the retry's signal (the jobs go on)",
      ),
    ),
    /; to stop waiting, press Ctrl-C \(the jobs go on\)$/,
  );
  // The only path Deno grants with --allow-all names the flag for the job's variables.
  assert.equal(
    inCliWords(
      new Error(
        'Requires all access to "/proc/self/environ": … (for example the job\'s variables ' +
          "through permissions: { env: [...] } instead of /proc/self/environ)",
      ),
    ),
    'Requires all access to "/proc/self/environ": … (for example the job\'s variables ' +
      "through --allow env=NAMES instead of /proc/self/environ)",
  );
  // A retry's --allow lists too long for a Batch job's overrides.
  let tooLong: Error | undefined;
  try {
    checkJobEnvironment({}, JSON.stringify({ read: Array(400).fill("/data/inputs/file.csv") }));
  } catch (e) {
    tooLong = e as Error;
  }
  assert.match(
    inCliWords(tooLong!),
    /^--allow lists are [\d,]+ characters as AWS Batch passes them to a retry's jobs, which .* grant the directories that hold the files instead of each file, or a kind whole \(--allow read\), or give --allow on cloudknot knot create and run cloudknot map again$/,
  );
});

/** The error record of item 3 of a Batch job its own timeout stopped, with this limit and command. */
async function stoppedByBatch(attemptDurationSeconds: number, command?: string[]) {
  const { batchFailureRecord } = await import("../../src/targets/aws/batch/failure.ts");
  return batchFailureRecord({
    jobId: "p:3",
    jobName: "k-r-0",
    jobQueue: "q",
    jobDefinition: "d",
    status: "FAILED",
    statusReason: "Job attempt duration exceeded timeout",
    timeout: { attemptDurationSeconds },
    ...(command !== undefined ? { container: { command } } : {}),
    attempts: [{ statusReason: "Job attempt duration exceeded timeout" }],
  }, { index: 3 });
}

Deno.test("an AWS item stopped by Batch's own timeout says why it happened and how to give it more time, in the caller's words", async () => {
  // A knot's timeout of 600 s, with Batch's backstop a minute later.
  const stopped = await stoppedByBatch(660);
  assert.equal(stopped.kind, "timeout");
  const library = stopped.error.message;
  assert.match(
    library,
    /^AWS Batch job p:3 attempt 1 stopped without a record: Job attempt duration exceeded timeout; AWS Batch stopped the job after 660s, a minute past the time its items were given .* and does not retry such an attempt: .* the job as a whole ran past it/,
  );
  assert.match(
    library,
    /Give it more time with the timeout option of Knot\.create or run\.retry: run\.retry\(\{ timeout: 1200 \}\) on the run's handle maps the run's failed items again$/,
  );
  const cli = inCliWords(new CloudknotError(library));
  assert.match(
    cli,
    /Give it more time with --timeout on cloudknot map or retry: cloudknot retry <knot> <run> --timeout 1200 maps the run's failed items again$/,
  );
  assert.doesNotMatch(cli, /run\.retry|Knot\.create/);
});

Deno.test("an AWS child of many items stopped by Batch's own timeout suggests twice each item's timeout, not twice the whole job's", async () => {
  const stopped = async (command: string[], limit: number) =>
    (await stoppedByBatch(limit, command)).error.message;
  const run = ["--run", "s3://b/cloudknot/k/runs/r", "--offset", "0"];
  // A knot's timeout of 600 s: 10 items, 2 at a time, are 5 rounds of 660 s (the job's limit).
  const sliced = await stopped(
    [...run, "--slice", "10", "--end", "100", "--concurrency", "2"],
    3300,
  );
  assert.match(sliced, /AWS Batch stopped the job after 3300s/);
  assert.match(sliced, /run\.retry\(\{ timeout: 1200 \}\) on the run's handle maps/);
  assert.match(
    inCliWords(new CloudknotError(sliced)),
    /cloudknot retry <knot> <run> --timeout 1200 maps the run's failed items again$/,
  );
  // A slice that fits in one round has one item's limit; so does a child of one item.
  assert.match(
    await stopped([...run, "--slice", "4", "--end", "100", "--concurrency", "4"], 660),
    /run\.retry\(\{ timeout: 1200 \}\)/,
  );
  assert.match(await stopped(run, 660), /run\.retry\(\{ timeout: 1200 \}\)/);
  // 7 items 2 at a time are 4 rounds.
  assert.match(
    await stopped([...run, "--slice", "7", "--end", "100", "--concurrency", "2"], 4 * 160),
    /run\.retry\(\{ timeout: 200 \}\)/,
  );
});

Deno.test("a docker knot's gone image and clobbered runs name the command that makes the knot again, or retries, with --target docker inside it", async () => {
  const { clobberedReason, imageGoneAdvice } = await import(
    "../../src/targets/docker/docker_target.ts"
  );
  assert.equal(
    inCliWords(
      new CloudknotError(
        `Docker container dk-r-0 attempt 1 could not start: its image cloudknot/dk:1 is gone from Docker (removed while the run ran): ${
          imageGoneAdvice("dk")
        }`,
      ),
    ),
    "Docker container dk-r-0 attempt 1 could not start: its image cloudknot/dk:1 is gone from " +
      "Docker (removed while the run ran): run cloudknot retry dk, which builds the knot's image " +
      "again from its build directory and runs the items again",
  );
  assert.equal(
    inCliWords(new CloudknotError(`Item 0 was cancelled: ${clobberedReason("dk").message}`)),
    "Item 0 was cancelled: The run stopped because its knot was clobbered while it ran, so " +
      "nothing of it is kept: create the knot again (cloudknot knot create dk MODULE EXPORT " +
      "--target docker) and map the inputs again",
  );
  // A handle's knot clobbered, or created again with another function (docker_knot.ts).
  assert.equal(
    inCliWords(
      new CloudknotError(
        "The image this handle of docker knot dk opened is gone from Docker, and another process " +
          "has created the knot again since with another function (cube): create the knot again " +
          'with this function (Knot.create({ name: "dk", target: "docker", func })) to map it, ' +
          'or open it by name (Knot.create({ name: "dk", target: "docker" })) to map its ' +
          "function now",
      ),
    ),
    "The image this handle of docker knot dk opened is gone from Docker, and another process " +
      "has created the knot again since with another function (cube): create the knot again " +
      "with this function (cloudknot knot create dk MODULE EXPORT --target docker) to map it, " +
      "or open it by name (cloudknot map --name dk --target docker) to map its function now",
  );
});

Deno.test("a local knot clobbered while it was opened, and a limit a knot keeps that this machine cannot give, name the command that creates it and the flag to pass", () => {
  // A local knot clobbered while it was opened by name (targets/local/errors.ts).
  assert.equal(
    inCliWords(new KnotClobberedWhileOpeningError("lk", "/k/lk")),
    "Knot lk was clobbered by another process while this one was opening it (in /k/lk): its " +
      "record and its function are gone. Create it again with its function (cloudknot knot " +
      "create lk MODULE EXPORT)",
  );
  // A limit a knot of this machine keeps that this machine cannot give (machine_resources.ts).
  assert.equal(
    inCliWords(
      new CloudknotInputError(
        "Docker knot dk keeps vcpus 16, as it was given before, but this machine has 4 CPUs " +
          "(each container's --cpus): give Knot.create vcpus: 4 or less, which the knot then keeps",
        { field: "vcpus" },
      ),
      map,
    ),
    "Docker knot dk keeps vcpus 16, as it was given before, but this machine has 4 CPUs (each " +
      "container's --cpus): pass --vcpus 4 or less, which the knot then keeps",
  );
});

Deno.test("retry --memory double of an item whose memory is unknown says to retry with --memory MiB", async () => {
  const { retryGroups } = await import("../../src/run/retry.ts");
  const { retry } = await import("../../src/cli/commands/retry.ts");
  let error: Error | undefined;
  try {
    retryGroups([{ position: 2, outOfMemory: true }], { memory: "double" });
  } catch (e) {
    error = e as Error;
  }
  assert.equal(
    inCliWords(error!, retry),
    "Item 2 ran out of memory, but how much it had is unknown: retry with --memory MiB",
  );
});

Deno.test("a permission the command's own process lacks is the cloudknot command's, with --allow for the function's", () => {
  const refused = explainProcessPermission(
    new Deno.errors.NotCapable(
      'Requires sys access to "systemMemoryInfo", run again with the --allow-sys flag',
    ),
    "Knot.create()",
  ) as Error;
  assert.equal(
    inCliWords(refused, map),
    'Requires sys access to "systemMemoryInfo", which the cloudknot command needs: run it with ' +
      "deno run -A (all permissions), since cloudknot reads its settings from the environment, " +
      "keeps knots and runs in files and starts deno and docker processes; or add --allow-sys " +
      "and the other flags the command line's docs list (its Permissions) for narrower permissions (a function's " +
      "own permissions are given with --allow, not these)",
  );
});
