/**
 * The rollout's clock: the system clock of `supabase/functions/_shared/clock.ts` (the project's
 * one `Clock`), injected so tests drive the monitoring loop with a fake clock instead of waiting.
 *
 * Its `now()` counts from the epoch, like `wallNow()`: the rollout stamps its deployment log with
 * `new Date(clock.now())` as well as measuring phases with it.
 *
 * @module
 */
import { type Clock, systemClock as processClock } from "../../supabase/functions/_shared/clock.ts";

/** The real clock of the rollout; see the module comment. */
export const systemClock: Clock = { ...processClock, now: () => Date.now() };
