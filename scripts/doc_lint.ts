// `deno doc --lint` over every entry point that deno.json exports, so a new
// subpath export is linted without anyone editing the gates.
// Usage: deno run --allow-read --allow-run scripts/doc_lint.ts
import denoJson from "../deno.json" with { type: "json" };

const entries = Object.values(denoJson.exports as Record<string, string>);
const { code } = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--lint", ...entries],
  cwd: new URL("../", import.meta.url),
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(code);
