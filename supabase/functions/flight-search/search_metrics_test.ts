import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { FakeClock } from "../_shared/fake_clock.ts";
import type { MetricRow } from "../_shared/metric_row.ts";
import { routeKey, SearchMetrics } from "./search_metrics.ts";

function recorder() {
  const writes: MetricRow[][] = [];
  let fail = false;
  return {
    writes,
    failNext: (value: boolean) => (fail = value),
    write: (rows: readonly MetricRow[]) => {
      if (fail) return Promise.reject(new Error("database unavailable"));
      writes.push(structuredClone([...rows]));
      return Promise.resolve();
    },
  };
}

Deno.test("routeKey() names a route as monitoring.is_route_demand() accepts it", () => {
  assertEquals(routeKey("JFK", "ORD"), "JFK-ORD");
  for (const [origin, destination] of [["jfk", "ORD"], ["JFK", "OR"], ["JFK", "ORD1"]]) {
    assertThrows(() => routeKey(origin!, destination!), RangeError, "IATA");
  }
});

Deno.test("SearchMetrics.recordRoute() counts searches per route in the row, bounded per row", async () => {
  const clock = new FakeClock();
  const { writes, write, failNext } = recorder();
  const metrics = new SearchMetrics({
    functionName: "flight-search",
    write,
    clock,
    maxRoutesPerRow: 2,
    onError: () => {},
  });
  metrics.recordRoute("optimized", "JFK", "ORD");
  metrics.recordRoute("optimized", "JFK", "ORD");
  metrics.recordRoute("optimized", "LAX", "SFO");
  metrics.recordRoute("optimized", "BOS", "MIA"); // a third route: dropped
  metrics.recordRoute("legacy", "BOS", "MIA");
  assertThrows(() => metrics.recordRoute("legacy", "jfk", "ORD"), RangeError, "IATA");
  failNext(true);
  await metrics.flush();
  failNext(false);
  metrics.recordRoute("optimized", "JFK", "ORD");
  metrics.recordRoute("legacy", "BOS", "MIA");
  await metrics.flush();
  const byPath = Object.fromEntries(writes[0]!.map((r) => [r.path, r.route_demand]));
  assertEquals(byPath, {
    optimized: { "JFK-ORD": 3, "LAX-SFO": 1 },
    legacy: { "BOS-MIA": 2 },
  });
  assertEquals(metrics.stats().routesDropped, 1);
  metrics.recordRequest("none", { status: 200, latencyMs: 1 });
  await metrics.flush();
  assertEquals(writes[1]![0]!.route_demand, null, "no search, no demand");
});
