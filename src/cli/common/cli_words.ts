/**
 * Errors in the words of a command-line user. The library's messages name
 * library calls and options (`setRegion("eu-west-1")`, `maxVcpus`); a user
 * of the command line is told the command and the flag instead
 * (`cloudknot configure --region eu-west-1`, `--max-vcpus`).
 *
 * @module
 */
import { CloudknotInputError } from "../../util/errors.ts";
import type { Command, CommandContext } from "./command.ts";

/**
 * A word as a POSIX shell reads it back whole: as it is when it holds only
 * characters no shell treats apart, else in single quotes (a path with a
 * space, a `$` or a quote pasted from an error must stay one argument).
 * Hand-written: one regular expression and one replace, no library needed.
 */
function shellWord(word: string): string {
  return /^[\w./=:@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `--allow` flags that give a knot's permissions (as `validatePermissions` keeps them), as
 * typed: net, which every command line's permissions have, only when nothing else is granted;
 * `undefined` when no flags give them (permissions without net).
 */
function allowFlags(permissions: Record<string, true | string[]>): string | undefined {
  if (permissions.net === undefined) return undefined;
  const flags = Object.entries(permissions)
    .filter(([kind, value]) => kind !== "net" || value !== true)
    .map(([kind, value]) =>
      `--allow ${value === true ? kind : shellWord(`${kind}=${value.join(",")}`)}`
    );
  return flags.length > 0 ? flags.join(" ") : "--allow net";
}

/** Library calls in messages, and what a command-line user runs instead. */
const CALLS: [RegExp, (...groups: string[]) => string][] = [
  [
    /call setRegion\("([^"]*)"\)( \(for example\))?/g,
    (region, example) => `run cloudknot configure --region ${region}${example ?? ""}`,
  ],
  [/call setProfile\("([^"]*)"\)/g, (profile) => `run cloudknot configure --profile ${profile}`],
  // A module slow to load (job/function_artifact.ts): the flag of knot create and map.
  [/\(Knot\.create\(\{ timeout \}\)\)/g, () => "(--timeout)"],
  [
    /(?:set one with |name a bucket with |choose another with )?setS3Params\(\{ bucket: "([^"]*)" \}\)/g,
    (bucket) => `run cloudknot configure --bucket ${bucket === "..." ? "BUCKET" : bucket}`,
  ],
  [/setS3Params\(\{ sse: "([^"]*)" \}\)/g, (sse) => `cloudknot configure --sse ${sse}`],
  [/setEcrRepo\("([^"]*)"\)/g, (repo) => `cloudknot configure --ecr-repo ${repo}`],
  // A Pars of a VPC of its own (resources/errors.ts, pars.ts, _network.ts): --new-vpc, which
  // --ipv4-cidr and --tenancy imply.
  [
    /Pars\.create\(\{ name: "([^"]*)", useDefaultVpc: false \}\) \(optionally with ipv4Cidr\), and pass it to Knot\.create\(\{ pars: "([^"]*)" \}\)/g,
    (name, pars) =>
      `cloudknot pars create ${name} --new-vpc (optionally with --ipv4-cidr), and pass it ` +
      `with --pars ${pars}`,
  ],
  [
    /^Pars "([^"]*)" exists with useDefaultVpc true, but false was passed; leave useDefaultVpc out to adopt it/g,
    (name) =>
      `Pars "${name}" exists in the default VPC, but a VPC of its own was asked for ` +
      "(--new-vpc, --ipv4-cidr or --tenancy); leave those out to adopt it",
  ],
  [
    /use the default VPC \(useDefaultVpc: true\)/g,
    () => "use the default VPC (without --new-vpc, --ipv4-cidr or --tenancy)",
  ],
  [/Pars\.create\(\{ name: "([^"]*)" \}\)/g, (name) => `cloudknot pars create ${name}`],
  [/Pars\.clobber\(\{ name: "([^"]*)" \}\)/g, (name) => `cloudknot pars clobber ${name}`],
  // A knot or Pars of the Python cloudknot (resources/original.ts), as original.ts words it.
  [
    /Remove it with clobberOriginal\("(pars|knot)", "([^"]*)"\)/g,
    (kind, name) => `Remove it with \`cloudknot ${kind} clobber ${name}\``,
  ],
  [/Knot\.create\(\{ pars: "([^"]*)" \}\)/g, (name) => `--pars ${name}`],
  [
    /\(await Knot\.create\(\{ name: "([^"]*)", target: "aws" \}\)\)\.clobber\(\)/g,
    (name) => `cloudknot knot clobber ${name} --target aws`,
  ],
  [
    /\(await Knot\.create\(\{ name: "([^"]*)", target: "aws" \}\)\)\.clobber\(\{ keepData: true \}\)/g,
    (name) => `cloudknot knot clobber ${name} --target aws --keep-data`,
  ],
  [
    /Knot\.create\(\{ name: "([^"]*)", func, (pars: "NAME"|parsPolicies) \}\)/g,
    (name, option) =>
      `cloudknot knot create ${name} MODULE EXPORT --target aws ` +
      (option === "parsPolicies" ? "--policy POLICY" : "--pars NAME"),
  ],
  [
    /Knot\.create\(\{ name: "([^"]*)", func \}\) \(or module and exportName\) and the knot's options(.*)clobber the knot: that/g,
    (name, rest) =>
      `cloudknot knot create ${name} MODULE EXPORT --target aws and the knot's options${rest}` +
      `run cloudknot knot clobber ${name} --target aws: that`,
  ],
  [
    /make it again with Knot\.create\(\{ name: "([^"]*)", func \}\) \(or module and exportName\) and the knot's options$/g,
    (name) =>
      `make it again with cloudknot knot create ${name} MODULE EXPORT --target aws and the knot's options`,
  ],
  [
    /create the knot with Knot\.create\(\{ name: "([^"]*)", func \}\) \(or module and exportName\)/g,
    (name) => `create the knot with cloudknot knot create ${name} MODULE EXPORT --target aws`,
  ],
  [
    / with the memory option of Knot\.create or run\.retry/g,
    () => " with --memory on cloudknot map or retry",
  ],
  [
    /Remove only your image's tag with repo\.removeImage\(tag\)/g,
    () => "Remove only a knot's image tags with cloudknot knot clobber <knot> --repo",
  ],
  // An image's build directory and builds (image/errors.ts, image/docker_image.ts): `image build`
  // has no flag to overwrite files it did not write, and an image moves by being clobbered.
  [
    /: pass overwrite: true to replace (it|them), or choose another dir\b/g,
    (what) => `: move ${what} away, or choose another --dir`,
  ],
  [
    /^Image "([^"]*)" already lives in (.*): omit dir to use it, or clobber the image first to move it to /g,
    (name, dir) =>
      `Image "${name}" already lives in ${dir}: omit --dir to use it, or run cloudknot image ` +
      `clobber ${name} first to move it to `,
  ],
  [
    /: call build\(\{ tags \}\)( again)? before push\(\)$/g,
    (again) => `: build it${again ?? ""} with cloudknot image build before pushing it`,
  ],
  // An array parent's logs (targets/aws/batch/batch_job.ts): `logs` takes a child's id.
  [
    /read a child's, such as BatchJob\.fromId\("([^"]*)"\)/g,
    (id) => `read a child's, such as cloudknot logs ${id}`,
  ],
  // A retry with nothing to run but items whose inputs were never stored (run/map_run.ts).
  [/ again with knot\.map\(\)/g, () => " again with cloudknot map"],
  // `--memory double` of an item whose memory is unknown (run/retry.ts).
  [/retry with memory set to a number of MiB/g, () => "retry with --memory MiB"],
  // A dry run's note (targets/aws/aws_plan.ts).
  [
    /estimate a run with knot\.estimate\(\) or map's dryRun/g,
    () => "estimate a run with cloudknot map --dry-run --item-seconds S",
  ],
  [/ \(or the path option\)/g, () => ""],
  [/\bbaseImage in Knot\.create\b/g, () => "--base-image"],
  [/\bthe files option of Knot\.create\b/g, () => "--file"],
  [/\bthe pars option of Knot\.create\b/g, () => "--pars"],
  [/\bthe bucket option of Pars\.create\b/g, () => "--bucket"],
  [/ as exportName\b/g, () => " as the export argument"],
  // A docker knot's runs and handles (targets/docker/docker_target.ts, docker_knot.ts): whole
  // calls, before the bare target option below would rewrite inside them.
  [
    /open the knot again \(Knot\.create\(\{ name: "([^"]*)", target: "docker" \}\)\), then run the items with run\.retry\(\), which builds its image again from its build directory \(or cloudknot retry [^,]*, which does both\)/g,
    (name) =>
      `run cloudknot retry ${name}, which builds the knot's image again from its build ` +
      "directory and runs the items again",
  ],
  [
    /\(Knot\.create\(\{ name: "([^"]*)", target: "docker", func \}\)\)/g,
    (name) => `(cloudknot knot create ${name} MODULE EXPORT --target docker)`,
  ],
  [
    /\(Knot\.create\(\{ name: "([^"]*)", target: "docker" \}\)\) to map its function/g,
    (name) => `(cloudknot map --name ${name} --target docker) to map its function`,
  ],
  // A local knot clobbered while it was opened (targets/local/errors.ts).
  [
    /\(Knot\.create\(\{ name: "([^"]*)", func \}\), or module and exportName\)/g,
    (name) => `(cloudknot knot create ${name} MODULE EXPORT)`,
  ],
  // A limit a knot of this machine keeps that this machine cannot give (machine_resources.ts).
  [
    /give Knot\.create (concurrency|memory|vcpus): ([\d.]+) or less/g,
    (option, limit) => `pass --${option} ${limit} or less`,
  ],
  [/\btarget: "(local|aws|docker)"/g, (target) => `--target ${target}`],
  // A compute type the knot's options need (compute_options.ts): the flag that sets it.
  [
    /\bcompute "([A-Z0-9_]+)"(?: or "([A-Z0-9_]+)")?/g,
    (compute, other) => `--compute ${compute}${other !== undefined ? ` or ${other}` : ""}`,
  ],
  [/pass \{ force: true \}/g, () => "pass --force"],
  [
    /the Pars was clobbered with \{ force: true \}/g,
    () => "the Pars was clobbered with cloudknot pars clobber --force",
  ],
  [
    /, or name a docker client that is not on PATH with the docker option of Knot\.create\(\) or DockerImage\.create\(\): `docker: new Docker\(\{ binary: "[^"]*" \}\)`/g,
    () => ", or put the directory of the docker client on PATH",
  ],
  [
    /`new Docker\(\{ buildkit: false \}\)` or (DOCKER_BUILDKIT=0)/g,
    (v) => `${v} in the environment`,
  ],
  [/abort the retry's signal \(the jobs go on\)/g, () => "press Ctrl-C (the jobs go on)"],
  // A retry refused for its revision's runtime protocol (targets/aws/batch/runtime_check.ts).
  [
    /on knot ([\w-]+) with knot\.map\(\) of their inputs/g,
    (knot) => `with cloudknot map MODULE EXPORT --name ${knot} --target aws on their inputs`,
  ],
  // Expired keys (aws/credential_advice.ts): the waits that read rewritten ones by themselves.
  [
    /a wait that is running \(await run, knot\.collect\(\), BatchJob\.result\(\), BatchJob\.logs\(\{ follow: true \}\)\)/g,
    () =>
      "a running cloudknot results, cloudknot logs --follow or cloudknot map (waiting for results)",
  ],
  [
    /knot\.collect\(runId\) picks its run up again, and BatchJob\.logs\(\{ follow: true \}\) its log/g,
    () =>
      "cloudknot results <knot> <run> picks its run up again, and cloudknot logs <knot> <run> " +
      "--item N --follow its log",
  ],
  [
    /collect the run again \(knot\.collect\("([^"]*)"\) of knot ([\w-]+)\)/g,
    (run, knot) => `run cloudknot results ${knot} ${run}`,
  ],
  [
    /run\.retry\(\{ permissions \}\) on the run's handle \(knot\.collect\("([^"]*)"\) of knot ([\w-]+)\), its permissions granting/g,
    (run, knot) => `cloudknot retry ${knot} ${run} --allow KIND=LIST, its --allow granting`,
  ],
  [
    /run\.retry\((?:\{ (timeout|memory): ([\d.]+) \})?\) on the run's handle(?: \(knot\.collect\("([^"]*)"\) of knot ([\w-]+)\))?/g,
    (option, value, run, knot) =>
      `cloudknot retry ${knot ?? "<knot>"} ${run ?? "<run>"}` +
      (option !== undefined ? ` --${option} ${value}` : ""),
  ],
  [
    / with the timeout option of Knot\.create or run\.retry/g,
    () => " with --timeout on cloudknot map or retry",
  ],
  // A refused permission (job/permissions.ts): `--allow` takes Deno's lists.
  [
    /Grant it with permissions: \{ (\w+): \[("(?:[^"\\]|\\.)*")\] \} in Knot\.create \(\w+: true for all\), then map the items again, or retry them with it in run\.retry\(\{ permissions \}\) \(a retry without them keeps/g,
    (kind, target) =>
      `Grant it with --allow ${shellWord(`${kind}=${JSON.parse(target!)}`)} on cloudknot knot ` +
      `create or cloudknot map (--allow ${kind} for all), then run cloudknot map again, or ` +
      `cloudknot retry with that --allow and the run's others (without --allow, cloudknot retry keeps`,
  ],
  // A target whose comma no list can name (job/permissions.ts): all of the kind.
  [
    /Grant all of it with permissions: \{ (\w+): true \} in Knot\.create, then map the items again, or retry them with it in run\.retry\(\{ permissions \}\) \(a retry without them keeps/g,
    (kind) =>
      `Grant all of it with --allow ${kind} on cloudknot knot create or cloudknot map, then ` +
      `run cloudknot map again, or cloudknot retry with --allow ${kind} and the run's others ` +
      "(without --allow, cloudknot retry keeps",
  ],
  [/permissions: \{ env: \[\.\.\.\] \} instead of/g, () => "--allow env=NAMES instead of"],
  // A retry's permissions too long for a job's overrides (targets/aws/batch/command.ts).
  [
    /^permissions are ([\d,]+) characters as AWS Batch passes them to a retry's jobs(.*) or a kind whole \(read: true\), or give the permissions in Knot\.create and map again$/g,
    (chars, rest) =>
      `--allow lists are ${chars} characters as AWS Batch passes them to a retry's jobs${rest} ` +
      "or a kind whole (--allow read), or give --allow on cloudknot knot create and run " +
      "cloudknot map again",
  ],
  // A job definition past AWS Batch's 24 KiB (targets/aws/batch/quotas.ts): the flags that grow it.
  [
    /its permissions take ([\d,]+ bytes) of it and its tags ([\d,]+ bytes): (.*), or a kind whole \(read: true\), pass fewer or shorter tags,/g,
    (permissions, tags, rest) =>
      `its --allow lists take ${permissions} of it and its --tag values ${tags}: ${rest}, or a ` +
      "kind whole (--allow read), pass fewer or shorter --tag values,",
  ],
  [/`cloudknot gc` \(findGarbage and deleteGarbage\)/g, () => "`cloudknot gc`"],
  [/\(the retries option of Knot\.create,/g, () => "(--retries on cloudknot knot create,"],
  // A retry's resources refused for its knot's jobs (targets/aws/groups.ts): the retry's flags,
  // and those of the knot its items could be mapped on instead.
  [
    /\bwith the (vcpus|memory)(?: and (vcpus|memory))? options? of run\.retry\(\)/g,
    (first, second) =>
      `with --${first}${second !== undefined ? ` and --${second}` : ""} on cloudknot retry`,
  ],
  // A knot's jobs AWS Batch cannot place (targets/aws/batch/stuck.ts): a map or knot create with
  // other resources updates the knot's job definition.
  [
    /\blower (vcpus|vcpus, memory or gpus) in Knot\.create \(which updates the knot's job definition\b/g,
    (options) =>
      `lower ${options === "vcpus" ? "--vcpus" : "--vcpus, --memory or --gpus"} on cloudknot ` +
      "knot create or map (which updates the knot's job definition",
  ],
  [
    /\b(maxVcpus|instanceTypes) in Knot\.create\b/g,
    (option) =>
      `${option === "maxVcpus" ? "--max-vcpus" : "--instance-types"} on cloudknot knot create`,
  ],
  // A knot's compute environment named (targets/aws/batch/stuck.ts): `knot show` names it.
  [
    /\(knot\.aws\.computeEnvironment names it, as (`cloudknot knot show [\w-]+`) does\)/g,
    (command) => `(${command} names it)`,
  ],
  [/, or the AWS Batch console for knot\.aws\.computeEnvironment\)/g, () => ")"],
  // A permission the command line's own process lacks (util/process_permission.ts): it is
  // cloudknot's, and the function's own permissions are --allow.
  [
    /, which [\w.]+\(\) needs in your program's process: run the program with deno run -A /g,
    () => ", which the cloudknot command needs: run it with deno run -A ",
  ],
  [
    /and the other flags its docs list for narrower permissions \(a function's own permissions are the knot's permissions option, not these\)/g,
    () =>
      "and the other flags the command line's docs list (its Permissions) for narrower " +
      "permissions (a function's own permissions are given with --allow, not these)",
  ],
  // gc's advice to look again (resources/gc.ts, targets/aws/aws_knot.ts).
  [/look again \(findGarbage\(\), or cloudknot gc\)/g, () => "run cloudknot gc again"],
  [/gc lists it \(findGarbage\(\), or `cloudknot gc`\)/g, () => "`cloudknot gc` lists it"],
  // A docker knot another process left half-made (store/knot_lock.ts).
  [
    /removed by the knot's clobber: knot\.clobber\(\), or cloudknot knot clobber ([\w-]+)/g,
    (name) => `removed with cloudknot knot clobber ${name}`,
  ],
  // A run folder gc kept (resources/_run_leftovers.ts): `knot show` lists a knot's runs.
  [
    /list (its knot's|knot ([\w.-]+)'s) runs with knot\.runs\(\) on its handle/g,
    (whose, knot) => `list ${whose} runs with \`cloudknot knot show ${knot ?? "<knot>"}\``,
  ],
  [/`knot (list|show)([^`]*)`/g, (command, rest) => `\`cloudknot knot ${command}${rest}\``],
  [/ or use a session (?:in [\w-]+|with that profile),/g, () => ","],
  [/ or use a session (?:in [\w-]+|with that profile)/g, () => ""],
];

/** Where a library user passes a price table that has a region (cost/prices.ts). */
const PRICES_ADVICE =
  /Pass a price table of your own that has ([\w-]+) as the prices option of run\.cost\(\), run\.report\(\), costReport\(\) or estimateRun\(\)\./g;

/**
 * Text that says where to pass a price table that has a region (a cost report's, an estimate's),
 * in a command-line user's words: `--prices FILE` of the command when it takes one (`cost`,
 * `report`), else the commands that do.
 *
 * @example Usage
 * ```ts ignore
 * priceTableInCliWords(String(report), cost); // "… Pass a price table of your own that has eu-west-1 with --prices FILE."
 * ```
 *
 * @param text The text (an HTML page's too: the advice has no character HTML escapes).
 * @param command The command that ran.
 * @returns The text.
 */
export function priceTableInCliWords(text: string, command?: Command): string {
  return text.replace(
    PRICES_ADVICE,
    (_m, region: string) =>
      command !== undefined && "prices" in command.options
        ? `Pass a price table of your own that has ${region} with --prices FILE.`
        : "cloudknot cost and cloudknot report price a run that has run with a price table of your " +
          `own that has ${region} (--prices FILE).`,
  );
}

/** Options whose flag is not their name in kebab case. */
const FLAG_OF: Readonly<Record<string, string>> = {
  repoName: "repo",
  files: "file",
  parsPolicies: "policy",
  instanceTenancy: "tenancy",
  policies: "policy",
  tags: "tag",
};

/** Options that are a command's arguments, not flags. */
const ARGUMENT_OF: Readonly<Record<string, string>> = {
  module: "the module argument",
  exportName: "the export argument",
};

/**
 * What before a word makes it a plain noun, not an option's name: a count
 * (`1 attempt:`, `3 retries has`) or a determiner (`the memory:`, `each attempt:`).
 */
const NOUN_BEFORE = String.raw`\b(?:\d+|a|an|the|one|each|every|its|this|that|no|any)`;

/**
 * A message in a command-line user's words: library calls become commands,
 * and the options it names become the command's flags: a camel-case option
 * (`instanceTypes`) wherever it appears, the one-word option an input error
 * is about (`memory`) where the message names it as an option
 * (`memory must be…`, `lower memory`), not where it is a plain noun
 * (`ran 1 attempt:`).
 *
 * @example Usage
 * ```ts ignore
 * inCliWords(new CloudknotInputError("maxVcpus must be an integer", { field: "maxVcpus" }), map);
 * // "--max-vcpus must be an integer"
 * ```
 *
 * @param error The error.
 * @param command The command that ran, whose flags the message may name.
 * @returns The message.
 */
export function inCliWords(error: Error, command?: Command): string {
  let message = error.message;
  for (const [pattern, replace] of CALLS) {
    message = message.replace(pattern, (_m, ...groups) => replace(...groups.slice(0, -2)));
  }
  message = priceTableInCliWords(message, command);
  if (command === undefined) return message;
  const flags = new Map<string, string>(Object.entries(FLAG_OF));
  for (const flag of Object.keys(command.options)) {
    flags.set(flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase()), flag);
  }
  // The options an adopted knot ignored (or a dry run's would) are listed by name: each is the
  // command's flag, or (the function's) argument.
  message = message.replace(
    /(these options (?:were|would be) ignored: )([\w, ]+)(?=;|$)/g,
    (_m, lead: string, list: string) =>
      lead + list.split(", ").map((option) => {
        const flag = flags.get(option);
        if (flag !== undefined && flag in command.options) return `--${flag}`;
        return ARGUMENT_OF[option] ?? option;
      }).join(", "),
  );
  // An update refused names the options the knot keeps its own values of, each `name value`
  // (JSON): the command's flag and the value as it is typed.
  message = message.replace(
    /(keeps its own )(.+?)( where they are not given)/g,
    (_m, lead: string, list: string, tail: string) =>
      lead +
      [
        ...list.matchAll(
          /(?:--)?(\w+) ("(?:[^"\\]|\\.)*"|\[[^\]]*\]|\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\}|[^,\s]+)/g,
        ),
      ].map(
        ([pair, option, value]) => {
          if (option === "permissions" && value!.startsWith("{") && "allow" in command.options) {
            return allowFlags(JSON.parse(value!)) ?? pair;
          }
          const flag = flags.get(option!);
          // A flag already (`--compute FARGATE`, above), or not one of the command's.
          if (pair.startsWith("--") || flag === undefined || !(flag in command.options)) {
            return pair;
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(value!);
          } catch {
            return pair;
          }
          const typed = [parsed].flat();
          // Only what a flag takes as typed: words and numbers (a list comma-separated).
          if (typed.some((v) => typeof v === "object" && v !== null)) return pair;
          return `--${flag} ${typed.join(",")}`;
        },
      ).join(", ") + tail,
  );
  const field = error instanceof CloudknotInputError ? error.field : undefined;
  // Instance types are a comma-separated list on the command line (compute_options.ts names
  // arrays), and the GPUs that need some are --gpus.
  if (field === "instanceTypes" && "instance-types" in command.options) {
    message = message
      .replace(/\bmust be an array of instance types\b/g, "must be comma-separated instance types")
      .replace(/\[((?:"[\w.-]+", )*"[\w.-]+")\]/g, (_m, list: string) => list.replace(/"|\s/g, ""))
      .replace(/^gpus needs\b/, "--gpus needs");
  }
  for (const [option, flag] of flags) {
    if (!(flag in command.options)) continue;
    if (/[A-Z]/.test(option)) {
      // A camel-case name is an option wherever it appears.
      message = message.replace(new RegExp(`(?<![-\\w])${option}\\b`, "g"), `--${flag}`);
    } else if (option === field) {
      // The one-word option the error is about, where the message names it as an option:
      // not after a count or a determiner, where it is a plain noun ("ran 1 attempt:").
      message = message
        .replace(
          new RegExp(`(^|(?<!${NOUN_BEFORE})\\s)${option}\\b(?= must| takes| has|:)`, "g"),
          `$1--${flag}`,
        )
        .replace(
          new RegExp(`\\b(lower|raise|pass|leave|Invalid|in|for|either) ${option}\\b`, "g"),
          `$1 --${flag}`,
        );
    }
  }
  return message;
}

/**
 * Where a command sends the library's warnings (an adopted knot's ignored
 * options, a module's code that reaches files beside it): stderr in yellow,
 * in the command's words.
 *
 * @example Usage
 * ```ts ignore
 * const knot = await Knot.create({ name, module, warn: cliWarn(ctx) });
 * ```
 *
 * @param ctx The running command.
 * @returns The `warn` option to pass.
 */
export function cliWarn(ctx: CommandContext): (message: string) => void {
  return (message) => ctx.warn(inCliWords(new Error(message), ctx.command));
}
