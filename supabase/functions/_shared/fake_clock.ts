/**
 * A {@link Clock} whose time moves only when a test says so.
 *
 * Timers run in due order as `tick()` passes their time; promise callbacks queued by a timer run
 * before the next timer fires, as they would between real event-loop turns.
 *
 * @module
 */
import { type Clock, sleepOn, type TimerHandle } from "./clock.ts";

interface Timer {
  id: number;
  due: number;
  fn: () => void;
}

/** Lets pending promise callbacks (several hops deep) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Fake time for tests. */
export class FakeClock implements Clock {
  #now: number;
  #wallOrigin: number;
  #timers: Timer[] = [];
  #nextId = 1;

  /** @param start Starting time in ms. @param wallOrigin Epoch ms at `start`. */
  constructor(start = 0, wallOrigin = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.#now = start;
    this.#wallOrigin = wallOrigin - start;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#wallOrigin + this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Advances time by `ms`, firing every timer that falls due on the way (in due order, ties in
   * creation order) and letting promise callbacks settle after each.
   */
  async tick(ms = 0): Promise<void> {
    const target = this.#now + ms;
    await settle();
    while (true) {
      const next = this.#timers
        .filter((t) => t.due <= target)
        .sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.due;
      next.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}
