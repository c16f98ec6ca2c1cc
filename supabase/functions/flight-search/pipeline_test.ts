import { assertEquals, assertRejects } from "../../../tests/support/assert.ts";
import type { RolloutFlag } from "../_shared/bucketing.ts";
import { TwoTierCache } from "../_shared/cache.ts";
import { CircuitBreaker } from "../_shared/circuit_breaker.ts";
import { rolloutFlagKey } from "../_shared/rollout_flag.ts";
import { createSearchPipeline, metricPathOf, resultCacheKey, type SearchPath } from "./pipeline.ts";
import { type SearchRequest, validateSearch } from "./request.ts";
import type { SearchResult } from "./result.ts";

const search = validateSearch({ origin: "JFK", destination: "LAX", departure_date: "2026-12-01" });

function resultFor(s: SearchRequest, tag: string): SearchResult {
  return {
    search: s,
    outbound: { origin: s.origin, destination: s.destination, date: tag, flights: [] },
    return: null,
  };
}

/** A pipeline over fake paths; `flag` is what the flag cache answers. */
function pipelineWith(
  options: { flag?: RolloutFlag; optimized?: SearchPath; cache?: TwoTierCache<SearchResult> } = {},
) {
  const calls = { legacy: 0, optimized: 0 };
  const pipeline = createSearchPipeline({
    legacy: (s) => (calls.legacy++, Promise.resolve(resultFor(s, "legacy"))),
    optimized: options.optimized ??
      ((s) => (calls.optimized++, Promise.resolve(resultFor(s, "optimized")))),
    flags: { get: (key) => Promise.resolve(key === rolloutFlagKey ? options.flag : undefined) },
    cache: options.cache,
    metrics: { recordCache: () => {} },
    log: () => {},
  });
  return { pipeline, calls };
}

Deno.test("SearchPipeline.routeRequest() asks for the routing id only when the flag decides", async () => {
  let asked = 0;
  const idOf = () => (asked++, "user-1");
  const pinned = createSearchPipeline({
    legacy: () => Promise.reject(new Error("unused")),
    optimized: () => Promise.reject(new Error("unused")),
    flags: { get: () => Promise.reject(new Error("a pinned path reads no flag")) },
    forcePath: "optimized",
    metrics: { recordCache: () => {} },
  });
  assertEquals([await pinned.routeRequest(idOf), asked], ["optimized", 0]);
  const all = pipelineWith({ flag: { enabled: true, trafficPercentage: 100 } }).pipeline;
  assertEquals([await all.routeRequest(idOf), asked], ["optimized", 1]);
  const off = pipelineWith({ flag: { enabled: false, trafficPercentage: 100 } }).pipeline;
  assertEquals(await off.routeRequest(idOf), "legacy");
  assertEquals(await pipelineWith().pipeline.routeRequest(idOf), "legacy", "unknown flag: off");
});

Deno.test("SearchPipeline.warmPath() warms on the optimized path once the flag is on at all", async () => {
  const at = (flag?: RolloutFlag) => pipelineWith({ flag }).pipeline.warmPath();
  assertEquals(await at({ enabled: true, trafficPercentage: 1 }), "optimized");
  assertEquals(await at({ enabled: true, trafficPercentage: 0 }), "legacy");
  assertEquals(await at({ enabled: false, trafficPercentage: 50 }), "legacy");
  assertEquals(await at(undefined), "legacy");
});

Deno.test("SearchPipeline.warm() caches what a request would, fallback included, and serves it", async () => {
  const cache = new TwoTierCache<SearchResult>({ log: () => {} });
  const failing: SearchPath = () => Promise.reject(new Error("batch exploded"));
  const { pipeline, calls } = pipelineWith({ cache, optimized: failing });
  assertEquals(await pipeline.warm(search, "optimized"), "miss");
  assertEquals(await pipeline.warm(search, "optimized"), "l1");
  assertEquals(calls.legacy, 1, "the failed fast path was answered by legacy, once");
  const answer = await pipeline.search(search, "optimized");
  assertEquals([answer.tier, answer.result.outbound.date], ["l1", "legacy"]);
  await assertRejects(
    () => pipelineWith().pipeline.warm(search, "legacy"),
    Error,
    "no result cache",
  );
});

Deno.test("SearchPipeline.search() loads misses through the database breaker, not hits", async () => {
  const cache = new TwoTierCache<SearchResult>({ log: () => {} });
  const dbBreaker = new CircuitBreaker({ dependency: "database" });
  let runs = 0;
  const breaker = {
    run: <T>(work: () => Promise<T>) => (runs++, dbBreaker.run(work)),
  } as unknown as CircuitBreaker;
  const pipeline = createSearchPipeline({
    legacy: (s) => Promise.resolve(resultFor(s, "legacy")),
    optimized: (s) => Promise.resolve(resultFor(s, "optimized")),
    flags: { get: () => Promise.resolve(undefined) },
    cache,
    dbBreaker: breaker,
    metrics: { recordCache: () => {} },
  });
  assertEquals((await pipeline.search(search, "legacy")).tier, "miss");
  assertEquals((await pipeline.search(search, "legacy")).tier, "l1");
  assertEquals(runs, 1);
});

Deno.test("metricPathOf() counts the benchmark's peer under none", () => {
  assertEquals(
    (["legacy", "optimized", "dataloader"] as const).map(metricPathOf),
    ["legacy", "optimized", "none"],
  );
});

Deno.test("resultCacheKey() names every field of the normalized search", () => {
  const a = validateSearch({ origin: "jfk", destination: "LAX", departure_date: "2026-12-01" });
  assertEquals(resultCacheKey(a), "flight-search:JFK:LAX:2026-12-01:-:1:economy:price:20");
  const b = validateSearch({
    origin: "JFK",
    destination: "LAX",
    departure_date: "2026-12-01",
    return_date: "2026-12-08",
    passengers: 2,
    cabin: "business",
    sort: "duration",
    limit: 5,
  });
  assertEquals(
    resultCacheKey(b),
    "flight-search:JFK:LAX:2026-12-01:2026-12-08:2:business:duration:5",
  );
});
