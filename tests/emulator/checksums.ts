/**
 * Checksums S3 clients send: CRC32, CRC32C, MD5, SHA-1, SHA-256.
 *
 * @module
 */
import { createHash } from "node:crypto";

function table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}
const CRC32 = table(0xedb88320);
const CRC32C = table(0x82f63b78);

function crc(t: Uint32Array, bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/**
 * Base64 checksum of bytes for an `x-amz-checksum-<algo>` header; undefined
 * for an algorithm the emulator does not know.
 *
 * @example Usage
 * ```ts ignore
 * checksum("crc32", new TextEncoder().encode("hello"));
 * ```
 */
export function checksum(algo: string, bytes: Uint8Array): string | undefined {
  switch (algo) {
    case "crc32":
      return b64(u32(crc(CRC32, bytes)));
    case "crc32c":
      return b64(u32(crc(CRC32C, bytes)));
    case "sha1":
      return createHash("sha1").update(bytes).digest("base64");
    case "sha256":
      return createHash("sha256").update(bytes).digest("base64");
    default:
      return undefined;
  }
}

/**
 * MD5 of bytes, as raw bytes.
 *
 * @example Usage
 * ```ts ignore
 * md5(new Uint8Array());
 * ```
 */
export function md5(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("md5").update(bytes).digest());
}

/**
 * Hex of bytes.
 *
 * @example Usage
 * ```ts ignore
 * hex(md5(new Uint8Array()));
 * ```
 */
export function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Base64 of bytes.
 *
 * @example Usage
 * ```ts ignore
 * base64(new Uint8Array([1]));
 * ```
 */
export function base64(bytes: Uint8Array): string {
  return b64(bytes);
}
