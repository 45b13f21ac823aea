// The benchmarks' middle value: every table reports medians, with their range beside them.

/** The median of `values` (the upper middle one of an even count); `values` is not changed. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
