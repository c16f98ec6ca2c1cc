/**
 * L2 of the two-tier cache (`cache.ts`): entries shared by every isolate, in Upstash Redis through
 * `@upstash/redis`.
 *
 * L2 is an optimisation, never a dependency: every call is bounded by `timeoutMs`, a failure is
 * counted and answered as a miss (reads) or dropped (writes, deletes), and L2 state changes are
 * logged at most once per {@link l2LogIntervalMs}, never with values or credentials. Writes run in
 * the background, at most `maxPendingWrites` at once.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { systemClock } from "./clock.ts";
import { withDeadline } from "./deadline.ts";

/** The part of an `@upstash/redis` client the cache uses. */
export type CacheL2Client = Pick<Redis, "get" | "set" | "del">;

/** The least time between two "L2 failed" log lines of one cache. */
export const l2LogIntervalMs = 10_000;

/** Options of an {@link L2Tier}; `cache.ts` validates them and fills in the defaults. */
export interface L2TierOptions {
  client: CacheL2Client;
  /** Prepended to every key: the cache's namespace and version, e.g. `pf-cache:v1:`. */
  keyPrefix: string;
  /** How long an entry lives, in seconds (SET ... EX). */
  ttlS: number;
  /** Longest wait for any call before it counts as an error. */
  timeoutMs: number;
  /** Most writes in flight; more are dropped (and counted as errors). */
  maxPendingWrites: number;
  /** Keeps the isolate alive until a background write settles. */
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  /** Where state changes are logged. */
  log: (line: string) => void;
  /** The clock in ms log lines are spaced by. */
  now: () => number;
}

/** What L2 did since the cache was made. */
export interface L2Counts {
  /** Reads that found an entry. */
  hits: number;
  /** Reads answered with "no such key". */
  misses: number;
  /** Calls that failed, timed out, returned garbage or were shed (reads, writes, deletes). */
  errors: number;
}

/** A short description of an L2 failure: no values, no credentials. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  // UpstashError messages end with ", command was: [...]", which holds the cached value.
  const message = error.message.split(", command was:")[0] ?? "";
  return `${error.name}: ${message.slice(0, 200)}`;
}

/** The L2 side of one cache; see the module comment. */
export class L2Tier {
  readonly #client: CacheL2Client;
  readonly #keyPrefix: string;
  readonly #ttlS: number;
  readonly #timeoutMs: number;
  readonly #maxPendingWrites: number;
  readonly #waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  readonly #pending = new Set<Promise<void>>();
  /** When the last "L2 failed" line was logged (clock of `now`). */
  #reportedAt: number | undefined;
  /** L2 errors since that line that were not logged. */
  #unreported = 0;
  /** Whether a failure was logged and its recovery not yet. */
  #outageReported = false;
  #healthy = true;
  #counts: L2Counts = { hits: 0, misses: 0, errors: 0 };

  constructor(options: L2TierOptions) {
    this.#client = options.client;
    this.#keyPrefix = options.keyPrefix;
    this.#ttlS = options.ttlS;
    this.#timeoutMs = options.timeoutMs;
    this.#maxPendingWrites = options.maxPendingWrites;
    this.#waitUntil = options.waitUntil;
    this.#log = options.log;
    this.#now = options.now;
  }

  /** Counters since the tier was made. */
  counts(): L2Counts {
    return { ...this.#counts };
  }

  /** The envelope stored for `key`, or undefined on a miss or any failure (counted). */
  async get(key: string): Promise<{ v: unknown } | undefined> {
    try {
      const raw = await this.#bounded(() => this.#client.get<unknown>(this.#keyPrefix + key));
      this.#ok();
      if (raw === null || raw === undefined) {
        this.#counts.misses++;
        return undefined;
      }
      // Values are stored as {"v": value} so a client that deserialises JSON itself (the
      // @upstash/redis default) and one that does not both read the same thing back.
      const envelope = typeof raw === "string" ? JSON.parse(raw) : raw;
      if (envelope === null || typeof envelope !== "object" || !("v" in envelope)) {
        throw new TypeError("L2 entry is not a cache envelope");
      }
      this.#counts.hits++;
      return envelope as { v: unknown };
    } catch (error) {
      this.#failed("read", error);
      return undefined;
    }
  }

  /** Stores the value whose JSON is `json` under `key` in the background. */
  write(key: string, json: string): void {
    if (this.#pending.size >= this.#maxPendingWrites) {
      this.#failed("write", new Error(`more than ${this.#maxPendingWrites} writes pending`));
      return;
    }
    const write = this.#bounded(() =>
      this.#client.set(this.#keyPrefix + key, `{"v":${json}}`, { ex: this.#ttlS })
    ).then(
      () => this.#ok(),
      (error) => this.#failed("write", error),
    );
    const tracked = this.#track(write);
    this.#waitUntil?.(tracked);
  }

  /** Removes `key`; a failure is counted, not thrown. */
  async delete(key: string): Promise<void> {
    await this.#track(
      this.#bounded(() => this.#client.del(this.#keyPrefix + key)).then(
        () => this.#ok(),
        (error) => this.#failed("delete", error),
      ),
    );
  }

  /** Resolves once every write and delete started so far has settled. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Keeps `work` in the pending set until it settles; `work` must not reject. */
  #track(work: Promise<void>): Promise<void> {
    this.#pending.add(work);
    return work.finally(() => this.#pending.delete(work));
  }

  /**
   * Runs an L2 call, rejecting with a `DeadlineExceeded` (dependency `cache`) after
   * `timeoutMs`; a call that fails after that was already counted as the timeout.
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
      this.#timeoutMs,
      "L2 call",
      systemClock,
      "cache",
    );
  }

  #ok(): void {
    if (!this.#healthy && this.#outageReported) {
      this.#log("cache: L2 answering again");
      this.#outageReported = false;
    }
    this.#healthy = true;
  }

  /**
   * Counts an L2 failure and logs it on the transition from healthy, at most once per
   * {@link l2LogIntervalMs}: an overloaded L2 that flaps between answering and timing out logs a
   * line (with the errors not logged since the last one) every interval, not one per flap.
   */
  #failed(operation: string, error: unknown): void {
    this.#counts.errors++;
    const now = this.#now();
    const due = this.#reportedAt === undefined || now - this.#reportedAt >= l2LogIntervalMs;
    if (this.#healthy && due) {
      const unreported = this.#unreported > 0
        ? ` (${this.#unreported} more L2 errors since the last report)`
        : "";
      this.#log(
        `cache: L2 ${operation} failed (${
          describe(error)
        }); serving from L1 and loaders until L2 answers${unreported}`,
      );
      this.#reportedAt = now;
      this.#unreported = 0;
      this.#outageReported = true;
    } else {
      this.#unreported++;
    }
    this.#healthy = false;
  }
}
