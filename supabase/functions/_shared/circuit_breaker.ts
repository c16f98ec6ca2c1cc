/**
 * A circuit breaker per dependency per isolate: after `failureThreshold` dependency failures in
 * a row the breaker opens, and for `openMs` every call that needs the dependency is refused at
 * once with a {@link CircuitOpenError} (a 503 in microseconds) instead of waiting out its budget
 * against a database or key service that is not answering. Then one trial call at a time is let
 * through (half-open); its success closes the breaker, its failure opens it again.
 *
 * Only dependency failures count (`isFailure`): a bad request or a defect says nothing about the
 * dependency's health.
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";
import { type Dependency } from "./deadline.ts";
import { type EnvSource, intVar, processEnv, readEnv } from "./env.ts";
import { z } from "zod";
import { isDependencyFailure } from "./dependency_error.ts";

/** The three states. */
export type BreakerState = "closed" | "open" | "half_open";

/** Numeric code of each state, for gauges (`0` closed, `1` half-open, `2` open). */
export const breakerStateCode: Record<BreakerState, number> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

/** Options for {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  dependency: Dependency;
  /** Dependency failures in a row that open the breaker. @default 5 */
  failureThreshold?: number;
  /** How long it stays open before a trial call, in ms. @default 5000 */
  openMs?: number;
  /** Whether an error counts against the dependency. @default isDependencyFailure */
  isFailure?: (error: unknown) => boolean;
  /** @default systemClock */
  clock?: Clock;
  /**
   * Called each time it opens (from closed or after a failed trial; not again for calls that
   * were in flight and fail while it is open): e.g. to drop a pool whose connections
   * stopped answering (see `resetIsolatePool` in db.ts). Must not throw.
   */
  onOpen?: () => void;
}

/** A breaker's state and counters, for stats, health and metrics. */
export interface BreakerSnapshot {
  dependency: Dependency;
  state: BreakerState;
  /** Dependency failures in a row (reset by a success). */
  consecutiveFailures: number;
  /** Times it opened since the isolate started. */
  opens: number;
  /** Calls refused while open or while a trial ran. */
  rejected: number;
  /** Epoch ms of the last opening, or null. */
  lastOpenedAt: number | null;
}

/** A call refused because the breaker of its dependency is open. */
export class CircuitOpenError extends Error {
  override name = "CircuitOpenError";
  constructor(readonly dependency: Dependency, readonly retryAfterMs: number) {
    super(`${dependency} circuit is open; retry in ${Math.ceil(retryAfterMs)} ms`);
  }

  /** Whole seconds for `Retry-After`. */
  get retryAfterS(): number {
    return Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }
}

/**
 * Guards calls to one dependency.
 *
 * @example
 * ```ts
 * const db = new CircuitBreaker({ dependency: "database" });
 * const rows = await db.run(() => sql`select 1`);
 * ```
 * @throws {RangeError} when an option is out of range.
 */
export class CircuitBreaker {
  readonly dependency: Dependency;
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #clock: Clock;
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;
  #trialRunning = false;
  #opens = 0;
  #rejected = 0;
  #lastOpenedAt: number | null = null;
  readonly #onOpen: (() => void) | undefined;

  constructor(options: CircuitBreakerOptions) {
    const {
      dependency,
      failureThreshold = 5,
      openMs = 5000,
      isFailure = isDependencyFailure,
      clock = systemClock,
      onOpen,
    } = options;
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
      throw new RangeError(
        `breaker failureThreshold: expected an integer ≥ 1, received ${failureThreshold}`,
      );
    }
    if (!Number.isFinite(openMs) || openMs <= 0) {
      throw new RangeError(`breaker openMs: expected a number > 0, received ${openMs}`);
    }
    this.dependency = dependency;
    this.#threshold = failureThreshold;
    this.#openMs = openMs;
    this.#isFailure = isFailure;
    this.#clock = clock;
    this.#onOpen = onOpen;
  }

  /** The state now (an open breaker whose time is up reads as half-open). */
  get state(): BreakerState {
    if (this.#state === "open" && this.#clock.now() - this.#openedAt >= this.#openMs) {
      return "half_open";
    }
    return this.#state;
  }

  /**
   * Runs `work` unless the breaker refuses it.
   *
   * @throws {CircuitOpenError} (rejection) while open, or half-open with a trial running.
   * @throws whatever `work` throws.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const trial = this.#admit();
    try {
      const value = await work();
      this.#onSuccess();
      return value;
    } catch (error) {
      if (this.#isFailure(error)) this.#onFailure();
      else if (trial) this.#onSuccess(); // the dependency answered
      throw error;
    } finally {
      if (trial) this.#trialRunning = false;
    }
  }

  /** Throws unless a call may go through now; returns whether it is the trial. */
  #admit(): boolean {
    const state = this.state;
    if (state === "closed") return false;
    if (state === "half_open" && !this.#trialRunning) {
      this.#state = "half_open";
      this.#trialRunning = true;
      return true;
    }
    this.#rejected++;
    const retryAfterMs = state === "open"
      ? this.#openMs - (this.#clock.now() - this.#openedAt)
      : this.#openMs;
    throw new CircuitOpenError(this.dependency, Math.max(1, retryAfterMs));
  }

  #onSuccess(): void {
    this.#failures = 0;
    this.#state = "closed";
  }

  #onFailure(): void {
    this.#failures++;
    if (this.#state === "half_open" || this.#failures >= this.#threshold) {
      const opening = this.#state !== "open";
      if (opening) {
        this.#opens++;
        this.#lastOpenedAt = this.#clock.wallNow();
      }
      this.#state = "open";
      this.#openedAt = this.#clock.now();
      // Once per opening: calls still in flight that fail while it is open do not call it again.
      if (opening) this.#onOpen?.();
    }
  }

  /** State and counters now. */
  snapshot(): BreakerSnapshot {
    return {
      dependency: this.dependency,
      state: this.state,
      consecutiveFailures: this.#failures,
      opens: this.#opens,
      rejected: this.#rejected,
      lastOpenedAt: this.#lastOpenedAt,
    };
  }
}

/**
 * Breaker settings of `dependency` from the environment: `<DEP>_BREAKER_FAILURES` (5) and
 * `<DEP>_BREAKER_OPEN_MS` (5000), where `<DEP>` is `DB`, `KMS` or `CACHE`.
 *
 * @throws {ConfigError} naming a malformed variable.
 */
export function breakerOptionsFromEnv(
  dependency: Dependency,
  source: EnvSource = processEnv(),
): Pick<CircuitBreakerOptions, "failureThreshold" | "openMs"> {
  const prefix = { database: "DB", kms: "KMS", cache: "CACHE" }[dependency];
  const env = readEnv(
    z.object({
      [`${prefix}_BREAKER_FAILURES`]: intVar(5, { max: 10_000 }),
      [`${prefix}_BREAKER_OPEN_MS`]: intVar(5000, { max: 3_600_000 }),
    }),
    source,
  ) as Record<string, number>;
  return {
    failureThreshold: env[`${prefix}_BREAKER_FAILURES`],
    openMs: env[`${prefix}_BREAKER_OPEN_MS`],
  };
}

const isolateBreakers = new Map<Dependency, CircuitBreaker>();

/** The isolate's breaker for `dependency`, created on first use from the environment. */
export function isolateBreaker(dependency: Dependency): CircuitBreaker {
  let breaker = isolateBreakers.get(dependency);
  if (!breaker) {
    breaker = new CircuitBreaker({ dependency, ...breakerOptionsFromEnv(dependency) });
    isolateBreakers.set(dependency, breaker);
  }
  return breaker;
}

/** Snapshots of every breaker this isolate has created. */
export function isolateBreakerSnapshots(): BreakerSnapshot[] {
  return [...isolateBreakers.values()].map((b) => b.snapshot());
}
