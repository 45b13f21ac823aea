// The runtime protocol's surface, computed from the code: what a client of
// this version and a job runtime built into an image by another version must
// agree on (src/job/runtime_protocol.ts). Names and versions only, so a
// refactor that keeps the contract keeps the surface.
//
// Run it to write the snapshot the guard test compares with
// (`deno task protocol:snapshot`).
import { BINARY_MAGIC, BINARY_VERSION, CODEC_VERSION, encode } from "../../src/job/codec.ts";
import { JOB_OPTIONS } from "../../src/job/job_args.ts";
import { RUN_KEYS } from "../../src/job/payload.ts";
import { decodeRecord } from "../../src/job/record.ts";
import { SEGMENT_VERSION } from "../../src/job/record_segment.ts";
import { bundleRuntime } from "../../src/job/runtime_bundle.ts";
import { runItem } from "../../src/job/runtime.ts";
import { RUNTIME_PROTOCOL } from "../../src/job/runtime_protocol.ts";

/** The snapshot of the surface, checked in beside the protocol's number. */
export const SNAPSHOT_FILE = new URL(
  "../../src/job/runtime_protocol_surface.json",
  import.meta.url,
);

/** The task that writes the snapshot. */
export const SNAPSHOT_TASK = "deno task protocol:snapshot";

/** The checked-in snapshot: the protocol it was taken at and its surface. */
export interface SurfaceSnapshot {
  protocol: number;
  surface: Record<string, string>;
}

/**
 * Sample arguments of each function of `RUN_KEYS`: the keys it makes (or
 * reads back) for them are part of the surface. A new function of `RUN_KEYS`
 * needs a line here.
 */
export const RUN_KEY_SAMPLES: Record<string, unknown[]> = {
  record: [3, 2],
  stampedRecord: [1700000000000, 3, 2],
  segment: [1700000000000, 3, 9, 2, 1],
  recordsFrom: [1700000000000],
  parseRecord: ["r/out/1700000000000-s3-9-2-1"],
};

/**
 * Every `CLOUDKNOT_*` variable name a bundle holds as a whole string literal:
 * the names it reads (`env("CLOUDKNOT_X")`, or a constant inlined), not the
 * names that messages mention in passing.
 */
export function envNames(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/(["'`])(CLOUDKNOT_[A-Z0-9_]+)\1/g)) names.add(m[2]!);
  return [...names].sort();
}

/**
 * The surface as flat `name: value` pairs: the job's options, the variables
 * its bundles read, the run's keys, the codec's and the records' versions and
 * the fields of the records a job writes.
 */
export async function protocolSurface(): Promise<Record<string, string>> {
  const surface: Record<string, string> = {};
  for (const [name, type] of Object.entries(JOB_OPTIONS)) surface[`job option --${name}`] = type;

  const bundle = await bundleRuntime({ cacheDir: false });
  for (const name of envNames(bundle.source)) surface[`runtime.js reads ${name}`] = "yes";
  for (const name of envNames(bundle.worker ?? "")) surface[`worker.js reads ${name}`] = "yes";

  for (const [name, member] of Object.entries(RUN_KEYS)) {
    if (typeof member !== "function") {
      surface[`RUN_KEYS.${name}`] = JSON.stringify(member);
      continue;
    }
    const args = RUN_KEY_SAMPLES[name];
    if (args === undefined) {
      throw new Error(
        `RUN_KEYS.${name} is new: give it sample arguments in RUN_KEY_SAMPLES ` +
          `(tests/job/_protocol_surface.ts), then run \`${SNAPSHOT_TASK}\``,
      );
    }
    const made = (member as (...a: unknown[]) => unknown)(...args);
    surface[`RUN_KEYS.${name}(${args.map((a) => JSON.stringify(a)).join(", ")})`] = JSON
      .stringify(made);
  }

  surface["codec CODEC_VERSION"] = String(CODEC_VERSION);
  surface["codec BINARY_VERSION"] = String(BINARY_VERSION);
  surface["codec BINARY_MAGIC"] = [...BINARY_MAGIC].join(",");
  surface["record segment SEGMENT_VERSION"] = String(SEGMENT_VERSION);

  // The records a job writes, as the runtime makes them.
  const spec = { index: 0, attempt: 1, jobId: "j", starmap: false };
  const ok = await runItem({ fn: (x: number) => x, kind: "module" }, encode(5), spec);
  const threw = await runItem(
    {
      fn: () => {
        throw new Error("no");
      },
      kind: "module",
    },
    encode(5),
    spec,
  );
  for (const [status, { bytes }] of [["ok", ok], ["error", threw]] as const) {
    const record = decodeRecord(bytes) as unknown as Record<string, unknown>;
    surface[`${status} record version`] = String(record.version);
    surface[`${status} record fields`] = Object.keys(record).sort().join(",");
  }
  return surface;
}

/**
 * What differs between a snapshot's surface and the code's, one line each:
 * `+ name: value` (new), `- name: value` (gone), `~ name: old -> new`.
 */
export function surfaceChanges(
  snapshot: Record<string, string>,
  current: Record<string, string>,
): string[] {
  const lines: string[] = [];
  for (const name of new Set([...Object.keys(snapshot), ...Object.keys(current)])) {
    const was = snapshot[name];
    const now = current[name];
    if (was === now) continue;
    if (was === undefined) lines.push(`+ ${name}: ${now}`);
    else if (now === undefined) lines.push(`- ${name}: ${was}`);
    else lines.push(`~ ${name}: ${was} -> ${now}`);
  }
  return lines.sort((a, b) => a.slice(2).localeCompare(b.slice(2)));
}

if (import.meta.main) {
  const snapshot: SurfaceSnapshot = {
    protocol: RUNTIME_PROTOCOL,
    surface: await protocolSurface(),
  };
  await Deno.writeTextFile(SNAPSHOT_FILE, JSON.stringify(snapshot, null, 2) + "\n");
  console.log(
    `Wrote ${SNAPSHOT_FILE.pathname}: runtime protocol ${RUNTIME_PROTOCOL}, ` +
      `${Object.keys(snapshot.surface).length} entries`,
  );
}
