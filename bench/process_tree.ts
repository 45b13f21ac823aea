// Runs a command and samples the resident memory of its whole process tree
// (Linux /proc), returning its stdout, the peak RSS in bytes and, where GNU
// time is installed, the CPU time of the whole tree (every process it waited
// for included), which the load of a shared machine does not inflate.

function children(): Map<number, number[]> {
  const tree = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = tree.get(ppid) ?? [];
      list.push(Number(entry.name));
      tree.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  return tree;
}

function cmdline(pid: number): string | undefined {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return undefined;
  }
}

function treeRss(root: number, withRoot: boolean): number {
  const tree = children();
  let total = 0;
  const stack = withRoot ? [root] : [...(tree.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const kids = tree.get(pid) ?? [];
    stack.push(...kids);
    // A child forked but not yet started on its program shares its parent's
    // pages and shows its parent's RSS: counting it would count the parent twice.
    const own = cmdline(pid);
    const parent = [...tree].find(([, list]) => list.includes(pid))?.[0];
    if (parent !== undefined && own !== undefined && own === cmdline(parent)) continue;
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      total += kb * 1024;
    } catch {
      // Gone.
    }
  }
  return total;
}

export interface Measured {
  stdout: string;
  wallMs: number;
  peakRss: number;
  /** User plus system CPU time of the whole tree, when GNU time is installed. */
  cpuMs?: number;
}

const GNU_TIME = "/usr/bin/time";
const hasTime = (() => {
  try {
    return Deno.statSync(GNU_TIME).isFile;
  } catch {
    return false;
  }
})();

export async function measure(cmd: string, args: string[], cwd?: string): Promise<Measured> {
  // GNU time waits for the command, so its figures count every process the
  // command waited for (a knot's workers included); its own memory is not
  // counted in the tree's.
  const times = hasTime ? await Deno.makeTempFile({ prefix: "bench-time-" }) : undefined;
  const start = performance.now();
  const child = new Deno.Command(times ? GNU_TIME : cmd, {
    args: times ? ["-f", "%U %S", "-o", times, cmd, ...args] : args,
    cwd,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(child.pid, times === undefined));
  }, 25);
  const out = await child.output();
  clearInterval(timer);
  const wallMs = performance.now() - start;
  let cpuMs: number | undefined;
  if (times) {
    const [user, system] = (await Deno.readTextFile(times)).trim().split("\n").at(-1)!.split(" ");
    cpuMs = (Number(user) + Number(system)) * 1000;
    await Deno.remove(times);
  }
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} exited with code ${out.code}`);
  return {
    stdout: new TextDecoder().decode(out.stdout),
    wallMs,
    peakRss: peak,
    ...(cpuMs !== undefined ? { cpuMs } : {}),
  };
}
