// @ts-check
/**
 * k6 thresholds built from config/sla.json for a workload's gates. The built-in driver evaluates
 * the very same expressions against its own figures, so both drivers pass or fail alike.
 *
 * Boundary rule (config/SLA.md): a value equal to a level passes it, so lower-is-better levels
 * become `<=` and higher-is-better levels `>=`.
 *
 * Plain ES2020, no runtime API.
 *
 * @module
 */
import { metricNames } from "./response.js";

/**
 * The subset of config/sla.json these thresholds read.
 * @typedef {{ metrics: Record<string, { better: "lower" | "higher", warning: number | null, critical: number | null, rollback: number | null } | undefined> }} SlaLevels
 */

/**
 * The level the gates are set at.
 * @typedef {"warning" | "critical" | "rollback"} GateLevel
 */

/**
 * The threshold expression that passes while `aggregation` stays within the metric's level, or
 * null when config/sla.json sets no such level.
 * @param {SlaLevels} sla
 * @param {string} metric
 * @param {GateLevel} level
 * @param {string} aggregation e.g. `p(95)` or `rate`
 * @returns {string | null}
 */
export function thresholdExpression(sla, metric, level, aggregation) {
  const spec = sla.metrics[metric];
  if (!spec) throw new RangeError(`config/sla.json has no metric "${metric}"`);
  const value = spec[level];
  if (value === null || value === undefined) return null;
  return `${aggregation}${spec.better === "lower" ? "<=" : ">="}${value}`;
}

/**
 * The threshold on a counter that fails when it counted nothing. k6 judges a threshold on a
 * metric without samples on its empty value (a p95 of 0, a rate of 0), which passes `<=`
 * levels: a run that sent nothing, or a level or path that served nothing, would pass its gates.
 */
export const someSamples = "count>0";

/**
 * k6 `options.thresholds` for a workload: each gate on the k6 metric that measures it, and for
 * phases tagged with a concurrency level, the latency gate per level and per path as well (a
 * threshold on a sub-metric is also what makes k6 report that sub-metric in its summary).
 * Beside each, a {@link someSamples} threshold on the counter of the same requests: no request
 * sent, or none at a level or on a path, fails the run instead of passing on nothing.
 *
 * @param {SlaLevels} sla
 * @param {{ gates: readonly string[], phases: ReadonlyArray<{ tags: Record<string, string> }> }} workload
 * @param {GateLevel} [level] default `rollback`
 * @returns {Record<string, string[]>}
 */
export function k6Thresholds(sla, workload, level = "rollback") {
  /** @type {Record<string, string[]>} */
  const thresholds = {};
  /**
   * @param {string} metric
   * @param {string} slaMetric
   * @param {string} aggregation
   */
  const add = (metric, slaMetric, aggregation) => {
    const expression = thresholdExpression(sla, slaMetric, level, aggregation);
    if (expression === null) return;
    (thresholds[metric] = thresholds[metric] || []).push(expression);
  };
  const levels = workload.phases
    .map((phase) => phase.tags.concurrency)
    .filter((value) => value !== undefined);
  thresholds[metricNames.requests] = [someSamples];
  for (const gate of workload.gates) {
    if (gate === "error_rate") add(metricNames.serverErrors, gate, "rate");
    if (gate === "cache_hit_ratio") add(metricNames.cacheHits, gate, "rate");
    if (gate === "latency_p95_ms") {
      add(metricNames.duration, gate, "p(95)");
      for (const concurrency of levels) {
        for (
          const metric of [
            metricNames.duration,
            metricNames.legacyDuration,
            metricNames.optimizedDuration,
          ]
        ) {
          add(`${metric}{concurrency:${concurrency}}`, gate, "p(95)");
        }
        for (const counter of [metricNames.requests, metricNames.legacy, metricNames.optimized]) {
          thresholds[`${counter}{concurrency:${concurrency}}`] = [someSamples];
        }
      }
    }
  }
  return thresholds;
}
