/**
 * Nearest-rank percentiles, as the benchmarks report them: every figure is a latency or a count
 * that was actually measured, never one interpolated between two.
 *
 * @module
 */

/**
 * The `p`-th percentile (0..100) of ascending `sorted` values by nearest rank; NaN for none.
 *
 * @example
 * ```ts
 * percentile([10, 20, 30, 40], 50); // 20
 * percentile([10, 20, 30, 40], 95); // 40
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of `values` in any order (nearest rank: a value of the list); NaN for none. */
export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}
