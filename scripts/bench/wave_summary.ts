/**
 * How bench:search sums up the waves of a level: per-wave counts as median, mean, min and max,
 * client latencies as nearest-rank percentiles and mean, rounded as the report prints them.
 *
 * @module
 */
import { median, percentile } from "./percentile.ts";

/** `n` rounded to `digits` decimals. */
export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Median, mean (2 decimals), min and max of per-wave counts. */
export function perWaveSummary(
  values: number[],
): { median: number; mean: number; min: number; max: number } {
  return {
    median: median(values),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length, 2),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** p50, p95, p99 and mean of ascending `sorted` latencies, ms to one decimal. */
export function latencySummary(
  sorted: number[],
): { p50: number; p95: number; p99: number; mean: number } {
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}
