import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { TwoTierCache } from "../_shared/cache.ts";
import type { MetricPath } from "../_shared/metric_row.ts";
import { withFaultInjection } from "./fault_injection.ts";
import type { ForcedPath } from "./config.ts";
import { handler, type SearchDeps } from "./handler.ts";
import { type SearchRequest, validateSearch } from "./request.ts";
import type { SearchResult } from "./result.ts";

function resultFor(search: SearchRequest, tag: string): SearchResult {
  return {
    search,
    outbound: { origin: search.origin, destination: search.destination, date: tag, flights: [] },
    return: null,
  };
}

/** The handler over a faulted pipeline of fake paths, as `deps.ts` wires it for a drill. */
function drill(
  options: { forcePath: ForcedPath; rate: number; random: () => number; cache?: boolean },
) {
  const recorded: Array<{ path: MetricPath; status: number; fallback?: boolean }> = [];
  const logged: string[] = [];
  const calls = { legacy: 0, optimized: 0 };
  const pipeline = withFaultInjection({
    legacy: (s) => (calls.legacy++, Promise.resolve(resultFor(s, "legacy"))),
    optimized: (s) => (calls.optimized++, Promise.resolve(resultFor(s, "optimized"))),
    flags: { get: () => Promise.resolve(undefined) },
    forcePath: options.forcePath,
    cache: options.cache ? new TwoTierCache<SearchResult>({ log: () => {} }) : undefined,
    metrics: { recordCache: () => {} },
    log: (message) => logged.push(message),
  }, options);
  const deps: SearchDeps = {
    pipeline,
    metrics: {
      recordRequest: (path, o) => recorded.push({ path, status: o.status, fallback: o.fallback }),
      recordRoute: () => {},
    },
    log: (message) => logged.push(message),
  };
  return { deps, pipeline, recorded, calls, logged };
}

const get = () =>
  new Request(
    "http://127.0.0.1/flight-search?origin=JFK&destination=LAX&departure_date=2026-12-01",
  );

Deno.test("withFaultInjection() fails the injected share of optimized requests past the cache", async () => {
  // Every third draw is below the rate: requests 1, 4, 7, ... are faulted.
  let draw = 0;
  const { deps, recorded, calls, logged } = drill({
    cache: true,
    forcePath: "optimized",
    rate: 0.1,
    random: () => (draw++ % 3 === 0 ? 0.05 : 0.5),
  });
  const seen: Array<[string | null, string | null, string | null]> = [];
  for (let i = 0; i < 6; i++) {
    const res = await handler(get(), deps);
    assertEquals(res.status, 200);
    seen.push([
      res.headers.get("x-search-path"),
      res.headers.get("x-cache"),
      res.headers.get("x-search-fallback"),
    ]);
    await res.body?.cancel();
  }
  // A faulted request never answers from the cache, even once the search is cached.
  assertEquals(seen, [
    ["legacy", "miss", "optimized"],
    ["optimized", "miss", null],
    ["optimized", "l1", null],
    ["legacy", "miss", "optimized"],
    ["optimized", "l1", null],
    ["optimized", "l1", null],
  ]);
  assertEquals(recorded.filter((r) => r.fallback).length, 2);
  assertEquals(calls, { legacy: 2, optimized: 1 });
  assertEquals(logged, [], "injected faults are announced once per isolate, not per request");
});

Deno.test("withFaultInjection() never injects faults into the legacy path", async () => {
  const { deps, recorded } = drill({ forcePath: "legacy", rate: 1, random: () => 0 });
  const res = await handler(get(), deps);
  assertEquals([res.status, res.headers.get("x-search-fallback")], [200, null]);
  await res.body?.cancel();
  assertEquals(recorded, [{ path: "legacy", status: 200, fallback: false }]);
});

Deno.test("withFaultInjection() leaves cache warming alone and wants a rate in (0, 1]", async () => {
  const { pipeline, calls } = drill({
    forcePath: "optimized",
    rate: 1,
    random: () => 0,
    cache: true,
  });
  const search = { origin: "JFK", destination: "LAX", departure_date: "2026-12-01" };
  assertEquals(await pipeline.warm(validateSearch(search), "optimized"), "miss");
  assertEquals(calls, { legacy: 0, optimized: 1 });
  for (const rate of [0, -0.1, 1.5, Number.NaN]) {
    assertThrows(
      () => drill({ forcePath: "optimized", rate, random: Math.random }),
      RangeError,
      "fault injection rate",
    );
  }
});
