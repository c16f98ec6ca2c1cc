/**
 * Synthetic rows for monitoring.function_metrics, written the way a function isolate flushes
 * them (one INSERT per flush), plus the small numeric helpers the monitoring tests share.
 *
 * @module
 */
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import {
  emptyMetricRow,
  type MetricRow as FlushedRow,
} from "../../supabase/functions/_shared/metric_row.ts";

/**
 * One row of monitoring.function_metrics (id is generated) as an isolate flushes it, with the
 * flush time these tests set; route demand stays null here (its own test writes it).
 */
export type MetricRow = Omit<FlushedRow, "route_demand"> & { flushed_at: Date };

/** Histogram bounds as the database defines them. */
export interface Bounds {
  latencyMs: number[];
  batchSize: number[];
}

/** Reads monitoring.latency_bounds_ms() and monitoring.batch_size_bounds(). */
export async function readBounds(sql: Sql): Promise<Bounds> {
  const [row] = await sql`
    select monitoring.latency_bounds_ms() as latency, monitoring.batch_size_bounds() as batch`;
  return {
    latencyMs: (row!.latency as unknown[]).map(Number),
    batchSize: (row!.batch as unknown[]).map(Number),
  };
}

/** The minute `date` falls in. */
export function minuteOf(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}

/** Index of the bucket holding `value`: the first bound ≥ value, else the overflow bucket. */
export function bucketIndex(value: number, bounds: number[]): number {
  const i = bounds.findIndex((b) => value <= b);
  return i === -1 ? bounds.length : i;
}

/** Per-bucket counts (not cumulative) of `values`, one more element than `bounds`. */
export function histogram(values: number[], bounds: number[]): number[] {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const v of values) counts[bucketIndex(v, bounds)]!++;
  return counts;
}

/** The exact q-quantile of `values` by nearest rank (the smallest value with ≥ q of them ≤ it). */
export function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

/** A seeded uniform [0, 1) generator (mulberry32), so synthetic data is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A row with zero counters and empty histograms sized by `bounds`, overridden by `row`. */
export function metricRow(bounds: Bounds, row: Partial<MetricRow> = {}): MetricRow {
  const now = new Date();
  const { route_demand: _, ...zero } = emptyMetricRow({
    bucketStart: minuteOf(row.flushed_at ?? now),
    functionName: "flight-search",
    path: "optimized",
    isolateId: "isolate-1",
  });
  return {
    ...zero,
    // Sized by the database's bounds, which these tests read: a mismatch with the code's bounds
    // fails metric_row_test.ts, not every monitoring test.
    latency_buckets: new Array(bounds.latencyMs.length + 1).fill(0),
    batch_size_buckets: new Array(bounds.batchSize.length + 1).fill(0),
    flushed_at: now,
    ...row,
  };
}

/** Inserts `rows` in one statement, as one isolate flush does. */
export async function insertRows(sql: Sql, rows: MetricRow[]): Promise<void> {
  if (rows.length === 0) return;
  // Through JSON: dates become ISO strings, arrays become int[] in jsonb_to_recordset.
  const payload = sql.json(JSON.parse(JSON.stringify(rows)));
  await sql`
    insert into monitoring.function_metrics (
      bucket_start, function_name, path, isolate_id, requests, server_errors, client_errors,
      fallbacks, latency_sum_ms, latency_buckets, db_queries, db_batches, batch_size_buckets,
      cache_l1_hits, cache_l1_misses, cache_l2_hits, cache_l2_misses, kms_requests,
      kms_new_connections, kms_data_key_hits, kms_data_key_misses, memory_rss_bytes, flushed_at)
    select
      bucket_start, function_name, path, isolate_id, requests, server_errors, client_errors,
      fallbacks, latency_sum_ms, latency_buckets, db_queries, db_batches, batch_size_buckets,
      cache_l1_hits, cache_l1_misses, cache_l2_hits, cache_l2_misses, kms_requests,
      kms_new_connections, kms_data_key_hits, kms_data_key_misses, memory_rss_bytes, flushed_at
    from jsonb_to_recordset(${payload}) as r (
      bucket_start timestamptz, function_name text, path text, isolate_id text, requests int,
      server_errors int, client_errors int, fallbacks int, latency_sum_ms double precision,
      latency_buckets int[], db_queries int, db_batches int, batch_size_buckets int[],
      cache_l1_hits int, cache_l1_misses int, cache_l2_hits int, cache_l2_misses int,
      kms_requests int, kms_new_connections int, kms_data_key_hits int, kms_data_key_misses int,
      memory_rss_bytes bigint, flushed_at timestamptz)`;
}

/** Splits `total` into `parts` non-negative integers that add up to it (for spreading counts). */
export function split(total: number, parts: number, random: () => number): number[] {
  const cuts = Array.from({ length: parts - 1 }, () => Math.floor(random() * (total + 1)))
    .sort((a, b) => a - b);
  const out: number[] = [];
  let previous = 0;
  for (const cut of [...cuts, total]) {
    out.push(cut - previous);
    previous = cut;
  }
  return out;
}
