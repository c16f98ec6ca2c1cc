/**
 * The real dependencies of the handler, built once per isolate: the pool, the flag cache, the
 * paths (the optimized one with its coalescer) and the search pipeline over them, metrics, and
 * the service_role routes' verifier, stats and cache warmer. Fault injection for rollback drills
 * is added around the pipeline here, and the benchmark's dataloader peer is loaded only when
 * `FLIGHT_SEARCH_FORCE_PATH=dataloader` asks for it.
 *
 * @module
 */
import { authOptions, type AuthVerifier, createAuthVerifier } from "../_shared/auth.ts";
import { type CacheStats, TwoTierCache } from "../_shared/cache.ts";
import { cacheOptionsFromEnv } from "../_shared/cache_env.ts";
import { type Clock, systemClock } from "../_shared/clock.ts";
import { isolatePool, resetIsolatePool, type Sql } from "../_shared/db.ts";
import { withBreakers } from "../_shared/breaker_store.ts";
import { breakerOptionsFromEnv, CircuitBreaker } from "../_shared/circuit_breaker.ts";
import { type EnvSource, processEnv } from "../_shared/env.ts";
import { FlagCache, flagLoader } from "../_shared/flags.ts";
import { metricsWriter } from "../_shared/metric_row.ts";
import { rolloutFlagKey } from "../_shared/rollout_flag.ts";
import { airportLoader, AirportSet, airportSetOptionsFromEnv } from "./airports.ts";
import { createCacheWarmer } from "./cache_warm.ts";
import { type SearchConfig, searchConfig } from "./config.ts";
import { nextDepartureDates, topRoutes } from "./demand.ts";
import { withFaultInjection } from "./fault_injection.ts";
import type { SearchDeps } from "./handler.ts";
import { legacySearch } from "./legacy.ts";
import { createOptimizedSearch, type OptimizedSearch } from "./optimized.ts";
import {
  createSearchPipeline,
  type ResultCache,
  resultCacheVersion,
  type SearchPath,
  type SearchPipelineOptions,
} from "./pipeline.ts";
import type { SearchResult } from "./result.ts";
import { SearchMetrics } from "./search_metrics.ts";
import type { QueryCounter } from "./search_rows.ts";
import { isolateStats } from "./stats.ts";

/** Name of the function: its metrics rows and its pool's application_name. */
export const functionName = "flight-search";

/** What {@link buildDeps} wires together. */
export interface BuildDepsOptions {
  sql: Sql;
  config: SearchConfig;
  /** The result cache; none sends every request to its path (and leaves nothing to warm). */
  cache?: ResultCache & { stats(): CacheStats; flush(): Promise<void> };
  /** Verifies callers of the service_role routes; none answers them 500. */
  verify?: AuthVerifier;
  /** Known airports; none checks the codes' format only. */
  airports?: AirportSet;
  /** The database breaker. @default one with the default thresholds */
  dbBreaker?: CircuitBreaker;
  /** Resident memory in bytes, for stats. @default Deno.memoryUsage().rss */
  memoryRss?: () => number;
  clock?: Clock;
}

/**
 * The benchmark's dataloader peer as a path, imported on its first search: a deployment that
 * does not force the peer never loads it (nor the `dataloader` package).
 */
function dataLoaderPeer(sql: Sql, countQuery: QueryCounter): SearchPath {
  let peer: Promise<OptimizedSearch> | undefined;
  return (search, budget) => {
    peer ??= import("./dataloader_peer.ts").then(
      ({ createDataLoaderSearch }) => createDataLoaderSearch({ sql, countQuery }),
      (error) => {
        peer = undefined;
        throw error;
      },
    );
    return budget.run(peer.then((loader) => loader.search(search)), "dataloader search");
  };
}

/** Wires the handler's dependencies around one pool; tests pass their own pool and config. */
export function buildDeps(options: BuildDepsOptions): SearchDeps & { metrics: SearchMetrics } {
  const { sql, config, cache, verify, airports, clock } = options;
  const memoryRss = options.memoryRss ?? (() => Deno.memoryUsage().rss);
  const startedAt = (clock ?? systemClock).now();
  const dbBreaker = options.dbBreaker ?? new CircuitBreaker({ dependency: "database", clock });
  const metrics: SearchMetrics = new SearchMetrics({
    functionName,
    write: withBreakers(
      metricsWriter(sql),
      sql,
      functionName,
      (): string => metrics.isolateId,
      () => [dbBreaker.snapshot()],
    ),
    flushIntervalMs: config.metricsFlushIntervalMs,
    clock,
  });
  const optimized = createOptimizedSearch({
    sql,
    ...config.coalescing,
    clock,
    countQuery: (n) => metrics.recordQueries("optimized", n),
    onBatch: (report) => metrics.recordBatch("optimized", report.size),
  });
  const flags = new FlagCache({
    keys: [rolloutFlagKey],
    load: flagLoader(sql),
    ttlMs: config.flagTtlMs,
    initialWaitMs: config.flagInitialWaitMs,
    clock,
  });
  let legacyInFlight = 0;
  const paths: SearchPipelineOptions = {
    // Both paths spend from the request's budget: a connection that hangs is covered by no
    // server-side statement_timeout, so the waits end, and the queries are cancelled, with it.
    legacy: async (search, budget) => {
      legacyInFlight++;
      try {
        return await budget.run(
          (signal) => legacySearch(sql, search, (n) => metrics.recordQueries("legacy", n), signal),
          "legacy search",
          "database",
        );
      } finally {
        legacyInFlight--;
      }
    },
    optimized: (search, budget) =>
      budget.run(optimized.search(search), "optimized search", "database"),
    peer: config.forcePath === "dataloader"
      ? dataLoaderPeer(sql, (n) => metrics.recordQueries("none", n))
      : undefined,
    flags,
    forcePath: config.forcePath,
    cache,
    dbBreaker,
    budgets: config.budgets,
    metrics,
    clock,
  };
  const pipeline = config.faultRate > 0
    ? withFaultInjection(paths, { rate: config.faultRate })
    : createSearchPipeline(paths);
  return {
    pipeline,
    airports,
    budgets: config.budgets,
    metrics,
    verify,
    stats: () =>
      isolateStats({
        isolateId: metrics.isolateId,
        uptimeMs: () => (clock ?? systemClock).now() - startedAt,
        memoryRss,
        flag: { key: rolloutFlagKey, peek: () => flags.peek(rolloutFlagKey) },
        cache,
        coalescer: optimized,
        pool: { max: sql.options.max, legacyInFlight: () => legacyInFlight },
        breakers: () => [dbBreaker.snapshot()],
      }),
    warm: cache && createCacheWarmer({
      topRoutes: (windowMinutes, top) => topRoutes(sql, functionName, windowMinutes, top),
      nextDates: (routes, fromDate, perRoute) =>
        nextDepartureDates(sql, routes, fromDate, perRoute),
      choosePath: () => pipeline.warmPath(),
      warmOne: (search, path) => pipeline.warm(search, path),
      flush: () => cache.flush(),
      clock,
    }),
    clock,
  };
}

/**
 * The verifier of the service_role routes from the environment (`JWT_SECRET`, else the JWKS of
 * `SUPABASE_URL`), built on first use: a function without either still serves searches, and its
 * stats and warm routes answer 500 with a log line naming the variables.
 */
export function lazyVerifier(env: EnvSource = processEnv()): AuthVerifier {
  let verifier: AuthVerifier | undefined;
  return (req) => {
    verifier ??= createAuthVerifier(authOptions(env));
    return verifier(req);
  };
}

/**
 * The result cache from the environment (see `cacheOptionsFromEnv`: L1 always, L2 when
 * `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` are set), or none when
 * `FLIGHT_SEARCH_RESULT_CACHE=off`.
 *
 * @throws {ConfigError} when a cache variable is malformed.
 */
export function resultCache(
  config: SearchConfig,
  env: EnvSource = processEnv(),
): TwoTierCache<SearchResult> | undefined {
  if (!config.resultCache) return undefined;
  return new TwoTierCache<SearchResult>({
    ...cacheOptionsFromEnv(env),
    version: resultCacheVersion,
  });
}

/**
 * Builds the isolate's dependencies from its environment: the isolate's pool
 * (`DB_POOLER_URL`, else `SUPABASE_DB_URL`), {@link searchConfig}, {@link resultCache}, the
 * airport set (`airportSetOptionsFromEnv`).
 *
 * @throws {ConfigError} when a variable is missing or malformed.
 */
export function isolateDeps(env: EnvSource = processEnv()): SearchDeps {
  const config = searchConfig(env);
  const cache = resultCache(config, env);
  // Once per isolate, so a deployment's logs say what it runs with (never the URL or token).
  console.log(
    `flight-search: result cache ${
      cache ? (cache.l2Enabled ? "L1 + L2 (Upstash)" : "L1 only") : "off"
    }${config.forcePath ? `, every request on the ${config.forcePath} path` : ""}${
      config.faultRate > 0
        ? `, FAULT INJECTION: ${config.faultRate * 100}% of optimized requests fail`
        : ""
    }`,
  );
  const sql = isolatePool(functionName);
  const airports = new AirportSet({ load: airportLoader(sql), ...airportSetOptionsFromEnv(env) });
  // Read at isolate start, so the first search does not wait for it.
  void airports.refresh();
  return buildDeps({
    sql,
    config,
    cache,
    verify: lazyVerifier(env),
    airports,
    dbBreaker: new CircuitBreaker({
      dependency: "database",
      ...breakerOptionsFromEnv("database", env),
      onOpen: () => resetIsolatePool(functionName),
    }),
  });
}
