import { clearImmediate, setImmediate } from "node:timers";

/**
 * Time as modules see it: a clock to read, timers to set and sleeps to wait out, passed in so
 * tests can replace it with `FakeClock` from `fake_clock.ts` instead of sleeping. The one clock
 * interface of the project: the functions and the deploy CLI (`scripts/rollout/clock.ts`) both
 * take it.
 *
 * @module
 */

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** Reads time, sets timers and sleeps. */
export interface Clock {
  /** Milliseconds since an arbitrary origin (monotonic for the system clock). */
  now(): number;
  /** Epoch milliseconds: the wall clock, for timestamps that leave the process. */
  wallNow(): number;
  /** Calls `fn` after `ms` milliseconds; `0` means "after the current turn of the event loop". */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A sleep on `clock`'s timers: resolves after `ms`, or rejects with `signal`'s reason once it
 * aborts (at once when it already has), clearing its timer.
 */
export function sleepOn(
  clock: Pick<Clock, "setTimeout" | "clearTimeout">,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

type SystemHandle =
  | { kind: "timeout"; id: ReturnType<typeof setTimeout> }
  | { kind: "immediate"; id: ReturnType<typeof setImmediate> };

/**
 * The real clock: `performance.now()`, `Date.now()` and the global timers.
 *
 * A zero delay uses `setImmediate`, not `setTimeout(fn, 0)`: Deno's zero-delay timer measured
 * about 2 ms, while an immediate runs right after the current turn's I/O callbacks — which is
 * exactly "after the current turn", at a cost of microseconds.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms): SystemHandle =>
    ms <= 0
      ? { kind: "immediate", id: setImmediate(fn) }
      : { kind: "timeout", id: setTimeout(fn, ms) },
  clearTimeout: (handle) => {
    const h = handle as SystemHandle | undefined;
    if (h?.kind === "immediate") clearImmediate(h.id);
    else if (h?.kind === "timeout") clearTimeout(h.id);
  },
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};
