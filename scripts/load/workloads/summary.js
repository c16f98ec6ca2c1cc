// @ts-check
/**
 * The end-of-test summary both drivers write: k6's `handleSummary` data (the subset
 * scripts/load/summary.ts validates) plus a `meta` block saying what ran where and when, and a
 * short text rendering for the terminal.
 *
 * Plain ES2020, no runtime API.
 *
 * @module
 */
import { metricNames } from "./response.js";

/** Trend statistics in every summary (k6 `summaryTrendStats`). */
export const summaryTrendStats = Object.freeze([
  "avg",
  "min",
  "med",
  "max",
  "p(90)",
  "p(95)",
  "p(99)",
  "count",
]);

/**
 * One metric of a summary, as k6 writes it.
 * @typedef {object} SummaryMetric
 * @property {"counter" | "gauge" | "rate" | "trend"} type
 * @property {"default" | "time" | "data"} contains
 * @property {Record<string, number>} values
 * @property {Record<string, { ok: boolean }>} [thresholds]
 */

/**
 * The parts of a summary the text rendering reads.
 * @typedef {object} SummaryLike
 * @property {Record<string, SummaryMetric>} metrics
 * @property {{ testRunDurationMs: number }} state
 * @property {{ driver?: string, workload?: string, baseUrl?: string }} [meta]
 */

/**
 * @param {number | undefined} value
 * @param {number} digits
 * @returns {string}
 */
function fixed(value, digits) {
  return value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);
}

/**
 * A few lines for the terminal: requests, latency, errors, paths, cache, thresholds.
 * @param {SummaryLike} summary
 * @returns {string}
 */
export function summaryText(summary) {
  const m = summary.metrics;
  /** @param {string} name @param {string} key */
  const v = (name, key) => {
    const metric = m[name];
    return metric ? metric.values[key] : undefined;
  };
  const pct = (
    /** @type {number | undefined} */ x,
  ) => (x === undefined ? "-" : `${fixed(x * 100, 2)}%`);
  const meta = summary.meta || {};
  const lines = [
    `${meta.workload || "load test"} (${meta.driver || "?"}) against ${meta.baseUrl || "?"}, ` +
    `${fixed(summary.state.testRunDurationMs / 1000, 1)} s`,
    `  requests ${fixed(v(metricNames.requests, "count"), 0)} ` +
    `(${fixed(v(metricNames.requests, "rate"), 1)}/s), failed ${
      pct(v(metricNames.failed, "rate"))
    }, ` +
    `server errors ${pct(v(metricNames.serverErrors, "rate"))}`,
    `  latency ms: p50 ${fixed(v(metricNames.duration, "med"), 1)}, ` +
    `p95 ${fixed(v(metricNames.duration, "p(95)"), 1)}, p99 ${
      fixed(v(metricNames.duration, "p(99)"), 1)
    }`,
    `  paths: legacy ${fixed(v(metricNames.legacy, "count") || 0, 0)}, ` +
    `optimized ${fixed(v(metricNames.optimized, "count") || 0, 0)}; ` +
    `cache hits ${pct(v(metricNames.cacheHits, "rate"))} ` +
    `(l1 ${fixed(v(metricNames.cacheL1, "count") || 0, 0)}, ` +
    `l2 ${fixed(v(metricNames.cacheL2, "count") || 0, 0)}, ` +
    `miss ${fixed(v(metricNames.cacheMiss, "count") || 0, 0)})`,
  ];
  for (const name of Object.keys(m).sort()) {
    const thresholds = (/** @type {SummaryMetric} */ (m[name])).thresholds || {};
    for (const expression of Object.keys(thresholds)) {
      const ok = /** @type {{ ok: boolean }} */ (thresholds[expression]).ok;
      lines.push(`  ${ok ? "✓" : "✗"} ${name}: ${expression}`);
    }
  }
  return lines.join("\n") + "\n";
}
