import { parse, stringify } from "yaml";
import { assert, assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { metricNames as m } from "../../supabase/functions/metrics/exposition.ts";
import {
  alertRules,
  alertRulesPath,
  breakerRule,
  renderAlertRules,
  ruleThreshold,
  severities,
  type Severity,
  signals,
} from "./alert_rules.ts";
import { promtool } from "./promtool.ts";
import { parseSla, readSlaConfig, type SlaConfig, type SlaMetric } from "./sla_config.ts";

Deno.test("alert_rules: the committed monitoring/alert-rules.yml equals a fresh rendering", async () => {
  const committed = await Deno.readTextFile(alertRulesPath);
  assertEquals(
    committed,
    renderAlertRules(await readSlaConfig()),
    "stale: run deno run -A scripts/monitoring/alert_rules.ts",
  );
});

Deno.test("alert_rules: promtool check rules accepts monitoring/alert-rules.yml", async () => {
  const result = await promtool(["check", "rules", alertRulesPath]);
  assertEquals(result.code, 0, result.stderr + result.stdout);
  const sla = await readSlaConfig();
  const expected = Object.values(sla.metrics)
    .reduce((n, metric) => n + severities.filter((s) => metric[s] !== null).length, 0) +
    1; // the circuit breaker rule
  assert(result.stdout.includes(`SUCCESS: ${expected} rules found`), result.stdout);
});

Deno.test("alertRules() writes one rule per non-null warning/critical level with its threshold", async () => {
  const sla = await readSlaConfig();
  const rules = alertRules(sla).groups[0]!.rules;
  for (const [key, metric] of Object.entries(sla.metrics)) {
    for (const severity of severities) {
      const level = metric[severity];
      const rule = rules.find((r) => r.labels.sla_metric === key && r.labels.severity === severity);
      if (level === null) {
        assertEquals(rule, undefined, `${key}.${severity} is null but has a rule`);
        continue;
      }
      assert(rule, `no rule for ${key}.${severity}`);
      const op = metric.better === "lower" ? ">" : "<";
      assert(
        rule.expr.trimEnd().endsWith(`) ${op} ${ruleThreshold(signals[key]!, level)}`),
        `${rule.alert}: ${rule.expr}`,
      );
    }
  }
});

Deno.test("alertRules() refuses an SLA metric it has no PromQL signal for", () => {
  const sla = parseSla(JSON.stringify({
    metrics: {
      queue_depth: {
        description: "Jobs waiting.",
        unit: "1/s",
        better: "lower",
        target: null,
        warning: 10,
        critical: null,
        rollback: null,
      },
    },
    analysis: { interval: "30s", threshold: 2, min_requests: 20 },
  }));
  assertThrows(() => alertRules(sla), Error, "no PromQL signal for it");
});

// --- promtool test rules: every rule fires on the side of its level that config/sla.json says ---

type Case = "beyond" | "between" | "within";

/** A value of `metric` (SLA unit) that crosses every level, only the warning one, or none. */
function caseValues(metric: SlaMetric): Partial<Record<Case, number>> {
  const levels = severities.map((s) => metric[s]).filter((v): v is number => v !== null);
  const lo = Math.min(...levels);
  const hi = Math.max(...levels);
  const ceiling = metric.unit === "ratio" ? 1 : hi * 4;
  const values: Partial<Record<Case, number>> = metric.better === "lower"
    ? { beyond: Math.min(hi * 2, (hi + ceiling) / 2), within: lo / 2 }
    : { beyond: lo / 2, within: hi + (ceiling - hi) / 2 };
  if (metric.warning !== null && metric.critical !== null) {
    values.between = (metric.warning + metric.critical) / 2;
  }
  return values;
}

/** Severities expected to fire for a case. */
function firing(metric: SlaMetric, kase: Case): Severity[] {
  const present = severities.filter((s) => metric[s] !== null);
  if (kase === "beyond") return present;
  if (kase === "between") return ["warning"];
  return [];
}

interface Series {
  series: string;
  values: string;
}

const minutes = 45;
const perMinute = 600;
const labelText = (labels: Record<string, string>) =>
  `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
const counter = (name: string, labels: Record<string, string>, increment: number): Series => ({
  series: `${name}${labelText(labels)}`,
  values: `0+${increment}x${minutes}`,
});

/** Input series whose signal for `key` evaluates to `value` (SLA unit) under `labels`. */
function seriesFor(
  key: string,
  metric: SlaMetric,
  value: number,
  labels: Record<string, string>,
): Series[] {
  switch (key) {
    case "error_rate":
      return [
        counter(m.requests, labels, perMinute),
        counter(m.errors, { ...labels, class: "server" }, perMinute * value),
        counter(m.errors, { ...labels, class: "client" }, perMinute),
      ];
    case "cache_hit_ratio":
      return [
        counter(m.cacheHits, { ...labels, tier: "l1" }, perMinute * value / 2),
        counter(m.cacheHits, { ...labels, tier: "l2" }, perMinute * value / 2),
        counter(m.cacheLookups, labels, perMinute),
      ];
    case "db_query_rate_per_s":
      return [counter(m.dbQueries, labels, 60 * value)];
    case "db_queries_per_request_vs_legacy": {
      const legacy = { ...labels, path: "legacy" };
      const optimized = { ...labels, path: "optimized" };
      return [
        counter(m.requests, optimized, perMinute),
        counter(m.dbQueries, optimized, perMinute * value),
        counter(m.requests, legacy, perMinute),
        counter(m.dbQueries, legacy, perMinute),
      ];
    }
    case "kms_reuse_ratio":
      return [
        counter(m.kmsRequests, labels, perMinute),
        counter(m.kmsNewConnections, labels, perMinute * (1 - value)),
      ];
    case "memory_growth_mb_per_30m": {
      const bytes = value * signals[key]!.scale;
      return [{
        series: `${m.isolateMemory}${labelText({ ...labels, isolate: "i-1" })}`,
        values: `${64 * 1024 * 1024}+${bytes / 30}x${minutes}`,
      }];
    }
    case "latency_p95_ms": {
      // All observations in one bucket (lower, upper]: p95 = lower + 0.95 (upper - lower), so a
      // bucket just above, between or below the levels places p95 there.
      const levels = severities.map((s) => metric[s]).filter((v): v is number => v !== null);
      const s = signals[key]!.scale;
      const lo = Math.min(...levels) * s;
      const hi = Math.max(...levels) * s;
      const v = value * s;
      const [lower, upper] = v > hi
        ? [hi, hi * 2]
        : v < lo
        ? [0, lo / 2]
        : [metric.warning! * s, metric.critical! * s];
      const bucket = (le: string, increment: number) =>
        counter(`${m.requestDuration}_bucket`, { ...labels, le }, increment);
      return [
        ...(lower > 0 ? [bucket(String(lower), 0)] : []),
        bucket(String(upper), perMinute),
        bucket("+Inf", perMinute),
      ];
    }
    default:
      throw new Error(`no synthetic series for ${key}`);
  }
}

function unitTestFile(sla: SlaConfig, rulesFile: string) {
  const rules = alertRules(sla).groups[0]!.rules;
  const input: Series[] = [];
  const expected: { labels: string; value: number }[] = [];
  for (const [key, metric] of Object.entries(sla.metrics)) {
    const signal = signals[key];
    if (!signal || severities.every((s) => metric[s] === null)) continue;
    for (const [kase, value] of Object.entries(caseValues(metric)) as [Case, number][]) {
      const labels: Record<string, string> = { function: `${key}-${kase}`, path: "optimized" };
      input.push(...seriesFor(key, metric, value, labels));
      for (const severity of firing(metric, kase)) {
        const rule = rules.find((r) =>
          r.labels.sla_metric === key && r.labels.severity === severity
        )!;
        const kept = Object.fromEntries(signal.by.map((l) => [l, labels[l]!]));
        expected.push({
          labels: `ALERTS${
            labelText({
              alertname: rule.alert,
              alertstate: "firing",
              ...kept,
              severity,
              sla_metric: key,
            })
          }`,
          value: 1,
        });
      }
    }
  }
  return {
    expected,
    yaml: stringify({
      rule_files: [rulesFile],
      evaluation_interval: "1m",
      tests: [{
        interval: "1m",
        input_series: input,
        promql_expr_test: [{
          expr: 'ALERTS{alertstate="firing"}',
          eval_time: `${minutes - 5}m`,
          exp_samples: expected,
        }],
      }],
    }, { lineWidth: 0 }),
  };
}

Deno.test("alert_rules: every rule fires beyond its SLA level and stays quiet within it (promtool)", async () => {
  const sla = await readSlaConfig();
  const dir = await Deno.makeTempDir({ prefix: "pf-alert-rules-" });
  try {
    const { yaml, expected } = unitTestFile(sla, alertRulesPath);
    const exercised = new Set(expected.map((e) => /alertname="([^"]+)"/.exec(e.labels)![1]));
    assertEquals(
      [...exercised].sort(),
      alertRules(sla).groups[0]!.rules.filter((r) => r.labels.sla_metric).map((r) => r.alert)
        .sort(),
      "every SLA rule fires in some case",
    );
    await Deno.writeTextFile(`${dir}/alert_rules_test.yml`, yaml);
    const result = await promtool(["test", "rules", `${dir}/alert_rules_test.yml`]);
    assertEquals(result.code, 0, result.stdout + result.stderr);
    assert(/SUCCESS/.test(result.stdout), result.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("alert_rules: the breaker rule fires for a breaker open for minutes, not for a closed one (promtool)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-alert-rules-" });
  try {
    const series = (fn: string, dependency: string, values: string) => ({
      series: `${m.breakerOpenIsolates}{function="${fn}",dependency="${dependency}"}`,
      values,
    });
    await Deno.writeTextFile(
      `${dir}/breaker_test.yml`,
      stringify({
        rule_files: [alertRulesPath],
        evaluation_interval: "1m",
        tests: [{
          interval: "1m",
          input_series: [
            // Open, half-open for a moment (0), open again: the minute's max keeps it firing.
            series("flight-search", "database", "1 1 0 1 1 1 1 1 1 1"),
            series("payment-methods", "kms", "0x9"),
          ],
          alert_rule_test: [{
            eval_time: "8m",
            alertname: breakerRule.alert,
            exp_alerts: [{
              exp_labels: {
                severity: "critical",
                function: "flight-search",
                dependency: "database",
              },
              exp_annotations: {
                summary: "flight-search: circuit breaker for database open",
                description:
                  "1 live isolate(s) of flight-search refuse calls to database with 503 " +
                  "while its breaker is open (monitoring.circuit_breakers).",
              },
            }],
          }],
        }],
      }, { lineWidth: 0 }),
    );
    const result = await promtool(["test", "rules", `${dir}/breaker_test.yml`]);
    assertEquals(result.code, 0, result.stdout + result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("alert_rules: monitoring/prometheus.yml loads them and scrapes the metrics function", async () => {
  const path = alertRulesPath.replace(/alert-rules\.yml$/, "prometheus.yml");
  // --syntax-only: the credentials file exists only on the Prometheus host.
  const result = await promtool(["check", "config", "--syntax-only", path]);
  assertEquals(result.code, 0, result.stdout + result.stderr);
  const config = parse(await Deno.readTextFile(path));
  assertEquals(config.rule_files, ["alert-rules.yml"]);
  const [job] = config.scrape_configs;
  assertEquals([job.metrics_path, job.authorization.type], ["/functions/v1/metrics", "Bearer"]);
});
