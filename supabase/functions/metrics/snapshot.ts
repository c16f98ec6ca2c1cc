/**
 * What one scrape exposes, read from the monitoring tables in three small queries.
 *
 * Counters come from `monitoring.function_totals` (maintained by a trigger on every flush), so
 * they only ever grow and a scrape costs a handful of rows however long the detail table is.
 *
 * @module
 */
import type { Sql } from "../_shared/db.ts";

/** Totals of one function and code path since its first flush. */
export interface PathTotals {
  function: string;
  path: string;
  requests: number;
  serverErrors: number;
  clientErrors: number;
  fallbacks: number;
  latencySumMs: number;
  /** Per-bucket counts (not cumulative); one more element than the bounds. */
  latencyBuckets: number[];
  dbQueries: number;
  dbBatches: number;
  cacheL1Hits: number;
  cacheL1Misses: number;
  cacheL2Hits: number;
  cacheL2Misses: number;
  cacheLookups: number;
  kmsRequests: number;
  kmsNewConnections: number;
  kmsDataKeyHits: number;
  kmsDataKeyMisses: number;
  lastFlushedAt: Date;
}

/** Latest resident memory of a live isolate. */
export interface IsolateMemory {
  function: string;
  isolate: string;
  rssBytes: number;
}

/** Breakers of one function's live isolates for one dependency. */
export interface BreakerSummary {
  function: string;
  dependency: string;
  openIsolates: number;
  halfOpenIsolates: number;
  isolates: number;
  /** Opens and refusals the live isolates report (each since its start). */
  opens: number;
  rejected: number;
}

/** Everything one scrape renders. */
export interface MetricsSnapshot {
  /** Circuit breakers (monitoring.circuit_breaker_summary); none before the first flush. */
  breakers?: BreakerSummary[];
  /** Upper bounds of the latency buckets, milliseconds (monitoring.latency_bounds_ms()). */
  latencyBoundsMs: number[];
  totals: PathTotals[];
  memory: IsolateMemory[];
}

// int8 and numeric arrive as strings from postgres.js; every count here is far below 2^53.
const num = (value: unknown): number => Number(value);

/** Reads a {@link MetricsSnapshot}; the caller's role needs service_role's grants. */
export async function readSnapshot(sql: Sql): Promise<MetricsSnapshot> {
  const [bounds, totals, memory, breakers] = await Promise.all([
    sql`select monitoring.latency_bounds_ms() as bounds`,
    sql`select * from monitoring.function_totals order by function_name, path`,
    sql`
      select function_name, isolate_id, memory_rss_bytes
      from monitoring.isolate_memory
      order by function_name, isolate_id`,
    sql`select * from monitoring.circuit_breaker_summary order by function_name, dependency`,
  ]);
  return {
    latencyBoundsMs: (bounds[0]?.bounds as unknown[]).map(num),
    totals: totals.map((r) => ({
      function: r.function_name,
      path: r.path,
      requests: num(r.requests),
      serverErrors: num(r.server_errors),
      clientErrors: num(r.client_errors),
      fallbacks: num(r.fallbacks),
      latencySumMs: num(r.latency_sum_ms),
      latencyBuckets: (r.latency_buckets as unknown[]).map(num),
      dbQueries: num(r.db_queries),
      dbBatches: num(r.db_batches),
      cacheL1Hits: num(r.cache_l1_hits),
      cacheL1Misses: num(r.cache_l1_misses),
      cacheL2Hits: num(r.cache_l2_hits),
      cacheL2Misses: num(r.cache_l2_misses),
      cacheLookups: num(r.cache_lookups),
      kmsRequests: num(r.kms_requests),
      kmsNewConnections: num(r.kms_new_connections),
      kmsDataKeyHits: num(r.kms_data_key_hits),
      kmsDataKeyMisses: num(r.kms_data_key_misses),
      lastFlushedAt: r.last_flushed_at,
    })),
    breakers: breakers.map((r) => ({
      function: r.function_name,
      dependency: r.dependency,
      openIsolates: num(r.open_isolates),
      halfOpenIsolates: num(r.half_open_isolates),
      isolates: num(r.isolates),
      opens: num(r.opens),
      rejected: num(r.rejected),
    })),
    memory: memory.map((r) => ({
      function: r.function_name,
      isolate: r.isolate_id,
      rssBytes: num(r.memory_rss_bytes),
    })),
  };
}
