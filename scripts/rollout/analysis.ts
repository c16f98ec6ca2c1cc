/**
 * Canary analysis: judge one interval's metrics of the optimized path against the rollback levels
 * of config/sla.json, with the legacy path alongside for comparison, and decide when to roll back
 * (after `threshold` consecutive failed checks, as Flagger's analysis does).
 *
 * The metric math (percentiles from histograms, ratios) lives in SQL (`monitoring.path_summary`);
 * this module only compares its results with the SLA.
 *
 * @module
 */
import { evaluate, type Sla } from "../sla/sla.ts";

/** One path's metrics over a window, as `monitoring.path_summary` returns them. */
export interface PathSummary {
  path: "legacy" | "optimized";
  requests: number;
  /** Share of requests answered 5xx; null without requests. */
  errorRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  queriesPerRequest: number | null;
  dbQueryRatePerS: number | null;
  cacheHitRatio: number | null;
  kmsReuseRatio: number | null;
  /** Requests the optimized path failed and the legacy path then served. */
  fallbacks: number;
  /** Share of requests the path failed, 5xx or fallback (SQL: 5xx + fallbacks over requests). */
  failureRate: number | null;
}

/** A judged metric. */
export interface MetricVerdict {
  /** The config/sla.json metric. */
  metric: string;
  optimized: number | null;
  legacy: number | null;
  verdict: "pass" | "warn" | "rollback" | "no_data";
}

/** The outcome of one analysis check. */
export interface Check {
  /** 1-based number of the check within its step. */
  index: number;
  /** ISO time of the window's start and end. */
  since: string;
  until: string;
  /** `skipped`: too few optimized requests to judge; counts neither way. */
  outcome: "pass" | "fail" | "skipped";
  optimizedRequests: number;
  legacyRequests: number;
  metrics: MetricVerdict[];
  /** Why it failed or was skipped, one line per reason; warnings too. */
  notes: string[];
}

/** `a / b`, or null when either is missing or `b` is 0. */
function quotient(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/**
 * The value judged for each SLA metric, of path `s` with the window's legacy path beside it.
 *
 * `error_rate` is judged on the failure rate, which counts fallbacks as failures of the optimized
 * path: the person got an answer (the legacy path served it), but the optimized path failed that
 * request, which is what the canary is judged on.
 *
 * `db_queries_per_request_vs_legacy` is the optimized path's queries per request divided by the
 * legacy path's in the same window: the absolute `db_query_rate_per_s` grows with traffic and with
 * the step's share, so only the relative figure says whether the optimized path lightened the
 * database's load. It describes the optimized path alone (null on the legacy side).
 */
const metricValues: Record<string, (s: PathSummary, legacy: PathSummary) => number | null> = {
  error_rate: (s) => s.failureRate,
  latency_p95_ms: (s) => s.p95Ms,
  cache_hit_ratio: (s) => s.cacheHitRatio,
  db_query_rate_per_s: (s) => s.dbQueryRatePerS,
  db_queries_per_request_vs_legacy: (s, legacy) =>
    s === legacy ? null : quotient(s.queriesPerRequest, legacy.queriesPerRequest),
  kms_reuse_ratio: (s) => s.kmsReuseRatio,
};

/** The SLA metrics the analysis judges, in report order. */
export const judgedMetrics: readonly string[] = Object.keys(metricValues);

const emptySummary = (path: PathSummary["path"]): PathSummary => ({
  path,
  requests: 0,
  errorRate: null,
  p50Ms: null,
  p95Ms: null,
  p99Ms: null,
  queriesPerRequest: null,
  dbQueryRatePerS: null,
  cacheHitRatio: null,
  kmsReuseRatio: null,
  fallbacks: 0,
  failureRate: null,
});

function format(metric: string, value: number): string {
  return metric.endsWith("_ms") || metric.endsWith("_per_s")
    ? value.toFixed(1)
    : metric.endsWith("_vs_legacy")
    ? value.toFixed(2)
    : value.toFixed(3);
}

/**
 * Judges one window. The optimized path fails the check when any metric crosses its rollback
 * level; warning levels are noted; with fewer than `sla.analysis.min_requests` optimized requests
 * the check is skipped.
 */
export function judge(
  sla: Sla,
  summaries: readonly PathSummary[],
  window: { index: number; since: Date; until: Date },
): Check {
  const optimized = summaries.find((s) => s.path === "optimized") ?? emptySummary("optimized");
  const legacy = summaries.find((s) => s.path === "legacy") ?? emptySummary("legacy");
  const base = {
    index: window.index,
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    optimizedRequests: optimized.requests,
    legacyRequests: legacy.requests,
  };
  const metrics: MetricVerdict[] = judgedMetrics.filter((metric) => sla.metrics[metric]).map(
    (metric) => {
      const read = metricValues[metric]!;
      const value = read(optimized, legacy);
      return {
        metric,
        optimized: value,
        legacy: read(legacy, legacy),
        verdict: evaluate(sla, metric, value),
      };
    },
  );
  const minRequests = sla.analysis.min_requests;
  if (optimized.requests < minRequests) {
    return {
      ...base,
      outcome: "skipped",
      metrics,
      notes: [
        `${optimized.requests} optimized requests, fewer than min_requests ${minRequests}: not judged`,
      ],
    };
  }
  const notes: string[] = [];
  for (const m of metrics) {
    if (m.verdict !== "rollback" && m.verdict !== "warn") continue;
    const spec = sla.metrics[m.metric]!;
    // evaluate() warns at the warning level, or at the critical level when there is none.
    const [name, level] = m.verdict === "rollback"
      ? ["rollback", spec.rollback]
      : (spec.warning ?? null) !== null
      ? ["warning", spec.warning]
      : ["critical", spec.critical];
    const sign = spec.better === "lower" ? ">" : "<";
    const beside = m.metric === "db_queries_per_request_vs_legacy"
      ? ` (queries per request ${optimized.queriesPerRequest?.toFixed(2)} vs legacy ${
        legacy.queriesPerRequest?.toFixed(2)
      })`
      : m.legacy === null
      ? ""
      : ` (legacy ${format(m.metric, m.legacy)})`;
    notes.push(
      `${m.metric} ${format(m.metric, m.optimized!)} ${sign} ${name} level ${level}${beside}`,
    );
  }
  const failed = metrics.some((m) => m.verdict === "rollback");
  return { ...base, outcome: failed ? "fail" : "pass", metrics, notes };
}

/** What to do after a check. */
export interface Decision {
  action: "continue" | "rollback";
  consecutiveFailures: number;
}

/**
 * Counts consecutive failed checks: a pass resets the count, a skipped check leaves it, and
 * reaching `threshold` means roll back.
 */
export class CanaryAnalysis {
  #consecutive = 0;
  #judged = 0;

  /** @param threshold Consecutive failed checks that trigger a rollback (>= 1). */
  constructor(readonly threshold: number) {
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw new RangeError(`threshold must be an integer >= 1, received ${threshold}`);
    }
  }

  /** How many checks were judged (not skipped) so far. */
  get judged(): number {
    return this.#judged;
  }

  /** Records `check` and says whether to roll back. */
  record(check: Check): Decision {
    if (check.outcome === "pass") {
      this.#judged++;
      this.#consecutive = 0;
    } else if (check.outcome === "fail") {
      this.#judged++;
      this.#consecutive++;
    }
    return {
      action: this.#consecutive >= this.threshold ? "rollback" : "continue",
      consecutiveFailures: this.#consecutive,
    };
  }
}
