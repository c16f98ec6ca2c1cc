/**
 * Feature flags from `public.feature_flags` (their row and state: `rollout_flag.ts`), read
 * through a per-isolate cache so that steady state costs no flag query per request.
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
import { type Clock, systemClock } from "./clock.ts";
import type { Sql } from "./db.ts";
import { DeadlineExceeded, withDeadline } from "./deadline.ts";
import { textArray } from "./pg_array.ts";
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
export interface FlagCacheStats {
  reads: number;
  failures: number;
  /** Whether a read has ever succeeded. */
  loaded: boolean;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`flag cache option ${name}: expected a number ≥ 0, received ${value}`);
  }
  return value;
}

/** Per-isolate flag cache; see the module comment for its rules. */
export class FlagCache {
  readonly #keys: readonly string[];
  readonly #load: FlagLoader;
  readonly #ttlMs: number;
  readonly #retryMs: number;
  readonly #initialWaitMs: number;
  readonly #readTimeoutMs: number;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;

  #values = new Map<string, FlagState>();
  #loadedAt: number | undefined;
  #nextAttemptAt = -Infinity;
  #refreshing: Promise<void> | undefined;
  #stats: FlagCacheStats = { reads: 0, failures: 0, loaded: false };

  /** @throws {RangeError} for a negative or non-finite duration. */
  constructor(options: FlagCacheOptions) {
    const {
      keys,
      load,
      ttlMs = 5000,
      retryMs = ttlMs,
      initialWaitMs = 250,
      readTimeoutMs = 2000,
      clock = systemClock,
      onError = (error) =>
        console.warn(
          "feature flags: read failed, keeping last known values:",
          error instanceof Error ? `${error.name}: ${error.message}` : error,
        ),
    } = options;
    if (keys.length === 0) throw new RangeError("flag cache option keys: expected at least one");
    this.#keys = [...keys];
    this.#load = load;
    this.#ttlMs = nonNegative("ttlMs", ttlMs);
    this.#retryMs = nonNegative("retryMs", retryMs);
    this.#initialWaitMs = nonNegative("initialWaitMs", initialWaitMs);
    this.#readTimeoutMs = nonNegative("readTimeoutMs", readTimeoutMs);
    this.#clock = clock;
    this.#onError = onError;
  }

  /** Counters since construction. */
  stats(): FlagCacheStats {
    return { ...this.#stats };
  }

  /**
   * The flag's last known state, or `undefined` when it was never read (or does not exist).
   * Never waits for anything but the very first read, and that at most `initialWaitMs`.
   */
  async get(key: string): Promise<FlagState | undefined> {
    const now = this.#clock.now();
    if (this.#loadedAt === undefined) {
      const refresh = this.#startRefresh(now);
      if (refresh) await this.#bounded(refresh);
      return this.#values.get(key);
    }
    if (now - this.#loadedAt >= this.#ttlMs) this.#startRefresh(now);
    return this.#values.get(key);
  }

  /**
   * What this isolate currently believes about `key`, without reading or refreshing anything:
   * the last known state (undefined when never read or absent) and its age in ms (undefined
   * before the first successful read).
   */
  peek(key: string): { state: FlagState | undefined; ageMs: number | undefined } {
    return {
      state: this.#values.get(key),
      ageMs: this.#loadedAt === undefined ? undefined : this.#clock.now() - this.#loadedAt,
    };
  }

  /** Reads the flags now (joining a read in flight). Resolves whether or not the read worked. */
  refresh(): Promise<void> {
    return this.#startRefresh(this.#clock.now(), true) ?? Promise.resolve();
  }

  #startRefresh(now: number, force = false): Promise<void> | undefined {
    if (this.#refreshing) return this.#refreshing;
    if (!force && now < this.#nextAttemptAt) return undefined;
    this.#nextAttemptAt = now + this.#retryMs;
    this.#stats.reads++;
    const refreshing = (async () => {
      try {
        const rows = await withDeadline(
          this.#load(this.#keys),
          this.#readTimeoutMs,
          "flag read",
          this.#clock,
          "database",
        );
        const wanted = new Set(this.#keys);
        this.#values = new Map(
          rows.filter((r) => wanted.has(r.flagKey)).map((r) => [r.flagKey, r]),
        );
        this.#loadedAt = this.#clock.now();
        this.#nextAttemptAt = this.#loadedAt + this.#ttlMs;
        this.#stats.loaded = true;
      } catch (error) {
        this.#stats.failures++;
        this.#onError(error);
      } finally {
        this.#refreshing = undefined;
      }
    })();
    this.#refreshing = refreshing;
    return refreshing;
  }

  /** Waits for `refresh` at most `initialWaitMs`; past that the caller goes on without it. */
  async #bounded(refresh: Promise<void>): Promise<void> {
    try {
      await withDeadline(refresh, this.#initialWaitMs, "first flag read", this.#clock);
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) throw error;
    }
  }
}
