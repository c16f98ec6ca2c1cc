/**
 * An upper bound on a wait: the caller stops waiting, the work itself is not cancelled (give it a
 * signal or a server-side timeout for that).
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";

/** Rejects a wait that outlived its deadline. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
  constructor(readonly what: string, readonly ms: number) {
    super(`${what} did not finish within ${ms} ms`);
  }
}

/**
 * `work`'s outcome, or a {@link DeadlineError} after `ms`.
 *
 * @example
 * ```ts
 * const rows = await withDeadline(sql`select 1`, 5000, "health query");
 * ```
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  clock: Clock = systemClock,
): Promise<T> {
  let timer: unknown;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = clock.setTimeout(() => reject(new DeadlineError(what, ms)), ms);
      }),
    ]);
  } finally {
    clock.clearTimeout(timer);
  }
}
