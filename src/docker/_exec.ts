/**
 * Runs one `docker` command: reads stdout and stderr as lines while it waits
 * for the exit code (so a full pipe cannot block it), keeps the tail of the
 * output, and kills it when a signal aborts or its time limit passes.
 *
 * @module
 */
import { type CommandLimit, CommandTimeoutError } from "../util/command_limit.ts";
import { CancelledError } from "../util/errors.ts";
import { TextLineStream } from "../util/text_line_stream.ts";
import { DockerNotInstalledError } from "./errors.ts";

/** What to run. */
export interface ExecRequest {
  /** The docker client. */
  binary: string;
  /** The arguments after the binary. */
  args: string[];
  /** Environment added to the inherited one. */
  env?: Record<string, string>;
  /** Text for standard input; without it stdin is closed. */
  stdin?: string;
  /** Kills the command. */
  signal?: AbortSignal;
  /**
   * A time limit: past it the command is stopped as on an abort, and the
   * call rejects with a `CommandTimeoutError`.
   */
  limit?: CommandLimit;
  /** Called with each line, in the order the lines came. */
  onLine?: (stream: "stdout" | "stderr", text: string) => void;
  /** Keep the whole stdout. */
  captureStdout?: boolean;
  /** Keep the whole stderr. */
  captureStderr?: boolean;
  /** How many lines the tail keeps. */
  tailLines: number;
  /** Milliseconds between SIGTERM and SIGKILL after an abort. */
  killGraceMs: number;
  /**
   * More to do on an abort besides killing the client, such as removing the
   * container of a `docker run`. It is awaited before the call settles.
   */
  onAbort?: () => Promise<void>;
}

/** What happened. */
export interface ExecResult {
  /** The exit code (128 + signal number when killed by a signal). */
  code: number;
  /** The whole stdout, exactly as written, when captured. */
  stdout: string;
  /** The whole stderr, when captured. */
  stderr: string;
  /** The last lines of both streams, in the order they came. */
  tail: string[];
  /** The stderr lines, the last `tailLines` of them. */
  stderrTail: string[];
}

const SIGNALS: Record<string, number> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };

/**
 * Runs the command and resolves when it has exited and both streams are read.
 * Throws {@linkcode DockerNotInstalledError} when the binary cannot be found,
 * `CancelledError` when the signal aborted it and `CommandTimeoutError` when
 * it ran past its limit.
 *
 * @param request What to run.
 * @returns The exit code and the output.
 */
export async function execDocker(request: ExecRequest): Promise<ExecResult> {
  const { signal } = request;
  if (signal?.aborted) {
    throw new CancelledError("The docker command was cancelled before it started", {
      cause: signal.reason,
    });
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(request.binary, {
      args: request.args,
      env: request.env,
      stdin: request.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DockerNotInstalledError(request.binary, { cause: e });
    }
    throw e;
  }

  const tail: string[] = [];
  const stderrTail: string[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  let callbackError: { error: unknown } | undefined;
  const onLine = (stream: "stdout" | "stderr", text: string) => {
    tail.push(text);
    if (tail.length > request.tailLines) tail.shift();
    if (stream === "stderr") {
      stderrTail.push(text);
      if (stderrTail.length > request.tailLines) stderrTail.shift();
    }
    if (request.onLine && callbackError === undefined) {
      try {
        request.onLine(stream, text);
      } catch (error) {
        // Keep reading, so the child never blocks on a full pipe; rethrow later.
        callbackError = { error };
      }
    }
  };

  let killTimer: ReturnType<typeof setTimeout> | undefined;
  let abortWork: Promise<void> | undefined;
  const kill = (sig: Deno.Signal) => {
    try {
      child.kill(sig);
    } catch {
      // It has already exited.
    }
  };
  const onAbort = () => {
    if (request.onAbort) abortWork = request.onAbort().catch(() => {});
    kill("SIGTERM");
    killTimer = setTimeout(() => kill("SIGKILL"), request.killGraceMs);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  // Past the limit it is stopped as on an abort; once it has exited, what
  // it started gets the same grace to close the output pipes, and then the
  // call stops waiting for them.
  const limit = request.limit;
  let expired = false;
  let finished = false;
  let lateTimer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    if (limit === undefined) return;
    lateTimer = setTimeout(() => {
      expired = true;
      onAbort();
      child.status.then(() => {
        if (finished) return;
        lateTimer = setTimeout(() => reject(new CommandTimeoutError(limit)), request.killGraceMs);
      });
    }, limit.timeoutMs);
  });

  try {
    const done = Promise.all([
      child.status,
      readLines(
        child.stdout,
        (text) => onLine("stdout", text),
        request.captureStdout ? stdout : undefined,
      ),
      readLines(
        child.stderr,
        (text) => onLine("stderr", text),
        request.captureStderr ? stderr : undefined,
      ),
      request.stdin === undefined ? undefined : writeStdin(child.stdin, request.stdin),
    ]);
    done.catch(() => {});
    const [status] = await Promise.race([done, late]);
    if (expired) throw new CommandTimeoutError(limit!);
    if (signal?.aborted) {
      throw new CancelledError(
        `The command \`${request.binary} ${request.args[0] ?? ""}\` was cancelled`,
        { cause: signal.reason },
      );
    }
    if (callbackError !== undefined) throw callbackError.error;
    const code = status.signal ? 128 + (SIGNALS[status.signal] ?? 0) : status.code;
    return {
      code,
      stdout: stdout.join(""),
      stderr: stderr.join(""),
      tail,
      stderrTail,
    };
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (killTimer !== undefined) clearTimeout(killTimer);
    finished = true;
    if (lateTimer !== undefined) clearTimeout(lateTimer);
    await abortWork;
  }
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (text: string) => void,
  capture: string[] | undefined,
): Promise<void> {
  let text = stream.pipeThrough(new TextDecoderStream());
  if (capture) {
    text = text.pipeThrough(
      new TransformStream<string, string>({
        transform(chunk, controller) {
          capture.push(chunk);
          controller.enqueue(chunk);
        },
      }),
    );
  }
  for await (const line of text.pipeThrough(new TextLineStream({ allowCR: true }))) onLine(line);
}

async function writeStdin(stdin: WritableStream<Uint8Array>, text: string): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch {
    // The child closed its stdin early (it failed); its exit code tells why.
    await writer.abort().catch(() => {});
  } finally {
    writer.releaseLock();
  }
}
