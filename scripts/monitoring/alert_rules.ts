/**
 * Prometheus alert rules rendered from config/sla.json: one rule per SLA metric and non-null
 * `warning`/`critical` level, over the metric names the `metrics` function exposes.
 *
 * `monitoring/alert-rules.yml` is this module's output, committed; a test fails when it differs
 * from a fresh rendering, so editing sla.json without regenerating is caught.
 *
 * ```sh
 * deno run -A scripts/monitoring/alert_rules.ts          # rewrite monitoring/alert-rules.yml
 * deno run -A scripts/monitoring/alert_rules.ts --check  # exit 1 when it is stale
 * ```
 *
 * @module
 */
import { stringify } from "yaml";
import { metricNames as m } from "../../supabase/functions/metrics/exposition.ts";
import { repoRoot } from "../local/paths.ts";
import { readSlaConfig, type SlaConfig, type SlaMetric } from "./sla_config.ts";
import { runGeneratedFile } from "../_cli/generated_file.ts";

/** Where the rendered rules are committed. */
export const alertRulesPath = `${repoRoot}/monitoring/alert-rules.yml`;

/** The rule group's name. */
export const alertGroupName = "parker-flight-sla";

/** Severities a level maps to, in the order rules are written. */
export const severities = ["critical", "warning"] as const;
/** A rule's severity label. */
export type Severity = typeof severities[number];

/** How one SLA metric is measured in PromQL. */
export interface Signal {
  /** Alert name stem, e.g. `ErrorRate` → `ParkerErrorRateCritical`. */
  name: string;
  /** PromQL whose value is the metric in Prometheus units (seconds, bytes, ratio, 1/s). */
  expr: string;
  /** Multiplier from the SLA unit to the expression's unit. */
  scale: number;
  /** The labels the expression keeps; they name the alerting series in the summary. */
  by: readonly string[];
  /** How `$value` is shown in the description (a Prometheus template pipeline). */
  valueTemplate: string;
  /** What is measured, in words. */
  what: string;
}

// Rates over 5 minutes: several flushes and scrapes per window, so one late flush does not swing
// a ratio across a threshold.
const window = "5m";
const perPath = ["function", "path"] as const;
const perFunction = ["function"] as const;
const sumBy = (labels: readonly string[], inner: string) =>
  `sum by (${labels.join(", ")}) (${inner})`;
/** `counter` per request of one path, per function. */
const perRequest = (counter: string, path: string) =>
  `${sumBy(perFunction, `rate(${counter}{path="${path}"}[${window}])`)}\n    / ${
    sumBy(perFunction, `rate(${m.requests}{path="${path}"}[${window}])`)
  }`;

/** The PromQL signal of each SLA metric key in config/sla.json. */
export const signals: Record<string, Signal> = {
  error_rate: {
    name: "ErrorRate",
    expr: `${sumBy(perPath, `rate(${m.errors}{class="server"}[${window}])`)}\n  / ${
      sumBy(perPath, `rate(${m.requests}[${window}])`)
    }`,
    scale: 1,
    by: perPath,
    valueTemplate: "{{ $value | humanizePercentage }}",
    what: "5xx error rate",
  },
  latency_p95_ms: {
    name: "LatencyP95",
    expr: `histogram_quantile(0.95, ${
      sumBy([...perPath, "le"], `rate(${m.requestDuration}_bucket[${window}])`)
    })`,
    scale: 1 / 1000,
    by: perPath,
    valueTemplate: "{{ $value | humanizeDuration }}",
    what: "p95 latency",
  },
  cache_hit_ratio: {
    name: "CacheHitRatio",
    expr: `${sumBy(perPath, `rate(${m.cacheHits}[${window}])`)}\n  / ${
      sumBy(perPath, `rate(${m.cacheLookups}[${window}])`)
    }`,
    scale: 1,
    by: perPath,
    valueTemplate: "{{ $value | humanizePercentage }}",
    what: "cache hit ratio (L1 + L2)",
  },
  db_query_rate_per_s: {
    name: "DbQueryRate",
    expr: sumBy(perFunction, `rate(${m.dbQueries}[${window}])`),
    scale: 1,
    by: perFunction,
    valueTemplate: '{{ $value | printf "%.1f" }}/s',
    what: "database query rate",
  },
  db_queries_per_request_vs_legacy: {
    name: "DbLoadVsLegacy",
    expr: `(\n    ${perRequest(m.dbQueries, "optimized")}\n  )\n  / (\n    ${
      perRequest(m.dbQueries, "legacy")
    }\n  )`,
    scale: 1,
    by: perFunction,
    valueTemplate: '{{ $value | printf "%.2f" }}×',
    what: "database queries per request, optimized ÷ legacy",
  },
  kms_reuse_ratio: {
    name: "KmsReuseRatio",
    expr: `1 - ${sumBy(perFunction, `rate(${m.kmsNewConnections}[${window}])`)}\n  / ${
      sumBy(perFunction, `rate(${m.kmsRequests}[${window}])`)
    }`,
    scale: 1,
    by: perFunction,
    valueTemplate: "{{ $value | humanizePercentage }}",
    what: "KMS connection reuse ratio",
  },
  memory_growth_mb_per_30m: {
    name: "MemoryGrowth",
    // Per isolate, then the worst isolate of each function: growth is a leak in one isolate.
    expr: `max by (function) (delta(${m.isolateMemory}[30m]))`,
    scale: 1024 * 1024,
    by: perFunction,
    valueTemplate: "{{ $value | humanize1024 }}B",
    what: "isolate memory growth over 30 minutes",
  },
};

/** One rule of the rules file. */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  /** `sla_metric` names the config/sla.json metric; the breaker rule has none (not an SLA). */
  labels: { severity: Severity; sla_metric?: string };
  annotations: { summary: string; description: string };
}

/** The rules file. */
export interface RulesFile {
  groups: { name: string; rules: AlertRule[] }[];
}

/** A level in the SLA's own unit, as a person reads it ("5%", "500 ms"). */
export function formatLevel(value: number, unit: SlaMetric["unit"]): string {
  switch (unit) {
    case "ratio":
      return `${Number((value * 100).toFixed(6))}%`;
    case "ms":
      return `${value} ms`;
    case "1/s":
      return `${value}/s`;
    case "MB":
      return `${value} MB`;
    case "x":
      return `${value}×`;
  }
}

/** The threshold a rule compares with, in the expression's unit. */
export function ruleThreshold(signal: Signal, level: number): number {
  return Number((level * signal.scale).toPrecision(12));
}

/**
 * The rules for `sla`: for each metric, a critical and/or a warning rule where the level is set.
 *
 * @throws {Error} when a metric has an alerting level but no {@link signals} entry.
 */
export function alertRules(sla: SlaConfig): RulesFile {
  const rules: AlertRule[] = [];
  for (const [key, metric] of Object.entries(sla.metrics)) {
    const levels = severities.filter((s) => metric[s] !== null);
    if (levels.length === 0) continue;
    const signal = signals[key];
    if (!signal) {
      throw new Error(
        `config/sla.json metrics.${key} has a ${levels.join("/")} level but ` +
          `scripts/monitoring/alert_rules.ts has no PromQL signal for it`,
      );
    }
    const op = metric.better === "lower" ? ">" : "<";
    const where = signal.by.map((l) => `{{ $labels.${l} }}`).join("/");
    for (const severity of levels) {
      const level = metric[severity] as number;
      const shown = formatLevel(level, metric.unit);
      const side = metric.better === "lower" ? "above" : "below";
      rules.push({
        alert: `Parker${signal.name}${severity === "critical" ? "Critical" : "Warning"}`,
        expr: `(\n  ${signal.expr}\n) ${op} ${ruleThreshold(signal, level)}\n`,
        for: window,
        labels: { severity, sla_metric: key },
        annotations: {
          summary: `${where}: ${signal.what} ${side} ${shown}`,
          description: `${metric.description} Now ${signal.valueTemplate}; the ${severity} ` +
            `level is ${shown} (config/sla.json metrics.${key}.${severity}).`,
        },
      });
    }
  }
  rules.push(breakerRule);
  return { groups: [{ name: alertGroupName, rules }] };
}

/**
 * Not an SLA level but a state: a function's breaker for a dependency has been open in some
 * isolate in every minute for two minutes — the dependency fails or hangs, and the function answers 503 at
 * once instead of waiting for it (README, "Budgets, breakers and error codes").
 */
export const breakerRule: AlertRule = {
  alert: "ParkerCircuitBreakerOpen",
  // A breaker half-opens between refusals: over a minute, "open at some point" is the signal.
  expr: `max by (function, dependency) (max_over_time(${m.breakerOpenIsolates}[1m])) > 0\n`,
  for: "2m",
  labels: { severity: "critical" },
  annotations: {
    summary: "{{ $labels.function }}: circuit breaker for {{ $labels.dependency }} open",
    description: "{{ $value }} live isolate(s) of {{ $labels.function }} refuse calls to " +
      "{{ $labels.dependency }} with 503 while its breaker is open (monitoring.circuit_breakers).",
  },
};

/** The YAML text of {@link alertRules}, with a header saying where it comes from. */
export function renderAlertRules(sla: SlaConfig): string {
  const header = [
    "# Generated from config/sla.json by scripts/monitoring/alert_rules.ts: do not edit.",
    "# Regenerate: deno run -A scripts/monitoring/alert_rules.ts",
    "# Check:      promtool check rules monitoring/alert-rules.yml",
  ].join("\n");
  return `${header}\n${stringify(alertRules(sla), { lineWidth: 0 })}`;
}

if (import.meta.main) {
  const render = () => readSlaConfig().then(renderAlertRules);
  const regenerate = "deno run -A scripts/monitoring/alert_rules.ts";
  await runGeneratedFile({ path: alertRulesPath, render, regenerate });
}
