/**
 * Settings of the flight-search function, read once per isolate from its environment.
 *
 * @module
 */
import { z } from "zod";
import { type EnvSource, processEnv, readEnv } from "../_shared/env.ts";
import type { CoalescingSettings } from "./optimized.ts";

/** Paths a deployment can pin every request to, bypassing the flag (benchmarks, incidents). */
export const forcedPaths = ["legacy", "optimized", "dataloader"] as const;
/** A pinned path. */
export type ForcedPath = (typeof forcedPaths)[number];

/** The function's settings. */
export interface SearchConfig {
  /** Serve every request on this path, ignoring the flag. @default unset: the flag decides */
  forcePath: ForcedPath | undefined;
  coalescing: CoalescingSettings;
  flagTtlMs: number;
  flagInitialWaitMs: number;
  metricsFlushIntervalMs: number;
  /**
   * Budgets in ms: a search request's, end to end (FLIGHT_SEARCH_BUDGET_MS, 3000); a cache warm
   * run's (CACHE_WARM_BUDGET_MS, 30000); the least a legacy fallback needs to be tried
   * (FLIGHT_SEARCH_FALLBACK_MIN_MS, 500).
   */
  budgets: { searchMs: number; warmMs: number; fallbackMinMs: number };
  /** Whether search results go through the result cache. @default true */
  resultCache: boolean;
  /** Share (0..1) of optimized-path requests failed on purpose (rollback drills). @default 0 */
  faultRate: number;
}

const ms = (defaultValue: number, max: number) =>
  z.coerce.number().min(0).max(max).default(defaultValue);
const count = (defaultValue: number, max: number) =>
  z.coerce.number().int().min(1).max(max).default(defaultValue);

const schema = z.object({
  FLIGHT_SEARCH_FORCE_PATH: z.enum(forcedPaths).optional(),
  FLIGHT_SEARCH_RESULT_CACHE: z.enum(["on", "off"]).default("on"),
  COALESCE_WINDOW_MS: ms(2, 1000),
  COALESCE_MAX_WAIT_MS: ms(10, 1000),
  COALESCE_ADAPTIVE: z.enum(["on", "off"]).default("on"),
  COALESCE_LOAD_MEMORY_MS: ms(1000, 600_000),
  COALESCE_MAX_BATCH_SIZE: count(100, 10_000),
  COALESCE_MAX_PENDING: count(1000, 1_000_000),
  // No default here: unset, it follows the search budget (see searchConfig).
  COALESCE_BATCH_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).optional(),
  FLAG_CACHE_TTL_MS: ms(5000, 3_600_000),
  FLAG_INITIAL_WAIT_MS: ms(250, 60_000),
  METRICS_FLUSH_INTERVAL_MS: ms(10_000, 3_600_000),
  FLIGHT_SEARCH_BUDGET_MS: count(3000, 600_000),
  CACHE_WARM_BUDGET_MS: count(30_000, 3_600_000),
  FLIGHT_SEARCH_FALLBACK_MIN_MS: ms(500, 600_000),
  FLIGHT_SEARCH_FAULT_RATE: z.coerce.number().min(0).max(1).default(0),
});

/**
 * Reads {@link SearchConfig}.
 *
 * Variables: FLIGHT_SEARCH_FORCE_PATH (legacy|optimized|dataloader), FLIGHT_SEARCH_RESULT_CACHE
 * (on|off), COALESCE_WINDOW_MS (2), COALESCE_MAX_WAIT_MS (10), COALESCE_ADAPTIVE (on|off),
 * COALESCE_LOAD_MEMORY_MS (1000),
 * COALESCE_MAX_BATCH_SIZE (100), COALESCE_MAX_PENDING (1000),
 * COALESCE_BATCH_TIMEOUT_MS (the search budget: a batch outliving every caller's budget serves
 * no one), FLAG_CACHE_TTL_MS (5000), FLAG_INITIAL_WAIT_MS (250),
 * METRICS_FLUSH_INTERVAL_MS (10000), FLIGHT_SEARCH_BUDGET_MS (3000), CACHE_WARM_BUDGET_MS
 * (30000), FLIGHT_SEARCH_FALLBACK_MIN_MS (500), FLIGHT_SEARCH_FAULT_RATE (0).
 *
 * @throws {ConfigError} naming a malformed variable.
 */
export function searchConfig(source: EnvSource = processEnv()): SearchConfig {
  const env = readEnv(schema, source);
  return {
    forcePath: env.FLIGHT_SEARCH_FORCE_PATH,
    coalescing: {
      windowMs: env.COALESCE_WINDOW_MS,
      maxWaitMs: env.COALESCE_MAX_WAIT_MS,
      adaptive: env.COALESCE_ADAPTIVE === "on",
      loadMemoryMs: env.COALESCE_LOAD_MEMORY_MS,
      maxBatchSize: env.COALESCE_MAX_BATCH_SIZE,
      maxPending: env.COALESCE_MAX_PENDING,
      batchTimeoutMs: env.COALESCE_BATCH_TIMEOUT_MS ?? env.FLIGHT_SEARCH_BUDGET_MS,
    },
    flagTtlMs: env.FLAG_CACHE_TTL_MS,
    flagInitialWaitMs: env.FLAG_INITIAL_WAIT_MS,
    metricsFlushIntervalMs: env.METRICS_FLUSH_INTERVAL_MS,
    budgets: {
      searchMs: env.FLIGHT_SEARCH_BUDGET_MS,
      warmMs: env.CACHE_WARM_BUDGET_MS,
      fallbackMinMs: env.FLIGHT_SEARCH_FALLBACK_MIN_MS,
    },
    resultCache: env.FLIGHT_SEARCH_RESULT_CACHE === "on",
    faultRate: env.FLIGHT_SEARCH_FAULT_RATE,
  };
}
