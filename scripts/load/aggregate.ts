/**
 * Turns the autocannon runner's per-response records into a load summary with k6's metrics,
 * sub-metrics and threshold outcomes, so the built-in driver's file reads like k6's.
 *
 * What differs from k6, by necessity: a request that got no response (connection error,
 * timeout) counts in `http_reqs`, `http_req_failed`, `server_errors` and fails the checks, but
 * has no duration (k6 records one); metrics with no samples are left out unless a threshold
 * names them, as k6 does.
 *
 * @module
 */
import type { Workload } from "./workloads/workloads.js";
import { type Classified, metricNames, responseChecks } from "./workloads/response.js";
import { summaryTrendStats } from "./workloads/summary.js";
import { counterValues, rateValues, thresholdHolds, trendStat, trendValues } from "./k6_metrics.ts";
import type { LoadSummary, SummaryMetric } from "./summary.ts";

/** What the runner reports for one autocannon run (see autocannon_runner.js). */
export interface RunRecord {
  phaseIndex: number;
  startedAt: string;
  endedAt: string;
  /** Requests that got no response. */
  errors: number;
  /** Responses whose classification could not be matched (should stay 0). */
  unmatched: number;
  status: number[];
  durationMs: number[];
  /** 0 none, 1 legacy, 2 optimized */
  path: number[];
  /** 0 none, 1 l1, 2 l2, 3 miss */
  cache: number[];
}

/** One response (or unanswered request) with the tags of its phase. */
interface Sample {
  tags: Record<string, string>;
  classified: Classified;
  /** null when no response arrived. */
  durationMs: number | null;
}

const pathNames = [null, "legacy", "optimized"] as const;
const cacheNames = [null, "l1", "l2", "miss"] as const;

function samplesOf(workload: Workload, runs: readonly RunRecord[]): Sample[] {
  const samples: Sample[] = [];
  for (const run of runs) {
    const tags = workload.phases[run.phaseIndex]?.tags ?? {};
    for (let i = 0; i < run.status.length; i++) {
      const status = run.status[i]!;
      samples.push({
        tags,
        durationMs: run.durationMs[i]!,
        classified: {
          status,
          path: pathNames[run.path[i]!] ?? null,
          cache: cacheNames[run.cache[i]!] ?? null,
          serverError: status >= 500,
          failed: status < 200 || status >= 400,
        },
      });
    }
    for (let i = 0; i < run.errors; i++) {
      samples.push({
        tags,
        durationMs: null,
        classified: { status: 0, path: null, cache: null, serverError: true, failed: true },
      });
    }
  }
  return samples;
}

/** A metric's definition: its kind and how a sample contributes. */
type Definition =
  | { type: "counter"; counts: (s: Sample) => boolean }
  | { type: "rate"; applies: (s: Sample) => boolean; passes: (s: Sample) => boolean }
  | { type: "trend"; value: (s: Sample) => number | null };

const definitions: Record<string, Definition> = {
  [metricNames.requests]: { type: "counter", counts: () => true },
  [metricNames.duration]: { type: "trend", value: (s) => s.durationMs },
  [metricNames.failed]: { type: "rate", applies: () => true, passes: (s) => s.classified.failed },
  [metricNames.serverErrors]: {
    type: "rate",
    applies: () => true,
    passes: (s) => s.classified.serverError,
  },
  [metricNames.legacy]: { type: "counter", counts: (s) => s.classified.path === "legacy" },
  [metricNames.optimized]: { type: "counter", counts: (s) => s.classified.path === "optimized" },
  [metricNames.legacyDuration]: {
    type: "trend",
    value: (s) => (s.classified.path === "legacy" ? s.durationMs : null),
  },
  [metricNames.optimizedDuration]: {
    type: "trend",
    value: (s) => (s.classified.path === "optimized" ? s.durationMs : null),
  },
  [metricNames.cacheL1]: { type: "counter", counts: (s) => s.classified.cache === "l1" },
  [metricNames.cacheL2]: { type: "counter", counts: (s) => s.classified.cache === "l2" },
  [metricNames.cacheMiss]: { type: "counter", counts: (s) => s.classified.cache === "miss" },
  [metricNames.cacheHits]: {
    type: "rate",
    applies: (s) => s.classified.cache !== null,
    passes: (s) => s.classified.cache === "l1" || s.classified.cache === "l2",
  },
};

/** `http_req_duration{concurrency:5}` → name and tag filter. */
function parseMetricKey(key: string): { name: string; tags: Record<string, string> } {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\{(.*)\})?$/.exec(key);
  if (!match) throw new RangeError(`not a metric name: "${key}"`);
  const tags: Record<string, string> = {};
  for (const pair of (match[2] ?? "").split(",").filter((p) => p.trim() !== "")) {
    const [tag, ...rest] = pair.split(":");
    tags[tag!.trim()] = rest.join(":").trim();
  }
  return { name: match[1]!, tags };
}

interface Computed {
  metric: SummaryMetric;
  /** Ascending durations of a trend, for any percentile a threshold asks for. */
  sorted?: number[];
}

function compute(
  definition: Definition,
  samples: readonly Sample[],
  testRunS: number,
): Computed | null {
  switch (definition.type) {
    case "counter": {
      const count = samples.filter(definition.counts).length;
      if (count === 0) return null;
      return {
        metric: { type: "counter", contains: "default", values: counterValues(count, testRunS) },
      };
    }
    case "rate": {
      const applicable = samples.filter(definition.applies);
      if (applicable.length === 0) return null;
      const passes = applicable.filter(definition.passes).length;
      return {
        metric: {
          type: "rate",
          contains: "default",
          values: rateValues(passes, applicable.length - passes),
        },
      };
    }
    case "trend": {
      const values: number[] = [];
      for (const s of samples) {
        const v = definition.value(s);
        if (v !== null) values.push(v);
      }
      if (values.length === 0) return null;
      const sorted = values.sort((a, b) => a - b);
      return {
        metric: { type: "trend", contains: "time", values: trendValues(sorted, summaryTrendStats) },
        sorted,
      };
    }
  }
}

/** The all-zero metric k6 reports for a metric a threshold names but no sample reached. */
function empty(definition: Definition, testRunS: number): Computed {
  switch (definition.type) {
    case "counter":
      return {
        metric: { type: "counter", contains: "default", values: counterValues(0, testRunS) },
      };
    case "rate":
      return { metric: { type: "rate", contains: "default", values: rateValues(0, 0) } };
    case "trend":
      return {
        metric: { type: "trend", contains: "time", values: trendValues([], summaryTrendStats) },
        sorted: [],
      };
  }
}

/** Inputs of {@link summarize}. */
export interface SummarizeInput {
  workload: Workload;
  runs: readonly RunRecord[];
  /** k6 thresholds (./workloads/thresholds.js) to evaluate. */
  thresholds: Record<string, string[]>;
  meta: LoadSummary["meta"];
  testRunDurationMs: number;
}

/**
 * Builds the summary: k6's metrics over every sample, the sub-metrics the thresholds name, the
 * thresholds' outcomes, the checks.
 *
 * @throws {RangeError} for a threshold on a metric this driver does not measure.
 */
export function summarize(input: SummarizeInput): LoadSummary {
  const { workload, runs, thresholds, meta, testRunDurationMs } = input;
  const testRunS = testRunDurationMs / 1000;
  const samples = samplesOf(workload, runs);
  const computed = new Map<string, Computed>();
  // k6 always reports its HTTP metrics once a request was made; so does this driver, even when
  // no request got an answer (so a dead target still yields a valid summary that fails).
  const alwaysPresent = new Set<string>([
    metricNames.requests,
    metricNames.duration,
    metricNames.failed,
    metricNames.serverErrors,
  ]);
  for (const [name, definition] of Object.entries(definitions)) {
    const result = compute(definition, samples, testRunS) ??
      (alwaysPresent.has(name) ? empty(definition, testRunS) : null);
    if (result) computed.set(name, result);
  }
  for (const [key, expressions] of Object.entries(thresholds)) {
    const { name, tags } = parseMetricKey(key);
    const definition = definitions[name];
    if (!definition) {
      throw new RangeError(`threshold on "${key}": the driver does not measure ${name}`);
    }
    if (!computed.has(key)) {
      const subset = samples.filter((s) =>
        Object.entries(tags).every(([tag, value]) => s.tags[tag] === value)
      );
      computed.set(key, compute(definition, subset, testRunS) ?? empty(definition, testRunS));
    }
    const { metric, sorted } = computed.get(key)!;
    metric.thresholds = Object.fromEntries(expressions.map((expression) => [
      expression,
      {
        ok: thresholdHolds(expression, (aggregation) =>
          metric.values[aggregation] ??
            (sorted ? trendStat(sorted, aggregation) : undefined)),
      },
    ]));
  }

  const checks = responseChecks.map((rule) => {
    const passes = samples.filter((s) => rule.pass(s.classified)).length;
    return { name: rule.name, path: `::${rule.name}`, passes, fails: samples.length - passes };
  });
  const checkPasses = checks.reduce((sum, c) => sum + c.passes, 0);
  const checkFails = checks.reduce((sum, c) => sum + c.fails, 0);
  if (checkPasses + checkFails > 0) {
    computed.set(metricNames.checks, {
      metric: { type: "rate", contains: "default", values: rateValues(checkPasses, checkFails) },
    });
  }

  const metrics: Record<string, SummaryMetric> = {};
  for (const key of [...computed.keys()].sort()) metrics[key] = computed.get(key)!.metric;
  return {
    meta,
    state: { testRunDurationMs, isStdOutTTY: false, isStdErrTTY: false },
    options: { summaryTrendStats: [...summaryTrendStats] },
    metrics,
    root_group: { name: "", path: "", groups: [], checks },
  };
}
