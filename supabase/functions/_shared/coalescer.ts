/**
 * Cross-request query coalescing: many callers `load(key)`, one batch function sees each unique
 * key once and answers them all.
 *
 * The design follows graphql/dataloader (values in key order, an `Error` per failed key, a failed
 * dispatch settles every waiting caller and caches nothing) with a different scheduler, because
 * an edge isolate's callers are concurrent HTTP requests rather than resolvers of one query:
 *
 * - **Idle → dispatch at once.** When the coalescer is idle, a key is dispatched at the end of
 *   the current event-loop turn (a zero-delay timer): a lone request pays no window. Keys loaded
 *   in the same turn — several requests parsed together, a `Promise.all` — still share the batch.
 * - **Under load → gather.** Otherwise waiting keys are dispatched once no new key has arrived
 *   for `windowMs` (a quiet gap), at the latest `maxWaitMs` after the first of them, or as soon as
 *   `maxBatchSize` keys wait. Requests arriving during a round trip ride the next batch instead
 *   of each paying their own.
 *
 * That is the one subtle choice, and it rests on what "under load" means: a batch is in flight,
 * or a batch of more than one key settled less than `loadMemoryMs` ago. The second half matters
 * for bursts: concurrent HTTP requests do not arrive in one turn but over a millisecond or two,
 * so with "in flight" alone the first request of every burst would leave alone and the rest
 * follow in a second batch — twice the queries, and two batches competing for the pool. An
 * isolate that just served concurrent requests lets the first key of the next burst wait the
 * short window; one that serves requests one at a time (every batch a single key) never waits.
 * dataloader always dispatches at the end of the turn and never later, which under HTTP load
 * yields several small batches per burst; a fixed window for every key would tax the idle case.
 *
 * The window is a quiet gap rather than a fixed span from the first key because of how a burst
 * reaches an isolate: measured in `bench:search`, the 50 requests of a burst reached `load()`
 * over 9–14 ms, in runs of keys 0.1–0.2 ms apart separated by gaps of about 2 ms (the isolate
 * parses one request at a time, the sockets deliver in clumps). A fixed 2 ms window cut such a
 * burst in two — two batches, twice the queries, racing for the pool. Waiting for a 2 ms lull
 * keeps the burst whole, and `maxWaitMs` bounds what the first key can be made to wait when
 * keys never stop coming. `maxWaitMs` equal to `windowMs` gives the fixed window back.
 *
 * Gathering only pays while it is short next to a batch: holding keys for 2 ms to spare a second
 * batch that takes 1 ms makes every caller slower. So with `adaptive` (the default) the gap and
 * the cap shrink to a quarter and a half of the recent batch duration (a moving average of
 * successful batches) when those are shorter: against a database a few round trips away the
 * configured windows hold; against one on loopback the coalescer behaves nearly like dataloader.
 *
 * Everything is bounded: keys outstanding (queued plus in flight) by `maxPending` — beyond it
 * `load()` rejects with {@link OverloadError} at once — and each batch by `batchTimeoutMs`, after
 * which its callers are rejected with {@link BatchTimeoutError} and its signal is aborted.
 * Identical keys (by `keyOf`) share one promise while queued or in flight; a settled key leaves
 * no trace, so the next `load()` of it goes to the batch function again.
 *
 * @module
 */
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";

/**
 * Answers unique `keys` with one value or `Error` per key, in key order. `signal` aborts when the
 * batch times out, so the work can be cancelled.
 */
export type BatchFunction<K, V> = (
  keys: readonly K[],
  signal: AbortSignal,
) => Promise<ReadonlyArray<V | Error>>;

/** What happened to one batch; for metrics. */
export interface BatchReport {
  size: number;
  durationMs: number;
  outcome: "ok" | "error" | "timeout";
}

/** Options for {@link Coalescer}. */
export interface CoalescerOptions<K, V> {
  /** Loads unique keys. */
  batch: BatchFunction<K, V>;
  /**
   * Identity of a key for deduplication.
   * @default the key itself (by value for strings and numbers, by reference for objects)
   */
  keyOf?: (key: K) => unknown;
  /**
   * Under load, the quiet gap that ends the gathering: waiting keys go once no new key has
   * arrived for this long, in ms. @default 2
   */
  windowMs?: number;
  /**
   * Under load, the longest the first waiting key is held while keys keep arriving, in ms.
   * @default 10
   */
  maxWaitMs?: number;
  /**
   * How long after a batch of more than one key the coalescer still counts as under load.
   * @default 1000
   */
  loadMemoryMs?: number;
  /**
   * Shrink `windowMs` and `maxWaitMs` to a quarter and a half of the recent batch duration when
   * batches are faster than that. @default true
   */
  adaptive?: boolean;
  /** Most keys per batch. @default 100 */
  maxBatchSize?: number;
  /** Most keys outstanding (queued plus in flight) before `load()` rejects. @default 1000 */
  maxPending?: number;
  /** Longest a batch may take before its callers are rejected, in ms. @default 10000 */
  batchTimeoutMs?: number;
  /** Time source. @default systemClock */
  clock?: Clock;
  /** Called after every batch settles. */
  onBatch?: (report: BatchReport) => void;
}

/** Thrown (as a rejection) by `load()` when `maxPending` keys are already outstanding. */
export class OverloadError extends Error {
  override name = "OverloadError";
  constructor(readonly maxPending: number) {
    super(`coalescer overloaded: ${maxPending} keys already outstanding`);
  }
}

/** Rejects every caller of a batch that did not settle within `batchTimeoutMs`. */
export class BatchTimeoutError extends Error {
  override name = "BatchTimeoutError";
  constructor(readonly timeoutMs: number, readonly size: number) {
    super(`batch of ${size} keys did not settle within ${timeoutMs} ms`);
  }
}

interface Entry<K, V> {
  key: K;
  id: unknown;
  promise: Promise<V>;
  resolve(value: V): void;
  reject(error: unknown): void;
}

function positive(name: string, value: number, { integer = false, allowZero = false } = {}) {
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const expected = `${integer ? "an integer" : "a number"} ${allowZero ? "≥ 0" : "> 0"}`;
    throw new RangeError(`coalescer option ${name}: expected ${expected}, received ${value}`);
  }
  return value;
}

/**
 * Coalesces concurrent `load(key)` calls into batches.
 *
 * @example
 * ```ts
 * const users = new Coalescer<number, User>({
 *   batch: async (ids) => {
 *     const rows = await sql`select * from users where id = any(${ids})`;
 *     return ids.map((id) => rows.find((r) => r.id === id) ?? new Error(`no user ${id}`));
 *   },
 * });
 * const [a, b] = await Promise.all([users.load(1), users.load(2)]); // one query
 * ```
 * @throws {RangeError} when an option is out of range.
 */
export class Coalescer<K, V> {
  readonly #batch: BatchFunction<K, V>;
  readonly #keyOf: (key: K) => unknown;
  readonly #windowMs: number;
  readonly #maxWaitMs: number;
  readonly #loadMemoryMs: number;
  readonly #adaptive: boolean;
  readonly #maxBatchSize: number;
  readonly #maxPending: number;
  readonly #batchTimeoutMs: number;
  readonly #clock: Clock;
  readonly #onBatch: (report: BatchReport) => void;

  /** Keys waiting for a dispatch, in arrival order. */
  #queue: Entry<K, V>[] = [];
  /** Every outstanding key (queued or in flight) by identity: the deduplication map. */
  readonly #outstanding = new Map<unknown, Entry<K, V>>();
  #timer: TimerHandle | undefined;
  /** When the first key of the queue arrived, and the last, while gathering under load. */
  #gatherStartedAt = 0;
  #lastArrivalAt = 0;
  #inFlight = 0;
  /** When a batch of more than one key last dispatched or settled. */
  #lastBusyAt = -Infinity;
  /** Moving average of successful batch durations, ms; undefined before the first. */
  #batchMs: number | undefined;

  constructor(options: CoalescerOptions<K, V>) {
    const {
      batch,
      keyOf = (key: K) => key,
      windowMs = 2,
      maxWaitMs = 10,
      loadMemoryMs = 1000,
      adaptive = true,
      maxBatchSize = 100,
      maxPending = 1000,
      batchTimeoutMs = 10_000,
      clock = systemClock,
      onBatch = () => {},
    } = options;
    if (typeof batch !== "function") {
      throw new TypeError(`coalescer option batch: expected a function, received ${typeof batch}`);
    }
    this.#batch = batch;
    this.#keyOf = keyOf;
    this.#windowMs = positive("windowMs", windowMs, { allowZero: true });
    this.#maxWaitMs = positive("maxWaitMs", maxWaitMs, { allowZero: true });
    this.#loadMemoryMs = positive("loadMemoryMs", loadMemoryMs, { allowZero: true });
    if (typeof adaptive !== "boolean") {
      throw new TypeError(`coalescer option adaptive: expected a boolean, received ${adaptive}`);
    }
    this.#adaptive = adaptive;
    this.#maxBatchSize = positive("maxBatchSize", maxBatchSize, { integer: true });
    this.#maxPending = positive("maxPending", maxPending, { integer: true });
    this.#batchTimeoutMs = positive("batchTimeoutMs", batchTimeoutMs);
    this.#clock = clock;
    this.#onBatch = onBatch;
  }

  /** Keys queued or in flight. */
  get pending(): number {
    return this.#outstanding.size;
  }

  /** Batches dispatched and not yet settled. */
  get inFlightBatches(): number {
    return this.#inFlight;
  }

  /**
   * The quiet gap and the cap in force under load: the configured ones, or with `adaptive` a
   * quarter and a half of the recent batch duration when that is shorter.
   */
  get windows(): { gapMs: number; capMs: number } {
    const batchMs = this.#adaptive ? this.#batchMs : undefined;
    if (batchMs === undefined) return { gapMs: this.#windowMs, capMs: this.#maxWaitMs };
    return {
      gapMs: Math.min(this.#windowMs, batchMs / 4),
      capMs: Math.min(this.#maxWaitMs, batchMs / 2),
    };
  }

  /**
   * The value for `key`, loaded in a batch with other concurrent keys.
   *
   * @throws {OverloadError} (rejection) when `maxPending` keys are outstanding.
   * @throws {BatchTimeoutError} (rejection) when its batch times out.
   * @throws the batch function's error for the key, or for the whole batch.
   */
  load(key: K): Promise<V> {
    const id = this.#keyOf(key);
    const existing = this.#outstanding.get(id);
    if (existing) return existing.promise;
    if (this.#outstanding.size >= this.#maxPending) {
      return Promise.reject(new OverloadError(this.#maxPending));
    }
    const { promise, resolve, reject } = Promise.withResolvers<V>();
    const entry: Entry<K, V> = { key, id, promise, resolve, reject };
    this.#outstanding.set(id, entry);
    this.#queue.push(entry);

    const now = this.#clock.now();
    this.#lastArrivalAt = now;
    if (this.#queue.length >= this.#maxBatchSize) {
      this.#cancelTimer();
      this.#dispatch();
    } else if (this.#timer === undefined) {
      this.#gatherStartedAt = now;
      // Idle: the end of this turn. Under load: a quiet gap, capped (see `windows`).
      const { gapMs, capMs } = this.windows;
      this.#schedule(this.#underLoad() ? Math.min(gapMs, capMs) : 0);
    }
    return promise;
  }

  #schedule(delay: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#onTimer(delay === 0);
    }, delay);
  }

  /** Dispatches, unless keys are still arriving and the first one may wait longer. */
  #onTimer(immediate: boolean): void {
    if (!immediate && this.#queue.length > 0) {
      const now = this.#clock.now();
      const { gapMs, capMs } = this.windows;
      const quietUntil = this.#lastArrivalAt + gapMs;
      const deadline = this.#gatherStartedAt + capMs;
      const next = Math.min(quietUntil, deadline);
      if (next > now) {
        this.#schedule(next - now);
        return;
      }
    }
    this.#dispatch();
  }

  #underLoad(): boolean {
    return this.#inFlight > 0 || this.#clock.now() - this.#lastBusyAt < this.#loadMemoryMs;
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #dispatch(): void {
    const entries = this.#queue.splice(0, this.#maxBatchSize);
    if (entries.length === 0) return;
    this.#inFlight++;
    const started = this.#clock.now();
    if (entries.length > 1) this.#lastBusyAt = started;
    const controller = new AbortController();
    let settled = false;

    const finish = (outcome: BatchReport["outcome"], settleEach: () => void) => {
      if (settled) return;
      settled = true;
      this.#clock.clearTimeout(timeout);
      this.#inFlight--;
      if (entries.length > 1) this.#lastBusyAt = this.#clock.now();
      // Forget the keys before settling: a caller reacting to its result may load the key again
      // and must reach the batch function, not this settled entry.
      for (const entry of entries) {
        if (this.#outstanding.get(entry.id) === entry) this.#outstanding.delete(entry.id);
      }
      settleEach();
      const durationMs = this.#clock.now() - started;
      if (outcome === "ok") {
        this.#batchMs = this.#batchMs === undefined
          ? durationMs
          : this.#batchMs + 0.2 * (durationMs - this.#batchMs);
      }
      this.#onBatch({ size: entries.length, durationMs, outcome });
    };
    const failAll = (outcome: BatchReport["outcome"], error: unknown) =>
      finish(outcome, () => {
        for (const entry of entries) entry.reject(error);
      });

    const timeout = this.#clock.setTimeout(() => {
      const error = new BatchTimeoutError(this.#batchTimeoutMs, entries.length);
      failAll("timeout", error);
      controller.abort(error);
    }, this.#batchTimeoutMs);

    let result: Promise<ReadonlyArray<V | Error>>;
    try {
      result = Promise.resolve(this.#batch(entries.map((e) => e.key), controller.signal));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (values) => {
        if (!Array.isArray(values) || values.length !== entries.length) {
          const got = Array.isArray(values) ? `${values.length} values` : typeof values;
          failAll(
            "error",
            new TypeError(`batch function returned ${got} for ${entries.length} keys`),
          );
          return;
        }
        finish("ok", () => {
          entries.forEach((entry, i) => {
            const value = values[i] as V | Error;
            if (value instanceof Error) entry.reject(value);
            else entry.resolve(value);
          });
        });
      },
      (error) => failAll("error", error),
    );
  }
}
