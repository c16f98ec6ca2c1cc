/**
 * The real dependencies of the handler, built once per isolate: the pool, the flag cache, the
 * optimized path's coalescer, metrics.
 *
 * @module
 */
import { isolatePool } from "../_shared/db.ts";
import { type EnvSource, processEnv } from "../_shared/env.ts";
import { FlagCache, flagLoader } from "../_shared/flags.ts";
import { FunctionMetrics, metricsWriter } from "../_shared/metrics.ts";
import { searchConfig } from "./config.ts";
import { createDataLoaderSearch } from "./dataloader_peer.ts";
import { flagKey, type SearchDeps } from "./handler.ts";
import { legacySearch } from "./legacy.ts";
import { createOptimizedSearch } from "./optimized.ts";

/** Name of the function: its metrics rows and its pool's application_name. */
export const functionName = "flight-search";

/**
 * Builds the isolate's dependencies from its environment.
 *
 * @throws {ConfigError} when a variable is missing or malformed.
 */
export function isolateDeps(env: EnvSource = processEnv()): SearchDeps {
  const config = searchConfig(env);
  const sql = isolatePool(functionName);
  const metrics = new FunctionMetrics({
    functionName,
    write: metricsWriter(sql),
    flushIntervalMs: config.metricsFlushIntervalMs,
  });
  const optimized = createOptimizedSearch({
    sql,
    ...config.coalescing,
    countQuery: (n) => metrics.recordQueries("optimized", n),
    onBatch: (report) => metrics.recordBatch("optimized", report.size),
  });
  const peer = config.forcePath === "dataloader"
    ? createDataLoaderSearch({ sql, countQuery: (n) => metrics.recordQueries("none", n) })
    : undefined;
  return {
    legacy: (search) => legacySearch(sql, search, (n) => metrics.recordQueries("legacy", n)),
    optimized: (search) => optimized.search(search),
    peer: peer && ((search) => peer.search(search)),
    flags: new FlagCache({
      keys: [flagKey],
      load: flagLoader(sql),
      ttlMs: config.flagTtlMs,
      initialWaitMs: config.flagInitialWaitMs,
    }),
    forcePath: config.forcePath,
    metrics,
  };
}
