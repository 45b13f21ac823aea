// A clone of this repository at a git ref, for the benchmarks that compare refs in one run
// (`first_run.ts`, `cli_start.ts`).

/** Runs git with these arguments; its error output is the error's message when it fails. */
async function git(...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", { args }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/** Clones `repo` into `path` (which must not exist) and checks out `ref` there. */
export async function cloneAt(repo: string, ref: string, path: string): Promise<void> {
  await git("clone", "--quiet", "--no-checkout", repo, path);
  await git("-C", path, "checkout", "--quiet", ref);
}
