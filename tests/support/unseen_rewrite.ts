/**
 * Rewrites a file so that nothing `stat` says of it changes: a script that
 * writes keys of the same length within the same millisecond (Deno's mtime),
 * on the same inode, stood in for by putting the file's times back.
 */
import assert from "node:assert/strict";

/**
 * Runs `write`, which rewrites `file` in place, then puts back the file's
 * access and modification times, and asserts that its time, size and inode
 * read as before.
 *
 * @param file The file.
 * @param write What rewrites it (with contents of the same length).
 */
export async function rewriteUnseen(file: string, write: () => Promise<unknown>): Promise<void> {
  const before = await Deno.stat(file);
  await write();
  await Deno.utime(file, before.atime!, before.mtime!);
  const after = await Deno.stat(file);
  assert.deepEqual(
    [after.mtime?.getTime(), after.size, after.ino],
    [before.mtime?.getTime(), before.size, before.ino],
    "the rewrite shows in no stat field the session could have compared",
  );
}
