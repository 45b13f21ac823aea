/**
 * Every path under a folder, for a test that proves a call wrote nothing
 * there (the tree before and after are equal).
 *
 * @module
 */
import { join } from "node:path";

/**
 * Every path under `dir`, folders and files, sorted.
 *
 * @param dir The folder.
 * @returns Their paths, `dir` joined.
 */
export async function fileTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string) => {
    for await (const entry of Deno.readDir(at)) {
      out.push(join(at, entry.name));
      if (entry.isDirectory) await walk(join(at, entry.name));
    }
  };
  await walk(dir);
  return out.sort();
}
