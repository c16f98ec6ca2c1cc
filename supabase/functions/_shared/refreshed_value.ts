/**
 * A value read from the database and held per isolate, refreshed in the background so that steady
 * state costs no read per request: the machinery of the flag cache (`flags.ts`) and of
 * flight-search's airport set (`flight-search/airports.ts`).
 *
 * - A value younger than `refreshMs` is answered from memory.
 * - An older one is still answered at once, and one background read refreshes it
 *   (stale-while-revalidate): callers never wait for a refresh.
 * - A failed read keeps the last known value and is not retried for `retryMs`, so an outage costs
 *   one read per interval, not one per request.
 * - A read that does not answer within `readTimeoutMs` counts as failed, so a connection that
 *   hangs cannot stop refreshes for good; its late answer is ignored.
 * - Before the first successful read a caller waits at most `initialWaitMs` for it; past that it
 *   goes on without a value.
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";
import { DeadlineExceeded, type Dependency, withDeadline } from "./deadline.ts";

/**
 * `value` when it is a duration (a finite number ≥ 0).
 *
 * @throws {RangeError} naming `owner`'s option `name` otherwise.
 */
export function nonNegativeOption(owner: string, name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${owner} option ${name}: expected a number ≥ 0, received ${value}`);
  }
  return value;
}

/** Options of a {@link RefreshedValue}; its owner validates them (see {@link nonNegativeOption}). */
export interface RefreshedValueOptions<T> {
  /** What is read, for deadline messages: `flag` gives "flag read" and "first flag read". */
  what: string;
  /** Reads the value; a rejection is a failed read. */
  load: () => Promise<T>;
  /** Age after which the value is refreshed in the background. */
  refreshMs: number;
  /** Pause after a failed read before the next attempt. */
  retryMs: number;
  /** Longest a caller waits for the very first read. */
  initialWaitMs: number;
  /** A read slower than this counts as failed. */
  readTimeoutMs: number;
  /** The dependency a timed-out read names. @default none */
  dependency?: Dependency;
  /** @default systemClock */
  clock?: Clock;
  /** Told about each failed read (never about each caller). */
  onError: (error: unknown) => void;
}

/** Counters of a {@link RefreshedValue}, for tests and diagnostics. */
export interface RefreshedValueStats {
  reads: number;
  failures: number;
  /** Whether a read has ever succeeded. */
  loaded: boolean;
}

/** A value refreshed in the background; see the module comment for its rules. */
export class RefreshedValue<T> {
  readonly #options: RefreshedValueOptions<T>;
  readonly #clock: Clock;
  #value: T | undefined;
  #loadedAt: number | undefined;
  #nextAttemptAt = -Infinity;
  #refreshing: Promise<void> | undefined;
  #stats: RefreshedValueStats = { reads: 0, failures: 0, loaded: false };

  constructor(options: RefreshedValueOptions<T>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * The last known value, or `undefined` when none was ever read. Never waits for anything but
   * the very first read, and that at most `initialWaitMs`.
   */
  async current(): Promise<T | undefined> {
    const now = this.#clock.now();
    if (this.#loadedAt === undefined) {
      const refresh = this.#startRefresh(now);
      if (refresh) await this.#bounded(refresh);
    } else if (now - this.#loadedAt >= this.#options.refreshMs) {
      this.#startRefresh(now);
    }
    return this.#value;
  }

  /**
   * The last known value and its age in ms (undefined before the first successful read), without
   * reading or refreshing anything.
   */
  peek(): { value: T | undefined; ageMs: number | undefined } {
    return {
      value: this.#value,
      ageMs: this.#loadedAt === undefined ? undefined : this.#clock.now() - this.#loadedAt,
    };
  }

  /** Reads the value now (joining a read in flight). Resolves whether or not the read worked. */
  refresh(): Promise<void> {
    return this.#startRefresh(this.#clock.now(), true) ?? Promise.resolve();
  }

  /** Counters since construction. */
  stats(): RefreshedValueStats {
    return { ...this.#stats };
  }

  #startRefresh(now: number, force = false): Promise<void> | undefined {
    if (this.#refreshing) return this.#refreshing;
    if (!force && now < this.#nextAttemptAt) return undefined;
    const { what, load, retryMs, readTimeoutMs, refreshMs, dependency, onError } = this.#options;
    this.#nextAttemptAt = now + retryMs;
    this.#stats.reads++;
    const refreshing = (async () => {
      try {
        this.#value = await withDeadline(
          load(),
          readTimeoutMs,
          `${what} read`,
          this.#clock,
          dependency,
        );
        this.#loadedAt = this.#clock.now();
        this.#nextAttemptAt = this.#loadedAt + refreshMs;
        this.#stats.loaded = true;
      } catch (error) {
        this.#stats.failures++;
        onError(error);
      } finally {
        this.#refreshing = undefined;
      }
    })();
    this.#refreshing = refreshing;
    return refreshing;
  }

  /** Waits for `refresh` at most `initialWaitMs`; past that the caller goes on without it. */
  async #bounded(refresh: Promise<void>): Promise<void> {
    const { what, initialWaitMs } = this.#options;
    try {
      await withDeadline(refresh, initialWaitMs, `first ${what} read`, this.#clock);
    } catch (error) {
      if (!(error instanceof DeadlineExceeded)) throw error;
    }
  }
}
