/**
 * A two-tier cache for JSON values: L1 in the isolate (`cache_l1.ts`: LRU, TTL, bounded by
 * entries and bytes), L2 in Upstash Redis through `@upstash/redis` when configured (`cache_l2.ts`),
 * and single-flight loading so concurrent misses of one key call the loader once. Its settings
 * come from the environment through `cache_env.ts`.
 *
 * L2 is an optimisation, never a dependency: a slow, failing or unreachable L2 is a miss (counted
 * in `l2Errors`) after at most `l2TimeoutMs`, and the value comes from the loader.
 *
 * Every value is handed out as JSON makes it (`JSON.parse(JSON.stringify(value))`) and frozen,
 * whichever tier served it, so an L1 hit, an L2 hit and a fresh load look the same and no caller
 * can change what the next one gets.
 *
 * @module
 */
import { z } from "zod";
import { L1Cache } from "./cache_l1.ts";
import { type CacheL2Client, L2Tier } from "./cache_l2.ts";

/** Which tier answered: the isolate's L1, Upstash L2, or neither (the loader ran). */
export type CacheTier = "l1" | "l2" | "miss";

/** Counters since the cache was made, and the current L1 occupancy. */
export interface CacheStats {
  /** Look-ups answered by L1. */
  l1Hits: number;
  /** Look-ups L1 could not answer (they went to single-flight, L2, the loader). */
  l1Misses: number;
  /** Loads answered by L2 (one per single-flight group). */
  l2Hits: number;
  /** Loads L2 answered with "no such key". */
  l2Misses: number;
  /** L2 calls that failed, timed out, returned garbage or were shed (reads, writes, deletes). */
  l2Errors: number;
  /** Live entries in L1. */
  l1Entries: number;
  /** Sum of the JSON byte lengths of the L1 entries. */
  l1Bytes: number;
  /** Keys being loaded right now. */
  inFlight: number;
}

/** What {@link TwoTierCache.getOrLoad} resolves to. */
export interface CacheResult<V> {
  value: V;
  tier: CacheTier;
}

/**
 * Options of a {@link TwoTierCache}. Every field has a default; `cacheOptionsFromEnv()`
 * (`cache_env.ts`) reads them from the environment.
 */
export interface TwoTierCacheOptions {
  /** Most entries in L1. @default 1000 (CACHE_L1_MAX_ENTRIES) */
  l1MaxEntries?: number;
  /**
   * Most bytes in L1, counted as the UTF-8 length of each value's JSON; a value larger than
   * this is served but not kept. @default 16777216 (CACHE_L1_MAX_BYTES)
   */
  l1MaxBytes?: number;
  /** How long an L1 entry lives, in ms. @default 30000 (CACHE_TTL_MS) */
  ttlMs?: number;
  /** How long an L2 entry lives, in seconds (SET ... EX). @default 300 (CACHE_L2_TTL_S) */
  l2TtlS?: number;
  /** Longest wait for any L2 call before it counts as an error. @default 50 (CACHE_L2_TIMEOUT_MS) */
  l2TimeoutMs?: number;
  /** Most L2 writes in flight; more are dropped (and counted in `l2Errors`). @default 64 */
  l2MaxPendingWrites?: number;
  /** Namespace of the L2 keys. @default "pf-cache" (CACHE_KEY_PREFIX) */
  prefix?: string;
  /**
   * Version of the cached values' shape, part of every L2 key: bump it when the shape changes so
   * entries written by older code are never read. @default "1"
   */
  version?: string | number;
  /** The L2 client; absent or null runs L1 only. */
  l2?: CacheL2Client | null;
  /** Clock in ms for L1 expiry (tests pass a fake one). @default performance.now */
  now?: () => number;
  /**
   * Keeps the isolate alive until a background L2 write settles.
   * @default EdgeRuntime.waitUntil where it exists, else nothing
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Where L2 state changes ("L2 failing", "L2 answering again") are logged, once per change, never
   * with keys' values or credentials. @default console.warn
   */
  log?: (line: string) => void;
}

/** Defaults of {@link TwoTierCacheOptions}; `cache_env.ts` reads the same from the environment. */
export const cacheDefaults = {
  l1MaxEntries: 1000,
  l1MaxBytes: 16 * 1024 * 1024,
  ttlMs: 30_000,
  l2TtlS: 300,
  l2TimeoutMs: 50,
  l2MaxPendingWrites: 64,
  prefix: "pf-cache",
  version: "1",
} as const;

const positiveInt = (max: number) => z.number().int().min(1).max(max);

const optionsSchema = z.object({
  l1MaxEntries: positiveInt(10_000_000).default(cacheDefaults.l1MaxEntries),
  l1MaxBytes: positiveInt(Number.MAX_SAFE_INTEGER).default(cacheDefaults.l1MaxBytes),
  ttlMs: positiveInt(2 ** 31 - 1).default(cacheDefaults.ttlMs),
  l2TtlS: positiveInt(2 ** 31 - 1).default(cacheDefaults.l2TtlS),
  l2TimeoutMs: positiveInt(600_000).default(cacheDefaults.l2TimeoutMs),
  l2MaxPendingWrites: positiveInt(1_000_000).default(cacheDefaults.l2MaxPendingWrites),
  prefix: z.string().min(1).max(200).regex(/^\S+$/, "expected no whitespace").default(
    cacheDefaults.prefix,
  ),
  version: z.union([z.string().min(1).max(50).regex(/^\S+$/), z.number().int().min(0)])
    .default(cacheDefaults.version),
});

/** Longest key accepted; keys are built by code, so a longer one is a bug, not a request. */
const MAX_KEY_LENGTH = 1024;

interface Flight<V> {
  promise: Promise<CacheResult<V>>;
  /** Set by delete()/clear() while loading: the result is still handed out but not kept. */
  invalidated: boolean;
}

type EdgeRuntimeGlobal = { EdgeRuntime?: { waitUntil?: (promise: Promise<unknown>) => void } };

function defaultWaitUntil(): ((promise: Promise<unknown>) => void) | undefined {
  const runtime = (globalThis as EdgeRuntimeGlobal).EdgeRuntime;
  const waitUntil = runtime?.waitUntil;
  return typeof waitUntil === "function" ? waitUntil.bind(runtime) : undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Two-tier cache of JSON values with single-flight loading.
 *
 * @example
 * ```ts
 * const cache = new TwoTierCache<SearchResult>({ ...cacheOptionsFromEnv(), prefix: "search" });
 * const { value, tier } = await cache.getOrLoad(searchKey, () => runSearch(params));
 * ```
 * @throws {RangeError} from the constructor when an option is out of range.
 * @throws {TypeError} from the constructor when `l2`, `now`, `waitUntil` or `log` is malformed.
 */
export class TwoTierCache<V> {
  /** True when an L2 client was given. */
  readonly l2Enabled: boolean;

  readonly #l1: L1Cache;
  readonly #l2: L2Tier | undefined;
  readonly #inFlight = new Map<string, Flight<V>>();
  #l1Hits = 0;
  #l1Misses = 0;

  /** @param options See {@link TwoTierCacheOptions}; unset fields take their defaults. */
  constructor(options: TwoTierCacheOptions = {}) {
    const parsed = optionsSchema.safeParse({
      l1MaxEntries: options.l1MaxEntries,
      l1MaxBytes: options.l1MaxBytes,
      ttlMs: options.ttlMs,
      l2TtlS: options.l2TtlS,
      l2TimeoutMs: options.l2TimeoutMs,
      l2MaxPendingWrites: options.l2MaxPendingWrites,
      prefix: options.prefix,
      version: options.version,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue?.path[0] ?? "options");
      const received = JSON.stringify((options as Record<string, unknown>)[field]);
      throw new RangeError(
        `TwoTierCache: ${field}: ${issue?.message ?? "invalid"} (received ${received})`,
      );
    }
    const o = parsed.data;
    for (const name of ["now", "waitUntil", "log"] as const) {
      if (options[name] !== undefined && typeof options[name] !== "function") {
        throw new TypeError(`TwoTierCache: ${name}: expected a function`);
      }
    }
    const l2 = options.l2 ?? undefined;
    if (
      l2 !== undefined &&
      (typeof l2 !== "object" || typeof l2.get !== "function" || typeof l2.set !== "function" ||
        typeof l2.del !== "function")
    ) {
      throw new TypeError("TwoTierCache: l2: expected an @upstash/redis client (get, set, del)");
    }

    const now = options.now ?? (() => performance.now());
    this.#l1 = new L1Cache({
      maxEntries: o.l1MaxEntries,
      maxBytes: o.l1MaxBytes,
      ttlMs: o.ttlMs,
      now,
    });
    this.#l2 = l2 && new L2Tier({
      client: l2,
      keyPrefix: `${o.prefix}:v${o.version}:`,
      ttlS: o.l2TtlS,
      timeoutMs: o.l2TimeoutMs,
      maxPendingWrites: o.l2MaxPendingWrites,
      waitUntil: options.waitUntil ?? defaultWaitUntil(),
      log: options.log ?? ((line) => console.warn(line)),
      now,
    });
    this.l2Enabled = l2 !== undefined;
  }

  /**
   * The value for `key` from L1, else L2, else `loader` (whose result is kept in L1 and written
   * to L2 in the background). Concurrent calls for a key that is not in L1 share one L2 read and
   * one `loader` call.
   *
   * @param key Non-empty, at most 1024 characters; names the value (include every input of it).
   * @param loader Produces the value; must resolve to something JSON can represent.
   * @returns The value, frozen, and the tier that served it (joiners of a load get the tier of
   * that load).
   * @throws whatever `loader` throws, to every caller waiting on that load; nothing is cached.
   * @throws {TypeError} when `key` is malformed or the loaded value is not JSON-serialisable.
   */
  getOrLoad(key: string, loader: () => Promise<V>): Promise<CacheResult<V>> {
    if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      return Promise.reject(
        new TypeError(`TwoTierCache: key: expected 1..${MAX_KEY_LENGTH} characters`),
      );
    }
    const entry = this.#l1.get(key);
    if (entry !== undefined) {
      this.#l1Hits++;
      return Promise.resolve({ value: entry.value as V, tier: "l1" });
    }
    this.#l1Misses++;
    const running = this.#inFlight.get(key);
    if (running) return running.promise.then((result) => ({ ...result }));

    const flight: Flight<V> = { promise: Promise.resolve() as never, invalidated: false };
    flight.promise = this.#fill(key, loader, flight).finally(() => {
      if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, flight);
    return flight.promise;
  }

  /**
   * Removes `key` from L1 and L2; a load of it already running still answers its callers but is
   * not kept. An L2 failure is counted, not thrown.
   */
  async delete(key: string): Promise<void> {
    this.#l1.delete(key);
    const flight = this.#inFlight.get(key);
    if (flight) {
      flight.invalidated = true;
      this.#inFlight.delete(key);
    }
    await this.#l2?.delete(key);
  }

  /** Empties L1 and stops running loads from being kept. L2 is left alone (bump `version`). */
  clear(): void {
    this.#l1.clear();
    for (const flight of this.#inFlight.values()) flight.invalidated = true;
    this.#inFlight.clear();
  }

  /** Counters and L1 occupancy; expired L1 entries are dropped first so counts are live ones. */
  stats(): CacheStats {
    const l1 = this.#l1.occupancy();
    const l2 = this.#l2?.counts() ?? { hits: 0, misses: 0, errors: 0 };
    return {
      l1Hits: this.#l1Hits,
      l1Misses: this.#l1Misses,
      l2Hits: l2.hits,
      l2Misses: l2.misses,
      l2Errors: l2.errors,
      l1Entries: l1.entries,
      l1Bytes: l1.bytes,
      inFlight: this.#inFlight.size,
    };
  }

  /** Resolves once every L2 write and delete started so far has settled (for tests, shutdown). */
  async flush(): Promise<void> {
    await this.#l2?.flush();
  }

  async #fill(key: string, loader: () => Promise<V>, flight: Flight<V>): Promise<CacheResult<V>> {
    if (this.#l2) {
      const found = await this.#l2.get(key);
      if (found !== undefined) {
        const json = JSON.stringify(found.v);
        const value = deepFreeze(JSON.parse(json)) as V;
        if (!flight.invalidated) this.#l1.set(key, value, json);
        return { value, tier: "l2" };
      }
    }
    const loaded = await loader();
    const json = JSON.stringify(loaded) as string | undefined;
    if (json === undefined) {
      throw new TypeError(
        `TwoTierCache: the loader returned ${typeof loaded}, which JSON cannot represent`,
      );
    }
    const value = deepFreeze(JSON.parse(json)) as V;
    if (!flight.invalidated) {
      this.#l1.set(key, value, json);
      this.#l2?.write(key, json);
    }
    return { value, tier: "miss" };
  }
}
