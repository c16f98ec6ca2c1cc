/**
 * Round-robin choice over a function's isolates, skipping the ones that are not running: how the
 * local gateway spreads one function's requests over K isolates, as a hosted project's router
 * spreads them over the isolates it keeps warm.
 *
 * @module
 */

/**
 * A cursor that hands out the items of a list in turn, skipping unavailable ones. The list is
 * passed on every call (a restart may replace it), so the cursor only remembers where it was.
 *
 * @example
 * ```ts
 * const rr = new RoundRobin();
 * const up = () => true;
 * [rr.next(["a", "b"], up), rr.next(["a", "b"], up), rr.next(["a", "b"], up)]; // a, b, a
 * ```
 */
export class RoundRobin {
  #cursor = 0;

  /**
   * The next available item after the previous pick, or `undefined` when none is available.
   */
  next<T>(items: readonly T[], available: (item: T) => boolean): T | undefined {
    for (let tried = 0; tried < items.length; tried++) {
      const index = (this.#cursor + tried) % items.length;
      const item = items[index]!;
      if (available(item)) {
        this.#cursor = (index + 1) % items.length;
        return item;
      }
    }
    return undefined;
  }
}
