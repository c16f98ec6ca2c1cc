/**
 * The service levels of config/sla.json: one validated source for the k6 thresholds, the rollout
 * CLI's canary analysis, the alert rules and the readiness report.
 *
 * Boundary rule, the same everywhere: a value *crosses* a level only when it is strictly worse
 * than it. For `better: "lower"` that is `value > level`, for `better: "higher"` `value < level`;
 * a value equal to a level passes it. k6 thresholds are therefore written `p(95)<=level` and
 * `rate>=level`, and Prometheus alerts `expr > level` / `expr < level`.
 *
 * @module
 */
import { z } from "zod";
import { parseDuration } from "../load/workloads/duration.js";

export { parseDuration };

/** The metrics config/sla.json defines, in report order. */
export const metricNames = [
  "error_rate",
  "latency_p95_ms",
  "cache_hit_ratio",
  "db_query_rate_per_s",
  "db_queries_per_request_vs_legacy",
  "kms_reuse_ratio",
  "memory_growth_mb_per_30m",
] as const;

/** A metric of config/sla.json. */
export type MetricName = typeof metricNames[number];

/** True when `name` is one of {@link metricNames}. */
export function isMetricName(name: string): name is MetricName {
  return (metricNames as readonly string[]).includes(name);
}

/** The outcome of judging one value: {@link evaluate}. */
export type Verdict = "pass" | "warn" | "rollback" | "no_data";

/** The levels an alert or gate can be set at, least to most severe. */
export const alertLevels = ["warning", "critical", "rollback"] as const;

/** A level an alert or gate can be set at. */
export type AlertLevelName = typeof alertLevels[number];

const level = z.number().nonnegative().nullable();

const metricSchema = z.strictObject({
  description: z.string().min(1),
  unit: z.string().min(1),
  better: z.enum(["lower", "higher"]),
  target: level,
  warning: level,
  critical: level,
  rollback: level,
}).superRefine((spec, ctx) => {
  const levels = ["target", ...alertLevels] as const;
  if (spec.unit === "ratio") {
    for (const name of levels) {
      const value = spec[name];
      if (value !== null && value > 1) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `a ratio is 0..1, received ${value}`,
        });
      }
    }
  }
  // Each level must be no less severe than the one before it (target, warning, critical,
  // rollback); otherwise a value could be "rollback" without ever having been "warn".
  let previous: { name: string; value: number } | undefined;
  for (const name of levels) {
    const value = spec[name];
    if (value === null) continue;
    if (previous) {
      const inOrder = spec.better === "lower" ? value >= previous.value : value <= previous.value;
      if (!inOrder) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `with better "${spec.better}", ${name} (${value}) must be ${
            spec.better === "lower" ? "≥" : "≤"
          } ${previous.name} (${previous.value})`,
        });
      }
    }
    previous = { name, value };
  }
});

/**
 * A positive duration in config (`30s`, `10m`), refused with a message giving `examples`.
 *
 * @example
 * ```ts
 * durationSchema("30s or 10m").parse("5m"); // "5m"
 * ```
 */
export function durationSchema(examples: string) {
  return z.string().refine((text) => {
    try {
      return parseDuration(text) > 0;
    } catch {
      return false;
    }
  }, `expected a positive duration like ${examples}`);
}

const duration = durationSchema("30s or 1m");

/** zod schema of config/sla.json. */
export const slaSchema = z.strictObject({
  description: z.string().optional(),
  metrics: z.strictObject(
    Object.fromEntries(metricNames.map((name) => [name, metricSchema])) as Record<
      MetricName,
      typeof metricSchema
    >,
  ),
  analysis: z.strictObject({
    description: z.string().optional(),
    interval: duration,
    threshold: z.number().int().min(1),
    min_requests: z.number().int().min(0),
  }),
});

/** One metric's levels. */
export type MetricSpec = z.output<typeof metricSchema>;

/**
 * config/sla.json, validated. `metrics` also accepts a plain string index (giving
 * `MetricSpec | undefined`) so callers iterating over names from elsewhere stay type-safe.
 */
export type Sla = Omit<z.output<typeof slaSchema>, "metrics"> & {
  metrics: Record<MetricName, MetricSpec> & { readonly [name: string]: MetricSpec | undefined };
};

/** Thrown when config/sla.json is missing, not JSON, or invalid; the message names the field. */
export class SlaConfigError extends Error {
  override name = "SlaConfigError";
}

/** The repository's config/sla.json. */
export const defaultSlaPath: URL = new URL("../../config/sla.json", import.meta.url);

/**
 * Validates an already parsed SLA document.
 *
 * @param source Where it came from, for the error message.
 * @throws {SlaConfigError} naming the first invalid field and what was expected.
 */
export function parseSla(value: unknown, source = "config/sla.json"): Sla {
  const result = slaSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join(".") : "(document)";
    throw new SlaConfigError(`${source}: ${field}: ${issue?.message ?? "invalid"}`);
  }
  return result.data as Sla;
}

/**
 * Reads and validates config/sla.json (or `path`).
 *
 * @example
 * ```ts
 * const sla = await loadSla();
 * evaluate(sla, "latency_p95_ms", 420); // "warn"
 * ```
 * @throws {SlaConfigError} when the file is missing, is not JSON, or a field is invalid.
 */
export async function loadSla(path: string | URL = defaultSlaPath): Promise<Sla> {
  const source = path instanceof URL ? path.pathname : path;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new SlaConfigError(`${source}: cannot read: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SlaConfigError(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  return parseSla(value, source);
}

function spec(sla: Sla, metric: string): MetricSpec {
  const found = sla.metrics[metric];
  if (!found) {
    throw new RangeError(
      `unknown SLA metric "${metric}", expected one of ${metricNames.join(", ")}`,
    );
  }
  return found;
}

/**
 * True when `value` is strictly worse than `limit` for a metric where `better` is lower/higher.
 * Equality does not cross. A null limit is never crossed.
 */
export function crosses(
  better: MetricSpec["better"],
  limit: number | null,
  value: number,
): boolean {
  if (limit === null) return false;
  return better === "lower" ? value > limit : value < limit;
}

/**
 * Judges one measured value.
 *
 * - `no_data` when `value` is null, undefined or NaN;
 * - `rollback` when it crosses the rollback level;
 * - `warn` when it crosses the warning level, or the critical level where a metric has no
 *   warning level (so a critical-only metric still warns);
 * - otherwise `pass`. A value equal to a level passes it.
 *
 * @example
 * ```ts
 * // latency_p95_ms: better "lower", warning 300, rollback 1000
 * evaluate(sla, "latency_p95_ms", 1000); // "warn" (equal to rollback passes it)
 * evaluate(sla, "latency_p95_ms", 1000.1); // "rollback"
 * ```
 * @throws {RangeError} for a metric name config/sla.json does not define.
 */
export function evaluate(
  sla: Sla,
  metric: MetricName | (string & Record<never, never>),
  value: number | null | undefined,
): Verdict {
  const s = spec(sla, metric);
  if (value === null || value === undefined || Number.isNaN(value)) return "no_data";
  if (crosses(s.better, s.rollback, value)) return "rollback";
  if (crosses(s.better, s.warning ?? s.critical, value)) return "warn";
  return "pass";
}

/** When an alert at some level fires: `value <op> threshold`. */
export interface AlertCondition {
  metric: MetricName;
  level: AlertLevelName;
  /** `>` for lower-is-better metrics, `<` for higher-is-better: strictly worse fires. */
  op: ">" | "<";
  threshold: number;
}

/**
 * The firing condition of an alert (or gate) on `metric` at `level`, or null when config/sla.json
 * sets no such level. Prometheus rules write it as `expr <op> threshold`.
 *
 * @example
 * ```ts
 * alertLevel(sla, "error_rate", "critical"); // { op: ">", threshold: 0.05, ... }
 * ```
 * @throws {RangeError} for a metric name config/sla.json does not define.
 */
export function alertLevel(
  sla: Sla,
  metric: MetricName | (string & Record<never, never>),
  level: AlertLevelName,
): AlertCondition | null {
  const s = spec(sla, metric);
  const threshold = s[level];
  if (threshold === null) return null;
  return {
    metric: metric as MetricName,
    level,
    op: s.better === "lower" ? ">" : "<",
    threshold,
  };
}

/**
 * The k6 threshold expression that *passes* while `aggregation` stays within `level`, e.g.
 * `p(95)<=1000` or `rate>=0.2`; null when the level is not set. scripts/load/workloads/thresholds.js
 * builds the same strings in plain JavaScript for k6; a test keeps the two in agreement.
 */
export function k6Expression(
  sla: Sla,
  metric: MetricName | (string & Record<never, never>),
  level: AlertLevelName,
  aggregation: string,
): string | null {
  const condition = alertLevel(sla, metric, level);
  if (!condition) return null;
  return `${aggregation}${condition.op === ">" ? "<=" : ">="}${condition.threshold}`;
}
