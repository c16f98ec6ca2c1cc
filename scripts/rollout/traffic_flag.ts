/**
 * The rollout flag as one deploy holds it: what it last read or wrote, whether it moved the
 * flag (then a failure rolls it back), and {@link setTraffic}, the one way the deploy moves it —
 * to the first step (phase 2), to the next step or back to 0% (phase 5).
 *
 * @module
 */
import { PreconditionError } from "../_cli/errors.ts";
import type { RolloutContext } from "./context.ts";
import type { FlagState } from "../../supabase/functions/_shared/rollout_flag.ts";
import { readFlag, writeFlag } from "./flag_store.ts";
import type { Session } from "./target.ts";

/** The flag a deploy moves, as the deploy knows it. */
export interface DeployFlag {
  readonly key: string;
  /**
   * The row as the deploy last set or read it: null when it does not exist, undefined before it
   * was read (or when a dry run could not read it).
   */
  state: FlagState | null | undefined;
  /** Whether this deploy moved the flag and still owns it: a failure must roll it back. */
  moved: boolean;
}

/** A flag `key` not yet read. */
export function deployFlag(key: string): DeployFlag {
  return { key, state: undefined, moved: false };
}

/**
 * Reads the flag once the migrations ran, and records the traffic the deploy starts from.
 *
 * @throws {PreconditionError} when the flag does not exist after the migrations.
 */
export async function readDeployFlag(
  ctx: RolloutContext,
  session: Session,
  flag: DeployFlag,
): Promise<void> {
  flag.state = await readFlag(ctx.executor, session.reader, flag.key).catch((error) => {
    // A dry run against a database the push would first migrate has no flag table yet.
    if (!ctx.options.dryRun) throw error;
    ctx.progress.info(
      `cannot read ${flag.key} yet (${(error as Error).message}); the push would create it`,
    );
    return undefined;
  });
  const state = flag.state;
  if (state === null) {
    throw new PreconditionError(`flag ${flag.key} does not exist after the migrations`);
  }
  if (state) {
    ctx.log.setFrom(state.enabled ? state.trafficPercentage : 0);
    ctx.progress.info(
      `${flag.key} is ${state.enabled ? "enabled" : "disabled"} at ${state.trafficPercentage}% ` +
        `(last set by ${state.updatedBy}: ${state.reason})`,
    );
  }
}

/** Sets the flag to `percentage`, with a reason naming the deploy, and records it. */
export async function setTraffic(
  ctx: RolloutContext,
  session: Session,
  flag: DeployFlag,
  percentage: number,
  why: string,
): Promise<void> {
  const reason = `deploy ${ctx.log.id}: ${why}`.slice(0, 500);
  const state = await writeFlag(ctx.executor, session.writer, {
    flagKey: flag.key,
    enabled: percentage > 0,
    trafficPercentage: percentage,
    actor: ctx.options.actor,
    reason,
  });
  flag.state = state ?? flag.state;
  ctx.log.setTraffic(percentage);
}

/** The traffic share the flag ended at (0 when disabled); undefined when never read. */
export function finalTraffic(flag: DeployFlag): number | undefined {
  const state = flag.state;
  if (!state) return undefined;
  return state.enabled ? state.trafficPercentage : 0;
}
