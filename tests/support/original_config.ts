/**
 * The Python cloudknot's config file from Python itself: its writes replayed
 * by `original_config.py` (the original's own `configparser` code paths),
 * and a file read back with `configparser` as the original reads it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** One write of the original, as `original_config.py` replays it. */
export type OriginalStep =
  | { op: "configure" }
  | { op: "set_profile"; profile: string }
  | { op: "set_region"; region: string }
  | { op: "set_ecr_repo"; repo: string }
  | { op: "set_s3_params"; bucket: string; policy: string; sse?: "AES256" | "aws:kms" | null }
  | {
    op: "pars";
    name: string;
    stack_id: string;
    region: string;
    profile: string;
    batch_service_role: string;
    ecs_instance_role: string;
    spot_fleet_role: string;
    ecs_instance_profile: string;
    vpc: string;
    subnets: string[];
    security_group: string;
  }
  | { op: "docker_repo"; profile: string; region: string; name: string; uri: string }
  | {
    op: "docker_image";
    name: string;
    profile: string;
    region: string;
    build_path: string;
    knot: string;
    repo_uri?: string;
  }
  | {
    op: "knot";
    name: string;
    region: string;
    profile: string;
    stack_id: string;
    pars: string;
    docker_image: string;
    docker_repo?: string;
    job_definition: string;
    compute_environment: string;
    job_queue: string;
  }
  | { op: "batch_job"; profile: string; region: string; job_id: string; job_name: string }
  | { op: "knot_job_ids"; knot: string; job_ids: string[] };

const WRITER = fileURLToPath(new URL("./original_config.py", import.meta.url));

async function python(args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command("python3", { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(`python3 ${args[0]} failed: ${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout);
}

/**
 * Writes `path` as the Python cloudknot would, step by step.
 *
 * @example Usage
 * ```ts ignore
 * await writeAsOriginal(path, [{ op: "set_profile", profile: "from-env" }, { op: "configure" }]);
 * ```
 */
export async function writeAsOriginal(path: string, steps: OriginalStep[]): Promise<void> {
  await python([WRITER, JSON.stringify(steps)], { CLOUDKNOT_CONFIG_FILE: path });
}

/**
 * Reads a config file with Python's `configparser`, as the original reads
 * it: every section with its keys and values.
 *
 * @example Usage
 * ```ts ignore
 * const sections = await readWithConfigParser(path);
 * console.log(sections.aws?.configured); // "True"
 * ```
 */
export async function readWithConfigParser(
  path: string,
): Promise<Record<string, Record<string, string>>> {
  const text = await python([
    "-c",
    "import configparser,json,sys; c=configparser.ConfigParser(); c.read(sys.argv[1]); " +
    "print(json.dumps({s: dict(c[s]) for s in c.sections()}))",
    path,
  ]);
  return JSON.parse(text);
}

/**
 * The original's checks of `[aws]` before it does anything: `configured`
 * must be `True` (`NamedObject.__init__`), and `s3-sse` one of `AES256`,
 * `aws:kms`, `None` (`get_s3_params`). Returns the first complaint, or
 * `undefined` when the original accepts the file.
 *
 * @example Usage
 * ```ts ignore
 * assert.equal(await originalRefuses(path), undefined);
 * ```
 */
export async function originalRefuses(path: string): Promise<string | undefined> {
  const aws = (await readWithConfigParser(path)).aws ?? {};
  if (aws.configured !== "True") return "CloudknotConfigurationError: configured is not True";
  const sse = aws["s3-sse"];
  if (sse !== undefined && !["AES256", "aws:kms", "None"].includes(sse)) {
    return `CloudknotInputError: s3-sse ${sse}`;
  }
  return undefined;
}
