// Tests of ./thresholds.js against the SLA module they must agree with.
import { assert, assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { k6Thresholds, thresholdExpression } from "./thresholds.js";
import { resolveWorkload } from "./workloads.js";
import { evaluate, k6Expression, loadSla, metricNames } from "../../sla/sla.ts";
import { thresholdHolds } from "../k6_metrics.ts";

const sla = await loadSla();

Deno.test("k6Thresholds() gates each workload on its SLA metrics at the rollback level", () => {
  const baseline = k6Thresholds(sla, resolveWorkload("baseline"));
  assertEquals(baseline, {
    http_reqs: ["count>0"],
    server_errors: [k6Expression(sla, "error_rate", "rollback", "rate")!],
    http_req_duration: [k6Expression(sla, "latency_p95_ms", "rollback", "p(95)")!],
    cache_hits: [k6Expression(sla, "cache_hit_ratio", "rollback", "rate")!],
  });
  assertEquals(
    Object.keys(k6Thresholds(sla, resolveWorkload("stress"))).sort(),
    ["http_reqs", "server_errors"],
  );
  assertEquals(
    Object.keys(k6Thresholds(sla, resolveWorkload("cache-low"))).sort(),
    ["http_req_duration", "http_reqs", "server_errors"],
  );
});

Deno.test("k6Thresholds() adds per-level, per-path latency sub-metrics for the sweep", () => {
  const thresholds = k6Thresholds(sla, resolveWorkload("sweep"));
  const latency = k6Expression(sla, "latency_p95_ms", "rollback", "p(95)")!;
  for (const level of ["1", "5", "10", "50"]) {
    for (
      const metric of ["http_req_duration", "search_duration_legacy", "search_duration_optimized"]
    ) {
      assertEquals(thresholds[`${metric}{concurrency:${level}}`], [latency]);
    }
    // Each level and each path must have served requests: a p95 of no samples would pass.
    for (const counter of ["http_reqs", "search_legacy", "search_optimized"]) {
      assertEquals(thresholds[`${counter}{concurrency:${level}}`], ["count>0"]);
    }
  }
});

Deno.test("k6Thresholds() at the warning level uses warning levels and skips unset ones", () => {
  const thresholds = k6Thresholds(sla, resolveWorkload("baseline"), "warning");
  assertEquals(thresholds.http_req_duration, [
    k6Expression(sla, "latency_p95_ms", "warning", "p(95)")!,
  ]);
  const critical = k6Thresholds(sla, resolveWorkload("baseline"), "critical");
  assertEquals(
    "cache_hits" in critical,
    sla.metrics.cache_hit_ratio.critical !== null,
    "cache_hit_ratio has no critical level, so no threshold",
  );
  assertThrows(() => thresholdExpression(sla, "nope", "rollback", "rate"), RangeError);
});

Deno.test("k6 threshold expressions pass exactly where evaluate() does not roll back", () => {
  for (const name of metricNames) {
    const spec = sla.metrics[name];
    const expression = thresholdExpression(sla, name, "rollback", "value");
    if (spec.rollback === null) {
      assertEquals(expression, null);
      continue;
    }
    const worse = spec.better === "lower" ? 1e-9 : -1e-9;
    for (const value of [spec.rollback, spec.rollback + worse, spec.rollback - worse]) {
      const holds = thresholdHolds(expression!, () => value);
      assertEquals(holds, evaluate(sla, name, value) !== "rollback", `${name} at ${value}`);
    }
    assert(expression === k6Expression(sla, name, "rollback", "value"));
  }
});
