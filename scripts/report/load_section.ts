/**
 * The report's section for the load tests (k6 or the built-in driver): every summary under
 * reports/load/ — runs, client-side results, cache tiers, thresholds, the path split and, for the
 * concurrency sweep, each level and path.
 *
 * @module
 */
import { metricNames as loadMetrics } from "../load/workloads/response.js";
import { type LoadSummary, metricValue, slaFigures, thresholdResults } from "../load/summary.ts";
import { describeMachine } from "../load/machine.ts";
import { fmtMs, fmtNum, fmtPct } from "./format.ts";
import type { Input } from "./inputs.ts";
import type { ChartSpec, Section, Table } from "./section.ts";

function countOf(summary: LoadSummary, metric: string): number {
  return metricValue(summary, metric, "count") ?? 0;
}

function sweepLevels(summary: LoadSummary): { level: number; durationS: number }[] {
  return summary.meta.phases
    .filter((p) => p.tags.concurrency !== undefined)
    .map((p) => ({ level: Number(p.tags.concurrency), durationS: p.durationS }))
    .sort((a, b) => a.level - b.level);
}

/** A table with a row per run, led by the run's workload. */
function perRun(
  summaries: LoadSummary[],
  caption: string,
  columns: string[],
  cells: (s: LoadSummary) => string[],
): Table {
  return {
    caption,
    columns: ["Workload", ...columns],
    rows: summaries.map((s) => [s.meta.workload, ...cells(s)]),
  };
}

/** Which workload ran where, when and how long. */
function runsTable(summaries: LoadSummary[]): Table {
  const columns = ["Driver", "Started", "Duration s", "Target", "Machine"];
  return perRun(summaries, "Runs", columns, (s) => [
    s.meta.driver,
    s.meta.startedAt,
    fmtNum(s.state.testRunDurationMs / 1000, 1),
    s.meta.baseUrl,
    s.meta.machine ? describeMachine(s.meta.machine) : "not recorded (k6)",
  ]);
}

/** Requests, latency, errors and the path split of each run. */
function resultsTable(summaries: LoadSummary[]): Table {
  const columns = [
    "Requests",
    "req/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "Failed",
    "5xx/no answer",
    "Legacy",
    "Optimized",
  ];
  return perRun(summaries, "Results (client-side latency)", columns, (s) => [
    fmtNum(countOf(s, loadMetrics.requests)),
    fmtNum(metricValue(s, loadMetrics.requests, "rate"), 1),
    fmtMs(metricValue(s, loadMetrics.duration, "med")),
    fmtMs(metricValue(s, loadMetrics.duration, "p(95)")),
    fmtMs(metricValue(s, loadMetrics.duration, "p(99)")),
    fmtPct(metricValue(s, loadMetrics.failed, "rate")),
    fmtPct(metricValue(s, loadMetrics.serverErrors, "rate")),
    fmtNum(countOf(s, loadMetrics.legacy)),
    fmtNum(countOf(s, loadMetrics.optimized)),
  ]);
}

/** Responses by cache tier, and the hit ratio, of each run. */
function cacheTable(summaries: LoadSummary[]): Table {
  const columns = ["Repeated searches", "L1", "L2", "Miss", "Hit ratio"];
  return perRun(summaries, "Cache by tier (responses carrying x-cache)", columns, (s) => [
    fmtPct(s.meta.duplication),
    fmtNum(countOf(s, loadMetrics.cacheL1)),
    fmtNum(countOf(s, loadMetrics.cacheL2)),
    fmtNum(countOf(s, loadMetrics.cacheMiss)),
    fmtPct(slaFigures(s).cache_hit_ratio),
  ]);
}

/** Each run's thresholds and whether they held. */
function thresholdsTable(summaries: LoadSummary[]): Table {
  return {
    caption: "Thresholds (from config/sla.json)",
    columns: ["Workload", "Metric", "Threshold", "Result"],
    rows: summaries.flatMap((s) =>
      thresholdResults(s).map((
        t,
      ) => [s.meta.workload, t.metric, t.expression, t.ok ? "✓ held" : "✗ crossed"])
    ),
  };
}

function latencyChart(summaries: LoadSummary[]): ChartSpec {
  return {
    id: "load-latency",
    title: "Latency per workload",
    kind: "bar",
    xTitle: "workload",
    yTitle: "ms",
    labels: summaries.map((s) => s.meta.workload),
    datasets: (["med", "p(95)", "p(99)"] as const).map((stat) => ({
      label: stat === "med" ? "p50" : stat.replace(/[()]/g, ""),
      data: summaries.map((s) => metricValue(s, loadMetrics.duration, stat)),
    })),
  };
}

/** The cache tier of each response, for the runs whose responses carried one. */
function cacheChart(summaries: LoadSummary[]): ChartSpec[] {
  const tiered = (s: LoadSummary) =>
    countOf(s, loadMetrics.cacheL1) + countOf(s, loadMetrics.cacheL2) +
    countOf(s, loadMetrics.cacheMiss);
  const withCache = summaries.filter((s) => tiered(s) > 0);
  if (withCache.length === 0) return [];
  const share = (s: LoadSummary, metric: string) => {
    const total = tiered(s);
    return total > 0 ? (countOf(s, metric) / total) * 100 : null;
  };
  return [{
    id: "load-cache",
    title: "Cache tier of each response",
    kind: "bar",
    stacked: true,
    xTitle: "workload (repeated searches)",
    yTitle: "% of responses",
    labels: withCache.map((s) => `${s.meta.workload} (${fmtPct(s.meta.duplication)})`),
    datasets: [
      { label: "L1", data: withCache.map((s) => share(s, loadMetrics.cacheL1)) },
      { label: "L2", data: withCache.map((s) => share(s, loadMetrics.cacheL2)) },
      { label: "miss", data: withCache.map((s) => share(s, loadMetrics.cacheMiss)) },
    ],
  }];
}

/** Which path answered, for the runs whose responses named one. */
function pathChart(summaries: LoadSummary[]): ChartSpec[] {
  const withPath = summaries.filter((s) =>
    countOf(s, loadMetrics.legacy) + countOf(s, loadMetrics.optimized) > 0
  );
  if (withPath.length === 0) return [];
  const share = (s: LoadSummary, metric: string) =>
    (countOf(s, metric) / (countOf(s, loadMetrics.legacy) + countOf(s, loadMetrics.optimized))) *
    100;
  return [{
    id: "load-paths",
    title: "Path split: which code path answered",
    kind: "bar",
    stacked: true,
    xTitle: "workload",
    yTitle: "% of responses naming a path",
    labels: withPath.map((s) => s.meta.workload),
    datasets: [
      { label: "legacy", data: withPath.map((s) => share(s, loadMetrics.legacy)) },
      { label: "optimized", data: withPath.map((s) => share(s, loadMetrics.optimized)) },
    ],
  }];
}

/** A sweep's figures per concurrency level and path: a table and two charts (none if no sweep). */
function sweepParts(s: LoadSummary): { tables: Table[]; charts: ChartSpec[] } {
  const levels = sweepLevels(s);
  if (levels.length === 0) return { tables: [], charts: [] };
  const sub = (metric: string, level: number, key: string) =>
    metricValue(s, `${metric}{concurrency:${level}}`, key);
  const paths = [
    { label: "legacy", metric: loadMetrics.legacyDuration },
    { label: "optimized", metric: loadMetrics.optimizedDuration },
    { label: "all", metric: loadMetrics.duration },
  ];
  const table: Table = {
    caption: `${s.meta.workload}: per concurrency level and path`,
    columns: ["Concurrency", "Path", "Responses", "p50 ms", "p95 ms", "p99 ms", "req/s"],
    rows: levels.flatMap(({ level, durationS }) =>
      paths.map(({ label, metric }) => {
        const n = sub(metric, level, "count") ?? 0;
        return [
          String(level),
          label,
          fmtNum(n),
          n > 0 ? fmtMs(sub(metric, level, "med")) : "–",
          n > 0 ? fmtMs(sub(metric, level, "p(95)")) : "–",
          n > 0 ? fmtMs(sub(metric, level, "p(99)")) : "–",
          fmtNum(n / durationS, 1),
        ];
      })
    ),
  };
  const labels = levels.map((l) => String(l.level));
  return {
    tables: [table],
    charts: [{
      id: `load-${s.meta.workload}-p95`,
      title: `${s.meta.workload}: p95 by concurrency, legacy vs optimized`,
      kind: "line",
      xTitle: "concurrent users",
      yTitle: "ms",
      labels,
      datasets: paths.slice(0, 2).map(({ label, metric }) => ({
        label,
        data: levels.map(({ level }) =>
          (sub(metric, level, "count") ?? 0) > 0 ? sub(metric, level, "p(95)") : null
        ),
      })),
    }, {
      id: `load-${s.meta.workload}-rps`,
      title: `${s.meta.workload}: throughput by concurrency`,
      kind: "line",
      xTitle: "concurrent users",
      yTitle: "requests/s",
      labels,
      datasets: paths.map(({ label, metric }) => ({
        label,
        data: levels.map(({ level, durationS }) => (sub(metric, level, "count") ?? 0) / durationS),
      })),
    }],
  };
}

/** The load tests' section, from every summary read under `dir`. */
export function loadSection(loads: Input<LoadSummary>[], dir = "reports/load"): Section {
  const valid = loads.filter((l): l is Extract<Input<LoadSummary>, { status: "ok" }> =>
    l.status === "ok"
  );
  const invalid = loads.filter((l) => l.status === "invalid");
  const base = {
    id: "load-tests",
    title: "Load tests (k6 or the built-in driver)",
    source: `${dir}/*.json`,
    command: "deno task load --scenario <workload>  (or k6 run tests/load/<workload>.js)",
  };
  const notes = invalid.map((l) => `invalid: ${l.path}: ${l.status === "invalid" ? l.error : ""}`);
  if (valid.length === 0) {
    return {
      ...base,
      status: invalid.length > 0 ? "invalid" : "not_run",
      notes: invalid.length > 0 ? notes : [
        `not run: no load summary under ${dir}/ — run \`deno task load --scenario baseline\``,
      ],
      tables: [],
      charts: [],
    };
  }
  const summaries = valid.map((l) => l.data);
  const sweeps = summaries.map(sweepParts);
  const tables: Table[] = [
    runsTable(summaries),
    resultsTable(summaries),
    cacheTable(summaries),
    thresholdsTable(summaries),
    ...sweeps.flatMap((sweep) => sweep.tables),
  ];
  const charts: ChartSpec[] = [
    latencyChart(summaries),
    ...cacheChart(summaries),
    ...pathChart(summaries),
    ...sweeps.flatMap((sweep) => sweep.charts),
  ];
  return { ...base, status: "ok", notes, tables, charts };
}
