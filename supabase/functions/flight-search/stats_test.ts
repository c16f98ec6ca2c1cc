import { assertEquals } from "../../../tests/support/assert.ts";
import { TwoTierCache } from "../_shared/cache.ts";
import { isolateStats, type StatsSources } from "./stats.ts";

const sources = (overrides: Partial<StatsSources> = {}): StatsSources => ({
  isolateId: "iso-1",
  uptimeMs: () => 12_345,
  memoryRss: () => 50_000_000,
  flag: {
    key: "flight_search_optimization",
    peek: () => ({
      state: { enabled: true, trafficPercentage: 25 },
      ageMs: 1200.4,
    }),
  },
  coalescer: { pending: 4, inFlightBatches: 1 },
  pool: { max: 3, legacyInFlight: () => 2 },
  breakers: () => [{
    dependency: "database",
    state: "open",
    consecutiveFailures: 5,
    opens: 1,
    rejected: 7,
    lastOpenedAt: Date.UTC(2026, 11, 7, 12),
  }],
  ...overrides,
});

Deno.test("isolateStats() reports flag, cache tiers with ratios, coalescer, pool, uptime, memory", async () => {
  const cache = new TwoTierCache<number>();
  await cache.getOrLoad("a", () => Promise.resolve(1));
  await cache.getOrLoad("a", () => Promise.resolve(1));
  await cache.getOrLoad("a", () => Promise.resolve(1));
  await cache.getOrLoad("b", () => Promise.resolve(2));
  const stats = isolateStats(sources({ cache }));
  assertEquals(stats, {
    isolate: { id: "iso-1", uptime_s: 12.3, memory_rss_bytes: 50_000_000 },
    flag: {
      key: "flight_search_optimization",
      known: true,
      enabled: true,
      traffic_percentage: 25,
      age_ms: 1200,
    },
    cache: {
      enabled: true,
      l2_enabled: false,
      l1: { entries: 2, bytes: 2 },
      l1_hits: 2,
      l1_misses: 2,
      l1_hit_ratio: 0.5,
      l2_hits: 0,
      l2_misses: 0,
      l2_errors: 0,
      l2_hit_ratio: null,
      loads_in_flight: 0,
    },
    coalescer: { pending: 4, batches_in_flight: 1 },
    pool: { max: 3, legacy_searches_in_flight: 2, batches_in_flight: 1 },
    breakers: {
      database: {
        state: "open",
        consecutive_failures: 5,
        opens: 1,
        rejected: 7,
        last_opened_at: "2026-12-07T12:00:00.000Z",
      },
    },
  });
});

Deno.test("isolateStats() before the first flag read and without a cache", () => {
  const stats = isolateStats(
    sources({
      flag: {
        key: "flight_search_optimization",
        peek: () => ({ state: undefined, ageMs: undefined }),
      },
    }),
  );
  assertEquals(stats.flag, {
    key: "flight_search_optimization",
    known: false,
    enabled: false,
    traffic_percentage: 0,
    age_ms: null,
  });
  assertEquals([stats.cache.enabled, stats.cache.l1_hit_ratio, stats.cache.l1.entries], [
    false,
    null,
    0,
  ]);
});
