// Runs a command and samples the resident memory of its whole process tree
// (Linux /proc), returning its stdout and the peak RSS in bytes.

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

function treeRss(root: number): number {
  const tree = children();
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      total += kb * 1024;
    } catch {
      // Gone.
    }
    stack.push(...(tree.get(pid) ?? []));
  }
  return total;
}

export interface Measured {
  stdout: string;
  wallMs: number;
  peakRss: number;
}

export async function measure(cmd: string, args: string[], cwd?: string): Promise<Measured> {
  const start = performance.now();
  const child = new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "inherit" }).spawn();
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(child.pid));
  }, 25);
  const out = await child.output();
  clearInterval(timer);
  const wallMs = performance.now() - start;
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} exited with code ${out.code}`);
  return { stdout: new TextDecoder().decode(out.stdout), wallMs, peakRss: peak };
}
