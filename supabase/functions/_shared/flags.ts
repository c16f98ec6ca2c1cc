/**
 * Feature flags from `public.feature_flags` (their row and state: `rollout_flag.ts`), read
 * through a per-isolate cache so that steady state costs no flag query per request. The cache is
 * a `RefreshedValue` (`refreshed_value.ts`):
 *
 * - A value younger than `ttlMs` is answered from memory.
 * - An older one is still answered at once, and one background read refreshes it
 *   (stale-while-revalidate): requests never wait for a refresh.
 * - A failed read keeps the last known values and is not retried for `retryMs`, so a database
 *   outage costs one flag query per interval, not one per request.
 * - A read that does not answer within `readTimeoutMs` counts as failed, so a connection that
 *   hangs cannot stop refreshes for good; its late answer is ignored.
 * - Before the first successful read a request waits at most `initialWaitMs` for it (a fresh
 *   isolate should route like its siblings); if the read fails or is slower, the flag is unknown
 *   and callers treat unknown as off.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import type { Sql } from "./db.ts";
import { textArray } from "./pg_array.ts";
import { nonNegativeOption, RefreshedValue, type RefreshedValueStats } from "./refreshed_value.ts";
import {
  featureFlagColumns,
  type FeatureFlagRow,
  type FlagState,
  flagState,
} from "./rollout_flag.ts";

/** Reads the rows of `keys`; absent keys are simply not returned. */
export type FlagLoader = (keys: readonly string[]) => Promise<FlagState[]>;

/** The loader for `public.feature_flags` on `sql`: one query for all keys. */
export function flagLoader(sql: Sql): FlagLoader {
  return async (keys) => {
    const rows = await sql<FeatureFlagRow[]>`
      select ${sql.unsafe(featureFlagColumns)}
        from public.feature_flags
       where flag_key = any(${textArray(sql, keys)}::text[])`;
    return rows.map(flagState);
  };
}

/** Options for {@link FlagCache}. */
export interface FlagCacheOptions {
  /** Flags to keep; all are read in one query. */
  keys: readonly string[];
  load: FlagLoader;
  /** Age after which a value is refreshed in the background. @default 5000 */
  ttlMs?: number;
  /** Pause after a failed read before the next attempt. @default ttlMs */
  retryMs?: number;
  /** Longest a request waits for the very first read. @default 250 */
  initialWaitMs?: number;
  /** A read slower than this counts as failed. @default 2000 */
  readTimeoutMs?: number;
  clock?: Clock;
  /** Told about each failed read (never about each request). @default console.warn */
  onError?: (error: unknown) => void;
}

/** Counters of the cache, for tests and diagnostics. */
export type FlagCacheStats = RefreshedValueStats;

/** Per-isolate flag cache; see the module comment for its rules. */
export class FlagCache {
  readonly #flags: RefreshedValue<ReadonlyMap<string, FlagState>>;

  /** @throws {RangeError} for no keys or a negative or non-finite duration. */
  constructor(options: FlagCacheOptions) {
    const {
      keys,
      load,
      ttlMs = 5000,
      retryMs = ttlMs,
      initialWaitMs = 250,
      readTimeoutMs = 2000,
      clock,
      onError = (error) =>
        console.warn(
          "feature flags: read failed, keeping last known values:",
          error instanceof Error ? `${error.name}: ${error.message}` : error,
        ),
    } = options;
    if (keys.length === 0) throw new RangeError("flag cache option keys: expected at least one");
    const wanted = [...keys];
    const duration = (name: string, value: number) => nonNegativeOption("flag cache", name, value);
    this.#flags = new RefreshedValue({
      what: "flag",
      load: async () => {
        const rows = await load(wanted);
        const known = new Set(wanted);
        return new Map(rows.filter((r) => known.has(r.flagKey)).map((r) => [r.flagKey, r]));
      },
      refreshMs: duration("ttlMs", ttlMs),
      retryMs: duration("retryMs", retryMs),
      initialWaitMs: duration("initialWaitMs", initialWaitMs),
      readTimeoutMs: duration("readTimeoutMs", readTimeoutMs),
      dependency: "database",
      clock,
      onError,
    });
  }

  /** Counters since construction. */
  stats(): FlagCacheStats {
    return this.#flags.stats();
  }

  /**
   * The flag's last known state, or `undefined` when it was never read (or does not exist).
   * Never waits for anything but the very first read, and that at most `initialWaitMs`.
   */
  async get(key: string): Promise<FlagState | undefined> {
    return (await this.#flags.current())?.get(key);
  }

  /**
   * What this isolate currently believes about `key`, without reading or refreshing anything:
   * the last known state (undefined when never read or absent) and its age in ms (undefined
   * before the first successful read).
   */
  peek(key: string): { state: FlagState | undefined; ageMs: number | undefined } {
    const { value, ageMs } = this.#flags.peek();
    return { state: value?.get(key), ageMs };
  }

  /** Reads the flags now (joining a read in flight). Resolves whether or not the read worked. */
  refresh(): Promise<void> {
    return this.#flags.refresh();
  }
}
