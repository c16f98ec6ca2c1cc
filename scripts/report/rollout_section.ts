/**
 * The report's section for the latest deploy: how it ended, its phases, and each analysis check
 * with the optimized path's figures beside the legacy path's.
 *
 * @module
 */
import { fmtFactor, fmtMs, fmtNum, fmtPct } from "./format.ts";
import type { Deployment, Input } from "./inputs.ts";
import { type ChartSpec, type Section, sectionOf, type Table } from "./section.ts";

type CheckMetrics = Deployment["checks"][number]["check"]["metrics"];

/** One path's value of `metric` in a check; null when the check has none. */
function valueOf(
  metrics: CheckMetrics,
  metric: string,
  path: "optimized" | "legacy",
): number | null {
  return metrics.find((x) => x.metric === metric)?.[path] ?? null;
}

/** `optimized / legacy`, each formatted. */
function pair(metrics: CheckMetrics, metric: string, format: (v: number | null) => string) {
  const m = metrics.find((x) => x.metric === metric);
  return `${format(m?.optimized ?? null)} / ${format(m?.legacy ?? null)}`;
}

function phasesTable(d: Deployment): Table {
  return {
    caption: "Phases",
    columns: ["#", "Phase", "Step", "Outcome", "Duration s", "Detail"],
    rows: d.phases.map((p) => [
      String(p.number),
      p.name,
      p.step === undefined ? "" : `${p.step}%`,
      p.outcome ?? "running",
      p.durationMs === undefined ? "–" : fmtNum(p.durationMs / 1000, 1),
      p.detail ?? "",
    ]),
  };
}

function checksTable(d: Deployment): Table {
  return {
    caption: "Analysis checks, optimized / legacy (the optimized path is judged; error rate " +
      "counts fallbacks)",
    columns: [
      "Step",
      "#",
      "Outcome",
      "Requests",
      "Error rate",
      "p95 ms",
      "Cache hit",
      "DB q/s",
      "DB q/req opt÷legacy",
      "KMS reuse",
      "Notes",
    ],
    rows: d.checks.map(({ step, check }) => [
      `${step}%`,
      String(check.index),
      check.outcome,
      `${fmtNum(check.optimizedRequests)} / ${fmtNum(check.legacyRequests)}`,
      pair(check.metrics, "error_rate", fmtPct),
      pair(check.metrics, "latency_p95_ms", fmtMs),
      pair(check.metrics, "cache_hit_ratio", fmtPct),
      pair(check.metrics, "db_query_rate_per_s", (v) => fmtNum(v, 1)),
      fmtFactor(valueOf(check.metrics, "db_queries_per_request_vs_legacy", "optimized")),
      pair(check.metrics, "kms_reuse_ratio", fmtPct),
      check.notes.join("; "),
    ]),
  };
}

/** A line chart of one metric per check, a series per path. */
function checkChart(
  d: Deployment,
  chart: Pick<ChartSpec, "id" | "title" | "yTitle">,
  metric: string,
): ChartSpec {
  return {
    id: chart.id,
    title: chart.title,
    kind: "line",
    xTitle: "step, check",
    yTitle: chart.yTitle,
    labels: d.checks.map((c) => `${c.step}% #${c.check.index}`),
    datasets: (["optimized", "legacy"] as const).map((path) => ({
      label: path,
      data: d.checks.map((c) => valueOf(c.check.metrics, metric, path)),
    })),
  };
}

function checkCharts(d: Deployment): ChartSpec[] {
  if (d.checks.length === 0) return [];
  return [
    checkChart(
      d,
      { id: "rollout-p95", title: "p95 latency per check", yTitle: "ms" },
      "latency_p95_ms",
    ),
    checkChart(d, {
      id: "rollout-errors",
      title: "Error rate per check (optimized: 5xx and fallbacks)",
      yTitle: "share of requests",
    }, "error_rate"),
  ];
}

/** The latest deploy: how it ended, its phases, and each analysis check, optimized vs legacy. */
export function rolloutSection(input: Input<Deployment>): Section {
  const head = {
    id: "rollout",
    title: "Rollout: optimized vs legacy path under the canary analysis",
    command: "npm start (or scripts/deploy-performance-optimizations.sh)",
  };
  return sectionOf(head, input, (d) => ({
    notes: [
      `deploy ${d.id} to ${d.environment}${d.dryRun ? " (dry run)" : ""}: ${
        d.status.replace("_", " ")
      }` +
      (d.reason ? ` — ${d.reason}` : ""),
      `${d.flagKey}: ${d.fromPercentage}% → ${d.toPercentage}% (steps ${
        d.steps.join(", ")
      }) by ${d.startedBy}`,
    ],
    ranAt: d.startedAt,
    tables: [phasesTable(d), checksTable(d)],
    charts: checkCharts(d),
  }));
}
