/**
 * The dashboard's rows, top to bottom, each a function that adds its row and panels to the grid:
 * the SLA stats over the selected range, traffic and errors, latency, database and coalescing,
 * cache, and KMS and memory. Legacy and optimized are series of the same panel (or values of the
 * same stat), side by side.
 *
 * @module
 */
import type { SlaConfig, SlaMetric } from "./sla_config.ts";
import {
  batchBounds,
  latencyBounds,
  minuteFilter,
  quantile,
  ratio,
  seriesSql,
} from "./dashboard_queries.ts";
import type { PanelGrid } from "./dashboard_panels.ts";

/** The SLA metrics by key. @throws {Error} naming a key config/sla.json lacks. */
export type SlaLookup = (key: string) => SlaMetric;

/** {@link SlaLookup} over `sla`. */
export function slaLookup(sla: SlaConfig): SlaLookup {
  return (key) => {
    const metric = sla.metrics[key];
    if (!metric) throw new Error(`config/sla.json has no metrics.${key}`);
    return metric;
  };
}

/** Per path over the selected range, the figures the rollout analysis judges. */
export function slaRow(grid: PanelGrid, m: SlaLookup): void {
  grid.row("SLA over the selected range (per path, as the rollout analysis computes it)");
  grid.stat({
    title: "Requests",
    description: "Requests flushed in the range.",
    column: "requests",
    unit: "short",
  });
  grid.stat({ title: "Error rate", sla: m("error_rate"), column: "error_rate", ...percent(2) });
  grid.stat({
    title: "Failure rate",
    description:
      "(5xx + fallbacks) / requests: what the rollout judges the optimized path's error rate on, so a failure the legacy fallback hides still counts.",
    sla: m("error_rate"),
    column: "failure_rate",
    ...percent(2),
  });
  grid.stat({
    title: "p95 latency",
    sla: m("latency_p95_ms"),
    column: "p95_ms",
    unit: "ms",
    decimals: 0,
  });
  grid.stat({
    title: "p99 latency",
    description: "99th percentile of server-side request latency.",
    column: "p99_ms",
    unit: "ms",
    decimals: 0,
  });
  grid.stat({
    title: "Cache hit ratio",
    sla: m("cache_hit_ratio"),
    column: "cache_hit_ratio",
    ...percent(1),
  });
  grid.stat({
    title: "DB query rate",
    sla: m("db_query_rate_per_s"),
    column: "db_query_rate_per_s",
    unit: "qps",
    decimals: 1,
  });
  grid.stat({
    title: "KMS reuse ratio",
    description: `${
      m("kms_reuse_ratio").description
    } Per function that calls KMS (payment-methods; the search paths make no KMS calls), over the range.`,
    sla: m("kms_reuse_ratio"),
    column: "kms_reuse_ratio",
    sql: [
      "select function_name as path,",
      `  1 - ${ratio("kms_new_connections", "kms_requests")} as kms_reuse_ratio`,
      "from monitoring.minute_metrics",
      "where $__timeFilter(bucket_start)",
      "group by function_name",
      "having sum(kms_requests) > 0",
      "order by function_name",
    ].join("\n"),
    ...percent(1),
  });
  grid.stat({
    title: "Fallbacks",
    description: "Requests the optimized path failed and the legacy path served.",
    column: "fallbacks",
    unit: "short",
  });
}

/** A share shown as a percentage with `decimals` decimals. */
function percent(decimals: number): { unit: string; decimals: number } {
  return { unit: "percentunit", decimals };
}

/** Request rate, 5xx rate and failure rate (5xx + fallbacks) over time. */
export function trafficRow(grid: PanelGrid, m: SlaLookup): void {
  grid.row("Traffic and errors");
  grid.series({
    title: "Request rate",
    description: "Requests per second, per path.",
    sql: seriesSql('sum(requests) / ($__interval_ms / 1000.0) as "req/s"'),
    unit: "reqps",
    min: 0,
  });
  grid.series({
    title: "Error rate (5xx)",
    sla: m("error_rate"),
    sql: seriesSql(`${ratio("server_errors", "requests")} as "5xx"`),
    unit: "percentunit",
    min: 0,
  });
  grid.series({
    title: "Failure rate (5xx + fallbacks)",
    description:
      "Requests the optimized path failed, whether a 5xx or served by the legacy fallback: the rollout's error signal.",
    sla: m("error_rate"),
    sql: seriesSql(`${ratio("server_errors + fallbacks", "requests")} as "failures"`),
    unit: "percentunit",
    min: 0,
  });
}

/** Latency quantiles and mean over time. */
export function latencyRow(grid: PanelGrid, m: SlaLookup): void {
  grid.row("Latency");
  grid.series({
    title: "Latency p95 / p99",
    description: "From the latency histogram, interpolated within buckets as Prometheus does.",
    sla: m("latency_p95_ms"),
    sql: seriesSql(
      `${quantile(0.95, latencyBounds, "latency_buckets")} as p95,\n` +
        `  ${quantile(0.99, latencyBounds, "latency_buckets")} as p99`,
    ),
    unit: "ms",
    min: 0,
  });
  grid.series({
    title: "Latency p50 and mean",
    description: "Median from the histogram; mean from the latency sum.",
    sql: seriesSql(
      `${quantile(0.5, latencyBounds, "latency_buckets")} as p50,\n` +
        `  sum(latency_sum_ms) / nullif(sum(requests), 0) as mean`,
    ),
    unit: "ms",
    min: 0,
  });
}

/** Database work per request and per second, and how the coalescer batches it. */
export function databaseRow(grid: PanelGrid, m: SlaLookup): void {
  grid.row("Database and coalescing");
  grid.series({
    title: "DB queries per request",
    description: "Queries issued divided by requests served: 3 on the legacy path, far fewer " +
      "on the optimized path when concurrent requests share batches.",
    sql: seriesSql(`${ratio("db_queries", "requests")} as "queries/request"`),
    unit: "short",
    min: 0,
  });
  grid.series({
    title: "DB query rate",
    sla: m("db_query_rate_per_s"),
    sql: seriesSql('sum(db_queries) / ($__interval_ms / 1000.0) as "queries/s"'),
    unit: "qps",
    min: 0,
  });
  grid.series({
    title: "Coalesced batch size p50 / p95",
    description: "Keys per coalesced batch, from the batch-size histogram.",
    sql: seriesSql(
      `${quantile(0.5, batchBounds, "batch_size_buckets")} as "batch p50",\n` +
        `  ${quantile(0.95, batchBounds, "batch_size_buckets")} as "batch p95"`,
    ),
    unit: "short",
    min: 0,
  });
  grid.barchart({
    title: "Batch size distribution",
    description: "Coalesced batches per batch-size bucket over the range.",
    xField: "batch size",
    sql: [
      "select",
      '  bucket_label as "batch size",',
      "  sum(batches) as batches",
      "from monitoring.minute_batch_sizes",
      `where ${minuteFilter}`,
      "group by bucket_index, bucket_label",
      "order by bucket_index",
    ].join("\n"),
  });
}

/** Hit ratio per cache tier, and the fallbacks, over time. */
export function cacheRow(grid: PanelGrid, m: SlaLookup): void {
  grid.row("Cache");
  grid.series({
    title: "Cache hit ratio per tier",
    description: `${m("cache_hit_ratio").description} l1: in-isolate LRU; l2: Upstash Redis; ` +
      "overall: hits of either over look-ups (each passes L1 first).",
    sla: m("cache_hit_ratio"),
    sql: seriesSql(
      `${ratio("cache_l1_hits", "cache_l1_hits + cache_l1_misses")} as l1,\n` +
        `  ${ratio("cache_l2_hits", "cache_l2_hits + cache_l2_misses")} as l2,\n` +
        `  ${ratio("cache_hits", "cache_lookups")} as overall`,
    ),
    unit: "percentunit",
    min: 0,
    max: 1,
  });
  grid.series({
    title: "Fallbacks",
    description: "Requests the optimized path failed and the legacy path served, per interval.",
    sql: seriesSql("sum(fallbacks) as fallbacks"),
    unit: "short",
    min: 0,
  });
}

/** KMS connection reuse, isolate memory and open circuit breakers, for every function. */
export function kmsAndMemoryRow(grid: PanelGrid, m: SlaLookup): void {
  grid.row("KMS and memory (every function)");
  grid.series({
    title: "KMS connection reuse ratio",
    description: `${m("kms_reuse_ratio").description} Per function that calls KMS.`,
    sla: m("kms_reuse_ratio"),
    sql: [
      "select",
      "  $__timeGroupAlias(bucket_start, $__interval),",
      "  function_name as metric,",
      `  1 - ${ratio("kms_new_connections", "kms_requests")} as "reuse"`,
      "from monitoring.minute_metrics",
      "where $__timeFilter(bucket_start)",
      "group by 1, 2",
      "having sum(kms_requests) > 0",
      "order by 1, 2",
    ].join("\n"),
    unit: "percentunit",
    min: 0,
    max: 1,
  });
  grid.series({
    title: "Isolate resident memory (largest isolate)",
    description: "Resident memory reported with each flush; the memory-growth alert watches " +
      `its growth over 30 minutes (warning above ${m("memory_growth_mb_per_30m").warning} MB).`,
    sql: [
      "select",
      "  $__timeGroupAlias(flushed_at, $__interval),",
      "  function_name as metric,",
      "  max(memory_rss_bytes) as rss",
      "from monitoring.function_metrics",
      "where $__timeFilter(flushed_at) and memory_rss_bytes is not null",
      "group by 1, 2",
      "order by 1, 2",
    ].join("\n"),
    unit: "bytes",
    min: 0,
  });
  grid.stat({
    title: "Open circuit breakers",
    description: "Isolates whose breaker for a dependency is open now (it refuses at once with " +
      "503 instead of waiting for a dependency that fails), per function and dependency, over " +
      "isolates that flushed in the last two minutes (monitoring.circuit_breaker_summary).",
    column: "open_isolates",
    sql: [
      "select function_name || ' → ' || dependency as path, open_isolates",
      "from monitoring.circuit_breaker_summary",
      "order by function_name, dependency",
    ].join("\n"),
    unit: "short",
    decimals: 0,
    thresholds: {
      mode: "absolute",
      steps: [{ color: "green", value: null }, { color: "red", value: 1 }],
    },
  });
}
