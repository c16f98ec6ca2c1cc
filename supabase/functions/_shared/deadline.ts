/**
 * One request budget, end to end: a {@link Budget} is created when a request arrives and every
 * step inside spends from it — the coalescer wait, the batch, the fallback, cache reads, KMS
 * calls, database queries. When it runs out, its `signal` aborts with a {@link DeadlineExceeded}
 * (recognised by type, never by message), so the work itself is cancelled (a postgres.js query's
 * `.cancel()`, a fetch's or the AWS SDK's `abortSignal`) and every waiter stops waiting.
 *
 * This is the only place in the functions where a timeout is made: no hand-made `setTimeout`
 * races elsewhere.
 *
 * @module
 */
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";

/** The dependency a wait was spent on, when there is one: it names the 503's error code. */
export type Dependency = "database" | "kms" | "cache";

/** A budget (or a step's share of one) ran out before the work finished. */
export class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
  /**
   * @param what The step that was waiting, e.g. `legacy search`.
   * @param ms The time it had.
   * @param dependency What it was waiting for, when it was a dependency.
   */
  constructor(readonly what: string, readonly ms: number, readonly dependency?: Dependency) {
    super(`${what} did not finish within ${Math.round(ms)} ms`);
  }
}

/** Former name of {@link DeadlineExceeded}, kept for callers not yet renamed. */
export const DeadlineError = DeadlineExceeded;
/** Former name of {@link DeadlineExceeded}. */
export type DeadlineError = DeadlineExceeded;

/** Options for {@link Budget}. */
export interface BudgetOptions {
  /** Names the budget in its {@link DeadlineExceeded}. @default "request" */
  what?: string;
  /** @default systemClock */
  clock?: Clock;
  /** A larger budget this one spends from: its end ends this one too. */
  parent?: Budget;
}

/**
 * A time budget with an abort signal. Create one per request; give a step a share of it with
 * {@link Budget.child}; call {@link Budget.dispose} when the request is answered.
 *
 * @example
 * ```ts
 * const budget = new Budget(3000, { what: "flight-search request" });
 * try {
 *   const rows = await budget.run((signal) => fetch(url, { signal }), "upstream");
 * } finally {
 *   budget.dispose();
 * }
 * ```
 * @throws {RangeError} when `ms` is not a finite number ≥ 0.
 */
export class Budget {
  readonly #controller = new AbortController();
  readonly #clock: Clock;
  readonly #endsAt: number;
  readonly #what: string;
  readonly #ms: number;
  #timer: TimerHandle | undefined;
  #unlink: (() => void) | undefined;

  constructor(ms: number, options: BudgetOptions = {}) {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`budget: expected a number of ms ≥ 0, received ${ms}`);
    }
    const { what = "request", clock = systemClock, parent } = options;
    this.#clock = clock;
    this.#what = what;
    this.#ms = parent ? Math.min(ms, parent.remaining()) : ms;
    this.#endsAt = clock.now() + this.#ms;
    this.#timer = clock.setTimeout(() => this.#expire(), this.#ms);
    if (parent) {
      const onParentAbort = () => this.#abort(parent.signal.reason);
      if (parent.signal.aborted) onParentAbort();
      else {
        parent.signal.addEventListener("abort", onParentAbort, { once: true });
        this.#unlink = () => parent.signal.removeEventListener("abort", onParentAbort);
      }
    }
  }

  /** Aborts with a {@link DeadlineExceeded} when the budget runs out (or its parent's does). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Milliseconds left, never negative. */
  remaining(): number {
    return this.#controller.signal.aborted ? 0 : Math.max(0, this.#endsAt - this.#clock.now());
  }

  /** Whether the budget has run out. */
  get expired(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Throws the budget's {@link DeadlineExceeded} if it has run out. */
  throwIfExpired(): void {
    this.#controller.signal.throwIfAborted();
  }

  /**
   * A share of this budget for one step: at most `ms`, never more than what is left; it ends
   * when this one does.
   */
  child(ms: number, what: string): Budget {
    return new Budget(ms, { what, clock: this.#clock, parent: this });
  }

  /**
   * `work`'s outcome, or a rejection with the {@link DeadlineExceeded} once the budget runs out
   * (the waiter stops at once; `work` gets the signal to cancel itself).
   *
   * @param dependency Marks a deadline hit here as that dependency's (for the 503's code).
   */
  async run<T>(
    work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
    what: string = this.#what,
    dependency?: Dependency,
  ): Promise<T> {
    const signal = this.#controller.signal;
    const rethrow = (reason: unknown): never => {
      if (reason instanceof DeadlineExceeded && dependency && !reason.dependency) {
        throw new DeadlineExceeded(what, reason.ms, dependency);
      }
      throw reason;
    };
    if (signal.aborted) {
      if (typeof work !== "function") work.catch(() => {});
      rethrow(signal.reason);
    }
    const pending = typeof work === "function" ? work(signal) : work;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([pending, aborted]);
    } catch (error) {
      if (signal.aborted) pending.catch(() => {});
      return rethrow(error);
    } finally {
      signal.removeEventListener("abort", onAbort!);
    }
  }

  /** Clears the timer and detaches from the parent (the signal stays as it is). */
  dispose(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unlink?.();
    this.#unlink = undefined;
  }

  #expire(): void {
    this.#timer = undefined;
    this.#abort(new DeadlineExceeded(this.#what, this.#ms));
  }

  #abort(reason: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.dispose();
    this.#controller.abort(reason);
  }
}

/**
 * `work`'s outcome, or a {@link DeadlineExceeded} after `ms`; a function gets the signal that
 * aborts then, to cancel its work.
 *
 * @example
 * ```ts
 * const rows = await withDeadline((signal) => query(sql, signal), 2000, "health query");
 * ```
 */
export async function withDeadline<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  ms: number,
  what: string,
  clock: Clock = systemClock,
  dependency?: Dependency,
): Promise<T> {
  const budget = new Budget(ms, { what, clock });
  try {
    return await budget.run(work, what, dependency);
  } finally {
    budget.dispose();
  }
}

/**
 * Runs a postgres.js query under `signal`: when it aborts the query is cancelled on the server
 * (best effort: a frozen server never sees the cancel) and the caller is rejected at once with
 * the signal's reason, without waiting for the server to acknowledge.
 */
export async function cancellable<T>(
  query: Promise<T> & { cancel(): unknown },
  signal: AbortSignal | undefined,
): Promise<T> {
  if (!signal) return await query;
  // postgres.js sends a query when it is first awaited: one never awaited is never sent.
  if (signal.aborted) throw signal.reason;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      cancelQuietly(query);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([query, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
}

function cancelQuietly(query: Promise<unknown> & { cancel(): unknown }): void {
  query.catch(() => {});
  try {
    const result = query.cancel() as unknown;
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // The query was done or never started: nothing to cancel.
  }
}
