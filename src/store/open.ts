/**
 * Opens a store from its URL, as found in a job's command line.
 *
 * @module
 */
import { fileURLToPath } from "../util/path.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { LocalStore } from "./local.ts";
import type { ObjectStore } from "./store.ts";

/** How to open the stores of each URL scheme. */
const openers = new Map<string, (url: URL) => ObjectStore | Promise<ObjectStore>>([
  ["file:", (url) => new LocalStore(fileURLToPath(url))],
  // Loaded on first use, so a local worker never loads the AWS layer.
  ["s3:", async (url) => (await import("./s3.ts")).openS3Store(url)],
]);

/**
 * Opens the store a URL names: `file:///dir`, or `s3://bucket/prefix` with an
 * AWS session made from the environment (`AwsSession.create()`).
 *
 * @example Usage
 * ```ts
 * import { openStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`file://${dir}`);
 * await store.put("k", "v");
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param url The store's URL.
 * @returns The store.
 */
export async function openStore(url: string | URL): Promise<ObjectStore> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CloudknotInputError(
      `Invalid store URL "${url}": use file:///path or s3://bucket/prefix`,
    );
  }
  const opener = openers.get(parsed.protocol);
  if (opener === undefined) {
    throw new CloudknotInputError(
      `Unsupported store URL "${url}": use ${[...openers.keys()].join(" or ")} URLs`,
    );
  }
  return await opener(parsed);
}
