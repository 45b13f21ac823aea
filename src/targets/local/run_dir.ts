/**
 * One local run on disk: a private directory with a constant number of
 * files, however many items the run has.
 *
 * - `run.json`: the {@linkcode LocalRunManifest}, everything needed to finish
 *   the run from another process (the function's artifact, env, limits).
 * - `inputs` and `index`: the items' encoded bytes back to back, and 16 bytes
 *   per item (offset and length, u64 little-endian): the layout of the job
 *   contract (`job/payload.ts`), appended as the inputs stream in.
 * - `records`: the run log. The process running the run appends each
 *   attempt's record (the job contract's encoded {@linkcode JobRecord}) as
 *   `u8 0xce, u8 kind, u16 attempt, u32 index, u32 length, record`, in the
 *   order attempts end, before it reports them: a crash loses only attempts
 *   still in flight. A torn last entry is ignored and cut off by the next
 *   writer.
 * - `output`: what attempts wrote on stdout and stderr, as it arrives:
 *   `u8 0x0f, u8 stream, u16 attempt, u32 index, u32 length, bytes`.
 *
 * Whoever runs the run holds an exclusive lock on `records` (released by the
 * system when its process dies), so another process can tell a live run from
 * an abandoned one and finish the latter.
 *
 * Writes are plain appends to the operating system (no `fsync`): a killed
 * process loses nothing written, a machine that loses power may lose the
 * last seconds.
 *
 * @module
 */
import { join } from "node:path";
import { CloudknotError } from "../../util/errors.ts";
import { INDEX_ENTRY_BYTES, RUN_KEYS, type RunManifest } from "../../job/payload.ts";
import type { Permissions } from "../../job/permissions.ts";
import type { FailureKind } from "../../job/record.ts";
import { KIND_CODES, kindCode } from "../../job/wire.ts";
import { checkPrivateDir, ensurePrivateDir } from "../../store/private_dir.ts";
import { RUN_LOCK_FILES } from "../../store/local_knots.ts";
import { thenSentence } from "../../util/sentence.ts";
import { RunStoreError } from "./errors.ts";

export { RunStoreError };

/** The layout of a local run's directory that this version writes. */
export const LOCAL_RUN_LAYOUT = "log-1";

/** What a local run's `run.json` holds. */
export interface LocalRunManifest extends RunManifest {
  /** The directory's layout: {@linkcode LOCAL_RUN_LAYOUT}. */
  layout: typeof LOCAL_RUN_LAYOUT;
  /** The function's artifact, relative to the knot's directory. */
  artifact: string;
  /** The run's environment variables. */
  env: Record<string, string>;
  /** What the function may do. */
  permissions: Permissions;
  /** Milliseconds an attempt may run. */
  timeoutMs?: number;
  /** Each worker's V8 heap limit, in MiB. */
  memoryMiB?: number;
  /** Set while the inputs are still being written; `count` is then a lower bound. */
  open?: boolean;
  /**
   * Set by whoever finished the run once its process died while the inputs
   * were still being written: the run is the `count` inputs written.
   */
  cutShort?: boolean;
}

/** File names in a run's directory. */
export const RUN_FILES = {
  manifest: RUN_KEYS.manifest,
  inputs: RUN_KEYS.inputs,
  index: RUN_KEYS.index,
  /** The run log, which the run's driver holds locked. */
  records: RUN_LOCK_FILES.local,
  output: "output",
  /** The process id of the run's driver, written when it takes the lock: for who must end it. */
  driver: "driver",
} as const;

const RECORD_MAGIC = 0xce;
const OUTPUT_MAGIC = 0x0f;
const HEAD = 12;
const FILE_MODE = 0o600;
/** Inputs up to this size are written at once; larger ones asynchronously. */
const SYNC_WRITE_BYTES = 256 * 1024;

/** One entry of the run log. */
export interface LogEntry {
  /** The item. */
  index: number;
  /** The attempt. */
  attempt: number;
  /** How it ended. */
  kind: "ok" | FailureKind;
  /** The encoded record (a view, valid during the callback). */
  record: Uint8Array;
}

/** A growable array of numbers. */
class Float64List {
  values = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.byteLength) written += file.writeSync(bytes.subarray(written));
}

async function writeAllAsync(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
}

function readAt(file: Deno.FsFile, offset: number, out: Uint8Array): number {
  file.seekSync(offset, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < out.byteLength) {
    const n = file.readSync(out.subarray(filled));
    if (n === null || n === 0) break;
    filled += n;
  }
  return filled;
}

/**
 * A local run's directory, open for writing (by the process that runs it) or
 * for reading.
 *
 * @example Usage
 * ```ts ignore
 * import { RunDir } from "./run_dir.ts";
 *
 * const run = await RunDir.create(dir, manifest);
 * run.appendItems([bytes]);
 * ```
 */
export class RunDir {
  /** The run's directory. */
  readonly dir: string;
  #ends = new Float64List();
  #inputsEnd = 0;
  #inputs?: Deno.FsFile;
  #inputsRead?: Deno.FsFile;
  #index?: Deno.FsFile;
  #records?: Deno.FsFile;
  #recordsEnd = 0;
  #output?: Deno.FsFile;
  #outputEnd = 0;
  #locked = false;
  /** Where each attempt's output is in `output`: offset, length, … per packed attempt. */
  #outputIndex = new Map<number, number[]>();
  #outputScanned = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Makes a run's directory (private, mode 0700), takes its lock and writes
   * its manifest, in that order: a run that can be seen is already owned.
   *
   * @param dir The run's directory (it must not exist).
   * @param manifest The run's manifest.
   * @returns The run, open for writing.
   */
  static async create(dir: string, manifest: LocalRunManifest): Promise<RunDir> {
    await ensurePrivateDir(dir);
    const run = new RunDir(dir);
    run.#records = await Deno.open(join(dir, RUN_FILES.records), {
      create: true,
      append: true,
      mode: FILE_MODE,
    });
    run.#locked = run.#records.tryLockSync(true);
    run.#noteDriver();
    run.#openInputs();
    await run.writeManifest(manifest);
    return run;
  }

  /**
   * Opens an existing run's directory for reading, checking that it is
   * private.
   *
   * @param dir The run's directory.
   * @returns The run and its manifest; `undefined` when there is no run there.
   */
  static async open(dir: string): Promise<{ run: RunDir; manifest: LocalRunManifest } | undefined> {
    try {
      await checkPrivateDir(dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    let text: string;
    try {
      text = await Deno.readTextFile(join(dir, RUN_FILES.manifest));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    let manifest: LocalRunManifest;
    try {
      manifest = JSON.parse(text);
    } catch (e) {
      const run = new RunDir(dir);
      let records = 0;
      try {
        run.scanRecords(0, () => records++);
      } catch {
        // Said as none.
      }
      throw new CloudknotError(
        `The manifest of the run in ${dir} (${RUN_FILES.manifest}) is damaged, so the run ` +
          thenSentence(
            `cannot be read: ${(e as Error).message}`,
            records > 0
              ? `Its log (${RUN_FILES.records}) keeps ${records} record${
                records === 1 ? "" : "s"
              } of its items, intact, but they cannot be read without the manifest, which ` +
                `says what the items are: put back its ${RUN_FILES.manifest} (from a backup), ` +
                `or map its inputs again`
              : "Map its inputs again",
          ),
        { cause: e },
      );
    }
    return { run: new RunDir(dir), manifest };
  }

  /**
   * The run in `dir` when a live process runs it now (holds its log's lock),
   * opened for reading; `undefined` when none does, or there is no run there
   * that can be read.
   *
   * @param dir The run's directory.
   * @returns The run, or `undefined`.
   */
  static async openLive(dir: string): Promise<RunDir | undefined> {
    const opened = await RunDir.open(dir).catch(() => undefined);
    return opened?.run.isLive() ? opened.run : undefined;
  }

  /**
   * Tries to become the run's writer: takes the lock on its log, unless a
   * live process holds it.
   *
   * @returns Whether this process now owns the run.
   */
  takeOver(): boolean {
    if (this.#locked) return true;
    this.#records ??= Deno.openSync(join(this.dir, RUN_FILES.records), {
      create: true,
      append: true,
      mode: FILE_MODE,
    });
    this.#locked = this.#records.tryLockSync(true);
    if (this.#locked) {
      this.#noteDriver();
      this.#openInputs();
      this.#loadIndex();
    }
    return this.#locked;
  }

  /**
   * Whether a live process (this one or another) runs the run now, without
   * taking it over.
   *
   * @returns Whether its log is locked.
   */
  isLive(): boolean {
    if (this.#locked) return true;
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(join(this.dir, RUN_FILES.records), { read: true });
    } catch {
      return false;
    }
    using _ = file;
    if (!file.tryLockSync(true)) return true;
    file.unlockSync();
    return false;
  }

  /** Writes this process's id as the run's driver's (a hint only: a full disk leaves none). */
  #noteDriver(): void {
    try {
      Deno.writeTextFileSync(join(this.dir, RUN_FILES.driver), String(Deno.pid), {
        mode: FILE_MODE,
      });
    } catch {
      // Said without its pid, then.
    }
  }

  /**
   * The process id of the run's driver, as it wrote it when it took the run; `undefined` when it
   * wrote none.
   *
   * @returns The process id.
   */
  driverPid(): number | undefined {
    try {
      const pid = Number(Deno.readTextFileSync(join(this.dir, RUN_FILES.driver)));
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether this process owns the run. */
  get owned(): boolean {
    return this.#locked;
  }

  /** Items whose inputs are written. */
  get itemCount(): number {
    return this.#ends.length;
  }

  /** The path of the run's `inputs`. */
  get inputsPath(): string {
    return join(this.dir, RUN_FILES.inputs);
  }

  /**
   * The length of an item's encoded bytes.
   *
   * @param index An item whose inputs are written.
   * @returns Its length.
   */
  itemLength(index: number): number {
    const ends = this.#ends.values;
    return ends[index]! - (index === 0 ? 0 : ends[index - 1]!);
  }

  /**
   * Where an item's encoded bytes are in `inputs`.
   *
   * @param index An item whose inputs are written.
   * @returns Its offset and length.
   */
  span(index: number): { offset: number; length: number } {
    const offset = index === 0 ? 0 : this.#ends.values[index - 1]!;
    return { offset, length: this.itemLength(index) };
  }

  /**
   * Writes (or rewrites) the manifest, atomically.
   *
   * @param manifest The manifest.
   */
  async writeManifest(manifest: LocalRunManifest): Promise<void> {
    const path = join(this.dir, RUN_FILES.manifest);
    const tmp = `${path}.tmp-${Deno.pid}`;
    try {
      await Deno.writeTextFile(tmp, JSON.stringify(manifest, null, 2), { mode: FILE_MODE });
      await Deno.rename(tmp, path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw new RunStoreError(this.dir, "write the run's manifest", e);
    }
  }

  /**
   * Writes the manifest a run ends with (its count, its inputs all read): as
   * {@linkcode RunDir.writeManifest}, or, when the disk has no room for the
   * new file that takes, over the bytes of `run.json` in place, as JSON
   * without indentation, padded with spaces, when it is not longer than them
   * (it is far shorter than the indented manifest it replaces, written while
   * the run was open, even with a run cut short's `cutShort` and its count
   * added): that takes no new room on the disk, so a full disk does
   * not leave the run looking open, which its readers would take for a run
   * whose process died while it read its inputs. Not atomic, as the rename
   * is: only a power loss during that one write could tear it.
   *
   * @param manifest The manifest.
   * @throws {RunStoreError} When neither can be written.
   */
  async sealManifest(manifest: LocalRunManifest): Promise<void> {
    try {
      await this.writeManifest(manifest);
    } catch (e) {
      const path = join(this.dir, RUN_FILES.manifest);
      const bytes = new TextEncoder().encode(JSON.stringify(manifest));
      try {
        using file = await Deno.open(path, { write: true });
        const size = (await file.stat()).size;
        if (bytes.byteLength > size) throw e;
        const padded = new Uint8Array(size).fill(0x20);
        padded.set(bytes);
        writeAll(file, padded);
      } catch {
        throw e;
      }
    }
  }

  #openInputs(): void {
    const options = { create: true, append: true, mode: FILE_MODE } as const;
    this.#inputs = Deno.openSync(join(this.dir, RUN_FILES.inputs), options);
    this.#index = Deno.openSync(join(this.dir, RUN_FILES.index), options);
    this.#inputsRead = Deno.openSync(join(this.dir, RUN_FILES.inputs), { read: true });
  }

  /**
   * How many items' inputs are whole in the run's `inputs` and `index`, as a writer that took
   * the run over would find them, read without writing anything (for a folder that cannot be
   * written).
   *
   * @returns The number of items.
   */
  writtenCount(): number {
    if (this.#locked) return this.#ends.length;
    let inputsSize: number;
    try {
      inputsSize = Deno.statSync(join(this.dir, RUN_FILES.inputs)).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0;
      throw e;
    }
    return this.#wholeEntries(this.#readWhole(RUN_FILES.index), inputsSize, () => {});
  }

  /** Calls `each` with the end of each whole entry of `index`, in order; returns how many. */
  #wholeEntries(bytes: Uint8Array, inputsSize: number, each: (end: number) => void): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let end = 0;
    const count = Math.floor(bytes.byteLength / INDEX_ENTRY_BYTES);
    for (let i = 0; i < count; i++) {
      const offset = Number(view.getBigUint64(i * INDEX_ENTRY_BYTES, true));
      const length = Number(view.getBigUint64(i * INDEX_ENTRY_BYTES + 8, true));
      if (offset !== end || offset + length > inputsSize) return i;
      end = offset + length;
      each(end);
    }
    return count;
  }

  /** Reads the index a previous writer left, dropping a torn last entry. */
  #loadIndex(): void {
    const bytes = this.#readWhole(RUN_FILES.index);
    const inputsSize = Deno.statSync(join(this.dir, RUN_FILES.inputs)).size;
    let end = 0;
    this.#wholeEntries(bytes, inputsSize, (at) => this.#ends.push(end = at));
    const entries = this.#ends.length * INDEX_ENTRY_BYTES;
    if (entries !== bytes.byteLength) this.#index!.truncateSync(entries);
    if (end !== inputsSize) this.#inputs!.truncateSync(end);
    this.#inputsEnd = end;
  }

  #readWhole(name: string): Uint8Array {
    try {
      return Deno.readFileSync(join(this.dir, name));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return new Uint8Array(0);
      throw e;
    }
  }

  /**
   * Appends items' encoded bytes to the inputs, then their index entries.
   * Small chunks are written at once; large ones asynchronously, item by
   * item, so the process goes on talking to its workers meanwhile.
   *
   * @param items The items, in input order, following those written before.
   * @throws {RunStoreError} When they cannot be written; nothing of them is kept.
   */
  async appendItems(items: readonly Uint8Array[]): Promise<void> {
    let size = 0;
    for (const item of items) size += item.byteLength;
    const index = new Uint8Array(items.length * INDEX_ENTRY_BYTES);
    const view = new DataView(index.buffer);
    let at = this.#inputsEnd;
    items.forEach((item, i) => {
      view.setBigUint64(i * INDEX_ENTRY_BYTES, BigInt(at), true);
      view.setBigUint64(i * INDEX_ENTRY_BYTES + 8, BigInt(item.byteLength), true);
      at += item.byteLength;
    });
    const first = this.#ends.length;
    try {
      if (size <= SYNC_WRITE_BYTES) {
        const inputs = new Uint8Array(size);
        let offset = 0;
        for (const item of items) {
          inputs.set(item, offset);
          offset += item.byteLength;
        }
        writeAll(this.#inputs!, inputs);
      } else {
        for (const item of items) await writeAllAsync(this.#inputs!, item);
      }
      writeAll(this.#index!, index);
    } catch (e) {
      try {
        this.#inputs!.truncateSync(this.#inputsEnd);
        this.#index!.truncateSync(first * INDEX_ENTRY_BYTES);
      } catch {
        // The entries already written point past the inputs kept: readers drop them.
      }
      throw new RunStoreError(
        this.dir,
        `write the inputs of items ${first} to ${first + items.length - 1}`,
        e,
      );
    }
    let end = this.#inputsEnd;
    for (const item of items) this.#ends.push(end += item.byteLength);
    this.#inputsEnd = end;
  }

  /**
   * Reads items' encoded bytes; consecutive items take one read.
   *
   * @param indices The items.
   * @returns Their bytes, in the same order.
   */
  readItems(indices: readonly number[]): Uint8Array[] {
    const out: Uint8Array[] = new Array(indices.length);
    const ends = this.#ends.values;
    let i = 0;
    while (i < indices.length) {
      let j = i + 1;
      while (j < indices.length && indices[j] === indices[j - 1]! + 1) j++;
      const first = indices[i]!;
      const last = indices[j - 1]!;
      if (last >= this.#ends.length) {
        throw new RunStoreError(this.dir, `read item ${last}`, new Error("it was never written"));
      }
      const start = first === 0 ? 0 : ends[first - 1]!;
      const buf = new Uint8Array(ends[last]! - start);
      try {
        if (readAt(this.#inputsRead!, start, buf) !== buf.byteLength) {
          throw new Error("the inputs file is shorter than its index says");
        }
      } catch (e) {
        throw new RunStoreError(this.dir, `read items ${first} to ${last}`, e);
      }
      for (let k = i; k < j; k++) {
        const index = indices[k]!;
        const from = (index === 0 ? 0 : ends[index - 1]!) - start;
        out[k] = buf.subarray(from, ends[index]! - start);
      }
      i = j;
    }
    return out;
  }

  /**
   * Appends records to the run log, in one write.
   *
   * @param entries The attempts and their encoded records.
   * @throws {RunStoreError} When they cannot be written; the log is cut back to what it held.
   */
  appendRecords(entries: readonly LogEntry[]): void {
    let size = 0;
    for (const e of entries) size += HEAD + e.record.byteLength;
    // One write of everything; for large records, their heads and bytes in
    // turn, sparing a copy.
    const whole = size <= SYNC_WRITE_BYTES ? new Uint8Array(size) : undefined;
    const parts: Uint8Array[] = whole ? [whole] : [];
    const wholeView = whole ? new DataView(whole.buffer) : undefined;
    let at = 0;
    for (const e of entries) {
      // Heads go straight into the one buffer; only large records get heads of their own.
      const head = whole ?? new Uint8Array(HEAD);
      const view = wholeView ?? new DataView(head.buffer);
      const h = whole ? at : 0;
      head[h] = RECORD_MAGIC;
      head[h + 1] = kindCode(e.kind);
      view.setUint16(h + 2, e.attempt, true);
      view.setUint32(h + 4, e.index, true);
      view.setUint32(h + 8, e.record.byteLength, true);
      if (whole) whole.set(e.record, at + HEAD);
      else parts.push(head, e.record);
      at += HEAD + e.record.byteLength;
    }
    try {
      for (const part of parts) writeAll(this.#records!, part);
      this.#recordsEnd += size;
    } catch (e) {
      try {
        this.#records!.truncateSync(this.#recordsEnd);
      } catch {
        // Readers stop at a torn entry.
      }
      const items = entries.map((x) => x.index);
      throw new RunStoreError(
        this.dir,
        `write the records of item${items.length > 1 ? "s" : ""} ${items.join(", ")}`,
        e,
      );
    }
  }

  /**
   * Reads the run log from an offset, handing each whole entry to `each`;
   * a torn entry at the end is left for a later read.
   *
   * @param from The offset to start at (0, or what the previous scan returned).
   * @param each Called for each entry.
   * @returns The offset after the last whole entry.
   */
  scanRecords(from: number, each: (entry: LogEntry) => void): number {
    return this.#scan(
      RUN_FILES.records,
      RECORD_MAGIC,
      from,
      (kind, attempt, index, body) =>
        each({ index, attempt, kind: KIND_CODES[kind] ?? "infrastructure", record: body }),
      (end) => {
        if (this.#locked && this.#records !== undefined) {
          // The writer resumes after the last whole entry, cutting off a torn one.
          this.#records.truncateSync(end);
          this.#recordsEnd = end;
        }
      },
    );
  }

  /**
   * Appends output of an attempt.
   *
   * @param index The item.
   * @param attempt The attempt.
   * @param stream 1 for stdout, 2 for stderr.
   * @param bytes The output.
   * @throws {RunStoreError} When it cannot be written.
   */
  appendOutput(index: number, attempt: number, stream: 1 | 2, bytes: Uint8Array): void {
    const head = new Uint8Array(HEAD);
    const view = new DataView(head.buffer);
    head[0] = OUTPUT_MAGIC;
    head[1] = stream;
    view.setUint16(2, attempt, true);
    view.setUint32(4, index, true);
    view.setUint32(8, bytes.byteLength, true);
    try {
      if (this.#output === undefined) {
        this.#output = Deno.openSync(join(this.dir, RUN_FILES.output), {
          create: true,
          append: true,
          mode: FILE_MODE,
        });
        this.#outputEnd = this.#output.statSync().size;
      }
      // Two writes rather than a copy: output can be large, and is never kept.
      writeAll(this.#output, head);
      writeAll(this.#output, bytes);
      this.#outputEnd += HEAD + bytes.byteLength;
    } catch (e) {
      try {
        this.#output?.truncateSync(this.#outputEnd);
      } catch {
        // Readers stop at a torn entry.
      }
      throw new RunStoreError(this.dir, `write the output of item ${index}`, e);
    }
  }

  /**
   * The output of one attempt, line by line (stdout and stderr as they came).
   * The first call indexes the output file, later calls read only what was
   * added since, so reading every item's output costs one pass.
   *
   * @param index The item.
   * @param attempt The attempt.
   * @returns The lines.
   */
  readOutput(index: number, attempt: number): string[] {
    this.#outputScanned = this.#scan(
      RUN_FILES.output,
      OUTPUT_MAGIC,
      this.#outputScanned,
      (_stream, a, i, body, at) => {
        const key = i * 16 + a;
        const places = this.#outputIndex.get(key) ?? [];
        places.push(at, body.byteLength);
        this.#outputIndex.set(key, places);
      },
    );
    const places = this.#outputIndex.get(index * 16 + attempt);
    if (places === undefined) return [];
    let size = 0;
    for (let i = 1; i < places.length; i += 2) size += places[i]!;
    const bytes = new Uint8Array(size);
    using file = Deno.openSync(join(this.dir, RUN_FILES.output), { read: true });
    let filled = 0;
    for (let i = 0; i < places.length; i += 2) {
      filled += readAt(file, places[i]!, bytes.subarray(filled, filled + places[i + 1]!));
    }
    const lines = new TextDecoder().decode(bytes.subarray(0, filled)).split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines;
  }

  /** Reads entries of a log file in large blocks, from `from` to its last whole entry. */
  #scan(
    name: string,
    magic: number,
    from: number,
    each: (tag: number, attempt: number, index: number, body: Uint8Array, at: number) => void,
    end?: (offset: number) => void,
  ): number {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(join(this.dir, name), { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return from;
      throw e;
    }
    using _ = file;
    file.seekSync(from, Deno.SeekMode.Start);
    let offset = from;
    let buf = new Uint8Array(1 << 20);
    let start = 0;
    let have = 0;
    let eof = false;
    while (true) {
      while (have - start >= HEAD) {
        if (buf[start] !== magic) {
          end?.(offset);
          return offset;
        }
        const view = new DataView(buf.buffer, start, HEAD);
        const length = view.getUint32(8, true);
        if (have - start - HEAD < length) break;
        const body = buf.subarray(start + HEAD, start + HEAD + length);
        each(
          buf[start + 1]!,
          view.getUint16(2, true),
          view.getUint32(4, true),
          body,
          offset + HEAD,
        );
        start += HEAD + length;
        offset += HEAD + length;
      }
      if (eof) break;
      if (start > 0) {
        buf.copyWithin(0, start, have);
        have -= start;
        start = 0;
      }
      // Grow the buffer to hold a large entry whole.
      const need = have >= HEAD
        ? HEAD + new DataView(buf.buffer, 0, HEAD).getUint32(8, true)
        : HEAD;
      if (need > buf.byteLength) {
        const grown = new Uint8Array(Math.max(need, buf.byteLength * 2));
        grown.set(buf.subarray(0, have));
        buf = grown;
      }
      const n = file.readSync(buf.subarray(have));
      if (n === null || n === 0) eof = true;
      else have += n;
    }
    end?.(offset);
    return offset;
  }

  /** Closes the files and releases the lock. */
  close(): void {
    for (const file of [this.#inputs, this.#inputsRead, this.#index, this.#output, this.#records]) {
      try {
        file?.close();
      } catch {
        // Already closed.
      }
    }
    this.#inputs =
      this.#inputsRead =
      this.#index =
      this.#output =
      this.#records =
        undefined;
    this.#locked = false;
  }
}
