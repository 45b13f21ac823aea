/**
 * Formatting shared by the estimate, the cost report and the run's pictures.
 *
 * @module
 */

/**
 * Formats seconds as `42s`, `3m 20s` or `2h 05m`.
 *
 * @param seconds The duration.
 * @returns The text.
 */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  }
  return `${Math.floor(seconds / 3600)}h ${
    String(Math.round((seconds % 3600) / 60)).padStart(2, "0")
  }m`;
}

/**
 * Formats a byte count as `512 B`, `1.5 KB`, `2.0 MB` (decimal units, as S3 bills).
 *
 * @param bytes The count.
 * @returns The text.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let n = bytes;
  let unit = "B";
  for (const u of units) {
    if (n < 1000) break;
    n /= 1000;
    unit = u;
  }
  return `${n.toFixed(1)} ${unit}`;
}

/**
 * Escapes text for HTML.
 *
 * @param text The text.
 * @returns The escaped text.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
