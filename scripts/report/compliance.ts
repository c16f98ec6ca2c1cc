/**
 * The report's SLA compliance table: each figure the runs measured, judged against its levels in
 * config/sla.json (equal to a level passes), beside the load test's own gate on it; the metrics
 * only production monitoring measures are listed with their levels.
 *
 * @module
 */
import { metricNames as loadMetrics } from "../load/workloads/response.js";
import { evaluate, type MetricName, type Sla, type Verdict } from "../sla/sla.ts";
import { type LoadSummary, slaFigures, thresholdResults } from "../load/summary.ts";
import { fmtMs, fmtNum, fmtPct } from "./format.ts";
import type { ReportInputs } from "./inputs.ts";
import type { Table } from "./section.ts";

const verdictText: Record<Verdict, string> = {
  pass: "pass",
  warn: "warn",
  rollback: "FAIL (rollback level)",
  no_data: "no data",
};

function formatSlaValue(metric: MetricName, value: number | null): string {
  if (value === null) return "–";
  return metric === "latency_p95_ms"
    ? `${fmtMs(value)} ms`
    : metric.endsWith("_ratio") || metric === "error_rate"
    ? fmtPct(value)
    : fmtNum(value, 2);
}

function levelText(sla: Sla, metric: MetricName, level: "warning" | "rollback"): string {
  const spec = sla.metrics[metric];
  const value = spec[level];
  if (value === null) return "–";
  return `${spec.better === "lower" ? "≤" : "≥"} ${formatSlaValue(metric, value)}`;
}

/** How a load test's thresholds on `metric` ended: held, crossed, or not gated. */
function gateOf(s: LoadSummary, metric: string): string {
  const results = thresholdResults(s).filter((t) => t.metric === metric);
  if (results.length === 0) return "not gated";
  return results.every((t) => t.ok) ? "✓ held" : "✗ crossed";
}

/** The SLA compliance table of everything the inputs measured. */
export function compliance(sla: Sla, inputs: ReportInputs): Table {
  const rows: string[][] = [];
  const row = (metric: MetricName, source: string, value: number | null, gate: string) =>
    rows.push([
      metric,
      source,
      formatSlaValue(metric, value),
      levelText(sla, metric, "warning"),
      levelText(sla, metric, "rollback"),
      verdictText[evaluate(sla, metric, value)],
      gate,
    ]);
  for (const load of inputs.loads) {
    if (load.status !== "ok") continue;
    const s = load.data;
    const figures = slaFigures(s);
    const source = `load: ${s.meta.workload} (${s.meta.driver})`;
    row("error_rate", source, figures.error_rate, gateOf(s, loadMetrics.serverErrors));
    row("latency_p95_ms", source, figures.latency_p95_ms, gateOf(s, loadMetrics.duration));
    // Only workloads that gate on the hit ratio are judged on it: the others send mostly fresh
    // searches by design (their ratio is in the cache table).
    const cacheGate = gateOf(s, loadMetrics.cacheHits);
    if (figures.cache_hit_ratio !== null && cacheGate !== "not gated") {
      row("cache_hit_ratio", source, figures.cache_hit_ratio, cacheGate);
    }
  }
  if (inputs.kms.status === "ok") {
    const bench = inputs.kms.data;
    // The SLA is about the pooled client payment-methods runs: the naive contender is the
    // baseline (no reuse by design), and the data-key-cache contenders make so few KMS calls that
    // their one unavoidable first connection dominates the ratio (see the KMS table for them).
    for (const result of bench.results.filter((r) => r.name === "pooled")) {
      row("kms_reuse_ratio", `bench:kms: ${result.name}`, result.reuseRatio, "–");
    }
  }
  for (
    const metric of [
      "db_query_rate_per_s",
      "db_queries_per_request_vs_legacy",
      "memory_growth_mb_per_30m",
    ] as const
  ) {
    rows.push([
      metric,
      "monitoring tables (production, rollout)",
      "not measured by these runs",
      levelText(sla, metric, "warning"),
      levelText(sla, metric, "rollback"),
      "–",
      "–",
    ]);
  }
  return {
    caption: "SLA compliance (levels from config/sla.json; equal to a level passes)",
    columns: ["Metric", "Measured by", "Value", "Warning", "Rollback", "Verdict", "Load-test gate"],
    rows,
  };
}
