/**
 * Where a local run's pool gets its items. A large item (at least
 * {@linkcode FILE_BYTES}) is sent as its place in the run's `inputs`, which
 * the worker reads itself: it was written there before it was offered, so
 * it comes from the page cache, in one read, without passing through this
 * process or a pipe. A small item comes from the chunk of inputs just
 * written, from memory, when a worker takes it at once; otherwise from the
 * run's `inputs`, one read per batch. Large buffers are freed as soon as
 * they are done with (a large item once written; a read of many small ones
 * once their attempts ended: a worker reads a whole batch before it runs any
 * of it), rather than left to the garbage collector, which lets them pile up
 * by the hundred.
 *
 * @module
 */
import type { ItemSource } from "../../job/pool.ts";
import type { FileSpan } from "../../job/wire.ts";
import type { RunDir } from "./run_dir.ts";

/**
 * Items at least this large are read by the worker from the run's inputs
 * (a pipe holds 64 KiB: a larger item would take several trips through it),
 * and buffers at least this large are freed as soon as they are done with.
 */
export const FILE_BYTES = 64 * 1024;

/** A buffer lent to the workers, and how many of its items have not ended. */
interface Loan {
  buffer: ArrayBuffer;
  left: number;
}

/**
 * The item source of a local run's pool.
 *
 * @example Usage
 * ```ts ignore
 * import { ItemFeed } from "./item_feed.ts";
 *
 * const feed = new ItemFeed(files, true);
 * await files.appendItems(chunk);
 * feed.offer(0, chunk, () => pool.addRange(0, chunk.length));
 * ```
 */
export class ItemFeed implements ItemSource {
  /** The run's inputs: workers read large items there. */
  readonly file: string;
  #files: RunDir;
  #own: boolean;
  #from = 0;
  #items: readonly Uint8Array[] = [];
  #loans = new Map<number, Loan>();

  /**
   * Makes the source of one run's pool.
   *
   * @param files The run's files.
   * @param own Whether the chunks offered are this run's own copies, which it may free.
   */
  constructor(files: RunDir, own: boolean) {
    this.#files = files;
    this.#own = own;
    this.file = files.inputsPath;
  }

  /**
   * Offers a chunk of items just written while `add` queues them: a small
   * item a worker takes then comes from memory. Large items are freed then
   * (when they are the run's own): workers read them from the file.
   *
   * @param from The first item's index.
   * @param items The items' encoded bytes, already written.
   * @param add Queues the items.
   */
  offer(from: number, items: readonly Uint8Array[], add: () => void): void {
    this.#from = from;
    this.#items = items;
    try {
      add();
    } finally {
      if (this.#own) { for (const bytes of items) if (whole(bytes)) free(bytes.buffer); }
      this.#items = [];
    }
  }

  /**
   * Reads items: a large one's place in the run's inputs; small ones from
   * the chunk on offer when every one is in it, otherwise from the inputs.
   *
   * @param indices The items.
   * @returns Their bytes or places, in the same order.
   */
  read(indices: readonly number[]): (Uint8Array | FileSpan)[] {
    const files = this.#files;
    const count = files.itemCount;
    let out: (Uint8Array | FileSpan)[] | undefined;
    let small: number[] | undefined;
    for (let k = 0; k < indices.length; k++) {
      const index = indices[k]!;
      if (index >= count || files.itemLength(index) < FILE_BYTES) {
        small?.push(index);
        continue;
      }
      // The first large item: the small ones before it are read with the rest.
      if (out === undefined) {
        out = new Array(indices.length);
        small = indices.slice(0, k);
      }
      out[k] = files.span(index);
    }
    if (out === undefined) return this.#readSmall(indices);
    const bytes = this.#readSmall(small!);
    let s = 0;
    for (let k = 0; k < indices.length; k++) out[k] ??= bytes[s++]!;
    return out;
  }

  /**
   * An attempt of an item ended: the worker is done with its bytes.
   *
   * @param index The item.
   */
  ended(index: number): void {
    const loan = this.#loans.get(index);
    if (loan === undefined) return;
    this.#loans.delete(index);
    if (--loan.left === 0) free(loan.buffer);
  }

  /** Small items, from the chunk on offer when every one is in it, otherwise from the inputs. */
  #readSmall(indices: readonly number[]): Uint8Array[] {
    if (indices.length === 0) return [];
    const fresh = this.#fresh(indices);
    if (fresh !== undefined) return fresh;
    const items = this.#files.readItems(indices);
    this.#lend(indices, items);
    return items;
  }

  #fresh(indices: readonly number[]): Uint8Array[] | undefined {
    const out: Uint8Array[] = new Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const item = this.#items[indices[k]! - this.#from];
      if (item === undefined) return undefined;
      out[k] = item;
    }
    return out;
  }

  /**
   * Keeps track of the large buffers of the inputs file's reads lent to a
   * worker, each shared by the items of one read.
   */
  #lend(indices: readonly number[], items: readonly Uint8Array[]): void {
    let last: Loan | undefined;
    for (let k = 0; k < items.length; k++) {
      const buffer = items[k]!.buffer as ArrayBuffer;
      if (buffer.byteLength < FILE_BYTES) continue;
      // An item sent again (its worker died) is done with its earlier bytes.
      this.ended(indices[k]!);
      if (last?.buffer !== buffer) last = { buffer, left: 0 };
      last.left++;
      this.#loans.set(indices[k]!, last);
    }
  }
}

/** Whether the bytes are all of their buffer. */
function whole(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/** Frees a buffer's memory at once (it is detached and reads as empty). */
function free(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer && buffer.byteLength >= FILE_BYTES && !buffer.resizable) {
    buffer.transfer(0);
  }
}
