/**
 * The load summary both drivers write: the subset of k6's `handleSummary` data our scripts
 * produce (./workloads/k6_workload.js) and the built-in driver reproduces, plus `meta`. One
 * zod schema validates both, and the readiness report and the rollout CLI read figures through
 * the helpers here.
 *
 * @module
 */
import { z } from "zod";
import { metricNames } from "./workloads/response.js";
import { type Machine, machineSchema } from "./machine.ts";

const requiredValues: Record<string, readonly string[]> = {
  counter: ["count", "rate"],
  rate: ["rate", "passes", "fails"],
  trend: ["avg", "min", "med", "max", "p(90)", "p(95)"],
  gauge: ["value", "min", "max"],
};

const metricSchema = z.object({
  type: z.enum(["counter", "gauge", "rate", "trend"]),
  contains: z.enum(["default", "time", "data"]),
  values: z.record(z.string(), z.number()),
  thresholds: z.record(z.string(), z.object({ ok: z.boolean() })).optional(),
}).superRefine((metric, ctx) => {
  for (const key of requiredValues[metric.type] ?? []) {
    if (!(key in metric.values)) {
      ctx.addIssue({
        code: "custom",
        path: ["values", key],
        message: `a ${metric.type} metric needs "${key}"`,
      });
    }
  }
});

/** One metric of a summary, as k6 writes it. */
export type SummaryMetric = z.output<typeof metricSchema>;

/** The machine a run happened on. */
export type { Machine };

const phaseSchema = z.looseObject({
  name: z.string(),
  index: z.number().int().nonnegative(),
  executor: z.enum(["constant-vus", "ramping-vus", "constant-arrival-rate"]),
  startS: z.number().nonnegative(),
  durationS: z.number().positive(),
  vus: z.number().int().nonnegative(),
  tags: z.record(z.string(), z.string()),
});

const metaSchema = z.object({
  driver: z.enum(["k6", "autocannon"]),
  workload: z.string().min(1),
  description: z.string(),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  baseUrl: z.url(),
  seed: z.number().int(),
  duplication: z.number().min(0).max(1),
  gateLevel: z.enum(["warning", "critical", "rollback"]),
  routes: z.number().int().nonnegative().nullable(),
  phases: z.array(phaseSchema).min(1),
  /** The driver's machine; k6 has no API to read it, so k6 summaries lack it. */
  machine: machineSchema.optional(),
});

/** zod schema of a load summary file (reports/load/<workload>.json). */
export const loadSummarySchema = z.looseObject({
  meta: metaSchema,
  state: z.looseObject({ testRunDurationMs: z.number().nonnegative() }),
  metrics: z.record(z.string(), metricSchema).superRefine((metrics, ctx) => {
    for (const name of [metricNames.requests, metricNames.duration, metricNames.failed]) {
      if (!(name in metrics)) {
        ctx.addIssue({ code: "custom", path: [name], message: `the summary lacks ${name}` });
      }
    }
  }),
  root_group: z.looseObject({
    checks: z.array(z.looseObject({
      name: z.string(),
      passes: z.number().int().nonnegative(),
      fails: z.number().int().nonnegative(),
    })),
  }).optional(),
});

/** A load summary, validated. */
export type LoadSummary = z.output<typeof loadSummarySchema>;

/** Thrown for a summary that does not match {@link loadSummarySchema}; names the field. */
export class LoadSummaryError extends Error {
  override name = "LoadSummaryError";
}

/**
 * Validates a parsed summary.
 *
 * @param source Where it came from, for the message.
 * @throws {LoadSummaryError} naming the first invalid field.
 */
export function parseLoadSummary(value: unknown, source = "load summary"): LoadSummary {
  const result = loadSummarySchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join(".") : "(document)";
    throw new LoadSummaryError(`${source}: ${field}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}

/** Reads and validates a summary file. @throws {LoadSummaryError} */
export async function readLoadSummary(path: string): Promise<LoadSummary> {
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new LoadSummaryError(`${path}: ${(error as Error).message}`);
  }
  return parseLoadSummary(value, path);
}

/** One value of one metric, or null when the summary does not have it. */
export function metricValue(summary: LoadSummary, metric: string, key: string): number | null {
  return summary.metrics[metric]?.values[key] ?? null;
}

/** One threshold's outcome. */
export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
}

/** Every threshold in the summary with its outcome, in metric order. */
export function thresholdResults(summary: LoadSummary): ThresholdResult[] {
  const names = Object.keys(summary.metrics).sort((a, b) =>
    a.localeCompare(b, "en", { numeric: true })
  );
  return names.flatMap((metric) =>
    Object.entries(summary.metrics[metric]!.thresholds ?? {}).map(([expression, r]) => ({
      metric,
      expression,
      ok: r.ok,
    }))
  );
}

/** True when no threshold failed (k6's exit code would be 0). */
export function thresholdsOk(summary: LoadSummary): boolean {
  return thresholdResults(summary).every((r) => r.ok);
}

/**
 * The SLA figures a client-side run measures, keyed like config/sla.json: `error_rate` (share
 * answered 5xx or not at all), `latency_p95_ms` (client-side, all requests), `cache_hit_ratio`
 * (share of responses naming a cache tier that name L1 or L2); null when not measured.
 */
export function slaFigures(summary: LoadSummary): {
  error_rate: number | null;
  latency_p95_ms: number | null;
  cache_hit_ratio: number | null;
} {
  const count = metricValue(summary, metricNames.requests, "count") ?? 0;
  const cacheSamples = (metricValue(summary, metricNames.cacheHits, "passes") ?? 0) +
    (metricValue(summary, metricNames.cacheHits, "fails") ?? 0);
  return {
    error_rate: count > 0 ? metricValue(summary, metricNames.serverErrors, "rate") : null,
    latency_p95_ms: (metricValue(summary, metricNames.duration, "count") ?? 0) > 0
      ? metricValue(summary, metricNames.duration, "p(95)")
      : null,
    cache_hit_ratio: cacheSamples > 0 ? metricValue(summary, metricNames.cacheHits, "rate") : null,
  };
}
