/**
 * A {@linkcode JobRunner} that runs each job attempt as a Docker container on
 * the local engine, pulling the image from the registry behind emulated ECR
 * with its own isolated `DOCKER_CONFIG`.
 *
 * @module
 */
import type { LocalRegistry } from "../registry.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { IsolatedNetwork } from "./isolated_network.ts";
import {
  forEachLine,
  type JobRunner,
  type JobRunRequest,
  type JobRunResult,
  onStop,
} from "../runner.ts";

/** Options of {@linkcode DockerRunner}. */
export interface DockerRunnerOptions {
  /** The registry behind ECR (for `docker login`); pulls from elsewhere are attempted as is. */
  registry?: LocalRegistry;
  /** A label value naming this emulator's containers (`cloudknot-emulator=<label>`). */
  label: string;
  /** The docker binary (default `docker`). */
  docker?: string;
  /** The most containers at once (default: the number of CPUs). */
  concurrency?: number;
  /**
   * Fail an attempt whose image's platform (`docker image inspect`'s
   * `Architecture`) is not the host's (`JobRunRequest.architecture`) the way
   * ECS does, rather than run it here (where emulation may hide the mismatch).
   * @default {false}
   */
  checkArchitecture?: boolean;
  /**
   * `"host"`: containers share this machine's network. `"isolated"`: they
   * reach the emulator (at the same address) and nothing else: no registry,
   * no DNS, no internet (see `isolated_network.ts`).
   * @default {"host"}
   */
  network?: "host" | "isolated";
  /**
   * Milliseconds between the SIGTERM and the SIGKILL when an attempt is
   * stopped as ECS stops a task (TerminateJob, its timeout): ECS's container
   * stop timeout, 30 s unless configured (see `StopKind` in `runner.ts`).
   * A lost host (`"kill"`) gets SIGKILL at once.
   * @default {30000}
   */
  stopTimeoutMs?: number;
}

/** The reason Batch gives for an out-of-memory kill. */
export const OOM_REASON = "OutOfMemoryError: Container killed due to memory usage";

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs job attempts as Docker containers with host networking.
 *
 * @example Usage
 * ```ts ignore
 * const runner = await DockerRunner.create({ registry, label: "emu1" });
 * ```
 */
export class DockerRunner implements JobRunner {
  /** The most attempts at once. */
  readonly capacity: number;
  #o: DockerRunnerOptions;
  #config: string;
  #login?: Promise<void>;
  #pulls = new Map<string, Promise<void>>();
  #n = 0;
  #live = new Set<string>();
  #isolated?: Promise<IsolatedNetwork>;

  private constructor(options: DockerRunnerOptions, configDir: string) {
    this.#o = options;
    this.#config = configDir;
    this.capacity = options.concurrency ?? navigator.hardwareConcurrency ?? 2;
  }

  /**
   * Makes a docker runner with a fresh `DOCKER_CONFIG`.
   *
   * @param options The registry and label.
   */
  static async create(options: DockerRunnerOptions): Promise<DockerRunner> {
    const dir = await Deno.makeTempDir({ prefix: "ckemu-docker-config-" });
    await Deno.writeTextFile(`${dir}/config.json`, "{}");
    return new DockerRunner(options, dir);
  }

  /** The label value on this runner's containers (`cloudknot-emulator=<label>`). */
  get label(): string {
    return this.#o.label;
  }

  /** The `DOCKER_CONFIG` directory this runner logs in with. */
  get dockerConfig(): string {
    return this.#config;
  }

  async #docker(args: string[], stdin?: string): Promise<Output> {
    const child = new Deno.Command(this.#o.docker ?? "docker", {
      args,
      env: { DOCKER_CONFIG: this.#config },
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(stdin));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  /**
   * Logs in to the registry once, then pulls the image (concurrent pulls of one
   * image share a single `docker pull`).
   *
   * @param req The attempt.
   */
  async prepare(req: JobRunRequest): Promise<void> {
    const reg = this.#o.registry;
    if (reg && req.image.startsWith(`${reg.host}/`)) {
      this.#login ??= this.#docker(
        ["login", "--username", reg.username, "--password-stdin", `http://${reg.host}`],
        reg.password,
      ).then((o) => {
        if (o.code !== 0) throw new Error(`docker login failed: ${o.stderr.trim()}`);
      });
      await this.#login;
    }
    let pull = this.#pulls.get(req.image);
    if (!pull) {
      pull = this.#docker(["pull", "--quiet", req.image]).then((o) => {
        if (o.code !== 0) {
          throw new Error(
            `Error response from daemon: pull ${req.image}: ${
              o.stderr.trim().split("\n").slice(-2).join(" ")
            }`,
          );
        }
      }).finally(() => this.#pulls.delete(req.image));
      this.#pulls.set(req.image, pull);
    }
    await pull;
  }

  /** The `--network` of a job's container. */
  async #network(req: JobRunRequest): Promise<string> {
    if (this.#o.network !== "isolated") return "host";
    this.#isolated ??= (async () =>
      IsolatedNetwork.start({
        port: Number(new URL(req.environment.AWS_ENDPOINT_URL ?? "").port),
        image: await ensureBaseImage(),
        label: this.#o.label,
        docker: (args) => this.#docker(args),
      }))();
    return `container:${(await this.#isolated).container}`;
  }

  /**
   * Runs the attempt as `docker run --network host` (or in the isolated
   * network) with the job's limits.
   *
   * @param req The attempt.
   */
  async run(req: JobRunRequest): Promise<JobRunResult> {
    if (this.#o.checkArchitecture) {
      const program = await this.#foreignProgram(req);
      if (program !== undefined) {
        // What users see on ECS: the runtime cannot exec the entry point, and
        // the essential container exits with code 1
        // (aws-samples/amazon-bedrock-serverless-prompt-chaining#213;
        // aws-solutions-library-samples/aws-batch-arch-for-protein-folding#18).
        req.log(`exec ${program}: exec format error`);
        return { exitCode: 1 };
      }
    }
    const network = await this.#network(req);
    const name = `ckemu-${this.#o.label}-${++this.#n}`;
    const args = [
      "run",
      "--name",
      name,
      "--label",
      `cloudknot-emulator=${this.#o.label}`,
      "--network",
      network,
      "--cpus",
      String(req.vcpus),
      "--memory",
      `${Math.max(6, Math.round(req.memoryMiB))}m`,
      "--memory-swap",
      `${Math.max(6, Math.round(req.memoryMiB))}m`,
    ];
    // The image's platform is the host's on AWS; saying so keeps Docker's
    // platform warning out of the job's log here.
    if (this.#o.checkArchitecture) args.push("--platform", `linux/${req.architecture}`);
    for (const [k, v] of Object.entries(req.environment)) args.push("--env", `${k}=${v}`);
    args.push(req.image, ...req.command);
    this.#live.add(name);
    const child = new Deno.Command(this.#o.docker ?? "docker", {
      args,
      env: { DOCKER_CONFIG: this.#config },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // As ECS stops a task, `docker stop`'s way: SIGTERM, then SIGKILL after
    // the stop timeout; a lost host kills at once (runner.ts StopKind).
    let killing: Promise<unknown> | undefined;
    const signal = (sig: string) => () => {
      killing = this.#docker(["kill", "--signal", sig, name]).catch(() => {});
    };
    const ended = onStop(
      req.signal,
      { term: signal("SIGTERM"), kill: signal("SIGKILL") },
      this.#o.stopTimeoutMs ?? 30_000,
    );
    const stderrTail: string[] = [];
    const [status] = await Promise.all([
      child.status,
      forEachLine(child.stdout, req.log),
      forEachLine(child.stderr, (l) => {
        stderrTail.push(l);
        if (stderrTail.length > 5) stderrTail.shift();
        req.log(l);
      }),
    ]);
    ended();
    await killing;
    const state = () =>
      this.#docker([
        "inspect",
        "--format",
        "{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.StartedAt}}",
        name,
      ]);
    let inspect = await state();
    // Docker learns of an OOM kill from a cgroup event that can arrive just
    // after the exit, and Docker 24 and later mark it then (20.10 and 23 decide
    // at the exit, from the events that came before it): a container killed
    // (137) but not yet marked OOMKilled, and not by this runner, is looked at
    // again for up to 5 s, as the ECS agent reads the state after the
    // container has stopped (a second was too short on a loaded machine).
    const mayBeOom = () => killing === undefined && /^false 137 /.test(inspect.stdout.trim() + " ");
    for (let i = 0; i < 25 && mayBeOom(); i++) {
      await new Promise((r) => setTimeout(r, 200));
      inspect = await state();
    }
    await this.#docker(["rm", "-f", name]);
    this.#live.delete(name);
    const [oom, exit, started] = inspect.stdout.trim().split(" ");
    if (inspect.code !== 0) {
      return { reason: `CannotStartContainerError: ${stderrTail.join(" ").trim()}` };
    }
    if (oom === "true") return { exitCode: 137, reason: OOM_REASON };
    if (
      started?.startsWith("0001-") ||
      (status.code >= 125 && status.code <= 127 && Number(exit) === status.code &&
        stderrTail.some((l) => l.includes("Error response from daemon")))
    ) {
      return { reason: `CannotStartContainerError: ${stderrTail.join(" ").trim()}` };
    }
    // Any other exit is Docker's exit code, as ECS reports it: a process
    // killed by a signal is 128 + its number (V8 aborting at its heap limit
    // is 133, SIGTRAP), with no OutOfMemoryError reason, since the kernel
    // did not kill it (aws/amazon-ecs-agent#2231).
    return { exitCode: Number(exit) };
  }

  /**
   * When the image is built for another architecture than the attempt's host,
   * the program the container would exec, as the runtime names it (found on
   * the image's `PATH` like `runc` does); otherwise undefined.
   *
   * @param req The attempt.
   */
  async #foreignProgram(req: JobRunRequest): Promise<string | undefined> {
    const inspect = await this.#docker([
      "image",
      "inspect",
      "--format",
      "{{json .Architecture}}\t{{json .Config.Entrypoint}}\t{{json .Config.Cmd}}\t{{json .Config.Env}}",
      req.image,
    ]);
    if (inspect.code !== 0) return undefined;
    const [arch, entrypoint, cmd, env] = inspect.stdout.trim().split("\t").map((f) =>
      JSON.parse(f)
    ) as [string, string[] | null, string[] | null, string[] | null];
    if (arch === req.architecture) return undefined;
    const argv = [...(entrypoint ?? []), ...(req.command.length > 0 ? req.command : cmd ?? [])];
    const program = argv[0] ?? "";
    if (program === "" || program.includes("/")) return program;
    const path = env?.find((e) => e.startsWith("PATH="))?.slice(5) ??
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    const created = await this.#docker([
      "create",
      "--label",
      `cloudknot-emulator=${this.#o.label}`,
      req.image,
      program,
    ]);
    if (created.code !== 0) return program;
    const id = created.stdout.trim();
    try {
      for (const dir of path.split(":").filter((d) => d.startsWith("/"))) {
        const found = `${dir.replace(/\/$/, "")}/${program}`;
        if ((await this.#docker(["cp", `${id}:${found}`, "-"])).code === 0) return found;
      }
      return program;
    } finally {
      await this.#docker(["rm", "-f", id]);
    }
  }

  /** Removes this runner's containers and its config (the registry's images go with the registry). */
  async close(): Promise<void> {
    const ps = await this.#docker([
      "ps",
      "-aq",
      "--filter",
      `label=cloudknot-emulator=${this.#o.label}`,
    ]);
    const ids = ps.stdout.split("\n").filter((s) => s.trim());
    if (ids.length > 0) await this.#docker(["rm", "-f", ...ids]);
    // The relay goes last: the job containers use its network.
    await (await this.#isolated?.catch(() => undefined))?.close();
    await Deno.remove(this.#config, { recursive: true }).catch(() => {});
  }
}
