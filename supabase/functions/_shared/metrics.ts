/**
 * Per-isolate metrics: counters and histograms aggregated in memory per function, path and
 * minute, written to `monitoring.function_metrics` in the background — at most one INSERT per
 * flush (one multi-row statement), never one per request.
 *
 * A flush is scheduled `flushIntervalMs` after the first event following the previous flush and
 * handed to `EdgeRuntime.waitUntil` when the runtime has it, so the isolate is kept alive until
 * the numbers are written. A failed flush puts its rows back to be merged into the next one;
 * rows are bounded by `maxRows` (oldest dropped first, and counted).
 *
 * @module
 */
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";
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

/** How a request ended, for {@link FunctionMetrics.recordRequest}. */
export interface RequestOutcome {
  status: number;
  latencyMs: number;
  /** The optimized path failed and legacy answered. */
  fallback?: boolean;
}

/** KMS work over some span, for {@link FunctionMetrics.recordKms}. */
export interface KmsCounts {
  requests: number;
  newConnections: number;
  dataKeyHits: number;
  dataKeyMisses: number;
}

/** Options for {@link FunctionMetrics}. */
export interface FunctionMetricsOptions {
  /** e.g. "flight-search" (the CHECK allows `^[a-z0-9][a-z0-9_-]{0,62}$`). */
  functionName: string;
  write: MetricsWriter;
  /** @default a random UUID */
  isolateId?: string;
  /** Delay between the first unflushed event and its flush. @default 10000 */
  flushIntervalMs?: number;
  /** Rows kept while flushes fail; the oldest go first. @default 240 */
  maxRows?: number;
  clock?: Clock;
  /** Keeps the isolate alive until a promise settles. @default EdgeRuntime.waitUntil if present */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Told about a failed flush. @default console.warn */
  onError?: (error: unknown) => void;
  /**
   * Most distinct routes one row counts; searches of further routes in that row are dropped
   * (counted in `routesDropped`), which bounds memory and row size. @default 1000
   */
  maxRoutesPerRow?: number;
  /**
   * Resident memory of the isolate in bytes, read once per flush and written into every row of
   * it (a gauge: the latest value wins). @default Deno.memoryUsage().rss
   */
  memoryRss?: () => number;
}

/** Counters since start (process-local; for tests and diagnostics). */
export interface MetricsStats {
  flushes: number;
  failedFlushes: number;
  rowsWritten: number;
  rowsDropped: number;
  /** Route searches not counted because their row already held `maxRoutesPerRow` routes. */
  routesDropped: number;
}

/** `EdgeRuntime.waitUntil` in Supabase's edge runtime; absent elsewhere. */
function edgeWaitUntil(): ((promise: Promise<unknown>) => void) | undefined {
  const runtime = (globalThis as { EdgeRuntime?: { waitUntil?: (p: Promise<unknown>) => void } })
    .EdgeRuntime;
  return typeof runtime?.waitUntil === "function" ? runtime.waitUntil.bind(runtime) : undefined;
}

function emptyRow(
  bucketStart: number,
  functionName: string,
  path: MetricPath,
  isolateId: string,
): MetricRow {
  return {
    bucket_start: new Date(bucketStart),
    function_name: functionName,
    path,
    isolate_id: isolateId,
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

/** The route key of a search, as `monitoring.is_route_demand()` accepts it. */
const routePattern = /^[A-Z]{3}$/;

/**
 * Adds `from` into `into` (same key), keeping at most `maxRoutes` routes.
 *
 * @returns how many route searches did not fit.
 */
function merge(into: MetricRow, from: MetricRow, maxRoutes: number): number {
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

/** In-memory aggregation with background flushes; one instance per function per isolate. */
export class FunctionMetrics {
  readonly functionName: string;
  readonly isolateId: string;
  readonly #write: MetricsWriter;
  readonly #flushIntervalMs: number;
  readonly #maxRows: number;
  readonly #clock: Clock;
  readonly #waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #memoryRss: () => number;
  readonly #maxRoutesPerRow: number;

  #rows = new Map<string, MetricRow>();
  #timer: TimerHandle | undefined;
  #flushing: Promise<void> | undefined;
  #stats: MetricsStats = {
    flushes: 0,
    failedFlushes: 0,
    rowsWritten: 0,
    rowsDropped: 0,
    routesDropped: 0,
  };

  /** @throws {RangeError} for a bad name or interval. */
  constructor(options: FunctionMetricsOptions) {
    const {
      functionName,
      write,
      isolateId = crypto.randomUUID(),
      flushIntervalMs = 10_000,
      maxRows = 240,
      clock = systemClock,
      waitUntil = edgeWaitUntil(),
      onError = (error) =>
        console.warn(
          "metrics: flush failed, keeping rows for the next one:",
          error instanceof Error ? `${error.name}: ${error.message}` : error,
        ),
      memoryRss = () => Deno.memoryUsage().rss,
      maxRoutesPerRow = 1000,
    } = options;
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(functionName)) {
      throw new RangeError(
        `metrics functionName: expected a function name, received ${functionName}`,
      );
    }
    if (!Number.isFinite(flushIntervalMs) || flushIntervalMs < 0) {
      throw new RangeError(`metrics flushIntervalMs: expected ≥ 0, received ${flushIntervalMs}`);
    }
    if (!Number.isInteger(maxRows) || maxRows < 1) {
      throw new RangeError(`metrics maxRows: expected an integer ≥ 1, received ${maxRows}`);
    }
    if (!Number.isInteger(maxRoutesPerRow) || maxRoutesPerRow < 1) {
      throw new RangeError(
        `metrics maxRoutesPerRow: expected an integer ≥ 1, received ${maxRoutesPerRow}`,
      );
    }
    if (isolateId.length < 1 || isolateId.length > 64) {
      throw new RangeError("metrics isolateId: expected 1..64 characters");
    }
    this.functionName = functionName;
    this.isolateId = isolateId;
    this.#write = write;
    this.#flushIntervalMs = flushIntervalMs;
    this.#maxRows = maxRows;
    this.#clock = clock;
    this.#waitUntil = waitUntil;
    this.#onError = onError;
    this.#memoryRss = memoryRss;
    this.#maxRoutesPerRow = maxRoutesPerRow;
  }

  /** Counters since start. */
  stats(): MetricsStats {
    return { ...this.#stats };
  }

  /** Rows waiting for a flush (copies). */
  pendingRows(): MetricRow[] {
    return [...this.#rows.values()].map((r) => structuredClone(r));
  }

  #row(path: MetricPath): MetricRow {
    const minute = Math.floor(this.#clock.wallNow() / 60_000) * 60_000;
    const key = `${minute}:${path}`;
    let row = this.#rows.get(key);
    if (!row) {
      row = emptyRow(minute, this.functionName, path, this.isolateId);
      this.#rows.set(key, row);
      this.#trim();
    }
    this.#schedule();
    return row;
  }

  #trim(): void {
    while (this.#rows.size > this.#maxRows) {
      const oldest = this.#rows.keys().next().value;
      if (oldest === undefined) break;
      this.#rows.delete(oldest);
      this.#stats.rowsDropped++;
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.flush().finally(resolve);
    }, this.#flushIntervalMs);
    this.#waitUntil?.(promise);
  }

  /** Counts a finished request. */
  recordRequest(path: MetricPath, outcome: RequestOutcome): void {
    const row = this.#row(path);
    row.requests++;
    if (outcome.status >= 500) row.server_errors++;
    else if (outcome.status >= 400) row.client_errors++;
    if (outcome.fallback) row.fallbacks++;
    const latency = Math.max(0, outcome.latencyMs);
    row.latency_sum_ms += latency;
    row.latency_buckets[bucketIndex(latencyBoundsMs, latency)]!++;
  }

  /**
   * Counts one search of the route `origin` → `destination` (upper-case IATA codes), the demand
   * cache warming reads back through `monitoring.top_routes()`.
   *
   * @throws {RangeError} for a code that is not three upper-case letters.
   */
  recordRoute(path: MetricPath, origin: string, destination: string): void {
    if (!routePattern.test(origin) || !routePattern.test(destination)) {
      throw new RangeError(
        `metrics recordRoute: expected IATA codes like "JFK", received ${origin}-${destination}`,
      );
    }
    const row = this.#row(path);
    const demand = row.route_demand ??= {};
    const route = `${origin}-${destination}`;
    if (demand[route] === undefined && Object.keys(demand).length >= this.#maxRoutesPerRow) {
      this.#stats.routesDropped++;
      return;
    }
    demand[route] = (demand[route] ?? 0) + 1;
  }

  /** Counts database queries a path sent. */
  recordQueries(path: MetricPath, queries: number): void {
    this.#row(path).db_queries += queries;
  }

  /** Counts one coalesced batch of `size` keys. */
  recordBatch(path: MetricPath, size: number): void {
    const row = this.#row(path);
    row.db_batches++;
    row.batch_size_buckets[bucketIndex(batchSizeBounds, size)]!++;
  }

  /** Counts a cache look-up by the tier that answered (`miss`: neither). */
  recordCache(path: MetricPath, tier: "l1" | "l2" | "miss", l2Enabled: boolean): void {
    const row = this.#row(path);
    if (tier === "l1") {
      row.cache_l1_hits++;
      return;
    }
    row.cache_l1_misses++;
    if (tier === "l2") row.cache_l2_hits++;
    else if (l2Enabled) row.cache_l2_misses++;
  }

  /**
   * Adds KMS work done since the last call: HTTP requests to KMS, new connections, and data-key
   * cache hits and misses (payment-methods; see payment-methods/kms_metrics.ts).
   */
  recordKms(path: MetricPath, counts: KmsCounts): void {
    if (Object.values(counts).every((n) => n === 0)) return;
    const row = this.#row(path);
    row.kms_requests += counts.requests;
    row.kms_new_connections += counts.newConnections;
    row.kms_data_key_hits += counts.dataKeyHits;
    row.kms_data_key_misses += counts.dataKeyMisses;
  }

  /**
   * Writes every pending row in one statement now (after a flush in flight, if any). A failure
   * keeps the rows for the next flush and is reported to `onError`, never thrown.
   */
  flush(): Promise<void> {
    return this.#flushing ? this.#flushing.then(() => this.#flushOnce()) : this.#flushOnce();
  }

  /** The isolate's resident memory, or null when the runtime cannot tell. */
  #readMemory(): number | null {
    try {
      const rss = this.#memoryRss();
      return Number.isSafeInteger(rss) && rss >= 0 ? rss : null;
    } catch {
      return null;
    }
  }

  #flushOnce(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#rows.size === 0) return Promise.resolve();
    const batch = this.#rows;
    this.#rows = new Map();
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#flushing = (async () => {
      try {
        const rss = this.#readMemory();
        for (const row of batch.values()) row.memory_rss_bytes = rss;
        await this.#write([...batch.values()]);
        this.#stats.flushes++;
        this.#stats.rowsWritten += batch.size;
      } catch (error) {
        this.#stats.failedFlushes++;
        this.#onError(error);
        // Put the rows back in front of anything recorded meanwhile, merging same keys.
        for (const [key, row] of this.#rows) {
          const earlier = batch.get(key);
          if (earlier) {
            this.#stats.routesDropped += merge(earlier, row, this.#maxRoutesPerRow);
          } else batch.set(key, row);
        }
        this.#rows = batch;
        this.#trim();
        this.#schedule();
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }
}
