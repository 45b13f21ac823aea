// The processes this machine runs, as tests that look for left-over ones see them (Linux, /proc).

/** A process, from /proc. */
export interface SeenProcess {
  /** Its id. */
  pid: number;
  /** Its parent's id. */
  ppid: number;
  /** Its command line, the arguments joined by spaces, at most 200 characters. */
  args: string;
}

/** The processes whose command line holds `text` (a zombie has none, so it is not one). */
export async function processesWith(text: string): Promise<SeenProcess[]> {
  const found: SeenProcess[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (!cmdline.includes(text)) continue;
    // "pid (name) state ppid …", where the name may hold spaces and parentheses.
    const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`).catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    found.push({
      pid: Number(entry.name),
      ppid,
      args: cmdline.replaceAll("\0", " ").trim().slice(0, 200),
    });
  }
  return found;
}

/**
 * Whether the process `pid` still runs: gone, or a zombie left to be reaped, it does not.
 *
 * @param pid The process.
 * @returns Whether it runs.
 */
export async function running(pid: number): Promise<boolean> {
  // "pid (name) state …", where the name may hold spaces and parentheses.
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

/**
 * Whether the process `pid` has stopped running within `ms`: a process sent SIGKILL still has
 * to be given a core to exit, and on a loaded machine that can come after its parent, or its
 * group's leader, was seen to end. Looked at every 50 ms, and once more at the bound.
 *
 * @param pid The process.
 * @param ms How long it may take.
 * @returns Whether it stopped.
 */
export async function goneWithin(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (!(await running(pid))) return true;
    await new Promise((wake) => setTimeout(wake, 50));
  }
  return !(await running(pid));
}

/**
 * Sends `signal` to `child` unless it has ended already (`kill` throws then:
 * `docker events` ends by itself when dockerd restarts, say), and waits for
 * it to end: for a test's cleanup, which must not hide the test's own error.
 *
 * @param child The child.
 * @param signal What to send it.
 * @returns How it ended.
 */
export async function endChild(
  child: Deno.ChildProcess,
  signal: Deno.Signal = "SIGTERM",
): Promise<Deno.CommandStatus> {
  try {
    child.kill(signal);
  } catch {
    // It has ended already.
  }
  return await child.status;
}
