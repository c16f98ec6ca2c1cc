/**
 * Sticky percentage bucketing, as Unleash's flexible rollout computes it: the bucket of an id is
 * `murmur3_x86_32("<group>:<id>", seed 0) % 100 + 1`, and the id is in a rollout of `p` percent
 * when its bucket is at most `p`.
 *
 * The bucket depends only on the group (the flag key) and the id, so raising the percentage only
 * adds ids: everyone in at 10% is still in at 25%, 50% and 100%.
 *
 * @module
 */
import { murmur3x86_32 } from "./_murmur3.ts";

/** Number of buckets; a percentage maps one-to-one onto buckets 1..100. */
export const bucketCount = 100;

/** Seed Unleash uses for strategy (not variant) bucketing. */
const strategySeed = 0;

/** A traffic-percentage flag as bucketing needs it. */
export interface RolloutFlag {
  enabled: boolean;
  /** 0..100 */
  trafficPercentage: number;
}

/**
 * The sticky bucket (1..100) of `id` within `group`.
 *
 * @example
 * ```ts
 * bucketOf("gr1", "123"); // 73, as every Unleash client computes it
 * ```
 */
export function bucketOf(group: string, id: string): number {
  return (murmur3x86_32(`${group}:${id}`, strategySeed) % bucketCount) + 1;
}

/**
 * Whether `id` takes the flagged path: the flag is enabled and the id's bucket is at most its
 * traffic percentage. An unknown flag (`undefined`, e.g. never read) is off.
 */
export function inRollout(flag: RolloutFlag | undefined, group: string, id: string): boolean {
  if (!flag || !flag.enabled || flag.trafficPercentage <= 0) return false;
  if (flag.trafficPercentage >= bucketCount) return true;
  return bucketOf(group, id) <= flag.trafficPercentage;
}
