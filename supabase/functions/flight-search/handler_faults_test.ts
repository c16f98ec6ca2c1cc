import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { TwoTierCache } from "../_shared/cache.ts";
import { CircuitBreaker } from "../_shared/circuit_breaker.ts";
import { FakeClock } from "../_shared/fake_clock.ts";
import { handler, type SearchDeps } from "./handler.ts";
import { createSearchPipeline, type SearchPipelineOptions } from "./pipeline.ts";
import type { SearchRequest } from "./request.ts";
import type { SearchResult } from "./result.ts";

const search = (date: string) =>
  new Request(`http://127.0.0.1/flight-search?origin=JFK&destination=LAX&departure_date=${date}`);

function resultFor(s: SearchRequest): SearchResult {
  return {
    search: s,
    outbound: { origin: s.origin, destination: s.destination, date: "x", flights: [] },
    return: null,
  };
}

const refused = () => Promise.reject(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }));

/** The handler over a real pipeline of healthy fake paths, `overrides` applied to both. */
function deps(
  overrides: Partial<Omit<SearchPipelineOptions, "metrics">> & Pick<SearchDeps, "clock">,
): SearchDeps {
  return {
    pipeline: createSearchPipeline({
      legacy: (s) => Promise.resolve(resultFor(s)),
      optimized: (s) => Promise.resolve(resultFor(s)),
      flags: { get: () => Promise.resolve(undefined) },
      metrics: { recordCache: () => {} },
      log: () => {},
      ...overrides,
    }),
    metrics: { recordRequest: () => {}, recordRoute: () => {} },
    log: () => {},
    clock: overrides.clock,
  };
}

Deno.test("flight-search handler() answers a refused database 503 database_unavailable", async () => {
  const res = await handler(search("2026-12-01"), deps({ legacy: refused }));
  assertEquals([res.status, res.headers.get("retry-after")], [503, "1"]);
  assertEquals((await res.json()).error.code, "database_unavailable");
});

Deno.test("flight-search handler(): an open database breaker refuses misses and serves hits", async () => {
  const clock = new FakeClock();
  const dbBreaker = new CircuitBreaker({ dependency: "database", failureThreshold: 2, clock });
  const cache = new TwoTierCache<SearchResult>({ log: () => {} });
  let down = false;
  let loads = 0;
  const d = deps({
    cache,
    dbBreaker,
    clock,
    legacy: (s) => (loads++, down ? refused() : Promise.resolve(resultFor(s))),
  });
  assertEquals((await handler(search("2026-12-01"), d)).status, 200);
  down = true;
  for (const date of ["2026-12-02", "2026-12-03"]) {
    assertEquals((await handler(search(date), d)).status, 503);
  }
  assertEquals(dbBreaker.state, "open");
  const loadsBefore = loads;
  const miss = await handler(search("2026-12-04"), d);
  assertEquals(miss.status, 503);
  assertEquals((await miss.json()).error.code, "database_unavailable");
  assert(Number(miss.headers.get("retry-after")) >= 1);
  assertEquals(loads, loadsBefore, "an open breaker does not touch the database");
  const hit = await handler(search("2026-12-01"), d);
  assertEquals([hit.status, hit.headers.get("x-cache")], [200, "l1"]);
});

Deno.test("flight-search handler() ends a hung search at its budget and cancels it", async () => {
  const clock = new FakeClock();
  let signal: AbortSignal | undefined;
  const d = deps({
    clock,
    budgets: { searchMs: 3000, fallbackMinMs: 500 },
    legacy: (_s, budget) => {
      signal = budget.signal;
      return new Promise(() => {});
    },
  });
  let status = 0;
  const pending = handler(search("2026-12-01"), d).then((r) => (status = r.status));
  await clock.tick(2999);
  assertEquals(status, 0);
  await clock.tick(1);
  await pending;
  assertEquals(status, 503);
  assertEquals(signal?.aborted, true);
});

Deno.test("flight-search handler() skips the legacy fallback when too little budget is left", async () => {
  const clock = new FakeClock();
  let legacyCalls = 0;
  const d = deps({
    clock,
    forcePath: "optimized",
    budgets: { searchMs: 3000, fallbackMinMs: 500 },
    optimized: async (_s, budget) => {
      await budget.run(new Promise((r) => clock.setTimeout(() => r(undefined), 2600)));
      return refused();
    },
    legacy: (s) => (legacyCalls++, Promise.resolve(resultFor(s))),
  });
  const pending = handler(search("2026-12-01"), d);
  await clock.tick(2600);
  const res = await pending;
  assertEquals([res.status, legacyCalls], [503, 0]);

  const early = deps({
    clock,
    forcePath: "optimized",
    optimized: refused,
    legacy: (s) => (legacyCalls++, Promise.resolve(resultFor(s))),
  });
  const fallback = await handler(search("2026-12-01"), early);
  assertEquals([fallback.status, fallback.headers.get("x-search-fallback"), legacyCalls], [
    200,
    "optimized",
    1,
  ]);
});
