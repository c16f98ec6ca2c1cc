import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/support/assert.ts";
import {
  LoadSummaryError,
  parseLoadSummary,
  readLoadSummary,
  slaFigures,
  thresholdResults,
} from "./summary.ts";

function minimal(): Record<string, unknown> {
  const trend = { avg: 1, min: 1, med: 1, max: 1, "p(90)": 1, "p(95)": 1, "p(99)": 1, count: 1 };
  return {
    meta: {
      driver: "k6",
      workload: "baseline",
      description: "",
      startedAt: "2026-11-22T10:00:00.000Z",
      endedAt: "2026-11-22T10:00:01.000Z",
      baseUrl: "https://example.supabase.co",
      seed: 1,
      duplication: 0.5,
      gateLevel: "rollback",
      routes: null,
      phases: [{
        name: "baseline",
        index: 0,
        executor: "constant-vus",
        startS: 0,
        durationS: 1,
        vus: 1,
        tags: {},
      }],
    },
    state: { testRunDurationMs: 1000, isStdOutTTY: false },
    options: { summaryTrendStats: ["avg"] },
    metrics: {
      http_reqs: { type: "counter", contains: "default", values: { count: 4, rate: 4 } },
      http_req_duration: {
        type: "trend",
        contains: "time",
        values: trend,
        thresholds: { "p(95)<=1000": { ok: true } },
      },
      http_req_failed: {
        type: "rate",
        contains: "default",
        values: { rate: 0, passes: 0, fails: 4 },
      },
      server_errors: {
        type: "rate",
        contains: "default",
        values: { rate: 0.25, passes: 1, fails: 3 },
        thresholds: { "rate<=0.05": { ok: false } },
      },
    },
  };
}

Deno.test("parseLoadSummary() accepts k6's shape with extra fields and reads figures", () => {
  const summary = parseLoadSummary(minimal());
  assertEquals(summary.state.isStdOutTTY, false, "unknown k6 fields are kept");
  assertEquals(thresholdResults(summary), [
    { metric: "http_req_duration", expression: "p(95)<=1000", ok: true },
    { metric: "server_errors", expression: "rate<=0.05", ok: false },
  ]);
  assertEquals(slaFigures(summary), { error_rate: 0.25, latency_p95_ms: 1, cache_hit_ratio: null });
});

Deno.test("parseLoadSummary() names the missing or malformed field", () => {
  const noDuration = minimal();
  delete (noDuration.metrics as Record<string, unknown>).http_req_duration;
  const e1 = assertThrows(() => parseLoadSummary(noDuration, "x.json"), LoadSummaryError);
  assert(e1.message.startsWith("x.json: metrics.http_req_duration"), e1.message);

  const badTrend = minimal();
  delete (badTrend.metrics as Record<string, { values: Record<string, number> }>)
    .http_req_duration!.values["p(95)"];
  const e2 = assertThrows(() => parseLoadSummary(badTrend), LoadSummaryError);
  assert(e2.message.includes("metrics.http_req_duration.values.p(95)"), e2.message);

  const badDriver = minimal();
  (badDriver.meta as Record<string, unknown>).driver = "jmeter";
  assert(
    assertThrows(() => parseLoadSummary(badDriver), LoadSummaryError).message.includes(
      "meta.driver",
    ),
  );
});

Deno.test("readLoadSummary() reports unreadable files with their path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/s.json`, "{");
    const error = await assertRejects(() => readLoadSummary(`${dir}/s.json`), LoadSummaryError);
    assert(error.message.startsWith(`${dir}/s.json:`), error.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
