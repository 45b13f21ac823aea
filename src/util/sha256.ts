/**
 * The SHA-256 of a text or of bytes, in lowercase hex: the identity of a
 * function artifact, a runtime bundle or a directory.
 *
 * Web Crypto, not `node:crypto`: it is in every runtime that runs this code
 * (the client and the job containers) without an import.
 *
 * @module
 */

const utf8 = new TextEncoder();

/**
 * The SHA-256 of a text (as UTF-8) or of bytes, as 64 lowercase hex digits.
 *
 * @example Usage
 * ```ts
 * import { sha256Hex } from "./sha256.ts";
 *
 * console.log(await sha256Hex("abc")); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 *
 * @param data The text or the bytes.
 * @returns The digest in hex.
 */
export async function sha256Hex(data: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof data === "string" ? utf8.encode(data) : data;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
