import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/support/assert.ts";
import {
  alertLevel,
  evaluate,
  isMetricName,
  k6Expression,
  loadSla,
  metricNames,
  parseDuration,
  parseSla,
  type Sla,
  SlaConfigError,
} from "./sla.ts";

/** A document with levels chosen for the boundary vectors below (not the repository's). */
function fixture(): Record<string, unknown> {
  const metric = (better: string, levels: (number | null)[], unit = "ratio") => ({
    description: "test metric",
    unit,
    better,
    target: levels[0],
    warning: levels[1],
    critical: levels[2],
    rollback: levels[3],
  });
  return {
    metrics: {
      error_rate: metric("lower", [0.01, 0.02, 0.04, 0.05]),
      latency_p95_ms: metric("lower", [200, 300, 500, 1000], "ms"),
      cache_hit_ratio: metric("higher", [0.5, 0.4, null, 0.2]),
      db_query_rate_per_s: metric("lower", [null, null, 50, null], "1/s"),
      db_queries_per_request_vs_legacy: metric("lower", [0.5, 1, null, 2], "x"),
      kms_reuse_ratio: metric("higher", [0.9, 0.6, null, null]),
      memory_growth_mb_per_30m: metric("lower", [null, 100, null, null], "MB"),
    },
    analysis: { interval: "30s", threshold: 2, min_requests: 20 },
  };
}

const sla: Sla = parseSla(fixture());

Deno.test("loadSla() validates the repository's config/sla.json", async () => {
  const real = await loadSla();
  assertEquals(Object.keys(real.metrics), [...metricNames]);
  assert(parseDuration(real.analysis.interval) > 0);
});

Deno.test("parseSla() names the invalid field and what was expected", () => {
  const doc = fixture();
  (doc.metrics as Record<string, Record<string, unknown>>).latency_p95_ms!.rollback = "1s";
  const error = assertThrows(() => parseSla(doc), SlaConfigError);
  assert(error.message.includes("metrics.latency_p95_ms.rollback"), error.message);
  assert(error.message.includes("number"), error.message);
});

Deno.test("parseSla() refuses an unknown metric, a missing metric and a ratio above 1", () => {
  const extra = fixture();
  (extra.metrics as Record<string, unknown>).latency_p99_ms = {};
  assert(assertThrows(() => parseSla(extra), SlaConfigError).message.includes("latency_p99_ms"));

  const missing = fixture();
  delete (missing.metrics as Record<string, unknown>).kms_reuse_ratio;
  assert(
    assertThrows(() => parseSla(missing), SlaConfigError).message.includes(
      "metrics.kms_reuse_ratio",
    ),
  );

  const ratio = fixture();
  (ratio.metrics as Record<string, Record<string, unknown>>).error_rate!.rollback = 5;
  const error = assertThrows(() => parseSla(ratio), SlaConfigError);
  assert(error.message.includes("metrics.error_rate.rollback: a ratio is 0..1"), error.message);
});

Deno.test("parseSla() refuses levels out of severity order", () => {
  const lower = fixture();
  (lower.metrics as Record<string, Record<string, unknown>>).latency_p95_ms!.warning = 2000;
  const error = assertThrows(() => parseSla(lower), SlaConfigError);
  assert(error.message.includes("metrics.latency_p95_ms.critical"), error.message);

  const higher = fixture();
  (higher.metrics as Record<string, Record<string, unknown>>).cache_hit_ratio!.rollback = 0.45;
  assert(
    assertThrows(() => parseSla(higher), SlaConfigError).message.includes(
      "metrics.cache_hit_ratio.rollback",
    ),
  );
});

Deno.test("parseSla() refuses an analysis interval that is not a duration", () => {
  const doc = fixture();
  (doc.analysis as Record<string, unknown>).interval = "30";
  const error = assertThrows(() => parseSla(doc), SlaConfigError);
  assert(error.message.includes("analysis.interval"), error.message);
});

Deno.test("loadSla() reports a missing file and broken JSON with the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await assertRejects(() => loadSla(`${dir}/nope.json`), SlaConfigError);
    assert(missing.message.includes(`${dir}/nope.json: cannot read`), missing.message);
    await Deno.writeTextFile(`${dir}/bad.json`, "{ metrics: ");
    const bad = await assertRejects(() => loadSla(`${dir}/bad.json`), SlaConfigError);
    assert(bad.message.includes("not valid JSON"), bad.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluate() for better=lower: equality passes, strictly above crosses", () => {
  // latency_p95_ms: warning 300, critical 500, rollback 1000
  assertEquals(evaluate(sla, "latency_p95_ms", 0), "pass");
  assertEquals(evaluate(sla, "latency_p95_ms", 300), "pass");
  assertEquals(evaluate(sla, "latency_p95_ms", 300.001), "warn");
  assertEquals(evaluate(sla, "latency_p95_ms", 500.5), "warn");
  assertEquals(evaluate(sla, "latency_p95_ms", 1000), "warn");
  assertEquals(evaluate(sla, "latency_p95_ms", 1000.001), "rollback");
  assertEquals(evaluate(sla, "error_rate", 0.05), "warn");
  assertEquals(evaluate(sla, "error_rate", 0.0500001), "rollback");
});

Deno.test("evaluate() for better=higher: equality passes, strictly below crosses", () => {
  // cache_hit_ratio: warning 0.4, rollback 0.2
  assertEquals(evaluate(sla, "cache_hit_ratio", 1), "pass");
  assertEquals(evaluate(sla, "cache_hit_ratio", 0.4), "pass");
  assertEquals(evaluate(sla, "cache_hit_ratio", 0.3999), "warn");
  assertEquals(evaluate(sla, "cache_hit_ratio", 0.2), "warn");
  assertEquals(evaluate(sla, "cache_hit_ratio", 0.1999), "rollback");
  assertEquals(evaluate(sla, "cache_hit_ratio", 0), "rollback");
});

Deno.test("evaluate() without a rollback level never rolls back; critical-only metrics warn", () => {
  assertEquals(evaluate(sla, "kms_reuse_ratio", 0), "warn");
  assertEquals(evaluate(sla, "kms_reuse_ratio", 0.6), "pass");
  assertEquals(evaluate(sla, "db_query_rate_per_s", 50), "pass");
  assertEquals(evaluate(sla, "db_query_rate_per_s", 50.1), "warn");
  assertEquals(evaluate(sla, "memory_growth_mb_per_30m", 1e9), "warn");
});

Deno.test("evaluate() says no_data for null, undefined and NaN, and refuses unknown metrics", () => {
  assertEquals(evaluate(sla, "error_rate", null), "no_data");
  assertEquals(evaluate(sla, "error_rate", undefined), "no_data");
  assertEquals(evaluate(sla, "error_rate", Number.NaN), "no_data");
  assertThrows(() => evaluate(sla, "latency_p50_ms", 1), RangeError);
  assert(isMetricName("error_rate"));
  assert(!isMetricName("latency_p50_ms"));
});

Deno.test("evaluate() on the repository's levels: each level itself passes, just past it crosses", async () => {
  const real = await loadSla();
  for (const name of metricNames) {
    const spec = real.metrics[name];
    const step = spec.better === "lower" ? 1e-6 : -1e-6;
    if (spec.rollback !== null) {
      assert(evaluate(real, name, spec.rollback) !== "rollback", `${name} at rollback`);
      assertEquals(evaluate(real, name, spec.rollback + step), "rollback", name);
    }
    const warnAt = spec.warning ?? spec.critical;
    if (warnAt !== null && warnAt !== spec.rollback) {
      assertEquals(evaluate(real, name, warnAt), "pass", `${name} at warning`);
      assertEquals(evaluate(real, name, warnAt + step), "warn", name);
    }
  }
});

Deno.test("alertLevel() gives the firing comparison, null for unset levels", () => {
  assertEquals(alertLevel(sla, "error_rate", "critical"), {
    metric: "error_rate",
    level: "critical",
    op: ">",
    threshold: 0.04,
  });
  assertEquals(alertLevel(sla, "cache_hit_ratio", "rollback")?.op, "<");
  assertEquals(alertLevel(sla, "cache_hit_ratio", "critical"), null);
});

Deno.test("k6Expression() passes exactly where evaluate() does not roll back", () => {
  assertEquals(k6Expression(sla, "latency_p95_ms", "rollback", "p(95)"), "p(95)<=1000");
  assertEquals(k6Expression(sla, "cache_hit_ratio", "rollback", "rate"), "rate>=0.2");
  assertEquals(k6Expression(sla, "kms_reuse_ratio", "rollback", "rate"), null);
});

Deno.test("parseDuration() reads k6/Go durations into milliseconds", () => {
  assertEquals(parseDuration("500ms"), 500);
  assertEquals(parseDuration("30s"), 30_000);
  assertEquals(parseDuration("10m"), 600_000);
  assertEquals(parseDuration("1h"), 3_600_000);
  assertEquals(parseDuration("1m30s"), 90_000);
  assertEquals(parseDuration("1h2m3s4ms"), 3_723_004);
  assertEquals(parseDuration("1.5s"), 1500);
  assertEquals(parseDuration(" 2m "), 120_000);
  for (const bad of ["", "30", "s", "1d", "-1s", "1 s", "1m30"]) {
    const error = assertThrows(() => parseDuration(bad), RangeError);
    assert(error.message.includes(`received "${bad}"`), error.message);
  }
});
