// Headless Chromium (Debian's `chromium`) for tests that check a page draws:
// started as the machine notes say, with every background connection off and
// a fresh profile, it takes a screenshot of a local file.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** Where Debian puts Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed here. */
export const hasChromium: boolean = await Deno.stat(CHROMIUM).then(() => true, () => false);

/**
 * Registers a test that needs Chromium: under `CI=true` it fails when Chromium
 * is missing (`.ci/run` installs it); elsewhere it is ignored with a reason.
 */
export function chromiumTest(name: string, fn: () => Promise<void>): void {
  const ci = Deno.env.get("CI") === "true";
  if (!hasChromium && !ci) {
    console.log(`ignoring "${name}": ${CHROMIUM} is missing (apt-get install chromium)`);
  }
  Deno.test({ name, ignore: !hasChromium && !ci, fn });
}

/** Takes a screenshot of a local HTML file; returns the PNG's bytes. */
export async function screenshot(
  file: string,
  options: { width?: number; height?: number } = {},
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "ck-chromium-" });
  try {
    const png = join(dir, "shot.png");
    const out = await new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        `--user-data-dir=${join(dir, "profile")}`,
        `--window-size=${options.width ?? 1000},${options.height ?? 1000}`,
        `--screenshot=${png}`,
        pathToFileURL(file).href,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`chromium failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`);
    }
    return await Deno.readFile(png);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
