/**
 * The SQL of the dashboard's panels, written against the monitoring views and functions
 * (migration 20261122000500) and Grafana's PostgreSQL macros: per-path time series over
 * `monitoring.minute_metrics`, per-path summaries from `monitoring.path_summary()`, and the
 * histogram and ratio expressions they are made of.
 *
 * @module
 */

/** The panels' filter on the `$function` and `$path` variables. */
const byPath = "function_name = '$function' and path in ($path)";

/** The filter of a query over minute buckets: the dashboard's range, function and paths. */
export const minuteFilter = `$__timeFilter(bucket_start) and ${byPath}`;

/** A time series over `monitoring.minute_metrics`: one series per path per value column. */
export function seriesSql(values: string): string {
  return [
    "select",
    "  $__timeGroupAlias(bucket_start, $__interval),",
    "  path as metric,",
    `  ${values}`,
    "from monitoring.minute_metrics",
    `where ${minuteFilter}`,
    "group by 1, 2",
    "order by 1, 2",
  ].join("\n");
}

/** A per-path value over the dashboard's range, as the rollout CLI computes it. */
export function summarySql(column: string): string {
  return [
    `select path, ${column}`,
    "from monitoring.path_summary('$function', $__timeFrom(), $__timeTo())",
    "where path in ($path)",
    "order by path",
  ].join("\n");
}

/** The `q` quantile of the histogram column `column` whose bucket bounds are `bounds`. */
export const quantile = (q: number, bounds: string, column: string): string =>
  `monitoring.histogram_quantile(${q}, ${bounds}, monitoring.bucket_sum(${column}))`;

/** sum(numerator) / sum(denominator), null where the denominator sums to 0. */
export const ratio = (numerator: string, denominator: string): string =>
  `sum(${numerator})::float8 / nullif(sum(${denominator}), 0)`;

/** Bucket bounds of the latency histogram, in ms. */
export const latencyBounds = "monitoring.latency_bounds_ms()";

/** Bucket bounds of the coalesced batch-size histogram. */
export const batchBounds = "monitoring.batch_size_bounds()::float8[]";
