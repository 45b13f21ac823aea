/**
 * Object storage behind one interface: a local directory, an S3 prefix, and
 * opening either from its URL.
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
 * @module
 */
export * from "./store.ts";
export * from "./local.ts";
export * from "./open.ts";
export * from "./s3.ts";
