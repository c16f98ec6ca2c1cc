import {
  assert,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../../tests/support/assert.ts";
import { loadSla } from "../sla/sla.ts";
import { CanaryAnalysis, type Check, judge, type PathSummary } from "./analysis.ts";

const sla = await loadSla();
const levels = (metric: string) => sla.metrics[metric]!;
const window = {
  index: 1,
  since: new Date("2026-11-22T10:00:00Z"),
  until: new Date("2026-11-22T10:01:00Z"),
};
const enough = sla.analysis.min_requests * 10;

/** A path whose every metric sits exactly on its target (healthy). */
function healthy(path: PathSummary["path"], overrides: Partial<PathSummary> = {}): PathSummary {
  return {
    path,
    requests: enough,
    errorRate: 0,
    p50Ms: levels("latency_p95_ms").target! / 2,
    p95Ms: levels("latency_p95_ms").target!,
    p99Ms: levels("latency_p95_ms").target!,
    queriesPerRequest: 1,
    dbQueryRatePerS: 1,
    cacheHitRatio: levels("cache_hit_ratio").target!,
    kmsReuseRatio: null,
    fallbacks: 0,
    failureRate: 0,
    ...overrides,
  };
}

const verdict = (check: Check, metric: string) =>
  check.metrics.find((m) => m.metric === metric)?.verdict;

Deno.test("judge() passes a healthy optimized path and shows legacy alongside", () => {
  const check = judge(sla, [healthy("optimized"), healthy("legacy", { p95Ms: 999 })], window);
  assertEquals(check.outcome, "pass");
  assertEquals(check.optimizedRequests, enough);
  assertEquals(check.metrics.find((m) => m.metric === "latency_p95_ms")?.legacy, 999);
  assertEquals(verdict(check, "kms_reuse_ratio"), "no_data");
});

Deno.test("judge() fails at the rollback levels of config/sla.json, not before", () => {
  const p95 = levels("latency_p95_ms").rollback!;
  assertEquals(judge(sla, [healthy("optimized", { p95Ms: p95 })], window).outcome, "pass");
  const slow = judge(sla, [healthy("optimized", { p95Ms: p95 + 1 })], window);
  assertEquals(slow.outcome, "fail");
  assertStringIncludes(slow.notes.join(), "latency_p95_ms");

  const hit = levels("cache_hit_ratio").rollback!;
  assertEquals(judge(sla, [healthy("optimized", { cacheHitRatio: hit })], window).outcome, "pass");
  assertEquals(
    judge(sla, [healthy("optimized", { cacheHitRatio: hit - 0.01 })], window).outcome,
    "fail",
  );

  const errors = levels("error_rate").rollback!;
  assertEquals(judge(sla, [healthy("optimized", { failureRate: errors })], window).outcome, "pass");
  assertEquals(
    judge(sla, [healthy("optimized", { failureRate: errors + 0.01 })], window).outcome,
    "fail",
  );
});

Deno.test("judge() notes warning levels without failing", () => {
  const warning = levels("latency_p95_ms").warning!;
  const check = judge(sla, [healthy("optimized", { p95Ms: warning + 1 })], window);
  assertEquals(check.outcome, "pass");
  assertEquals(verdict(check, "latency_p95_ms"), "warn");
  assertStringIncludes(check.notes.join(), "warning level");
});

Deno.test("judge() judges error_rate on the failure rate, which counts fallbacks", () => {
  // About 10% of optimized requests failed and were served by the legacy path: no 5xx at all.
  const fallbacks = Math.ceil(enough * 0.1);
  const failureRate = fallbacks / enough;
  const check = judge(sla, [
    healthy("optimized", { errorRate: 0, fallbacks, failureRate }),
    healthy("legacy"),
  ], window);
  assertEquals(check.outcome, "fail");
  assertEquals(check.metrics.find((m) => m.metric === "error_rate")?.optimized, failureRate);
  assertStringIncludes(check.notes.join(), "error_rate");
});

Deno.test("judge() skips a window with fewer than min_requests optimized requests", () => {
  const few = sla.analysis.min_requests - 1;
  const check = judge(sla, [healthy("optimized", { requests: few, failureRate: 1 })], window);
  assertEquals(check.outcome, "skipped");
  assertStringIncludes(check.notes.join(), "min_requests");
  assertEquals(judge(sla, [], window).outcome, sla.analysis.min_requests > 0 ? "skipped" : "pass");
});

Deno.test("CanaryAnalysis rolls back after threshold consecutive failures; a pass resets, a skip does not", () => {
  const check = (outcome: Check["outcome"]): Check => ({
    index: 1,
    since: "",
    until: "",
    outcome,
    optimizedRequests: 0,
    legacyRequests: 0,
    metrics: [],
    notes: [],
  });
  const analysis = new CanaryAnalysis(3);
  assertEquals(analysis.record(check("fail")).action, "continue");
  assertEquals(analysis.record(check("fail")).action, "continue");
  assertEquals(analysis.record(check("pass")), { action: "continue", consecutiveFailures: 0 });
  assertEquals(analysis.record(check("fail")).consecutiveFailures, 1);
  assertEquals(analysis.record(check("skipped")).consecutiveFailures, 1);
  assertEquals(analysis.record(check("fail")).action, "continue");
  assertEquals(analysis.record(check("fail")), { action: "rollback", consecutiveFailures: 3 });
  assertEquals(analysis.judged, 6);
  assertEquals(new CanaryAnalysis(1).record(check("fail")).action, "rollback");
  assertThrows(() => new CanaryAnalysis(0), RangeError);
  assert(sla.analysis.threshold >= 1);
});

Deno.test("judge() names the critical level when a metric warns without a warning level", () => {
  const spec = levels("db_query_rate_per_s");
  assert(spec.warning === null && spec.critical !== null, "a critical-only metric");
  const check = judge(
    sla,
    [healthy("optimized", { dbQueryRatePerS: spec.critical * 2 })],
    window,
  );
  assertEquals(check.outcome, "pass");
  assertStringIncludes(
    check.notes.join(),
    `db_query_rate_per_s ${(spec.critical * 2).toFixed(1)} > critical level ${spec.critical}`,
  );
});

Deno.test("judge() judges DB load relative to legacy: optimized ÷ legacy queries per request in the window", () => {
  const spec = levels("db_queries_per_request_vs_legacy");
  const ratio = (check: Check) =>
    check.metrics.find((m) => m.metric === "db_queries_per_request_vs_legacy")!;
  const legacy = healthy("legacy", { queriesPerRequest: 3, dbQueryRatePerS: 900 });
  const light = judge(sla, [healthy("optimized", { queriesPerRequest: 0.6 }), legacy], window);
  assert(Math.abs(ratio(light).optimized! - 0.2) < 1e-12, String(ratio(light).optimized));
  assertEquals(ratio(light).legacy, null, "a figure of the optimized path alone");
  assertEquals(ratio(light).verdict, "pass");
  // The absolute figure stays beside it, both paths shown.
  assertEquals(light.metrics.find((m) => m.metric === "db_query_rate_per_s")!.legacy, 900);

  const heavier = judge(sla, [
    healthy("optimized", { queriesPerRequest: 3 * (spec.warning! + 0.1) }),
    legacy,
  ], window);
  assertEquals(ratio(heavier).verdict, "warn");
  assertEquals(heavier.outcome, "pass");
  assertStringIncludes(heavier.notes.join(), "queries per request 3.30 vs legacy 3.00");

  const regression = judge(sla, [
    healthy("optimized", { queriesPerRequest: 3 * spec.rollback! + 0.01 }),
    legacy,
  ], window);
  assertEquals(ratio(regression).verdict, "rollback");
  assertEquals(regression.outcome, "fail");
  const atLevel = judge(sla, [
    healthy("optimized", { queriesPerRequest: 3 * spec.rollback! }),
    legacy,
  ], window);
  assertEquals(ratio(atLevel).verdict, "warn", "equal to the rollback level passes it");

  // No legacy traffic in the window (100%), or legacy sent no query: nothing to compare with.
  assertEquals(ratio(judge(sla, [healthy("optimized")], window)).verdict, "no_data");
  const cached = healthy("legacy", { queriesPerRequest: 0 });
  assertEquals(ratio(judge(sla, [healthy("optimized"), cached], window)).optimized, null);
});
