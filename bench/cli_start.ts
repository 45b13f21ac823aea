// deno task bench:cli [ref…]: how long the command line takes to start and do a small thing, and
// a script to import the library and to make a local knot of a `func`, for each git ref (default
// HEAD), against the floor of this machine in the same run: `deno run` of an empty module.
//
// Each ref is cloned from this repository into a temporary folder. The command lines of every ref
// and the floor then run in turns (ref A, ref B, floor, ref A, …), so that what else the machine
// does falls on all of them alike. Each runs warm (its modules already in DENO_DIR's cache: the
// first round is not counted), with HOME and the knots directory in a temporary folder of its own.
// Reported: the median wall time and the median CPU time (user and system, of the process and
// everything it started and waited for: the bench's own children's times, from /proc/self/stat),
// and each as a multiple of the floor's.
import { join } from "node:path";
import { cloneAt } from "./clone.ts";
import { median } from "./median.ts";

const repo = join(import.meta.dirname!, "..");
const refs = Deno.args.length > 0 ? Deno.args : ["HEAD"];
const ROUNDS = 15;
const TICKS_PER_SECOND = 100;

/** The CPU seconds of this process's waited-for children so far (cutime + cstime). */
async function childCpu(): Promise<number> {
  const stat = await Deno.readTextFile("/proc/self/stat");
  // The fields after the command's name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // cutime and cstime are fields 16 and 17 of stat(5), so 13 and 14 after the name.
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

interface Case {
  name: string;
  args: (clone: string) => string[];
  stdin?: string;
}

/** A module in each clone that imports the library's `Knot`, as a user's script does. */
const LIBRARY_IMPORT = "bench_import_knot.ts";
/** A module in each clone that makes a local knot of a `func`, as a user's script does first. */
const LIBRARY_CREATE = "bench_create_knot.ts";

const CASES: Case[] = [
  {
    name: 'a script\'s `import { Knot } from "./mod.ts"`',
    args: (clone) => ["run", "-A", join(clone, LIBRARY_IMPORT)],
  },
  {
    name: "a script's `Knot.create` of a `func` (local)",
    args: (clone) => ["run", "-A", join(clone, LIBRARY_CREATE)],
  },
  { name: "`cloudknot --help`", args: (clone) => ["run", "-A", join(clone, "cli.ts"), "--help"] },
  {
    name: "`cloudknot knot list --target local`",
    args: (clone) => ["run", "-A", join(clone, "cli.ts"), "knot", "list", "--target", "local"],
  },
  {
    name: "`cloudknot map` (3 items, local)",
    args: (clone) => [
      "run",
      "-A",
      join(clone, "cli.ts"),
      "map",
      join(clone, "examples/jobs.ts"),
      "square",
      "--concurrency",
      "1",
    ],
    stdin: "[1, 2, 3]",
  },
];

/** Runs deno once and returns its wall and CPU seconds. */
async function once(args: string[], env: Record<string, string>, stdin?: string) {
  const cpu = await childCpu();
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const wall = (performance.now() - start) / 1000;
  if (!out.success) {
    throw new Error(`deno ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return { wall, cpu: await childCpu() - cpu };
}

/** Adds one run's times to a command line's. */
function record(to: { wall: number[]; cpu: number[] }, t: { wall: number; cpu: number }) {
  to.wall.push(t.wall);
  to.cpu.push(t.cpu);
}

const dir = await Deno.makeTempDir({ prefix: "cloudknot-bench-cli-" });
try {
  const clones: { ref: string; path: string; env: Record<string, string> }[] = [];
  for (const [i, ref] of refs.entries()) {
    const path = join(dir, `clone-${i}`);
    await cloneAt(repo, ref, path);
    await Deno.writeTextFile(
      join(path, LIBRARY_IMPORT),
      'import { Knot } from "./mod.ts";\nconsole.log(typeof Knot);\n',
    );
    await Deno.writeTextFile(
      join(path, LIBRARY_CREATE),
      'import { Knot } from "./mod.ts";\n' +
        'await Knot.create({ name: "bench-create", func: (n: number) => n * 2 });\n',
    );
    const home = join(dir, `home-${i}`);
    await Deno.mkdir(home);
    clones.push({
      ref,
      path,
      env: {
        HOME: home,
        NO_COLOR: "1",
        AWS_EC2_METADATA_DISABLED: "true",
        PATH: Deno.env.get("PATH") ?? "",
      },
    });
  }
  const empty = join(dir, "empty.ts");
  await Deno.writeTextFile(empty, "");
  const floor = { wall: [] as number[], cpu: [] as number[] };
  const times = new Map<string, { wall: number[]; cpu: number[] }>();
  for (let round = 0; round <= ROUNDS; round++) {
    // Round 0 warms the caches (and creates the map's knot): it is not counted.
    for (const c of CASES) {
      for (const clone of clones) {
        const t = await once(c.args(clone.path), clone.env, c.stdin);
        const key = `${c.name}\t${clone.ref}`;
        const counted = times.get(key) ?? { wall: [], cpu: [] };
        times.set(key, counted);
        if (round > 0) record(counted, t);
      }
      const t = await once(["run", empty], { PATH: Deno.env.get("PATH") ?? "" });
      if (round > 0) record(floor, t);
    }
  }
  const floorWall = median(floor.wall);
  const floorCpu = median(floor.cpu);
  console.log(
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, ${ROUNDS} rounds`,
  );
  console.log(
    `| command line | ref | wall s (median) | ÷ floor | CPU s (median) | ÷ floor |\n` +
      `| --- | --- | --- | --- | --- | --- |\n` +
      `| floor: \`deno run\` of an empty module | | ${floorWall.toFixed(3)} | 1 | ${
        floorCpu.toFixed(2)
      } | 1 |`,
  );
  for (const [key, t] of times) {
    const [name, ref] = key.split("\t");
    const wall = median(t.wall);
    const cpu = median(t.cpu);
    console.log(
      `| ${name} | ${ref} | ${wall.toFixed(3)} | ${(wall / floorWall).toFixed(1)} | ${
        cpu.toFixed(2)
      } | ${(cpu / floorCpu).toFixed(1)} |`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
