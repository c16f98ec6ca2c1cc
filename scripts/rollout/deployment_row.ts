/**
 * A deploy's row in `public.deployments`: inserted `running` once the deploy knows where the
 * flag starts, finished with the outcome and the full log. Written through the executor, so a dry
 * run prints the statements instead.
 *
 * @module
 */
import type { DeploymentLog, DeploymentRecord } from "./deployment_log.ts";
import type { Executor, Queryable } from "./executor.ts";

/** The statements that keep the row, each with the parameters it takes from the record. */
const statements = {
  start: {
    text: `insert into public.deployments
      (id, environment, flag_key, from_percentage, to_percentage, steps, status, started_at, started_by, log)
      values ($1, $2, $3, $4, $5, $6::smallint[], 'running', $7, $8, $9::text::jsonb)`,
    params: (r: DeploymentRecord) => [
      r.id,
      r.environment,
      r.flagKey,
      r.fromPercentage,
      r.toPercentage,
      r.steps,
      r.startedAt,
      r.startedBy,
      JSON.stringify(r),
    ],
  },
  finish: {
    text: `update public.deployments
      set status = $2, reason = $3, to_percentage = $4, finished_at = $5, log = $6::text::jsonb
      where id = $1`,
    params: (r: DeploymentRecord) => [
      r.id,
      r.status,
      r.reason?.slice(0, 2000) ?? null,
      r.toPercentage,
      r.finishedAt,
      JSON.stringify(r),
    ],
  },
};

/**
 * Writes the deploy's row as `log` has it: at `start` the `running` row, at `finish` the outcome
 * and the full log.
 *
 * @example
 * ```ts
 * await writeDeploymentRow(executor, lock.session, log, "start");
 * ```
 */
export async function writeDeploymentRow(
  executor: Executor,
  db: Queryable | undefined,
  log: DeploymentLog,
  when: keyof typeof statements,
): Promise<void> {
  const { text, params } = statements[when];
  await executor.write(db, { text, params: params(log.toJSON()) });
}
