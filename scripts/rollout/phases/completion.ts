/**
 * Phase 5: after a step's monitoring, promote to the next step (or finish), or roll back: flag
 * disabled at 0%, which the functions pick up within their flag cache TTL, no redeploy.
 *
 * @module
 */
import type { RolloutContext } from "../context.ts";
import type { Session } from "../target.ts";
import { type DeployFlag, setTraffic } from "../traffic_flag.ts";

/** A promotion from one traffic step to the next. */
export interface Promotion {
  from: number;
  next: number;
  /** The position of `next` among the steps (1-based), and how many there are. */
  index: number;
  count: number;
}

/** Promotes to the next step. */
export async function promotePhase(
  ctx: RolloutContext,
  session: Session,
  flag: DeployFlag,
  { from, next, index, count }: Promotion,
) {
  await ctx.progress.phase(5, async (phase) => {
    await setTraffic(
      ctx,
      session,
      flag,
      next,
      `step ${index}/${count} → ${next}% (step ${from}% healthy)`,
    );
    phase.info(`promoted: ${flag.key} ${from}% → ${next}%`);
    phase.detail(`promoted to ${next}%`);
  }, from);
}

/** Marks the last step done. */
export async function finishPhase(ctx: RolloutContext, flag: DeployFlag, step: number) {
  await ctx.progress.phase(5, (phase) => {
    phase.info(`rollout complete: ${flag.key} stays enabled at ${step}%`);
    phase.detail(`promoted, final ${step}%`);
    return Promise.resolve();
  }, step);
}

/**
 * Rolls back: flag disabled, traffic 0, reason naming the deploy and why. Announced as phase 5
 * so the log shows where the deploy ended.
 */
export async function rollbackPhase(
  ctx: RolloutContext,
  session: Session,
  flag: DeployFlag,
  reason: string,
  step?: number,
) {
  await ctx.progress.phase(5, async (phase) => {
    await setTraffic(ctx, session, flag, 0, `rolled back: ${reason}`);
    phase.info(`ROLLED BACK: ${flag.key} disabled, 0% — ${reason}`);
    phase.info("functions pick the change up within their flag cache TTL; no redeploy needed");
    phase.detail(`rolled back: ${reason}`);
  }, step);
}
