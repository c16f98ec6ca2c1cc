import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import type { CacheTier } from "../_shared/cache.ts";
import { FakeClock } from "../_shared/fake_clock.ts";
import { createCacheWarmer } from "./cache_warm.ts";
import type { RouteDate, RouteDemand } from "./demand.ts";
import { searchKey, type SearchRequest } from "./request.ts";

const demand: RouteDemand[] = [
  { origin: "JFK", destination: "ORD", searches: 9 },
  { origin: "LAX", destination: "SFO", searches: 4 },
];

function datesFor(routes: RouteDemand[], from: string, perRoute: number): RouteDate[] {
  return routes.flatMap((r) =>
    Array.from({ length: perRoute }, (_, i) => ({
      origin: r.origin,
      destination: r.destination,
      departureDate: `${from.slice(0, 8)}${String(Number(from.slice(8)) + i).padStart(2, "0")}`,
    }))
  );
}

Deno.test("createCacheWarmer() warms each route's next dates with default searches and counts tiers", async () => {
  const clock = new FakeClock();
  const asked: Array<[number, number]> = [];
  const fromDates: string[] = [];
  const searched: Array<[string, string]> = [];
  const tiers: Record<string, CacheTier> = {
    "JFK:ORD:2026-11-22": "l1",
    "LAX:SFO:2026-11-23": "l2",
  };
  let flushed = 0;
  const warm = createCacheWarmer({
    topRoutes: (windowMinutes, top) => (asked.push([windowMinutes, top]), Promise.resolve(demand)),
    nextDates: (routes, from, perRoute) => {
      fromDates.push(from);
      return Promise.resolve(datesFor(routes, from, perRoute));
    },
    choosePath: () => Promise.resolve("optimized"),
    warmOne: (search: SearchRequest, path) => {
      searched.push([searchKey(search), path]);
      if (search.departure_date === "2026-11-24" && search.origin === "LAX") {
        return Promise.reject(new Error("database unavailable"));
      }
      const tier = tiers[`${search.origin}:${search.destination}:${search.departure_date}`];
      return Promise.resolve(tier ?? "miss");
    },
    flush: () => (flushed++, Promise.resolve()),
    clock,
    log: () => {},
  });
  const report = await warm({ top: 2, window_minutes: 30 });
  assertEquals(asked, [[30, 2]]);
  assertEquals(fromDates, ["2026-11-22"], "dates from today (UTC) on");
  assertEquals(searched.map(([key]) => key).sort(), [
    "JFK:ORD:2026-11-22:-:1:economy:price:20",
    "JFK:ORD:2026-11-23:-:1:economy:price:20",
    "JFK:ORD:2026-11-24:-:1:economy:price:20",
    "LAX:SFO:2026-11-22:-:1:economy:price:20",
    "LAX:SFO:2026-11-23:-:1:economy:price:20",
    "LAX:SFO:2026-11-24:-:1:economy:price:20",
  ]);
  assertEquals(new Set(searched.map(([, path]) => path)), new Set(["optimized"]));
  assertEquals(flushed, 1, "answers once L2 writes have settled");
  assertEquals(report, {
    path: "optimized",
    top: 2,
    window_minutes: 30,
    routes: 2,
    searches: 6,
    warmed: 3,
    already_cached: 2,
    failed: 1,
    duration_ms: 0,
  });
});

Deno.test("createCacheWarmer() keeps at most `concurrency` searches loading and logs one failure", async () => {
  let loading = 0;
  let most = 0;
  const logged: string[] = [];
  const warm = createCacheWarmer({
    topRoutes: () => Promise.resolve(demand),
    nextDates: (routes, from) => Promise.resolve(datesFor(routes, from, 5)),
    choosePath: () => Promise.resolve("legacy"),
    warmOne: async (search) => {
      loading++;
      most = Math.max(most, loading);
      for (let i = 0; i < 3; i++) await Promise.resolve(); // let the other workers start
      loading--;
      if (search.origin === "LAX") throw new Error("timeout");
      return "miss";
    },
    concurrency: 3,
    clock: new FakeClock(),
    log: (line) => logged.push(line),
  });
  const report = await warm({ top: 50, window_minutes: 60 });
  assertEquals([report.searches, report.warmed, report.failed], [10, 5, 5]);
  assertEquals(most, 3);
  assertEquals(logged.length, 1, "one line per warm request, not per failure");
});

Deno.test("createCacheWarmer() with no demand warms nothing", async () => {
  const warm = createCacheWarmer({
    topRoutes: () => Promise.resolve([]),
    nextDates: () => Promise.resolve([]),
    choosePath: () => Promise.resolve("legacy"),
    warmOne: () => Promise.reject(new Error("not called")),
    clock: new FakeClock(),
  });
  const report = await warm({ top: 50, window_minutes: 60 });
  assertEquals([report.routes, report.searches, report.warmed, report.failed], [0, 0, 0, 0]);
});

Deno.test("createCacheWarmer() refuses a bad concurrency or dates per route", () => {
  const base = {
    topRoutes: () => Promise.resolve([]),
    nextDates: () => Promise.resolve([]),
    choosePath: () => Promise.resolve("legacy" as const),
    warmOne: () => Promise.resolve("miss" as const),
  };
  assertThrows(() => createCacheWarmer({ ...base, concurrency: 0 }), RangeError, "concurrency");
  assertThrows(
    () => createCacheWarmer({ ...base, datesPerRoute: 1.5 }),
    RangeError,
    "datesPerRoute",
  );
});
