import { assert, assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { resolveWorkload } from "./workloads/workloads.js";
import { type RunRecord, summarize } from "./aggregate.ts";
import { parseLoadSummary, thresholdsOk } from "./summary.ts";
import { k6Thresholds } from "./workloads/thresholds.js";
import { loadSla } from "../sla/sla.ts";

const sla = await loadSla();

const meta = (workload: string, phases: unknown[]) => ({
  driver: "autocannon" as const,
  workload,
  description: "test",
  startedAt: "2026-11-22T10:00:00.000Z",
  endedAt: "2026-11-22T10:00:04.000Z",
  baseUrl: "http://127.0.0.1:1",
  seed: 1,
  duplication: 0.5,
  gateLevel: "rollback" as const,
  routes: 2,
  phases: phases as ReturnType<typeof resolveWorkload>["phases"],
});

function run(phaseIndex: number, rows: [number, number, number, number][], errors = 0): RunRecord {
  return {
    phaseIndex,
    startedAt: "",
    endedAt: "",
    errors,
    unmatched: 0,
    status: rows.map((r) => r[0]),
    durationMs: rows.map((r) => r[1]),
    path: rows.map((r) => r[2]),
    cache: rows.map((r) => r[3]),
  };
}

Deno.test("summarize() counts paths, tiers, failures and checks like k6 would", () => {
  const workload = resolveWorkload("baseline", { durationS: 4, vus: 2 });
  const summary = summarize({
    workload,
    runs: [run(0, [
      [200, 10, 1, 3], // legacy, miss
      [200, 20, 2, 1], // optimized, l1
      [200, 30, 2, 2], // optimized, l2
      [503, 40, 0, 0], // 5xx, no headers
      [404, 50, 0, 0], // 4xx: failed, not a server error
    ], 1)],
    thresholds: { server_errors: ["rate<=0.05"], cache_hits: ["rate>=0.5"] },
    meta: meta("baseline", workload.phases),
    testRunDurationMs: 4000,
  });
  parseLoadSummary(summary);
  const v = (name: string) => summary.metrics[name]!.values;
  assertEquals(v("http_reqs"), { count: 6, rate: 1.5 });
  assertEquals(v("http_req_duration").count, 5, "the unanswered request has no duration");
  assertEquals(v("http_req_duration")["p(95)"], 48);
  assertEquals(v("http_req_failed"), { rate: 3 / 6, passes: 3, fails: 3 });
  assertEquals(v("server_errors"), { rate: 2 / 6, passes: 2, fails: 4 });
  assertEquals(v("search_legacy").count, 1);
  assertEquals(v("search_optimized").count, 2);
  assertEquals(v("search_duration_optimized").avg, 25);
  assertEquals([v("cache_l1").count, v("cache_l2").count, v("cache_miss").count], [1, 1, 1]);
  assertEquals(v("cache_hits"), { rate: 2 / 3, passes: 2, fails: 1 });
  assertEquals(summary.metrics.server_errors!.thresholds, { "rate<=0.05": { ok: false } });
  assertEquals(summary.metrics.cache_hits!.thresholds, { "rate>=0.5": { ok: true } });
  assertEquals(thresholdsOk(summary), false);
  assertEquals(summary.root_group!.checks.map((c) => [c.name, c.passes, c.fails]), [
    ["status is 200", 3, 3],
    ["x-search-path names the path", 3, 3],
  ]);
  assertEquals(v("checks"), { rate: 0.5, passes: 6, fails: 6 });
});

Deno.test("summarize() builds the tagged sub-metrics thresholds name, zeros when a level saw nothing", () => {
  const workload = resolveWorkload("sweep", { durationS: 8 });
  const summary = summarize({
    workload,
    runs: [
      run(0, [[200, 5, 1, 3], [200, 7, 1, 3]]),
      run(1, [[200, 9, 2, 3]]),
    ],
    thresholds: {
      "http_req_duration{concurrency:1}": ["p(95)<=6.8", "p(50)<=6"],
      "search_duration_optimized{concurrency:5}": ["p(95)<=1000"],
      "search_duration_optimized{concurrency:1}": ["p(95)<=1000"],
    },
    meta: meta("sweep", workload.phases),
    testRunDurationMs: 8000,
  });
  const level1 = summary.metrics["http_req_duration{concurrency:1}"]!;
  assertEquals(level1.values.count, 2);
  assertEquals(level1.thresholds, { "p(95)<=6.8": { ok: false }, "p(50)<=6": { ok: true } });
  assertEquals(summary.metrics["search_duration_optimized{concurrency:5}"]!.values.count, 1);
  // No optimized response at level 1: reported empty (all zeros), as k6 reports it.
  assertEquals(summary.metrics["search_duration_optimized{concurrency:1}"]!.values.count, 0);
  assert(!("http_req_duration{concurrency:10}" in summary.metrics), "no threshold, no sub-metric");
});

Deno.test("summarize() fails the workload's thresholds when no request was sent or a level or path saw none", () => {
  const workload = resolveWorkload("sweep", { durationS: 8 });
  const thresholds = k6Thresholds(sla, workload);
  const nothing = summarize({
    workload,
    runs: [],
    thresholds,
    meta: meta("sweep", workload.phases),
    testRunDurationMs: 8000,
  });
  assertEquals(nothing.metrics.http_reqs!.thresholds, { "count>0": { ok: false } });
  assertEquals(thresholdsOk(nothing), false);
  // Level 1 served by the legacy path only: its optimized p95 holds on no samples, its count not.
  const oneSided = summarize({
    workload,
    runs: [0, 1, 2, 3].map((phase) => run(phase, [[200, 5, 1, 3], [200, 6, phase ? 2 : 1, 3]])),
    thresholds,
    meta: meta("sweep", workload.phases),
    testRunDurationMs: 8000,
  });
  const failed = Object.entries(oneSided.metrics).flatMap(([name, m]) =>
    Object.entries(m.thresholds ?? {}).filter(([, r]) => !r.ok).map(([e]) => `${name} ${e}`)
  );
  assertEquals(failed, ["search_optimized{concurrency:1} count>0"]);
});

Deno.test("summarize() still gives a valid summary when nothing answered", () => {
  const workload = resolveWorkload("baseline", { durationS: 1, vus: 1 });
  const summary = summarize({
    workload,
    runs: [run(0, [], 3)],
    thresholds: { http_req_duration: ["p(95)<=1000"], server_errors: ["rate<=0.05"] },
    meta: meta("baseline", workload.phases),
    testRunDurationMs: 1000,
  });
  parseLoadSummary(summary);
  assertEquals(summary.metrics.http_reqs!.values.count, 3);
  assertEquals(summary.metrics.server_errors!.values.rate, 1);
  assertEquals(thresholdsOk(summary), false);
});

Deno.test("summarize() refuses a threshold on a metric the driver does not measure", () => {
  const workload = resolveWorkload("baseline", { durationS: 1, vus: 1 });
  assertThrows(
    () =>
      summarize({
        workload,
        runs: [],
        thresholds: { http_req_waiting: ["p(95)<=1"] },
        meta: meta("baseline", workload.phases),
        testRunDurationMs: 1,
      }),
    RangeError,
  );
});
