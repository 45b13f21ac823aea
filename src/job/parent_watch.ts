/**
 * How a worker process stops when the process that runs its pool is gone
 * (killed with SIGKILL, crashed, a notebook's kernel restarted): at once,
 * in the middle of an attempt, so that the run's items do not go on running
 * unseen while a `collect()` elsewhere runs them again.
 *
 * Where the worker starts through a POSIX shell and util-linux's `setpriv`
 * can set Linux's parent-death signal, the kernel does it: the worker is
 * started as `setpriv --pdeathsig KILL deno …`, and the kernel sends it
 * SIGKILL the moment its parent (the pool's process) ends. Nothing in the
 * worker's JavaScript has to run, so an attempt stuck in a synchronous loop
 * stops too, and the function is given no permission for it. It costs one
 * more `exec` as each worker starts (`setpriv`, which then becomes the
 * worker); the pool knows whether the shell finds `setpriv`
 * ({@linkcode setprivFound}) and tells the worker (`--parent-death`). No
 * process stays beside the worker and nothing wakes up while it runs. A `setpriv` older than util-linux
 * 2.33 refuses `--pdeathsig`, and the worker dies before it is ready: only
 * then does the pool ask ({@linkcode setprivRefuses}), and it starts that
 * shell's workers without `setpriv` from then on. (The kernel signals when
 * the thread that started the worker ends: the pool's process, or a
 * `Worker` thread the pool ran in, whose end is the pool's.)
 * A worker that leads a process group of its own (a function with `run`
 * permission, `true` or a list of programs) also gets a watcher in that
 * group: a shell asleep in `wait`, given SIGTERM by the kernel when the
 * worker ends, which then kills the group, the programs the function
 * started with it (two more processes, `sh` and `sleep`, asleep, per such
 * worker).
 *
 * Where the shell finds no `setpriv` (macOS, a Linux without util-linux) or
 * one that refuses `--pdeathsig`, each worker gets a watcher of its own
 * ({@linkcode watchWorker}): a shell, started by the pool beside the
 * worker, asleep in a `read` of a pipe whose only write end the pool's
 * process holds (Deno opens it close-on-exec, so no worker, watcher or
 * program inherits it). When that process ends, however it ends (or the
 * `Worker` thread the pool ran in: its end closes its pipes), the system
 * closes that end, the `read` returns, and the shell kills the worker
 * with SIGKILL (its whole process group, where it leads one): at once,
 * whatever the attempt does, with no look at a clock, and without a
 * permission for the function. The watcher is in a session of its own, so a
 * terminal's Ctrl-C, which the pool's process may survive, does not end it.
 * When the worker ends first (its pool closed it, a timeout, a crash), the
 * pool kills the watcher (it never sends it a byte), then reaps it. It
 * costs one `sh` per worker, asleep in `read` (1.6 MB of memory with dash,
 * and no CPU while it waits), and about 4 ms of the pool's thread as each
 * worker starts, to start it, which the worker's own start (60 ms and
 * more) does not wait for (BENCHMARKS.md, "A worker's watcher"). Whether
 * the shell finds `setpriv` the pool looks once, the first time it starts a
 * worker with a given `PATH` ({@linkcode setprivFound}, in the `PATH`'s
 * directories where it may read them, else by asking the shell);
 * with `setpriv` nothing else changes. The watcher kills by pid: the pool
 * stops it as soon as it has reaped the worker, before that pid can be
 * given to another process in all but a vanishingly rare case (the
 * system's pids wrapping around in that moment). A shell polling `kill -0`
 * instead would start a `sleep` every interval in every worker, and a
 * watcher inside the worker (a timer, or a `Worker` thread, whose
 * `Deno.exit()` ends only its thread) cannot stop an attempt that never
 * yields without `Deno.kill`, which needs a `run` permission the function
 * must not get.
 *
 * Only a caller that may not run a shell (one that may run `deno` alone)
 * gets workers that watch their parent themselves, twice a second
 * ({@linkcode watchParent}, `Deno.ppid` and `Deno.exit()` need no
 * permission): an attempt that awaits stops within half a second, a
 * CPU-bound one at its end. On Windows, where a process's parent id stays
 * the same when the parent ends, a worker still finishes its attempt first.
 *
 * @module
 */

/** How often a worker that neither the kernel nor a watcher ends looks at its parent, in milliseconds. */
const WATCH_MS = 500;

/** Whether the `setpriv` each shell finds takes `--pdeathsig`, once asked. */
const probed = new Map<string, boolean>();

/**
 * Whether workers started through `shell` should be started without
 * `setpriv`: it is found there but refuses `--pdeathsig` (util-linux before
 * 2.33). The pool asks when a worker started with it died before it was
 * ready; the answer is kept for the process, so the first such death asks
 * once (about as long as starting one process), and a death for another
 * reason does not change how workers start.
 *
 * @example Usage
 * ```ts ignore
 * import { setprivRefuses } from "./parent_watch.ts";
 *
 * console.log(setprivRefuses("/bin/sh")); // false on Debian and where there is no setpriv
 * ```
 *
 * @param shell The POSIX shell workers start through.
 * @param ask Ask now when not yet asked; otherwise answer only from what is known.
 * @returns Whether `setpriv` is there and refuses `--pdeathsig`.
 */
export function setprivRefuses(shell: string, ask = true): boolean {
  let takes = probed.get(shell);
  if (takes === undefined) {
    if (!ask) return false;
    try {
      // setpriv reads its options in order: `--help` after `--pdeathsig`
      // prints its usage and succeeds, with no program to run. Where there
      // is no setpriv, there is none to refuse.
      const { code } = new Deno.Command(shell, {
        args: [
          "-c",
          "command -v setpriv >/dev/null || exit 0; exec setpriv --pdeathsig KILL --help",
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).outputSync();
      takes = code === 0;
    } catch {
      takes = true;
    }
    probed.set(shell, takes);
  }
  return !takes;
}

/** Whether each shell, with each `PATH`, finds a `setpriv`, once asked. */
const found = new Map<string, boolean>();

/**
 * Whether a worker started through `shell` with the environment `env` over
 * this process's finds a `setpriv` (as its `command -v` would), so that
 * {@linkcode workerScript} starts the worker through it. Where the `PATH`
 * the worker sees can be read, its directories are looked in, as the shell
 * would (a few `stat`s); otherwise the shell is
 * asked (one short `sh`, which would cost the first worker's start a few
 * milliseconds more). The answer is kept for the shell and that `PATH`, so
 * only the first worker started with them looks.
 *
 * @example Usage
 * ```ts ignore
 * import { setprivFound } from "./parent_watch.ts";
 *
 * console.log(setprivFound("/bin/sh")); // true on Debian, false on macOS
 * ```
 *
 * @param shell The POSIX shell workers start through.
 * @param env The variables the workers get over this process's environment (none).
 * @returns Whether the shell finds `setpriv`.
 */
export function setprivFound(shell: string, env: Record<string, string> = {}): boolean {
  let path: string | undefined = env.PATH;
  if (path === undefined) {
    try {
      path = Deno.env.get("PATH");
    } catch {
      // Not allowed to read it: the shell is asked.
    }
  }
  const key = `${shell}\0${path ?? ""}`;
  let is = found.get(key);
  if (is === undefined) {
    is = (path === undefined ? undefined : onPath("setpriv", path)) ?? askShell(shell, env);
    found.set(key, is);
  }
  return is;
}

/**
 * Whether a directory of `path` holds an executable file `name`, as a POSIX
 * shell's `command -v` looks (an empty entry is the working directory), or
 * `undefined` where this process may not look (no read permission).
 */
function onPath(name: string, path: string): boolean | undefined {
  for (const dir of path.split(":")) {
    try {
      const info = Deno.statSync(`${dir || "."}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) return undefined;
      // Not there, or not a directory this process's user may search: the shell would not find it either.
    }
  }
  return false;
}

/** Whether `shell`, with `env` over this process's environment, finds `setpriv`, asked. */
function askShell(shell: string, env: Record<string, string>): boolean {
  try {
    return new Deno.Command(shell, {
      args: ["-c", "command -v setpriv >/dev/null 2>&1"],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).outputSync().code === 0;
  } catch {
    return false;
  }
}

/** A worker's watcher (see {@linkcode watchWorker}). */
export interface WorkerWatcher {
  /**
   * The worker ended: kills the watcher, which then kills nothing, and
   * resolves once it is reaped and its pipe closed.
   */
  stop(): Promise<void>;
}

/**
 * Starts a worker's watcher: a `shell` in a session of its own, asleep in a
 * `read` of a pipe only this process holds, that kills the worker with
 * SIGKILL (its process group, when `group`) once that `read` returns, when
 * this process is gone. Call {@linkcode WorkerWatcher.stop} when the worker
 * ends.
 *
 * @example Usage
 * ```ts ignore
 * import { watchWorker } from "./parent_watch.ts";
 *
 * const worker = new Deno.Command("/bin/sh", { args: ["-c", "exec sleep 60"] }).spawn();
 * const watcher = watchWorker("/bin/sh", worker.pid, { group: false });
 * await worker.status;
 * await watcher.stop();
 * ```
 *
 * @param shell A POSIX shell this process may run.
 * @param pid The worker's process id.
 * @param options `group`: the worker leads a process group, which goes with it.
 * @returns The watcher.
 * @throws {Error} When the shell cannot be started.
 */
export function watchWorker(
  shell: string,
  pid: number,
  options: { group: boolean },
): WorkerWatcher {
  const child = new Deno.Command(shell, {
    // `$0` names it in `ps`; `$1` is what it kills.
    args: [
      "-c",
      'read _; kill -s KILL -- "$1"',
      "cloudknot-watcher",
      String(options.group ? -pid : pid),
    ],
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
    // Out of the terminal's reach: a Ctrl-C the pool's process survives must not end it.
    detached: true,
  }).spawn();
  return {
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
      await child.status;
      // Closed only now: the watcher cannot read its end any more.
      await child.stdin.close().catch(() => {});
    },
  };
}

/**
 * The script a shell runs (`shell -c SCRIPT deno ARGS…`) to start a worker
 * with its stderr on its stdout, as the shell's own process (`exec`), so the
 * worker's pid and exit status are the shell's; through `setpriv
 * --pdeathsig KILL` when `setpriv` says so (the shell finds one that takes
 * it: {@linkcode setprivFound}, not {@linkcode setprivRefuses}).
 *
 * @example Usage
 * ```ts ignore
 * import { workerScript } from "./parent_watch.ts";
 *
 * console.log(workerScript("/bin/sh", { setpriv: false, group: false }));
 * // exec "$0" "$@" 2>&1
 * ```
 *
 * @param shell The shell that runs it (it starts the group's watcher too).
 * @param options `setpriv`: start the worker through it; `group`: the
 *   worker leads a process group of its own, which a watcher then kills with
 *   it.
 * @returns The script.
 */
export function workerScript(
  shell: string,
  options: { setpriv: boolean; group: boolean },
): string {
  if (!options.setpriv) return 'exec "$0" "$@" 2>&1';
  const worker = 'exec setpriv --pdeathsig KILL "$0" "$@" 2>&1';
  // The watcher's parent is the worker (the shell's pid, $$, which becomes the
  // worker): it gets SIGTERM when the worker ends, however it ends, and then
  // kills the group. One whose worker ended before setpriv armed the signal
  // sees another parent and does it at once.
  const watcher = `trap 'kill -9 0' TERM; [ "$PPID" = "$0" ] || kill -9 0; ` +
    "sleep 2147483647 & wait";
  const group = options.group
    ? `setpriv --pdeathsig TERM ${quote(shell)} -c ${quote(watcher)} "$$" ` +
      "</dev/null >/dev/null 2>&1 &\n"
    : "";
  return `${group}${worker}`;
}

/**
 * In a worker: stops it if its pool's process is gone. At once if it is
 * gone already (it may have ended before the kernel was told to signal, or
 * before its watcher started); then, unless the kernel or a watcher
 * ({@linkcode watchWorker}) ends the worker, whenever a look twice a second
 * finds it gone. A worker that leads a process group kills the group
 * first, when its permissions allow `Deno.kill`. On Windows, where an
 * orphan keeps its parent's id, it does nothing.
 *
 * @example Usage
 * ```ts ignore
 * import { watchParent } from "./parent_watch.ts";
 *
 * watchParent(1234, { parentDeath: false, group: false });
 * ```
 *
 * @param parent The pid of the pool's process.
 * @param options `parentDeath`: the kernel or a watcher kills the worker
 *   when its parent ends, so no timer is needed; `group`: the worker leads a process group.
 */
export function watchParent(
  parent: number,
  options: { parentDeath: boolean; group: boolean },
): void {
  const gone = () => {
    if (options.group) {
      try {
        Deno.kill(-Deno.pid, "SIGKILL");
      } catch {
        // Only a full `run` permission may; the worker still ends.
      }
    }
    Deno.exit(1);
  };
  // Windows does not give an orphan another parent: nothing to see there.
  if (Deno.build.os === "windows") return;
  if (Deno.ppid !== parent) gone();
  if (options.parentDeath) return;
  Deno.unrefTimer(setInterval(() => {
    if (Deno.ppid !== parent) gone();
  }, WATCH_MS));
}

/** Quotes a word for a POSIX shell. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
