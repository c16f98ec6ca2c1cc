/**
 * Phase 5: after a step's monitoring, promote to the next step (or finish), or roll back: flag
 * disabled at 0%, which the functions pick up within their flag cache TTL, no redeploy.
 *
 * @module
 */
import type { RolloutContext } from "../context.ts";
import { setTraffic } from "./functions.ts";

/** Promotes to `next` (step `index` of `count`, 1-based). */
export async function promotePhase(
  ctx: RolloutContext,
  from: number,
  next: number,
  index: number,
  count: number,
) {
  await ctx.progress.phase(5, async (phase) => {
    await setTraffic(ctx, next, `step ${index}/${count} → ${next}% (step ${from}% healthy)`);
    phase.info(`promoted: ${ctx.flagKey} ${from}% → ${next}%`);
    phase.detail(`promoted to ${next}%`);
  }, from);
}

/** Marks the last step done. */
export async function finishPhase(ctx: RolloutContext, step: number) {
  await ctx.progress.phase(5, (phase) => {
    phase.info(`rollout complete: ${ctx.flagKey} stays enabled at ${step}%`);
    phase.detail(`promoted, final ${step}%`);
    return Promise.resolve();
  }, step);
}

/**
 * Rolls back: flag disabled, traffic 0, reason naming the deploy and why. Announced as phase 5
 * so the log shows where the deploy ended.
 */
export async function rollbackPhase(ctx: RolloutContext, reason: string, step?: number) {
  await ctx.progress.phase(5, async (phase) => {
    await setTraffic(ctx, 0, `rolled back: ${reason}`);
    phase.info(`ROLLED BACK: ${ctx.flagKey} disabled, 0% — ${reason}`);
    phase.info("functions pick the change up within their flag cache TTL; no redeploy needed");
    phase.detail(`rolled back: ${reason}`);
  }, step);
}
