/**
 * Where a local run's pool gets its items: the chunk of inputs just written,
 * from memory, when a worker takes its items at once; otherwise the run's
 * `inputs` file, one read per batch. Large items' buffers are freed as soon
 * as they are done with (written and not taken, or their attempt ended: a
 * worker reads a whole batch before it runs any of it), rather than left to
 * the garbage collector, which lets 1 MiB items pile up by the hundred.
 *
 * @module
 */
import type { ItemSource } from "../../job/pool.ts";
import type { RunDir } from "./run_dir.ts";

/** Buffers at least this large are freed as soon as they are done with. */
const RELEASE_BYTES = 64 * 1024;

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
  #files: RunDir;
  #own: boolean;
  #from = 0;
  #items: readonly Uint8Array[] = [];
  #taken: boolean[] = [];
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
  }

  /**
   * Offers a chunk of items just written while `add` queues them: what a
   * worker takes then comes from memory. Large items not taken are freed
   * (when they are the run's own).
   *
   * @param from The first item's index.
   * @param items The items' encoded bytes, already written.
   * @param add Queues the items.
   */
  offer(from: number, items: readonly Uint8Array[], add: () => void): void {
    this.#from = from;
    this.#items = items;
    this.#taken = [];
    try {
      add();
    } finally {
      if (this.#own) {
        items.forEach((bytes, k) => this.#taken[k] || (whole(bytes) && free(bytes.buffer)));
      }
      this.#items = [];
    }
  }

  /**
   * Reads items, from the chunk on offer when every one is in it, otherwise
   * from the run's inputs.
   *
   * @param indices The items.
   * @returns Their bytes, in the same order.
   */
  read(indices: readonly number[]): Uint8Array[] {
    const fresh = this.#fresh(indices);
    if (fresh !== undefined) {
      if (this.#own) this.#lend(indices, fresh, true);
      return fresh;
    }
    const items = this.#files.readItems(indices);
    this.#lend(indices, items, false);
    return items;
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

  #fresh(indices: readonly number[]): Uint8Array[] | undefined {
    const out: Uint8Array[] = new Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const item = this.#items[indices[k]! - this.#from];
      if (item === undefined) return undefined;
      out[k] = item;
    }
    for (const index of indices) this.#taken[index - this.#from] = true;
    return out;
  }

  /**
   * Keeps track of the large buffers lent to a worker: each item's own
   * (`alone`), or those of the inputs file's reads, shared by the items of
   * one read.
   */
  #lend(indices: readonly number[], items: readonly Uint8Array[], alone: boolean): void {
    let last: Loan | undefined;
    for (let k = 0; k < items.length; k++) {
      const buffer = items[k]!.buffer as ArrayBuffer;
      if (buffer.byteLength < RELEASE_BYTES || (alone && !whole(items[k]!))) continue;
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
  if (buffer instanceof ArrayBuffer && buffer.byteLength >= RELEASE_BYTES && !buffer.resizable) {
    buffer.transfer(0);
  }
}
