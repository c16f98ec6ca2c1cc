/**
 * The readiness report as data: tables (formatted cells) and chart series, built only from the
 * inputs read under reports/ and judged against config/sla.json. The HTML and markdown renderers
 * both render this model, so they always say the same thing.
 *
 * @module
 */
import { metricNames as loadMetrics } from "../../tests/load/lib/response.js";
import { evaluate, type MetricName, type Sla, type Verdict } from "../sla/sla.ts";
import { type LoadSummary, metricValue, slaFigures, thresholdResults } from "../load/summary.ts";
import type { Machine } from "../load/summary.ts";
import type { Deployment, Input, KmsBench, ReportInputs, SearchBench } from "./inputs.ts";

/** A table with formatted cells. */
export interface Table {
  caption: string;
  columns: string[];
  rows: string[][];
}

/** A chart: labels on the x axis, one series per dataset. */
export interface ChartSpec {
  id: string;
  title: string;
  kind: "line" | "bar";
  xTitle: string;
  yTitle: string;
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
  stacked?: boolean;
}

/** One part of the report, from one kind of input. */
export interface Section {
  id: string;
  title: string;
  status: "ok" | "not_run" | "invalid";
  /** The file(s) it was built from, or would be. */
  source: string;
  /** The command that produces the input. */
  command: string;
  /** Why it is not run or invalid; remarks. */
  notes: string[];
  /** When the input's run started (ISO) and where, when known. */
  ranAt?: string;
  machine?: string;
  tables: Table[];
  charts: ChartSpec[];
}

/** The whole report. */
export interface ReportModel {
  title: string;
  generatedAt: string;
  /** The machine the report was generated on. */
  machine: string;
  compliance: Table;
  sections: Section[];
}

/** Formats a machine for the report. */
export function describeMachine(machine: Machine | undefined): string {
  if (!machine) return "unknown machine";
  const gib = machine.memoryBytes / 2 ** 30;
  return `${machine.cpuModel}, ${machine.cores} cores, ${
    gib.toFixed(1)
  } GiB, ${machine.os}, ${machine.runtime}`;
}

const fmtMs = (v: number | null | undefined) =>
  v === null || v === undefined ? "–" : v < 10 ? v.toFixed(2) : v.toFixed(1);
const fmtPct = (v: number | null | undefined) =>
  v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`;
const fmtNum = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined ? "–" : v.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
const fmtRatio = (
  v: number | null,
) => (v === null || !Number.isFinite(v) ? "–" : `${v.toFixed(1)}×`);

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

function notRun(
  base: Omit<Section, "status" | "notes" | "tables" | "charts">,
  input: Input<unknown>,
): Section {
  return input.status === "missing"
    ? {
      ...base,
      status: "not_run",
      notes: [`not run: ${input.path} not found — run \`${base.command}\``],
      tables: [],
      charts: [],
    }
    : {
      ...base,
      status: "invalid",
      notes: [`invalid: ${input.path}: ${input.status === "invalid" ? input.error : ""}`],
      tables: [],
      charts: [],
    };
}

function uniqueSorted<T>(values: T[], compare?: (a: T, b: T) => number): T[] {
  return [...new Set(values)].sort(compare);
}

function searchSection(input: Input<SearchBench>): Section {
  const base = {
    id: "search-bench",
    title: "Flight search: legacy vs optimized (benchmark)",
    source: input.path,
    command: "deno task bench:search",
  };
  if (input.status !== "ok") return notRun(base, input);
  const bench = input.data;
  const contenders = uniqueSorted(bench.results.map((r) => r.contender));
  const levels = uniqueSorted(bench.results.map((r) => r.concurrency), (a, b) => a - b);
  const row = (contender: string, level: number) =>
    bench.results.find((r) => r.contender === contender && r.concurrency === level);
  const series = (pick: (r: SearchBench["results"][number]) => number) =>
    contenders.map((contender) => ({
      label: contender,
      data: levels.map((level) => {
        const r = row(contender, level);
        return r ? pick(r) : null;
      }),
    }));
  const tables: Table[] = [{
    caption: "Per contender and concurrency level (queries counted by the database)",
    columns: [
      "Contender",
      "Concurrency",
      "Requests",
      "Queries",
      "Queries/request",
      "p50 ms",
      "p95 ms",
      "p99 ms",
      "req/s",
    ],
    rows: bench.results.map((r) => [
      r.contender,
      String(r.concurrency),
      fmtNum(r.requests),
      fmtNum(r.queries),
      fmtNum(r.queries / r.requests, 2),
      fmtMs(r.p50Ms),
      fmtMs(r.p95Ms),
      fmtMs(r.p99Ms),
      fmtNum(r.reqPerS, 1),
    ]),
  }];
  if (contenders.includes("legacy") && contenders.includes("optimized")) {
    tables.push({
      caption: "Legacy ÷ optimized at each level",
      columns: ["Concurrency", "Queries", "p95 latency", "req/s (optimized ÷ legacy)"],
      rows: levels.flatMap((level) => {
        const legacy = row("legacy", level);
        const optimized = row("optimized", level);
        if (!legacy || !optimized) return [];
        return [[
          String(level),
          fmtRatio(optimized.queries > 0 ? legacy.queries / optimized.queries : null),
          fmtRatio(optimized.p95Ms > 0 ? legacy.p95Ms / optimized.p95Ms : null),
          fmtRatio(legacy.reqPerS > 0 ? optimized.reqPerS / legacy.reqPerS : null),
        ]];
      }),
    });
  }
  const labels = levels.map(String);
  return {
    ...base,
    status: "ok",
    notes: [],
    ranAt: bench.startedAt,
    machine: describeMachine(bench.machine as Machine | undefined),
    tables,
    charts: [
      {
        id: "search-p95",
        title: "p95 latency by concurrency",
        kind: "line",
        xTitle: "concurrent requests",
        yTitle: "ms",
        labels,
        datasets: series((r) => r.p95Ms),
      },
      {
        id: "search-queries",
        title: "Database queries per level",
        kind: "bar",
        xTitle: "concurrent requests",
        yTitle: "queries",
        labels,
        datasets: series((r) => r.queries),
      },
      {
        id: "search-rps",
        title: "Throughput by concurrency",
        kind: "line",
        xTitle: "concurrent requests",
        yTitle: "requests/s",
        labels,
        datasets: series((r) => r.reqPerS),
      },
    ],
  };
}

function kmsReuse(bench: KmsBench, contender: string): number | null {
  const rows = bench.results.filter((r) => r.contender === contender);
  const calls = rows.reduce((sum, r) => sum + r.kmsCalls, 0);
  const connections = rows.reduce((sum, r) => sum + r.newConnections, 0);
  return calls > 0 ? Math.max(0, calls - connections) / calls : null;
}

function kmsSection(input: Input<KmsBench>): Section {
  const base = {
    id: "kms-bench",
    title: "Payment KMS: naive vs pooled client (benchmark)",
    source: input.path,
    command: "deno task bench:kms",
  };
  if (input.status !== "ok") return notRun(base, input);
  const bench = input.data;
  const labels = bench.results.map((r) => `${r.contender} ${r.operation}`);
  return {
    ...base,
    status: "ok",
    notes: [],
    ranAt: bench.startedAt,
    machine: describeMachine(bench.machine as Machine | undefined),
    tables: [{
      caption: "Per contender and operation (connections counted by the KMS endpoint)",
      columns: [
        "Contender",
        "Operation",
        "Operations",
        "p50 ms",
        "p95 ms",
        "KMS calls",
        "New connections / 100 ops",
      ],
      rows: bench.results.map((r) => [
        r.contender,
        r.operation,
        fmtNum(r.operations),
        fmtMs(r.p50Ms),
        fmtMs(r.p95Ms),
        fmtNum(r.kmsCalls),
        fmtNum((r.newConnections / r.operations) * 100, 1),
      ]),
    }],
    charts: [
      {
        id: "kms-latency",
        title: "Latency per operation",
        kind: "bar",
        xTitle: "contender, operation",
        yTitle: "ms",
        labels,
        datasets: [
          { label: "p50", data: bench.results.map((r) => r.p50Ms) },
          { label: "p95", data: bench.results.map((r) => r.p95Ms) },
        ],
      },
      {
        id: "kms-connections",
        title: "New KMS connections per 100 operations",
        kind: "bar",
        xTitle: "contender, operation",
        yTitle: "connections",
        labels,
        datasets: [{
          label: "new connections / 100 ops",
          data: bench.results.map((r) => (r.newConnections / r.operations) * 100),
        }],
      },
    ],
  };
}

function countOf(summary: LoadSummary, metric: string): number {
  return metricValue(summary, metric, "count") ?? 0;
}

function sweepLevels(summary: LoadSummary): { level: number; durationS: number }[] {
  return summary.meta.phases
    .filter((p) => p.tags.concurrency !== undefined)
    .map((p) => ({ level: Number(p.tags.concurrency), durationS: p.durationS }))
    .sort((a, b) => a.level - b.level);
}

function loadSection(loads: Input<LoadSummary>[]): Section {
  const valid = loads.filter((l): l is Extract<Input<LoadSummary>, { status: "ok" }> =>
    l.status === "ok"
  );
  const invalid = loads.filter((l) => l.status === "invalid");
  const base = {
    id: "load-tests",
    title: "Load tests (k6 or the built-in driver)",
    source: "reports/load/*.json",
    command: "deno task load --scenario <workload>  (or k6 run tests/load/<workload>.js)",
  };
  const notes = invalid.map((l) => `invalid: ${l.path}: ${l.status === "invalid" ? l.error : ""}`);
  if (valid.length === 0) {
    return {
      ...base,
      status: invalid.length > 0 ? "invalid" : "not_run",
      notes: invalid.length > 0 ? notes : [
        "not run: no load summary under reports/load/ — run `deno task load --scenario baseline`",
      ],
      tables: [],
      charts: [],
    };
  }
  const summaries = valid.map((l) => l.data);
  const tables: Table[] = [
    {
      caption: "Runs",
      columns: ["Workload", "Driver", "Started", "Duration s", "Target", "Machine"],
      rows: summaries.map((s) => [
        s.meta.workload,
        s.meta.driver,
        s.meta.startedAt,
        fmtNum(s.state.testRunDurationMs / 1000, 1),
        s.meta.baseUrl,
        s.meta.machine ? describeMachine(s.meta.machine) : "not recorded (k6)",
      ]),
    },
    {
      caption: "Results (client-side latency)",
      columns: [
        "Workload",
        "Requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "Failed",
        "5xx/no answer",
        "Legacy",
        "Optimized",
      ],
      rows: summaries.map((s) => [
        s.meta.workload,
        fmtNum(countOf(s, loadMetrics.requests)),
        fmtNum(metricValue(s, loadMetrics.requests, "rate"), 1),
        fmtMs(metricValue(s, loadMetrics.duration, "med")),
        fmtMs(metricValue(s, loadMetrics.duration, "p(95)")),
        fmtMs(metricValue(s, loadMetrics.duration, "p(99)")),
        fmtPct(metricValue(s, loadMetrics.failed, "rate")),
        fmtPct(metricValue(s, loadMetrics.serverErrors, "rate")),
        fmtNum(countOf(s, loadMetrics.legacy)),
        fmtNum(countOf(s, loadMetrics.optimized)),
      ]),
    },
    {
      caption: "Cache by tier (responses carrying x-cache)",
      columns: ["Workload", "Repeated searches", "L1", "L2", "Miss", "Hit ratio"],
      rows: summaries.map((s) => [
        s.meta.workload,
        fmtPct(s.meta.duplication),
        fmtNum(countOf(s, loadMetrics.cacheL1)),
        fmtNum(countOf(s, loadMetrics.cacheL2)),
        fmtNum(countOf(s, loadMetrics.cacheMiss)),
        fmtPct(slaFigures(s).cache_hit_ratio),
      ]),
    },
    {
      caption: "Thresholds (from config/sla.json)",
      columns: ["Workload", "Metric", "Threshold", "Result"],
      rows: summaries.flatMap((s) =>
        thresholdResults(s).map((
          t,
        ) => [s.meta.workload, t.metric, t.expression, t.ok ? "✓ held" : "✗ crossed"])
      ),
    },
  ];
  const charts: ChartSpec[] = [
    {
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
    },
  ];
  const withCache = summaries.filter((s) =>
    countOf(s, loadMetrics.cacheL1) + countOf(s, loadMetrics.cacheL2) +
        countOf(s, loadMetrics.cacheMiss) > 0
  );
  if (withCache.length > 0) {
    const share = (s: LoadSummary, metric: string) => {
      const total = countOf(s, loadMetrics.cacheL1) + countOf(s, loadMetrics.cacheL2) +
        countOf(s, loadMetrics.cacheMiss);
      return total > 0 ? (countOf(s, metric) / total) * 100 : null;
    };
    charts.push({
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
    });
  }
  for (const s of summaries) {
    const levels = sweepLevels(s);
    if (levels.length === 0) continue;
    const sub = (metric: string, level: number, key: string) =>
      metricValue(s, `${metric}{concurrency:${level}}`, key);
    const paths = [
      { label: "legacy", metric: loadMetrics.legacyDuration },
      { label: "optimized", metric: loadMetrics.optimizedDuration },
      { label: "all", metric: loadMetrics.duration },
    ];
    tables.push({
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
    });
    const labels = levels.map((l) => String(l.level));
    charts.push({
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
    });
  }
  return { ...base, status: "ok", notes, tables, charts };
}

function compliance(sla: Sla, inputs: ReportInputs): Table {
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
  const gateOf = (s: LoadSummary, metric: string) => {
    const results = thresholdResults(s).filter((t) => t.metric === metric);
    if (results.length === 0) return "not gated";
    return results.every((t) => t.ok) ? "✓ held" : "✗ crossed";
  };
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
    for (const contender of uniqueSorted(bench.results.map((r) => r.contender))) {
      row("kms_reuse_ratio", `bench:kms: ${contender}`, kmsReuse(bench, contender), "–");
    }
  }
  for (const metric of ["db_query_rate_per_s", "memory_growth_mb_per_30m"] as const) {
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

/** The latest deploy: how it ended, its phases, and each analysis check, optimized vs legacy. */
function rolloutSection(input: Input<Deployment>): Section {
  const base = {
    id: "rollout",
    title: "Rollout: optimized vs legacy path under the canary analysis",
    source: input.path,
    command: "npm start (or scripts/deploy-performance-optimizations.sh)",
  };
  if (input.status !== "ok") return notRun(base, input);
  const d = input.data;
  const pair = (
    metrics: Deployment["checks"][number]["check"]["metrics"],
    metric: string,
    format: (v: number | null) => string,
  ) => {
    const m = metrics.find((x) => x.metric === metric);
    return `${format(m?.optimized ?? null)} / ${format(m?.legacy ?? null)}`;
  };
  const value = (
    metrics: Deployment["checks"][number]["check"]["metrics"],
    metric: string,
    path: "optimized" | "legacy",
  ) => metrics.find((x) => x.metric === metric)?.[path] ?? null;
  const labels = d.checks.map((c) => `${c.step}% #${c.check.index}`);
  return {
    ...base,
    status: "ok",
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
    tables: [
      {
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
      },
      {
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
          check.notes.join("; "),
        ]),
      },
    ],
    charts: d.checks.length === 0 ? [] : [
      {
        id: "rollout-p95",
        title: "p95 latency per check",
        kind: "line",
        xTitle: "step, check",
        yTitle: "ms",
        labels,
        datasets: (["optimized", "legacy"] as const).map((path) => ({
          label: path,
          data: d.checks.map((c) => value(c.check.metrics, "latency_p95_ms", path)),
        })),
      },
      {
        id: "rollout-errors",
        title: "Error rate per check (optimized: 5xx and fallbacks)",
        kind: "line",
        xTitle: "step, check",
        yTitle: "share of requests",
        labels,
        datasets: (["optimized", "legacy"] as const).map((path) => ({
          label: path,
          data: d.checks.map((c) => value(c.check.metrics, "error_rate", path)),
        })),
      },
    ],
  };
}

/** Builds the report model. */
export function buildReport(
  inputs: ReportInputs,
  sla: Sla,
  context: { generatedAt: Date; machine: Machine },
): ReportModel {
  return {
    title: "Parker Flight performance readiness report",
    generatedAt: context.generatedAt.toISOString(),
    machine: describeMachine(context.machine),
    compliance: compliance(sla, inputs),
    sections: [
      ...(inputs.rollout ? [rolloutSection(inputs.rollout)] : []),
      searchSection(inputs.search),
      loadSection(inputs.loads),
      kmsSection(inputs.kms),
    ],
  };
}
