/**
 * Per-isolate metrics: counters and histograms aggregated in memory per function, path and
 * minute, written to `monitoring.function_metrics` in the background — at most one INSERT per
 * flush (one multi-row statement), never one per request.
 *
 * A flush is scheduled `flushIntervalMs` after the first event following the previous flush and
 * handed to `EdgeRuntime.waitUntil` when the runtime has it, so the isolate is kept alive until
 * the numbers are written. A failed flush puts its rows back to be merged into the next one;
 * rows are bounded by `maxRows` (oldest dropped first, and counted). The row itself and its
 * writer are in `metric_row.ts`.
 *
 * @module
 */
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";
import {
  batchSizeBounds,
  bucketIndex,
  emptyMetricRow,
  latencyBoundsMs,
  mergeMetricRows,
  type MetricPath,
  type MetricRow,
  type MetricsWriter,
} from "./metric_row.ts";

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
   * Most distinct routes one row's `route_demand` counts; searches of further routes in that row
   * are dropped (counted in `routesDropped`), which bounds memory and row size. @default 1000
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
      row = emptyMetricRow({
        bucketStart: new Date(minute),
        functionName: this.functionName,
        path,
        isolateId: this.isolateId,
      });
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
   * Counts one search of `route` in the row's `route_demand`, the demand cache warming reads
   * back through `monitoring.top_routes()`. The route must be a key `monitoring.is_route_demand()`
   * accepts (`JFK-ORD`): a subclass that knows what a route is checks it first (flight-search's
   * `SearchMetrics.recordRoute`), since a malformed key would fail every flush of its row.
   */
  protected recordDemand(path: MetricPath, route: string): void {
    const row = this.#row(path);
    const demand = row.route_demand ??= {};
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
            this.#stats.routesDropped += mergeMetricRows(earlier, row, this.#maxRoutesPerRow);
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
