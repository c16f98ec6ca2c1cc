/**
 * The row of `monitoring.function_metrics`, as every function's metrics write it: its columns,
 * the histogram bounds its arrays count by, an empty row, how two rows of one key merge, and the
 * writer that stores rows with one multi-row INSERT.
 *
 * @module
 */
import type { Sql } from "./db.ts";
import { int4Array } from "./pg_array.ts";

/**
 * Upper bounds (inclusive, ms) of the latency histogram. Must equal
 * `monitoring.latency_bounds_ms()`; a test compares them.
 */
export const latencyBoundsMs: readonly number[] = [
  1,
  2,
  5,
  10,
  25,
  50,
  75,
  100,
  150,
  200,
  300,
  500,
  750,
  1000,
  2500,
  5000,
  10000,
];

/**
 * Upper bounds (inclusive) of the batch-size histogram. Must equal
 * `monitoring.batch_size_bounds()`; a test compares them.
 */
export const batchSizeBounds: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200];

/** Index of the histogram bucket of `value`: the first bound ≥ value, else the overflow slot. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]!) return i;
  return bounds.length;
}

/** The code path a row describes (the CHECK of `function_metrics.path`). */
export type MetricPath = "legacy" | "optimized" | "none";

/** One aggregated row, named as the table's columns. */
export interface MetricRow {
  bucket_start: Date;
  function_name: string;
  path: MetricPath;
  isolate_id: string;
  requests: number;
  server_errors: number;
  client_errors: number;
  fallbacks: number;
  latency_sum_ms: number;
  latency_buckets: number[];
  db_queries: number;
  db_batches: number;
  batch_size_buckets: number[];
  cache_l1_hits: number;
  cache_l1_misses: number;
  cache_l2_hits: number;
  cache_l2_misses: number;
  kms_requests: number;
  kms_new_connections: number;
  /** Data keys the KMS data-key cache served (no KMS call) and those it had to fetch. */
  kms_data_key_hits: number;
  kms_data_key_misses: number;
  /** Resident memory of the isolate when the row was flushed; null until then. */
  memory_rss_bytes: number | null;
  /** Searches per route (`"JFK-ORD": 3`); null when none was recorded. */
  route_demand: Record<string, number> | null;
}

/** Writes rows: one statement for all of them. */
export type MetricsWriter = (rows: readonly MetricRow[]) => Promise<void>;

/** The columns of a row, in the table's order. */
const columns = [
  "bucket_start",
  "function_name",
  "path",
  "isolate_id",
  "requests",
  "server_errors",
  "client_errors",
  "fallbacks",
  "latency_sum_ms",
  "latency_buckets",
  "db_queries",
  "db_batches",
  "batch_size_buckets",
  "cache_l1_hits",
  "cache_l1_misses",
  "cache_l2_hits",
  "cache_l2_misses",
  "kms_requests",
  "kms_new_connections",
  "kms_data_key_hits",
  "kms_data_key_misses",
  "memory_rss_bytes",
  "route_demand",
] as const;

/** The writer for `monitoring.function_metrics` on `sql`: one multi-row INSERT. */
export function metricsWriter(sql: Sql): MetricsWriter {
  return async (rows) => {
    if (rows.length === 0) return;
    await sql`insert into monitoring.function_metrics ${
      sql(
        rows.map((r) => ({
          ...r,
          latency_buckets: int4Array(sql, r.latency_buckets),
          batch_size_buckets: int4Array(sql, r.batch_size_buckets),
          route_demand: r.route_demand === null ? null : sql.json(r.route_demand),
        })),
        ...columns,
      )
    }`;
  };
}

/** What names a row: its minute, function, path and isolate. */
export interface MetricRowKey {
  /** Start of the row's minute. */
  bucketStart: Date;
  functionName: string;
  path: MetricPath;
  isolateId: string;
}

/** A row of `key` with every counter at zero, empty histograms and no gauge or demand yet. */
export function emptyMetricRow(key: MetricRowKey): MetricRow {
  return {
    bucket_start: key.bucketStart,
    function_name: key.functionName,
    path: key.path,
    isolate_id: key.isolateId,
    requests: 0,
    server_errors: 0,
    client_errors: 0,
    fallbacks: 0,
    latency_sum_ms: 0,
    latency_buckets: new Array(latencyBoundsMs.length + 1).fill(0),
    db_queries: 0,
    db_batches: 0,
    batch_size_buckets: new Array(batchSizeBounds.length + 1).fill(0),
    cache_l1_hits: 0,
    cache_l1_misses: 0,
    cache_l2_hits: 0,
    cache_l2_misses: 0,
    kms_requests: 0,
    kms_new_connections: 0,
    kms_data_key_hits: 0,
    kms_data_key_misses: 0,
    memory_rss_bytes: null,
    route_demand: null,
  };
}

type Counter = Exclude<
  keyof MetricRow,
  | "bucket_start"
  | "function_name"
  | "path"
  | "isolate_id"
  | "latency_buckets"
  | "batch_size_buckets"
  | "memory_rss_bytes"
  | "route_demand"
>;

/**
 * Adds `from` into `into` (rows of the same key): counters and histograms add up, route demand
 * adds up within at most `maxRoutes` distinct routes, the memory gauge is left to the next flush.
 *
 * @returns how many route searches did not fit.
 */
export function mergeMetricRows(into: MetricRow, from: MetricRow, maxRoutes: number): number {
  let dropped = 0;
  for (const column of columns) {
    // A gauge, set again at the next flush; route counts are merged below.
    if (column === "memory_rss_bytes" || column === "route_demand") continue;
    const value = from[column];
    if (typeof value === "number") (into[column as Counter] as number) += value;
  }
  from.latency_buckets.forEach((n, i) => (into.latency_buckets[i]! += n));
  from.batch_size_buckets.forEach((n, i) => (into.batch_size_buckets[i]! += n));
  if (from.route_demand) {
    const demand = into.route_demand ??= {};
    let routes = Object.keys(demand).length;
    for (const [route, n] of Object.entries(from.route_demand)) {
      if (demand[route] === undefined) {
        if (routes >= maxRoutes) {
          dropped += n;
          continue;
        }
        routes++;
      }
      demand[route] = (demand[route] ?? 0) + n;
    }
  }
  return dropped;
}
