/**
 * Reads and writes `public.feature_flags`. Every write names who and why (`updated_by`,
 * `reason`); the table's trigger copies both into `feature_flag_history`.
 *
 * Functions read the flag through a per-isolate cache, so a change takes effect within that
 * cache's TTL, without a redeploy. The flag's key, row, columns and state are defined once, for
 * both sides, in `supabase/functions/_shared/rollout_flag.ts`.
 *
 * @module
 */
import { z } from "zod";
import {
  featureFlagColumns,
  type FeatureFlagRow,
  type FlagState,
  flagState,
} from "../../supabase/functions/_shared/rollout_flag.ts";
import { PreconditionError } from "../_cli/errors.ts";
import type { Executor, Queryable } from "./executor.ts";

/** A flag key as the table's CHECK constraint allows. */
export const flagKeySchema = z.string().regex(
  /^[a-z][a-z0-9_]{2,62}$/,
  "expected a flag key: lower-case letters, digits and _, 3..63 characters",
);

/** A reason as the table allows. */
export const reasonSchema = z.string().trim().min(3, "a reason needs at least 3 characters").max(
  500,
);

/** A change to one flag. */
export interface FlagChange {
  flagKey: string;
  enabled: boolean;
  trafficPercentage: number;
  /** Who: `user@host` or `--actor`. */
  actor: string;
  /** Why; names the deploy id when a deploy makes the change. */
  reason: string;
}

/**
 * Every flag, ordered by key (or only `keys`). In a dry run without a connection: `undefined`.
 */
export async function readFlags(
  executor: Executor,
  db: Queryable | undefined,
  keys?: readonly string[],
): Promise<FlagState[] | undefined> {
  const rows = keys
    ? await executor.read<FeatureFlagRow>(db, {
      text:
        `select ${featureFlagColumns} from public.feature_flags where flag_key = any($1::text[]) order by flag_key`,
      params: [keys],
    })
    : await executor.read<FeatureFlagRow>(db, {
      text: `select ${featureFlagColumns} from public.feature_flags order by flag_key`,
    });
  return rows?.map(flagState);
}

/** One flag, `null` when the table has no such row, `undefined` when unknown (dry run). */
export async function readFlag(
  executor: Executor,
  db: Queryable | undefined,
  flagKey: string,
): Promise<FlagState | null | undefined> {
  const rows = await readFlags(executor, db, [flagKey]);
  return rows === undefined ? undefined : rows[0] ?? null;
}

/**
 * Applies `change`. Resolves with the new row (`undefined` in a dry run).
 *
 * @throws {PreconditionError} when the flag does not exist (flags are created by migrations).
 */
export async function writeFlag(
  executor: Executor,
  db: Queryable | undefined,
  change: FlagChange,
): Promise<FlagState | undefined> {
  const rows = await executor.write<FeatureFlagRow>(db, {
    text: `update public.feature_flags
      set enabled = $2, traffic_percentage = $3, updated_by = $4, reason = $5
      where flag_key = $1 returning ${featureFlagColumns}`,
    params: [change.flagKey, change.enabled, change.trafficPercentage, change.actor, change.reason],
  });
  if (executor.dryRun) return undefined;
  const [row] = rows;
  if (!row) {
    throw new PreconditionError(
      `flag ${change.flagKey} does not exist (flags are created by migrations; is the database migrated?)`,
    );
  }
  return flagState(row);
}

/** `user@host` of this process, for `updated_by` when no `--actor` is given. */
export function defaultActor(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string {
  const user = env.USER ?? env.LOGNAME ?? env.USERNAME ?? "unknown";
  let host = "unknown-host";
  try {
    host = Deno.hostname();
  } catch {
    // hostname needs --allow-sys; the user part is what matters most
  }
  return `${user}@${host}`.slice(0, 200);
}
