import { assert, assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { escapeLabelValue, formatValue, metricNames, renderExposition } from "./exposition.ts";
import type { MetricsSnapshot, PathTotals } from "./snapshot.ts";

const bounds = [1, 5, 25, 100];

function totals(overrides: Partial<PathTotals> = {}): PathTotals {
  return {
    function: "flight-search",
    path: "optimized",
    requests: 10,
    serverErrors: 1,
    clientErrors: 2,
    fallbacks: 3,
    latencySumMs: 1234,
    latencyBuckets: [1, 2, 3, 0, 4],
    dbQueries: 30,
    dbBatches: 5,
    cacheL1Hits: 6,
    cacheL1Misses: 4,
    cacheL2Hits: 1,
    cacheL2Misses: 3,
    cacheLookups: 10,
    kmsRequests: 8,
    kmsNewConnections: 1,
    kmsDataKeyHits: 97,
    kmsDataKeyMisses: 3,
    lastFlushedAt: new Date("2026-11-22T10:00:00Z"),
    ...overrides,
  };
}

const snapshot = (t: PathTotals[], memory: MetricsSnapshot["memory"] = []): MetricsSnapshot => ({
  latencyBoundsMs: bounds,
  totals: t,
  memory,
});

const samples = (text: string) => text.split("\n").filter((l) => l && !l.startsWith("#"));

Deno.test("renderExposition() writes cumulative buckets in seconds ending at +Inf = _count", () => {
  const text = renderExposition(snapshot([totals()]));
  const name = metricNames.requestDuration;
  const labels = 'function="flight-search",path="optimized"';
  const lines = samples(text).filter((l) => l.startsWith(name));
  assertEquals(lines, [
    `${name}_bucket{${labels},le="0.001"} 1`,
    `${name}_bucket{${labels},le="0.005"} 3`,
    `${name}_bucket{${labels},le="0.025"} 6`,
    `${name}_bucket{${labels},le="0.1"} 6`,
    `${name}_bucket{${labels},le="+Inf"} 10`,
    `${name}_sum{${labels}} 1.234`,
    `${name}_count{${labels}} 10`,
  ]);
});

Deno.test("renderExposition() writes every counter with function/path and tier/class labels", () => {
  const t = totals();
  const lines = samples(renderExposition(snapshot([t])));
  const value = (name: string, extra = "") =>
    lines.find((l) => l.startsWith(`${name}{function="flight-search",path="optimized"${extra}}`))
      ?.split(" ")[1];
  assertEquals(value(metricNames.requests), String(t.requests));
  assertEquals(value(metricNames.errors, ',class="server"'), String(t.serverErrors));
  assertEquals(value(metricNames.errors, ',class="client"'), String(t.clientErrors));
  assertEquals(value(metricNames.fallbacks), String(t.fallbacks));
  assertEquals(value(metricNames.dbQueries), String(t.dbQueries));
  assertEquals(value(metricNames.dbBatches), String(t.dbBatches));
  assertEquals(value(metricNames.cacheHits, ',tier="l1"'), String(t.cacheL1Hits));
  assertEquals(value(metricNames.cacheHits, ',tier="l2"'), String(t.cacheL2Hits));
  assertEquals(value(metricNames.cacheMisses, ',tier="l1"'), String(t.cacheL1Misses));
  assertEquals(value(metricNames.cacheMisses, ',tier="l2"'), String(t.cacheL2Misses));
  assertEquals(value(metricNames.cacheLookups), String(t.cacheLookups));
  assertEquals(value(metricNames.kmsRequests), String(t.kmsRequests));
  assertEquals(value(metricNames.kmsNewConnections), String(t.kmsNewConnections));
  assertEquals(value(metricNames.kmsDataKeyHits), String(t.kmsDataKeyHits));
  assertEquals(value(metricNames.kmsDataKeyMisses), String(t.kmsDataKeyMisses));
  assertEquals(value(metricNames.lastFlush), String(t.lastFlushedAt.getTime() / 1000));
});

Deno.test("renderExposition() declares every family once, before its samples, even with no data", () => {
  const text = renderExposition(snapshot([]));
  for (const name of Object.values(metricNames)) {
    assertEquals(text.split("\n").filter((l) => l.startsWith(`# TYPE ${name} `)).length, 1, name);
    assert(text.includes(`# HELP ${name} `), name);
  }
  assertEquals(samples(text), []);
});

Deno.test("renderExposition() writes isolate memory gauges per function and isolate", () => {
  const text = renderExposition(
    snapshot([], [{ function: "flight-search", isolate: "a1", rssBytes: 52428800 }]),
  );
  assertEquals(samples(text), [
    `${metricNames.isolateMemory}{function="flight-search",isolate="a1"} 52428800`,
  ]);
});

Deno.test("renderExposition() refuses a histogram whose length does not fit the bounds", () => {
  assertThrows(
    () => renderExposition(snapshot([totals({ latencyBuckets: [1, 2] })])),
    RangeError,
    "expected 5",
  );
});

Deno.test("escapeLabelValue() escapes backslash, quote and line feed", () => {
  assertEquals(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});

Deno.test("formatValue() writes special floats as Prometheus reads them", () => {
  assertEquals(
    [formatValue(Infinity), formatValue(-Infinity), formatValue(NaN), formatValue(0.25)],
    ["+Inf", "-Inf", "NaN", "0.25"],
  );
});

Deno.test("renderExposition() exposes circuit breakers per function and dependency", () => {
  const text = renderExposition({
    latencyBoundsMs: [1, 10],
    totals: [],
    memory: [],
    breakers: [{
      function: "flight-search",
      dependency: "database",
      openIsolates: 1,
      halfOpenIsolates: 0,
      isolates: 2,
      opens: 3,
      rejected: 40,
    }],
  });
  for (
    const line of [
      'parker_circuit_breaker_open_isolates{function="flight-search",dependency="database"} 1',
      'parker_circuit_breaker_isolates{function="flight-search",dependency="database"} 2',
      'parker_circuit_breaker_opens{function="flight-search",dependency="database"} 3',
      'parker_circuit_breaker_rejected{function="flight-search",dependency="database"} 40',
    ]
  ) {
    assert(text.includes(line), line);
  }
});
