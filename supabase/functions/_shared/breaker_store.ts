/**
 * Breaker state into `monitoring.circuit_breakers`: each isolate upserts its breakers' rows with
 * its metrics flush, so the dashboard, the alert rules, `/metrics` and the rollout analysis see
 * the fleet's breakers, not one isolate's.
 *
 * @module
 */
import type { BreakerSnapshot } from "./circuit_breaker.ts";
import type { Sql } from "./db.ts";
import type { MetricsWriter } from "./metric_row.ts";

/** Upserts the rows of `breakers` for one isolate of `functionName`, in one statement. */
export async function writeBreakers(
  sql: Sql,
  functionName: string,
  isolateId: string,
  breakers: readonly BreakerSnapshot[],
): Promise<void> {
  if (breakers.length === 0) return;
  const rows = breakers.map((b) => ({
    function_name: functionName,
    isolate_id: isolateId,
    dependency: b.dependency,
    state: b.state,
    opens: b.opens,
    rejected: b.rejected,
    consecutive_failures: b.consecutiveFailures,
    last_opened_at: b.lastOpenedAt === null ? null : new Date(b.lastOpenedAt),
  }));
  await sql`
    insert into monitoring.circuit_breakers ${sql(rows)}
    on conflict (function_name, isolate_id, dependency) do update
       set state = excluded.state, opens = excluded.opens, rejected = excluded.rejected,
           consecutive_failures = excluded.consecutive_failures,
           last_opened_at = excluded.last_opened_at, updated_at = now()`;
}

/**
 * `write` followed by the breakers' upsert: one flush carries both. A failed upsert is logged,
 * not thrown: the metric rows are already written, and a failed flush would write them again.
 */
export function withBreakers(
  write: MetricsWriter,
  sql: Sql,
  functionName: string,
  isolateId: () => string,
  breakers: () => readonly BreakerSnapshot[],
): MetricsWriter {
  return async (rows) => {
    await write(rows);
    try {
      await writeBreakers(sql, functionName, isolateId(), breakers());
    } catch (error) {
      console.error(
        "metrics: breaker state not written:",
        error instanceof Error ? error.name : error,
      );
    }
  };
}
