/**
 * The inputs of a map call as they stream in: each item is checked and
 * encoded when it is read, and handed on in chunks, so a target can start
 * work before the last input is read and never holds every input at once.
 *
 * @module
 */
import { CloudknotInputError } from "../util/errors.ts";
import { encodeInput } from "./codec/encode.ts";
import { CodecError } from "./codec/error.ts";

/** Items per chunk, at most. */
const CHUNK_ITEMS = 1024;
/** A chunk ends once its items' bytes reach this. */
const CHUNK_BYTES = 1 << 20;

/** Options for {@linkcode encodeInputs}. */
export interface EncodeInputsOptions {
  /** Each item must be an array of arguments. @default {false} */
  starmap?: boolean;
}

/**
 * Reads a map call's inputs lazily and yields them encoded, in chunks of
 * consecutive items: up to 1,024 items or 1 MiB from an array or another
 * iterable, one item at a time from an async iterable (whose items may be
 * slow to come). A bad item throws when it is reached, naming its index.
 *
 * @example Usage
 * ```ts
 * import { decode } from "@cloudknot/cloudknot/codec";
 * import { encodeInputs } from "@cloudknot/cloudknot/job";
 *
 * for await (const chunk of encodeInputs([1, 2, 3])) console.log(chunk.map((b) => decode(b))); // [ 1, 2, 3 ]
 * ```
 *
 * @param inputs An array, an iterable or an async iterable of items.
 * @param options `starmap` requires each item to be an array.
 * @returns The encoded items, in chunks, in input order.
 * @throws {CodecError} When an item holds something the codec cannot carry.
 * @throws {CloudknotInputError} With `starmap`, when an item is not an array, or when the inputs are not iterable.
 */
export async function* encodeInputs(
  inputs: Iterable<unknown> | AsyncIterable<unknown>,
  options: EncodeInputsOptions = {},
): AsyncGenerator<Uint8Array[]> {
  if (
    inputs === null || (typeof inputs !== "object" && typeof inputs !== "string") ||
    !(Symbol.iterator in Object(inputs) || Symbol.asyncIterator in Object(inputs))
  ) {
    throw new CloudknotInputError("inputs must be an array or another iterable of items", {
      field: "inputs",
    });
  }
  let index = 0;
  const one = (item: unknown): Uint8Array => {
    if (options.starmap && !Array.isArray(item)) {
      throw new CloudknotInputError(
        `Item ${index} is not an array: with starmap, each item is the array of arguments for one call`,
        { field: "inputs" },
      );
    }
    try {
      // A map has no maxDepth to raise: a value too deep is told to be flattened.
      return encodeInput(item);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      throw new CodecError(`Item ${index}: ${e.message}`, {
        path: e.path,
        kind: e.kind,
        index,
        cause: e.cause,
      });
    } finally {
      index++;
    }
  };
  if (Symbol.asyncIterator in Object(inputs)) {
    for await (const item of inputs as AsyncIterable<unknown>) yield [one(item)];
    return;
  }
  let chunk: Uint8Array[] = [];
  let bytes = 0;
  for (const item of inputs as Iterable<unknown>) {
    const encoded = one(item);
    chunk.push(encoded);
    bytes += encoded.byteLength;
    if (chunk.length >= CHUNK_ITEMS || bytes >= CHUNK_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
  }
  if (chunk.length > 0) yield chunk;
}
