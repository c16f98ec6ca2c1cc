/**
 * Time as modules see it: a clock to read and timers to set, passed in so tests can replace it
 * with {@link FakeClock} from `fake_clock.ts` instead of sleeping.
 *
 * @module
 */

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** Reads time and sets timers. */
export interface Clock {
  /** Milliseconds since an arbitrary origin (monotonic for the system clock). */
  now(): number;
  /** Epoch milliseconds: the wall clock, for timestamps that leave the process. */
  wallNow(): number;
  /** Calls `fn` after `ms` milliseconds; `0` means "after the current turn of the event loop". */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()`, `Date.now()` and the global timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};
