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
