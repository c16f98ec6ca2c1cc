/**
 * The search pipeline: what happens to a valid search between the HTTP edge (`handler.ts`) and
 * the paths (`legacy.ts`, `optimized.ts`). The path is chosen — the pinned one, else the traffic
 * flag and the caller's sticky bucket —, the result cache is asked, a miss runs its path within a
 * budget (and, for a request, through the database breaker), and a failed fast path is answered
 * by legacy while enough of the budget is left.
 *
 * The handler and the cache warmer (`cache_warm.ts`, wired in `deps.ts`) both run searches
 * through it, so a warmed entry is exactly what a request would have cached.
 *
 * @module
 */
import { inRollout, type RolloutFlag } from "../_shared/bucketing.ts";
import type { CacheTier } from "../_shared/cache.ts";
import type { CircuitBreaker } from "../_shared/circuit_breaker.ts";
import type { Clock } from "../_shared/clock.ts";
import { OverloadError } from "../_shared/coalescer.ts";
import { Budget } from "../_shared/deadline.ts";
import { asUnavailable } from "../_shared/dependency_error.ts";
import { type ErrorLogger, HttpError } from "../_shared/http_error.ts";
import type { MetricPath } from "../_shared/metric_row.ts";
import { rolloutFlagKey } from "../_shared/rollout_flag.ts";
import type { ForcedPath } from "./config.ts";
import { searchKey, type SearchRequest } from "./request.ts";
import type { SearchResult } from "./result.ts";

/**
 * Version of the cached answer's shape, part of every L2 key (the cache's `version` option):
 * bump it when `SearchResult` changes so entries written by older code are never read.
 */
export const resultCacheVersion = 1;

/** The result cache as the pipeline uses it (a `TwoTierCache<SearchResult>`). */
export interface ResultCache {
  getOrLoad(
    key: string,
    loader: () => Promise<SearchResult>,
  ): Promise<{ value: SearchResult; tier: CacheTier }>;
  readonly l2Enabled: boolean;
}

/**
 * A path's search function. It spends from `budget` (the request's): its waits end, and its
 * queries are cancelled, when the budget does.
 */
export type SearchPath = (search: SearchRequest, budget: Budget) => Promise<SearchResult>;

/**
 * Budgets in ms: a search request's, end to end (`searchMs`); a cache warm run's (`warmMs`, spent
 * by the handler's warm route); the least a legacy fallback needs to be tried (`fallbackMinMs`).
 */
export interface SearchBudgets {
  searchMs: number;
  warmMs: number;
  fallbackMinMs: number;
}

/** Defaults of {@link SearchBudgets}, in ms. */
export const defaultBudgets: SearchBudgets = { searchMs: 3000, warmMs: 30_000, fallbackMinMs: 500 };

/**
 * The result cache key of a search: `flight-search:` and every field of the normalized search
 * (`searchKey()`), nothing else. Equal searches share an entry whichever path computed it —
 * the paths' answers are identical (the differential test) — and which user asked does not
 * matter: the answer holds no per-user data.
 */
export function resultCacheKey(search: SearchRequest): string {
  return `flight-search:${searchKey(search)}`;
}

/** The metrics row a path's requests count in: the benchmark's peer has none of its own. */
export function metricPathOf(path: ForcedPath): MetricPath {
  return path === "dataloader" ? "none" : path;
}

/** What {@link createSearchPipeline} runs searches with; `deps.ts` builds the real ones. */
export interface SearchPipelineOptions {
  legacy: SearchPath;
  optimized: SearchPath;
  /** The benchmark's dataloader peer, served only when forced. */
  peer?: SearchPath;
  flags: { get(key: string): Promise<RolloutFlag | undefined> };
  /** Pin every search to a path, ignoring the flag. */
  forcePath?: ForcedPath;
  /** Result cache in front of every path; none means every search runs its path. */
  cache?: ResultCache;
  /**
   * The isolate's database breaker: a request's loads (cache misses) run through it, so while it
   * is open a miss fails at once and a hit is still served.
   */
  dbBreaker?: CircuitBreaker;
  /** @default defaultBudgets */
  budgets?: Pick<SearchBudgets, "searchMs" | "fallbackMinMs">;
  metrics: { recordCache(path: MetricPath, tier: CacheTier, l2Enabled: boolean): void };
  clock?: Clock;
  /** Told about each fallback onto legacy. @default console.error */
  log?: ErrorLogger;
}

/** What a request's search came to. */
export interface PipelineAnswer {
  result: SearchResult;
  /** The cache tier that answered, `miss` when a path ran. */
  tier: CacheTier;
}

/** Runs searches; see the module comment and {@link createSearchPipeline}. */
export interface SearchPipeline {
  /**
   * The path of a request: the pinned one, else the flag's answer for the caller's sticky
   * bucket. `idOf` (the caller's routing id) is asked only when the flag decides.
   */
  routeRequest(idOf: () => string): Promise<ForcedPath>;
  /** The path cache warming loads misses on: the pinned one, else optimized once the flag is on. */
  warmPath(): Promise<ForcedPath>;
  /**
   * Answers a request's `search` on `path` within a budget of its own, through the result
   * cache; `onFallback` is told when legacy answered for a failed fast path.
   *
   * @throws {HttpError} 503 `overloaded` when the coalescer sheds load.
   * @throws a dependency failure (503, `asUnavailable("database")`) when the search did not
   * finish within its budget, a path's dependency failed, or the breaker is open.
   */
  search(
    search: SearchRequest,
    path: ForcedPath,
    onFallback?: () => void,
  ): Promise<PipelineAnswer>;
  /**
   * Looks `search` up in the result cache, loading a miss on `path` as a request would (its own
   * budget, the fallback included).
   *
   * @returns the tier that answered (`miss`: loaded now).
   */
  warm(search: SearchRequest, path: ForcedPath): Promise<CacheTier>;
}

/** Creates the pipeline over `options`' paths, flag, cache and breaker. */
export function createSearchPipeline(options: SearchPipelineOptions): SearchPipeline {
  const { flags, forcePath, cache, dbBreaker, metrics, clock } = options;
  const { searchMs, fallbackMinMs } = options.budgets ?? defaultBudgets;
  const log = options.log ?? ((message, error) => console.error(message, error));

  /** Runs `search` on `path`; a fast path's failure is answered by legacy when budget is left. */
  async function runWithFallback(
    path: ForcedPath,
    search: SearchRequest,
    onFallback: () => void,
    budget: Budget,
  ): Promise<SearchResult> {
    if (path === "legacy") return await options.legacy(search, budget);
    const fast = path === "dataloader" ? options.peer : options.optimized;
    if (!fast) throw new Error(`path ${path} is not configured`);
    try {
      return await fast(search, budget);
    } catch (error) {
      // Legacy would add to the load the coalescer is shedding.
      if (error instanceof OverloadError) {
        throw new HttpError(503, "overloaded", "too many searches in flight; retry shortly", {
          headers: { "retry-after": "1" },
          cause: error,
        });
      }
      // The fallback spends what is left; with less than it needs it would only fail later.
      if (budget.remaining() < fallbackMinMs) throw error;
      log(
        `${path} path failed, answering on the legacy path`,
        error instanceof Error ? `${error.name}: ${error.message}` : error,
      );
      onFallback();
      return await options.legacy(search, budget);
    }
  }

  return {
    async routeRequest(idOf) {
      if (forcePath) return forcePath;
      const id = idOf();
      const flag = await flags.get(rolloutFlagKey);
      return inRollout(flag, rolloutFlagKey, id) ? "optimized" : "legacy";
    },

    async warmPath() {
      if (forcePath) return forcePath;
      // Once the flag is on at all, misses load on the optimized path, whose batches make a warm
      // run cheap; off (or unknown), on legacy.
      const flag = await flags.get(rolloutFlagKey);
      return flag?.enabled && flag.trafficPercentage > 0 ? "optimized" : "legacy";
    },

    async search(search, path, onFallback = () => {}) {
      const budget = new Budget(searchMs, { what: "flight-search request", clock });
      const load = () => {
        const run = () => runWithFallback(path, search, onFallback, budget);
        return dbBreaker ? dbBreaker.run(run) : run();
      };
      try {
        if (cache) {
          const { value, tier } = await budget.run(
            cache.getOrLoad(resultCacheKey(search), load),
            "flight-search request",
            "database",
          );
          metrics.recordCache(metricPathOf(path), tier, cache.l2Enabled);
          return { result: value, tier };
        }
        const result = await budget.run(load(), "flight-search request", "database");
        return { result, tier: "miss" };
      } catch (error) {
        // A search waits on nothing but the database (L2 waits are bounded and never fail it).
        throw asUnavailable("database", error);
      } finally {
        budget.dispose();
      }
    },

    async warm(search, path) {
      if (!cache) throw new Error("flight-search: no result cache to warm");
      const { tier } = await cache.getOrLoad(resultCacheKey(search), async () => {
        const budget = new Budget(searchMs, { what: "flight-search load", clock });
        try {
          return await runWithFallback(path, search, () => {}, budget);
        } finally {
          budget.dispose();
        }
      });
      return tier;
    },
  };
}
