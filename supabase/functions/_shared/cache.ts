/**
 * A two-tier cache for JSON values: L1 in the isolate (LRU, TTL, bounded by entries and bytes),
 * L2 in Upstash Redis through `@upstash/redis` when configured, and single-flight loading so
 * concurrent misses of one key call the loader once.
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
import { Redis } from "@upstash/redis";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import { systemClock } from "./clock.ts";
import { withDeadline } from "./deadline.ts";
import { ConfigError, type EnvSource, intVar, processEnv, readEnv } from "./env.ts";

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

/** The part of an `@upstash/redis` client the cache uses. */
export type CacheL2Client = Pick<Redis, "get" | "set" | "del">;

/**
 * Options of a {@link TwoTierCache}. Every field has a default; {@link cacheOptionsFromEnv}
 * reads them from the environment.
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

const defaults = {
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
  l1MaxEntries: positiveInt(10_000_000).default(defaults.l1MaxEntries),
  l1MaxBytes: positiveInt(Number.MAX_SAFE_INTEGER).default(defaults.l1MaxBytes),
  ttlMs: positiveInt(2 ** 31 - 1).default(defaults.ttlMs),
  l2TtlS: positiveInt(2 ** 31 - 1).default(defaults.l2TtlS),
  l2TimeoutMs: positiveInt(600_000).default(defaults.l2TimeoutMs),
  l2MaxPendingWrites: positiveInt(1_000_000).default(defaults.l2MaxPendingWrites),
  prefix: z.string().min(1).max(200).regex(/^\S+$/, "expected no whitespace").default(
    defaults.prefix,
  ),
  version: z.union([z.string().min(1).max(50).regex(/^\S+$/), z.number().int().min(0)])
    .default(defaults.version),
});

/** Longest key accepted; keys are built by code, so a longer one is a bug, not a request. */
const MAX_KEY_LENGTH = 1024;

/** The least time between two "L2 failed" log lines of one cache. */
export const l2LogIntervalMs = 10_000;

interface L1Entry {
  value: unknown;
  bytes: number;
}

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

/** UTF-8 byte length of `text` without encoding it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** A short description of an L2 failure: no values, no credentials. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  // UpstashError messages end with ", command was: [...]", which holds the cached value.
  const message = error.message.split(", command was:")[0] ?? "";
  return `${error.name}: ${message.slice(0, 200)}`;
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

  readonly #l1: LRUCache<string, L1Entry>;
  readonly #l2: CacheL2Client | undefined;
  readonly #l2TtlS: number;
  readonly #l2TimeoutMs: number;
  readonly #l2MaxPendingWrites: number;
  readonly #keyPrefix: string;
  readonly #waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  /** When the last "L2 failed" line was logged (clock of `now`). */
  #l2ReportedAt: number | undefined;
  /** L2 errors since that line that were not logged. */
  #l2Unreported = 0;
  /** Whether a failure was logged and its recovery not yet. */
  #l2OutageReported = false;
  readonly #inFlight = new Map<string, Flight<V>>();
  readonly #pendingL2 = new Set<Promise<void>>();
  #l2Healthy = true;
  #l1Hits = 0;
  #l1Misses = 0;
  #l2Hits = 0;
  #l2Misses = 0;
  #l2Errors = 0;

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
    // lru-cache takes a start time of 0 to mean "no TTL", so its clock starts at 1.
    const epoch = now();
    this.#l1 = new LRUCache<string, L1Entry>({
      max: o.l1MaxEntries,
      maxSize: o.l1MaxBytes,
      sizeCalculation: (entry) => entry.bytes,
      ttl: o.ttlMs,
      // Read the clock on every check rather than caching it behind a timer: exact expiry under
      // a fake clock, and no timer per look-up.
      ttlResolution: 0,
      perf: { now: () => now() - epoch + 1 },
    });
    this.#l2 = l2;
    this.l2Enabled = l2 !== undefined;
    this.#l2TtlS = o.l2TtlS;
    this.#l2TimeoutMs = o.l2TimeoutMs;
    this.#l2MaxPendingWrites = o.l2MaxPendingWrites;
    this.#keyPrefix = `${o.prefix}:v${o.version}:`;
    this.#waitUntil = options.waitUntil ?? defaultWaitUntil();
    this.#log = options.log ?? ((line) => console.warn(line));
    this.#now = now;
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
    if (!this.#l2) return;
    const l2 = this.#l2;
    await this.#track(
      this.#bounded(() => l2.del(this.#keyPrefix + key)).then(
        () => this.#l2Ok(),
        (error) => this.#l2Failed("delete", error),
      ),
    );
  }

  /** Empties L1 and stops running loads from being kept. L2 is left alone (bump `version`). */
  clear(): void {
    this.#l1.clear();
    for (const flight of this.#inFlight.values()) flight.invalidated = true;
    this.#inFlight.clear();
  }

  /** Counters and L1 occupancy; expired L1 entries are dropped first so counts are live ones. */
  stats(): CacheStats {
    this.#l1.purgeStale();
    return {
      l1Hits: this.#l1Hits,
      l1Misses: this.#l1Misses,
      l2Hits: this.#l2Hits,
      l2Misses: this.#l2Misses,
      l2Errors: this.#l2Errors,
      l1Entries: this.#l1.size,
      l1Bytes: this.#l1.calculatedSize,
      inFlight: this.#inFlight.size,
    };
  }

  /** Resolves once every L2 write and delete started so far has settled (for tests, shutdown). */
  async flush(): Promise<void> {
    while (this.#pendingL2.size > 0) await Promise.all([...this.#pendingL2]);
  }

  async #fill(key: string, loader: () => Promise<V>, flight: Flight<V>): Promise<CacheResult<V>> {
    if (this.#l2) {
      const found = await this.#l2Get(key);
      if (found !== undefined) {
        const json = JSON.stringify(found.v);
        const value = deepFreeze(JSON.parse(json)) as V;
        if (!flight.invalidated) this.#remember(key, value, json);
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
      this.#remember(key, value, json);
      this.#l2Write(key, json);
    }
    return { value, tier: "miss" };
  }

  #remember(key: string, value: unknown, json: string): void {
    // lru-cache keeps nothing larger than maxSize: such a value is served, not kept.
    this.#l1.set(key, { value, bytes: utf8Length(json) });
  }

  /** The L2 envelope for `key`, or undefined on a miss or any failure (counted). */
  async #l2Get(key: string): Promise<{ v: unknown } | undefined> {
    const l2 = this.#l2;
    if (!l2) return undefined;
    try {
      const raw = await this.#bounded(() => l2.get<unknown>(this.#keyPrefix + key));
      this.#l2Ok();
      if (raw === null || raw === undefined) {
        this.#l2Misses++;
        return undefined;
      }
      // Values are stored as {"v": value} so a client that deserialises JSON itself (the
      // @upstash/redis default) and one that does not both read the same thing back.
      const envelope = typeof raw === "string" ? JSON.parse(raw) : raw;
      if (envelope === null || typeof envelope !== "object" || !("v" in envelope)) {
        throw new TypeError("L2 entry is not a cache envelope");
      }
      this.#l2Hits++;
      return envelope as { v: unknown };
    } catch (error) {
      this.#l2Failed("read", error);
      return undefined;
    }
  }

  #l2Write(key: string, json: string): void {
    const l2 = this.#l2;
    if (!l2) return;
    if (this.#pendingL2.size >= this.#l2MaxPendingWrites) {
      this.#l2Failed("write", new Error(`more than ${this.#l2MaxPendingWrites} writes pending`));
      return;
    }
    const write = this.#bounded(() =>
      l2.set(this.#keyPrefix + key, `{"v":${json}}`, { ex: this.#l2TtlS })
    ).then(
      () => this.#l2Ok(),
      (error) => this.#l2Failed("write", error),
    );
    const tracked = this.#track(write);
    this.#waitUntil?.(tracked);
  }

  /** Keeps `work` in the pending set until it settles; `work` must not reject. */
  #track(work: Promise<void>): Promise<void> {
    this.#pendingL2.add(work);
    return work.finally(() => this.#pendingL2.delete(work));
  }

  /**
   * Runs an L2 call, rejecting with a `DeadlineExceeded` (dependency `cache`) after
   * `l2TimeoutMs`; a call that fails after that was already counted as the timeout.
   */
  #bounded<T>(call: () => Promise<T>): Promise<T> {
    return withDeadline(
      () => {
        try {
          return call();
        } catch (error) {
          return Promise.reject(error);
        }
      },
      this.#l2TimeoutMs,
      "L2 call",
      systemClock,
      "cache",
    );
  }

  #l2Ok(): void {
    if (!this.#l2Healthy && this.#l2OutageReported) {
      this.#log("cache: L2 answering again");
      this.#l2OutageReported = false;
    }
    this.#l2Healthy = true;
  }

  /**
   * Counts an L2 failure and logs it on the transition from healthy, at most once per
   * {@link l2LogIntervalMs}: an overloaded L2 that flaps between answering and timing out logs a
   * line (with the errors not logged since the last one) every interval, not one per flap.
   */
  #l2Failed(operation: string, error: unknown): void {
    this.#l2Errors++;
    const now = this.#now();
    const due = this.#l2ReportedAt === undefined || now - this.#l2ReportedAt >= l2LogIntervalMs;
    if (this.#l2Healthy && due) {
      const unreported = this.#l2Unreported > 0
        ? ` (${this.#l2Unreported} more L2 errors since the last report)`
        : "";
      this.#log(
        `cache: L2 ${operation} failed (${
          describe(error)
        }); serving from L1 and loaders until L2 answers${unreported}`,
      );
      this.#l2ReportedAt = now;
      this.#l2Unreported = 0;
      this.#l2OutageReported = true;
    } else {
      this.#l2Unreported++;
    }
    this.#l2Healthy = false;
  }
}

/**
 * The `@upstash/redis` client for L2 from `UPSTASH_REDIS_REST_URL` and
 * `UPSTASH_REDIS_REST_TOKEN`, or undefined when neither is set. Retries are off and every request
 * is aborted after `timeoutMs`: the cache bounds its waits and must not leave requests running.
 *
 * @throws {ConfigError} when only one of the two is set or the URL is not http(s).
 */
export function l2ClientFromEnv(
  source: EnvSource = processEnv(),
  timeoutMs: number = defaults.l2TimeoutMs,
): Redis | undefined {
  const env = upstashConfig(source);
  if (!env) return undefined;
  return new Redis({
    url: env.url,
    token: env.token,
    retry: false,
    enableTelemetry: false,
    automaticDeserialization: false,
    signal: () => AbortSignal.timeout(timeoutMs),
  });
}

/**
 * Where L2 is: `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`, both or neither
 * (undefined). Shared with `health`, so a half-set pair fails there the way it fails here.
 *
 * @throws {ConfigError} when only one of the two is set or the URL is not http(s).
 */
export function upstashConfig(
  source: EnvSource = processEnv(),
): { url: string; token: string } | undefined {
  const env = readEnv(
    z.object({
      UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" })
        .optional(),
      UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
    }),
    source,
  );
  const url = env.UPSTASH_REDIS_REST_URL;
  const token = env.UPSTASH_REDIS_REST_TOKEN;
  if (url === undefined && token === undefined) return undefined;
  if (url === undefined || token === undefined) {
    throw new ConfigError(
      `invalid function environment: ${
        url === undefined ? "UPSTASH_REDIS_REST_URL" : "UPSTASH_REDIS_REST_TOKEN"
      } is not set but ${
        url === undefined ? "UPSTASH_REDIS_REST_TOKEN" : "UPSTASH_REDIS_REST_URL"
      } is; set both for L2 or neither for L1 only`,
    );
  }
  return { url, token };
}

/**
 * {@link TwoTierCacheOptions} from the environment, with the L2 client when
 * `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` are set:
 *
 * | variable | option | default |
 * | --- | --- | --- |
 * | CACHE_L1_MAX_ENTRIES | l1MaxEntries | 1000 |
 * | CACHE_L1_MAX_BYTES | l1MaxBytes | 16777216 |
 * | CACHE_TTL_MS | ttlMs | 30000 |
 * | CACHE_L2_TTL_S | l2TtlS | 300 |
 * | CACHE_L2_TIMEOUT_MS | l2TimeoutMs | 50 |
 * | CACHE_KEY_PREFIX | prefix | pf-cache |
 * | UPSTASH_REDIS_REST_URL + UPSTASH_REDIS_REST_TOKEN | l2 | none (L1 only) |
 *
 * `version` is not read from the environment: it belongs to the code that knows the values'
 * shape; spread these options and add it.
 *
 * @example
 * ```ts
 * const cache = new TwoTierCache<Result>({ ...cacheOptionsFromEnv(), version: 2 });
 * ```
 * @throws {ConfigError} when a variable is malformed or only one Upstash variable is set.
 */
export function cacheOptionsFromEnv(source: EnvSource = processEnv()): TwoTierCacheOptions {
  const env = readEnv(
    z.object({
      CACHE_L1_MAX_ENTRIES: intVar(defaults.l1MaxEntries, { max: 10_000_000 }),
      CACHE_L1_MAX_BYTES: intVar(defaults.l1MaxBytes),
      CACHE_TTL_MS: intVar(defaults.ttlMs, { max: 2 ** 31 - 1 }),
      CACHE_L2_TTL_S: intVar(defaults.l2TtlS, { max: 2 ** 31 - 1 }),
      CACHE_L2_TIMEOUT_MS: intVar(defaults.l2TimeoutMs, { max: 600_000 }),
      CACHE_KEY_PREFIX: z.string().min(1).max(200).regex(/^\S+$/, "expected no whitespace")
        .default(defaults.prefix),
    }),
    source,
  );
  return {
    l1MaxEntries: env.CACHE_L1_MAX_ENTRIES,
    l1MaxBytes: env.CACHE_L1_MAX_BYTES,
    ttlMs: env.CACHE_TTL_MS,
    l2TtlS: env.CACHE_L2_TTL_S,
    l2TimeoutMs: env.CACHE_L2_TIMEOUT_MS,
    prefix: env.CACHE_KEY_PREFIX,
    l2: l2ClientFromEnv(source, env.CACHE_L2_TIMEOUT_MS) ?? null,
  };
}
