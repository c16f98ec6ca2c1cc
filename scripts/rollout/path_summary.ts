/**
 * Reads `monitoring.path_summary(function, since, until)`: one row per path with the metrics the
 * canary analysis judges. The SQL function (monitoring migration) owns the math; this only maps
 * its columns.
 *
 * @module
 */
import type { PathSummary } from "./analysis.ts";
import type { Executor, Queryable } from "./executor.ts";

interface Row {
  path: string;
  requests: number | string | null;
  error_rate: number | string | null;
  p50_ms: number | string | null;
  p95_ms: number | string | null;
  p99_ms: number | string | null;
  queries_per_request: number | string | null;
  db_query_rate_per_s: number | string | null;
  cache_hit_ratio: number | string | null;
  kms_reuse_ratio: number | string | null;
  fallbacks: number | string | null;
  failure_rate: number | string | null;
}

const num = (value: number | string | null): number | null => value === null ? null : Number(value);

/** The statement the monitoring phase runs each interval. */
export const pathSummaryStatement = `select path, requests, error_rate, p50_ms, p95_ms, p99_ms,
  queries_per_request, db_query_rate_per_s, cache_hit_ratio, kms_reuse_ratio, fallbacks,
  failure_rate from monitoring.path_summary($1, $2, $3) where path in ('legacy', 'optimized')`;

/**
 * The legacy and optimized summaries of `functionName` over [since, until). In a dry run
 * without a connection: `undefined`.
 */
export async function readPathSummaries(
  executor: Executor,
  db: Queryable | undefined,
  functionName: string,
  since: Date,
  until: Date,
): Promise<PathSummary[] | undefined> {
  const rows = await executor.read<Row>(db, {
    text: pathSummaryStatement,
    params: [functionName, since.toISOString(), until.toISOString()],
  });
  return rows?.map((row) => ({
    path: row.path as PathSummary["path"],
    requests: num(row.requests) ?? 0,
    errorRate: num(row.error_rate),
    p50Ms: num(row.p50_ms),
    p95Ms: num(row.p95_ms),
    p99Ms: num(row.p99_ms),
    queriesPerRequest: num(row.queries_per_request),
    dbQueryRatePerS: num(row.db_query_rate_per_s),
    cacheHitRatio: num(row.cache_hit_ratio),
    kmsReuseRatio: num(row.kms_reuse_ratio),
    fallbacks: num(row.fallbacks) ?? 0,
    failureRate: num(row.failure_rate),
  }));
}

/** The KMS reuse of the function that calls KMS, over a window. */
export const kmsReuseStatement = `select kms_reuse_ratio from monitoring.path_summary($1, $2, $3)
  where path = 'none'`;

/**
 * The KMS connection reuse ratio of `functionName` (payment-methods: the search paths make no
 * KMS calls) over [since, until); null when it sent KMS no request in the window, `undefined` in
 * a dry run without a connection.
 */
export async function readKmsReuse(
  executor: Executor,
  db: Queryable | undefined,
  functionName: string,
  since: Date,
  until: Date,
): Promise<number | null | undefined> {
  const rows = await executor.read<{ kms_reuse_ratio: number | string | null }>(db, {
    text: kmsReuseStatement,
    params: [functionName, since.toISOString(), until.toISOString()],
  });
  if (rows === undefined) return undefined;
  return num(rows[0]?.kms_reuse_ratio ?? null);
}
