/**
 * The Grafana dashboard `monitoring/performance-optimization-dashboard.json`, rendered from code
 * so its SLA thresholds come from config/sla.json and its SQL lives next to the views it reads.
 *
 * Every panel reads the monitoring views and functions (migration 20261122000500), never the
 * metric math of its own: time series re-aggregate `monitoring.minute_metrics` into Grafana's
 * interval, the SLA stats call `monitoring.path_summary()` over the dashboard's range — the same
 * numbers the rollout CLI judges. Legacy and optimized are series of the same panel (or values of
 * the same stat), side by side.
 *
 * The datasource is an input (`${DS_POSTGRES}`): importing through the UI asks for it, and for
 * file provisioning a datasource variable of the same name resolves it to a PostgreSQL source.
 *
 * ```sh
 * deno run -A scripts/monitoring/dashboard.ts          # rewrite the dashboard JSON
 * deno run -A scripts/monitoring/dashboard.ts --check  # exit 1 when it is stale
 * ```
 *
 * @module
 */
import { repoRoot } from "../local/paths.ts";
import { readSlaConfig, type SlaConfig, type SlaMetric } from "./sla_config.ts";
import { runGeneratedFile } from "../_cli/generated_file.ts";

/** Where the rendered dashboard is committed (the folder Grafana's file provider reads). */
export const dashboardPath = `${repoRoot}/monitoring/performance-optimization-dashboard.json`;

/** Grafana's plugin id of its built-in PostgreSQL datasource (Grafana 10.3+). */
export const postgresPluginId = "grafana-postgresql-datasource";

/** The datasource reference every panel and query variable uses. */
export const datasource = { type: postgresPluginId, uid: "${DS_POSTGRES}" } as const;

/** The dashboard's stable uid (its URL); not a datasource id. */
export const dashboardUid = "parker-flight-performance";

type Json = Record<string, unknown>;

/** One query of a panel as Grafana stores it. */
export interface Target {
  refId: string;
  datasource: typeof datasource;
  editorMode: "code";
  format: "time_series" | "table";
  rawQuery: true;
  rawSql: string;
}

/** A dashboard panel (the fields this module writes). */
export interface Panel extends Json {
  id: number;
  type: "row" | "timeseries" | "stat" | "barchart";
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
}

const byPath = "function_name = '$function' and path in ($path)";
const minuteFilter = `$__timeFilter(bucket_start) and ${byPath}`;

/** A time series over `monitoring.minute_metrics`: one series per path per value column. */
function seriesSql(values: string): string {
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
function summarySql(column: string): string {
  return [
    `select path, ${column}`,
    "from monitoring.path_summary('$function', $__timeFrom(), $__timeTo())",
    "where path in ($path)",
    "order by path",
  ].join("\n");
}

const quantile = (q: number, bounds: string, column: string) =>
  `monitoring.histogram_quantile(${q}, ${bounds}, monitoring.bucket_sum(${column}))`;
const ratio = (numerator: string, denominator: string) =>
  `sum(${numerator})::float8 / nullif(sum(${denominator}), 0)`;

/** Threshold steps for an SLA metric: green on the good side, yellow past warning, red past
 * critical (or the rollback level when there is no critical one). */
export function slaThresholds(metric: SlaMetric, scale = 1): { mode: string; steps: Json[] } {
  const red = metric.critical ?? metric.rollback;
  const yellow = metric.warning;
  const steps: Json[] = [];
  if (metric.better === "lower") {
    steps.push({ color: "green", value: null });
    if (yellow !== null && (red === null || yellow < red)) {
      steps.push({ color: "yellow", value: yellow * scale });
    }
    if (red !== null) steps.push({ color: "red", value: red * scale });
  } else {
    steps.push({ color: red !== null ? "red" : "yellow", value: null });
    if (red !== null && yellow !== null && yellow > red) {
      steps.push({ color: "yellow", value: red * scale });
    }
    const good = yellow ?? red;
    if (good !== null) steps.push({ color: "green", value: good * scale });
  }
  return { mode: "absolute", steps };
}

const target = (sql: string, format: Target["format"], refId = "A"): Target => ({
  refId,
  datasource,
  editorMode: "code",
  format,
  rawQuery: true,
  rawSql: sql,
});

interface Layout {
  y: number;
  x: number;
  rowHeight: number;
  nextId: number;
  panels: Panel[];
}

function place(layout: Layout, w: number, h: number): Panel["gridPos"] {
  if (layout.x + w > 24) {
    layout.y += layout.rowHeight;
    layout.x = 0;
    layout.rowHeight = 0;
  }
  const gridPos = { h, w, x: layout.x, y: layout.y };
  layout.x += w;
  layout.rowHeight = Math.max(layout.rowHeight, h);
  return gridPos;
}

function row(layout: Layout, title: string): void {
  if (layout.x > 0) {
    layout.y += layout.rowHeight;
    layout.x = 0;
    layout.rowHeight = 0;
  }
  layout.panels.push({
    id: layout.nextId++,
    type: "row",
    title,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0, y: layout.y },
    panels: [],
  });
  layout.y += 1;
}

interface StatSpec {
  title: string;
  description: string;
  column: string;
  unit: string;
  thresholds?: ReturnType<typeof slaThresholds>;
  decimals?: number;
  /** The query, when not the selected function's path_summary (rows: path, `column`). */
  sql?: string;
}

function stat(layout: Layout, spec: StatSpec): void {
  layout.panels.push({
    id: layout.nextId++,
    type: "stat",
    title: spec.title,
    description: spec.description,
    datasource,
    gridPos: place(layout, 3, 5),
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}),
        color: { mode: "thresholds" },
        thresholds: spec.thresholds ??
          { mode: "absolute", steps: [{ color: "blue", value: null }] },
        noValue: "no traffic",
      },
      overrides: [],
    },
    options: {
      // One value per row: the path column names it, so legacy and optimized sit side by side.
      reduceOptions: { values: true, calcs: ["lastNotNull"], fields: `/^${spec.column}$/` },
      orientation: "vertical",
      textMode: "value_and_name",
      colorMode: "background",
      graphMode: "none",
      justifyMode: "center",
    },
    targets: [target(spec.sql ?? summarySql(spec.column), "table")],
  });
}

interface SeriesSpec {
  title: string;
  description: string;
  sql: string;
  unit: string;
  thresholds?: ReturnType<typeof slaThresholds>;
  min?: number;
  max?: number;
  width?: number;
}

function series(layout: Layout, spec: SeriesSpec): void {
  layout.panels.push({
    id: layout.nextId++,
    type: "timeseries",
    title: spec.title,
    description: spec.description,
    datasource,
    gridPos: place(layout, spec.width ?? 12, 8),
    // Minute buckets: a finer interval would only split minutes.
    interval: "1m",
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.min !== undefined ? { min: spec.min } : {}),
        ...(spec.max !== undefined ? { max: spec.max } : {}),
        color: { mode: "palette-classic" },
        custom: {
          drawStyle: "line",
          lineWidth: 2,
          fillOpacity: 0,
          spanNulls: false,
          showPoints: "never",
          thresholdsStyle: { mode: spec.thresholds ? "line" : "off" },
        },
        thresholds: spec.thresholds ??
          { mode: "absolute", steps: [{ color: "green", value: null }] },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: "table", placement: "bottom", calcs: ["mean", "max", "lastNotNull"] },
      tooltip: { mode: "multi", sort: "none" },
    },
    targets: [target(spec.sql, "time_series")],
  });
}

/** The dashboard JSON for `sla`. */
export function dashboard(sla: SlaConfig): Json {
  const m = (key: string): SlaMetric => {
    const metric = sla.metrics[key];
    if (!metric) throw new Error(`config/sla.json has no metrics.${key}`);
    return metric;
  };
  const layout: Layout = { y: 0, x: 0, rowHeight: 0, nextId: 1, panels: [] };
  const latencyBounds = "monitoring.latency_bounds_ms()";
  const batchBounds = "monitoring.batch_size_bounds()::float8[]";

  row(layout, "SLA over the selected range (per path, as the rollout analysis computes it)");
  stat(layout, {
    title: "Requests",
    description: "Requests flushed in the range.",
    column: "requests",
    unit: "short",
  });
  stat(layout, {
    title: "Error rate",
    description: m("error_rate").description,
    column: "error_rate",
    unit: "percentunit",
    decimals: 2,
    thresholds: slaThresholds(m("error_rate")),
  });
  stat(layout, {
    title: "Failure rate",
    description:
      "(5xx + fallbacks) / requests: what the rollout judges the optimized path's error rate on, so a failure the legacy fallback hides still counts.",
    column: "failure_rate",
    unit: "percentunit",
    decimals: 2,
    thresholds: slaThresholds(m("error_rate")),
  });
  stat(layout, {
    title: "p95 latency",
    description: m("latency_p95_ms").description,
    column: "p95_ms",
    unit: "ms",
    decimals: 0,
    thresholds: slaThresholds(m("latency_p95_ms")),
  });
  stat(layout, {
    title: "p99 latency",
    description: "99th percentile of server-side request latency.",
    column: "p99_ms",
    unit: "ms",
    decimals: 0,
  });
  stat(layout, {
    title: "Cache hit ratio",
    description: m("cache_hit_ratio").description,
    column: "cache_hit_ratio",
    unit: "percentunit",
    decimals: 1,
    thresholds: slaThresholds(m("cache_hit_ratio")),
  });
  stat(layout, {
    title: "DB query rate",
    description: m("db_query_rate_per_s").description,
    column: "db_query_rate_per_s",
    unit: "qps",
    decimals: 1,
    thresholds: slaThresholds(m("db_query_rate_per_s")),
  });
  stat(layout, {
    title: "KMS reuse ratio",
    description: `${
      m("kms_reuse_ratio").description
    } Per function that calls KMS (payment-methods; the search paths make no KMS calls), over the range.`,
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
    unit: "percentunit",
    decimals: 1,
    thresholds: slaThresholds(m("kms_reuse_ratio")),
  });
  stat(layout, {
    title: "Fallbacks",
    description: "Requests the optimized path failed and the legacy path served.",
    column: "fallbacks",
    unit: "short",
  });

  row(layout, "Traffic and errors");
  series(layout, {
    title: "Request rate",
    description: "Requests per second, per path.",
    sql: seriesSql('sum(requests) / ($__interval_ms / 1000.0) as "req/s"'),
    unit: "reqps",
    min: 0,
  });
  series(layout, {
    title: "Error rate (5xx)",
    description: m("error_rate").description,
    sql: seriesSql(`${ratio("server_errors", "requests")} as "5xx"`),
    unit: "percentunit",
    min: 0,
    thresholds: slaThresholds(m("error_rate")),
  });
  series(layout, {
    title: "Failure rate (5xx + fallbacks)",
    description:
      "Requests the optimized path failed, whether a 5xx or served by the legacy fallback: the rollout's error signal.",
    sql: seriesSql(`${ratio("server_errors + fallbacks", "requests")} as "failures"`),
    unit: "percentunit",
    min: 0,
    thresholds: slaThresholds(m("error_rate")),
  });

  row(layout, "Latency");
  series(layout, {
    title: "Latency p95 / p99",
    description: "From the latency histogram, interpolated within buckets as Prometheus does.",
    sql: seriesSql(
      `${quantile(0.95, latencyBounds, "latency_buckets")} as p95,\n` +
        `  ${quantile(0.99, latencyBounds, "latency_buckets")} as p99`,
    ),
    unit: "ms",
    min: 0,
    thresholds: slaThresholds(m("latency_p95_ms")),
  });
  series(layout, {
    title: "Latency p50 and mean",
    description: "Median from the histogram; mean from the latency sum.",
    sql: seriesSql(
      `${quantile(0.5, latencyBounds, "latency_buckets")} as p50,\n` +
        `  sum(latency_sum_ms) / nullif(sum(requests), 0) as mean`,
    ),
    unit: "ms",
    min: 0,
  });

  row(layout, "Database and coalescing");
  series(layout, {
    title: "DB queries per request",
    description: "Queries issued divided by requests served: 3 on the legacy path, far fewer " +
      "on the optimized path when concurrent requests share batches.",
    sql: seriesSql(`${ratio("db_queries", "requests")} as "queries/request"`),
    unit: "short",
    min: 0,
  });
  series(layout, {
    title: "DB query rate",
    description: m("db_query_rate_per_s").description,
    sql: seriesSql('sum(db_queries) / ($__interval_ms / 1000.0) as "queries/s"'),
    unit: "qps",
    min: 0,
    thresholds: slaThresholds(m("db_query_rate_per_s")),
  });
  series(layout, {
    title: "Coalesced batch size p50 / p95",
    description: "Keys per coalesced batch, from the batch-size histogram.",
    sql: seriesSql(
      `${quantile(0.5, batchBounds, "batch_size_buckets")} as "batch p50",\n` +
        `  ${quantile(0.95, batchBounds, "batch_size_buckets")} as "batch p95"`,
    ),
    unit: "short",
    min: 0,
  });
  layout.panels.push({
    id: layout.nextId++,
    type: "barchart",
    title: "Batch size distribution",
    description: "Coalesced batches per batch-size bucket over the range.",
    datasource,
    gridPos: place(layout, 12, 8),
    fieldConfig: { defaults: { unit: "short", color: { mode: "palette-classic" } }, overrides: [] },
    options: {
      xField: "batch size",
      orientation: "auto",
      showValue: "auto",
      legend: { displayMode: "list", placement: "bottom" },
      tooltip: { mode: "single" },
    },
    targets: [target(
      [
        "select",
        '  bucket_label as "batch size",',
        "  sum(batches) as batches",
        "from monitoring.minute_batch_sizes",
        `where ${minuteFilter}`,
        "group by bucket_index, bucket_label",
        "order by bucket_index",
      ].join("\n"),
      "table",
    )],
  });

  row(layout, "Cache");
  series(layout, {
    title: "Cache hit ratio per tier",
    description: `${m("cache_hit_ratio").description} l1: in-isolate LRU; l2: Upstash Redis; ` +
      "overall: hits of either over look-ups (each passes L1 first).",
    sql: seriesSql(
      `${ratio("cache_l1_hits", "cache_l1_hits + cache_l1_misses")} as l1,\n` +
        `  ${ratio("cache_l2_hits", "cache_l2_hits + cache_l2_misses")} as l2,\n` +
        `  ${ratio("cache_hits", "cache_lookups")} as overall`,
    ),
    unit: "percentunit",
    min: 0,
    max: 1,
    thresholds: slaThresholds(m("cache_hit_ratio")),
  });
  series(layout, {
    title: "Fallbacks",
    description: "Requests the optimized path failed and the legacy path served, per interval.",
    sql: seriesSql("sum(fallbacks) as fallbacks"),
    unit: "short",
    min: 0,
  });

  row(layout, "KMS and memory (every function)");
  series(layout, {
    title: "KMS connection reuse ratio",
    description: `${m("kms_reuse_ratio").description} Per function that calls KMS.`,
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
    thresholds: slaThresholds(m("kms_reuse_ratio")),
  });
  series(layout, {
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
  stat(layout, {
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

  return {
    __inputs: [{
      name: "DS_POSTGRES",
      label: "PostgreSQL",
      description: "The project's Postgres (a role with service_role's grants on monitoring).",
      type: "datasource",
      pluginId: postgresPluginId,
      pluginName: "PostgreSQL",
    }],
    __requires: [
      { type: "grafana", id: "grafana", name: "Grafana", version: "10.4.0" },
      { type: "datasource", id: postgresPluginId, name: "PostgreSQL", version: "1.0.0" },
      { type: "panel", id: "timeseries", name: "Time series", version: "" },
      { type: "panel", id: "stat", name: "Stat", version: "" },
      { type: "panel", id: "barchart", name: "Bar chart", version: "" },
    ],
    annotations: {
      list: [{
        builtIn: 1,
        datasource: { type: "grafana", uid: "-- Grafana --" },
        enable: true,
        hide: true,
        iconColor: "rgba(0, 211, 255, 1)",
        name: "Annotations & Alerts",
        type: "dashboard",
      }],
    },
    description: "flight-search legacy vs optimized path: traffic, errors, latency, database " +
      "work, cache, KMS and memory, with SLA levels from config/sla.json. Generated by " +
      "scripts/monitoring/dashboard.ts.",
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [],
    panels: layout.panels,
    refresh: "1m",
    schemaVersion: 39,
    tags: ["parker-flight", "performance", "supabase"],
    templating: {
      list: [
        {
          // Resolves ${DS_POSTGRES} when the dashboard is provisioned from files (no import
          // step replaces the input then).
          name: "DS_POSTGRES",
          label: "Data source",
          type: "datasource",
          query: postgresPluginId,
          current: {},
          hide: 0,
          includeAll: false,
          multi: false,
          options: [],
          refresh: 1,
          regex: "",
        },
        {
          name: "function",
          label: "Function",
          type: "query",
          datasource,
          definition: "select function_name from monitoring.function_totals order by 1",
          query: "select function_name from monitoring.function_totals order by 1",
          current: { selected: true, text: "flight-search", value: "flight-search" },
          hide: 0,
          includeAll: false,
          multi: false,
          options: [],
          refresh: 2,
          regex: "",
          sort: 0,
        },
        {
          name: "path",
          label: "Code path",
          type: "query",
          datasource,
          definition:
            "select path from monitoring.function_totals where function_name = '$function' order by 1",
          query:
            "select path from monitoring.function_totals where function_name = '$function' order by 1",
          current: { selected: true, text: ["All"], value: ["$__all"] },
          hide: 0,
          includeAll: true,
          multi: true,
          options: [],
          refresh: 2,
          regex: "",
          sort: 0,
        },
      ],
    },
    time: { from: "now-6h", to: "now" },
    timepicker: {},
    timezone: "browser",
    title: "Parker Flight — performance optimization (legacy vs optimized)",
    uid: dashboardUid,
    version: 1,
  };
}

/** The dashboard file's text. */
export function renderDashboard(sla: SlaConfig): string {
  return `${JSON.stringify(dashboard(sla), null, 2)}\n`;
}

if (import.meta.main) {
  const render = () => readSlaConfig().then(renderDashboard);
  const regenerate = "deno run -A scripts/monitoring/dashboard.ts";
  await runGeneratedFile({ path: dashboardPath, render, regenerate });
}
