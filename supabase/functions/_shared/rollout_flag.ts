/**
 * The traffic flag's contract, defined once for both sides of it: flight-search, which routes by
 * the flag (through `flags.ts`), and the deploy CLI, which moves it
 * (`scripts/rollout/flag_store.ts`). The flag's key, the row of `public.feature_flags` and its
 * columns as both select them, and the flag's state as both read it.
 *
 * @module
 */
import type { RolloutFlag } from "./bucketing.ts";

/** The flag routing flight-search's traffic to the optimized path; the rollout moves it. */
export const rolloutFlagKey = "flight_search_optimization";

/** A row of `public.feature_flags`, as {@link featureFlagColumns} selects it. */
export interface FeatureFlagRow {
  flag_key: string;
  enabled: boolean;
  traffic_percentage: number;
  updated_at: Date;
  updated_by: string;
  reason: string;
}

/** The select list of a {@link FeatureFlagRow}. */
export const featureFlagColumns =
  "flag_key, enabled, traffic_percentage, updated_at, updated_by, reason";

/**
 * A flag as both sides read it: what routing needs (`enabled`, `trafficPercentage`) and who set
 * it, when and why (the table's trigger copies the last two into `feature_flag_history`).
 */
export interface FlagState extends RolloutFlag {
  flagKey: string;
  updatedAt: Date;
  /** `user@host` or the CLI's `--actor`. */
  updatedBy: string;
  reason: string;
}

/** The state a row holds. */
export function flagState(row: FeatureFlagRow): FlagState {
  return {
    flagKey: row.flag_key,
    enabled: row.enabled,
    trafficPercentage: Number(row.traffic_percentage),
    updatedAt: new Date(row.updated_at),
    updatedBy: row.updated_by,
    reason: row.reason,
  };
}
