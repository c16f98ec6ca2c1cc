/**
 * `GET /flight-search/stats`: what one isolate knows about itself — the rollout flag as it routes
 * by it, its result cache, its coalescer and pool, its age and memory. Every isolate answers for
 * itself only; fleet-wide numbers are in the monitoring views.
 *
 * @module
 */
import type { RolloutFlag } from "../_shared/bucketing.ts";
import type { CacheStats } from "../_shared/cache.ts";
import type { BreakerSnapshot, BreakerState } from "../_shared/circuit_breaker.ts";

/** Where {@link isolateStats} reads from; `deps.ts` wires the isolate's real components. */
export interface StatsSources {
  /** The isolate id its metrics rows carry. */
  isolateId: string;
  /** Milliseconds the isolate has been up. */
  uptimeMs: () => number;
  /** Resident memory in bytes (`Deno.memoryUsage().rss`). */
  memoryRss: () => number;
  flag: {
    key: string;
    /** The flag cache's view, read without refreshing it. */
    peek: () => { state: RolloutFlag | undefined; ageMs: number | undefined };
  };
  /** The result cache; absent when `FLIGHT_SEARCH_RESULT_CACHE=off`. */
  cache?: { stats(): CacheStats; readonly l2Enabled: boolean };
  /** The optimized path's coalescer. */
  coalescer: { readonly pending: number; readonly inFlightBatches: number };
  /** The isolate's pool size and the searches the isolate has on it. */
  pool: { max: number; legacyInFlight: () => number };
  /** The isolate's circuit breakers (the database one for flight-search). */
  breakers?: () => BreakerSnapshot[];
}

/** One breaker in the stats answer. */
export interface BreakerStats {
  state: BreakerState;
  consecutive_failures: number;
  opens: number;
  rejected: number;
  last_opened_at: string | null;
}

/** Body of the stats answer (snake_case, as the other JSON answers). */
export interface IsolateStats {
  isolate: { id: string; uptime_s: number; memory_rss_bytes: number };
  flag: {
    key: string;
    /** Whether the isolate has read the flag at least once; unknown routes everything to legacy. */
    known: boolean;
    enabled: boolean;
    traffic_percentage: number;
    /** Age of the cached value in ms; null before the first successful read. */
    age_ms: number | null;
  };
  cache: {
    enabled: boolean;
    l2_enabled: boolean;
    l1: { entries: number; bytes: number };
    /** Since isolate start. Ratios are null before the first look-up of their tier. */
    l1_hits: number;
    l1_misses: number;
    l1_hit_ratio: number | null;
    l2_hits: number;
    l2_misses: number;
    l2_errors: number;
    l2_hit_ratio: number | null;
    loads_in_flight: number;
  };
  coalescer: { pending: number; batches_in_flight: number };
  pool: {
    max: number;
    /**
     * postgres.js does not expose its connections' state: these are the searches the isolate has
     * on the pool — legacy searches (one query at a time each) and optimized batches (likewise).
     */
    legacy_searches_in_flight: number;
    batches_in_flight: number;
  };
  /** Circuit breakers by dependency (`database`). */
  breakers: Record<string, BreakerStats>;
}

const ratio = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;

/** Reads every source once and shapes the answer. */
export function isolateStats(sources: StatsSources): IsolateStats {
  const { state, ageMs } = sources.flag.peek();
  const cache = sources.cache?.stats();
  return {
    isolate: {
      id: sources.isolateId,
      uptime_s: Math.round(sources.uptimeMs() / 100) / 10,
      memory_rss_bytes: sources.memoryRss(),
    },
    flag: {
      key: sources.flag.key,
      known: ageMs !== undefined,
      enabled: state?.enabled ?? false,
      traffic_percentage: state?.trafficPercentage ?? 0,
      age_ms: ageMs === undefined ? null : Math.round(ageMs),
    },
    cache: {
      enabled: cache !== undefined,
      l2_enabled: sources.cache?.l2Enabled ?? false,
      l1: { entries: cache?.l1Entries ?? 0, bytes: cache?.l1Bytes ?? 0 },
      l1_hits: cache?.l1Hits ?? 0,
      l1_misses: cache?.l1Misses ?? 0,
      l1_hit_ratio: cache ? ratio(cache.l1Hits, cache.l1Hits + cache.l1Misses) : null,
      l2_hits: cache?.l2Hits ?? 0,
      l2_misses: cache?.l2Misses ?? 0,
      l2_errors: cache?.l2Errors ?? 0,
      l2_hit_ratio: cache ? ratio(cache.l2Hits, cache.l2Hits + cache.l2Misses) : null,
      loads_in_flight: cache?.inFlight ?? 0,
    },
    coalescer: {
      pending: sources.coalescer.pending,
      batches_in_flight: sources.coalescer.inFlightBatches,
    },
    pool: {
      max: sources.pool.max,
      legacy_searches_in_flight: sources.pool.legacyInFlight(),
      batches_in_flight: sources.coalescer.inFlightBatches,
    },
    breakers: Object.fromEntries(
      (sources.breakers?.() ?? []).map((b) => [b.dependency, {
        state: b.state,
        consecutive_failures: b.consecutiveFailures,
        opens: b.opens,
        rejected: b.rejected,
        last_opened_at: b.lastOpenedAt === null ? null : new Date(b.lastOpenedAt).toISOString(),
      }]),
    ),
  };
}
