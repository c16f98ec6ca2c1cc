/**
 * Cache warming end to end, in-process with the real components: searches record demand per
 * route, the metrics flush writes it, `POST /flight-search/cache/warm` (service_role) prefetches
 * the most searched routes' next dates through the request path code into L1 and the real L2
 * (Redis behind the Upstash bridge), and the next real searches of those routes cost no database
 * query — in this isolate (L1) and in a fresh one (L2). `GET /flight-search/stats` reports the
 * same counts. Queries are counted by the database-side proxy.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startTestUpstash } from "../support/redis.ts";
import { apiKeys, defaultJwtSecret } from "../../scripts/local/keys.ts";
import { startLatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { popularRoutes } from "../../scripts/seed/seed.ts";
import { createAuthVerifier } from "../../supabase/functions/_shared/auth.ts";
import { type Clock, systemClock } from "../../supabase/functions/_shared/clock.ts";
import { searchConfig } from "../../supabase/functions/flight-search/config.ts";
import { buildDeps, resultCache } from "../../supabase/functions/flight-search/deps.ts";
import { rolloutFlagKey } from "../../supabase/functions/_shared/rollout_flag.ts";
import { handler } from "../../supabase/functions/flight-search/handler.ts";
import { searchQueryCount, testIsolatePool } from "../support/search.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "cache warm: top routes by recorded demand into L1 + L2; the next real searches cost no query",
  opts,
  async () => {
    const db = await testDatabase();
    const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 0 });
    const upstash = await startTestUpstash();
    const keys = await apiKeys(defaultJwtSecret);
    const verify = createAuthVerifier({ jwtSecret: defaultJwtSecret });
    const pools: Array<ReturnType<typeof testIsolatePool>> = [];
    const env = {
      UPSTASH_REDIS_REST_URL: upstash.bridge.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.bridge.token,
      CACHE_L2_TIMEOUT_MS: "2000",
      CACHE_KEY_PREFIX: `warm-test-${crypto.randomUUID()}`,
      METRICS_FLUSH_INTERVAL_MS: "3600000",
    };
    // The seeded schedule starts on this date: "today" for the warmer is the day before, so the
    // test does not depend on the real date. Monotonic time and timers stay real.
    const [first] = await db.sql<{ day: string }[]>`
      select min(departure_date)::text as day from public.flights`;
    const clock: Clock = {
      ...systemClock,
      wallNow: () => Date.parse(`${first!.day}T00:00:00Z`) - 86_400_000,
    };
    const isolate = async () => {
      const sql = testIsolatePool(proxy.urlFor(db.url));
      pools.push(sql);
      await sql`select 1`;
      const config = searchConfig(env);
      return buildDeps({ sql, config, cache: resultCache(config, env), verify, clock });
    };
    const searchQueries = () => searchQueryCount(proxy);
    type Deps = Awaited<ReturnType<typeof isolate>>;
    const search = async (deps: Deps, query: string) => {
      const before = searchQueries();
      const res = await handler(new Request(`http://127.0.0.1/flight-search?${query}`), deps);
      assertEquals(res.status, 200, query);
      await res.body?.cancel();
      return { tier: res.headers.get("x-cache"), queries: searchQueries() - before };
    };
    const admin = async (
      deps: Deps,
      path: string,
      init: RequestInit = {},
      key = keys.serviceRoleKey,
    ) => {
      const res = await handler(
        new Request(`http://127.0.0.1/functions/v1/flight-search${path}`, {
          ...init,
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        }),
        deps,
      );
      return { status: res.status, body: await res.json() };
    };

    try {
      await db.sql`update public.feature_flags set enabled = true, traffic_percentage = 100,
                   reason = 'cache warm test' where flag_key = ${rolloutFlagKey}`;
      const routes = await popularRoutes(db.sql, 3);
      assertEquals(routes.length, 3);
      const a = await isolate();

      // Demand: route 0 three times, route 1 twice, route 2 once — with two passengers, so these
      // searches' cache entries are not the ones warming makes (defaults: one passenger).
      const demandQuery = (i: number) =>
        `origin=${routes[i]!.origin}&destination=${routes[i]!.destination}&departure_date=${
          routes[i]!.departureDate
        }&passengers=2`;
      for (const [i, times] of [[0, 3], [1, 2], [2, 1]] as const) {
        for (let n = 0; n < times; n++) await search(a, demandQuery(i));
      }
      await a.metrics.flush();
      assertEquals(a.metrics.stats().flushes, 1);

      // What the warmer should pick: the two most searched routes, their next three dates.
      const expected: Array<{ origin: string; destination: string; day: string }> = [];
      for (const route of routes.slice(0, 2)) {
        const days = await db.sql<{ day: string }[]>`
          select distinct departure_date::text as day from public.flights
           where origin = ${route.origin} and destination = ${route.destination}
             and departure_date >= ${first!.day}::date and status <> 'cancelled'
           order by 1 limit 3`;
        for (const { day } of days) expected.push({ ...route, day });
      }
      assert(expected.length >= 2, "the seeded routes fly on several days");

      const forbidden = await admin(a, "/cache/warm", { method: "POST", body: "{}" }, keys.anonKey);
      assertEquals([forbidden.status, forbidden.body.error.code], [403, "forbidden"]);

      const before = searchQueries();
      const warm = await admin(a, "/cache/warm", {
        method: "POST",
        body: JSON.stringify({ top: 2, window_minutes: 5 }),
      });
      assertEquals(warm.status, 200, JSON.stringify(warm.body));
      const { duration_ms: duration, ...report } = warm.body;
      assertEquals(typeof duration, "number");
      assertEquals(report, {
        path: "optimized",
        top: 2,
        window_minutes: 5,
        routes: 2,
        searches: expected.length,
        warmed: expected.length,
        already_cached: 0,
        failed: 0,
      });
      const warmQueries = searchQueries() - before;
      assert(
        warmQueries > 0 && warmQueries <= expected.length,
        `loaded by the search queries: ${warmQueries}`,
      );

      // The next real searches of the warmed routes (default fields) are hits, without a query:
      // in this isolate from L1, in a fresh isolate from L2.
      const b = await isolate();
      for (const { origin, destination, day } of expected) {
        const query = `origin=${origin}&destination=${destination}&departure_date=${day}`;
        assertEquals(await search(a, query), { tier: "l1", queries: 0 }, query);
        assertEquals(await search(b, query), { tier: "l2", queries: 0 }, query);
      }
      // The third route was not in the top two: its default search was not warmed.
      const cold = await search(
        a,
        `origin=${routes[2]!.origin}&destination=${routes[2]!.destination}&departure_date=${
          routes[2]!.departureDate
        }`,
      );
      assertEquals(cold.tier, "miss");

      // Warming again finds everything cached and sends no search query.
      const again = await admin(a, "/cache/warm", { method: "POST", body: '{"top":2}' });
      assertEquals(again.status, 200);
      assertEquals(
        [again.body.warmed, again.body.already_cached, again.body.failed],
        [0, expected.length, 0],
      );

      const stats = await admin(a, "/stats");
      assertEquals(stats.status, 200);
      const n = expected.length;
      // L1 look-ups of isolate a: 6 demand searches (3 distinct), n warmed, n searched, 1 cold,
      // n warmed again.
      assertEquals(stats.body.cache, {
        enabled: true,
        l2_enabled: true,
        l1: { entries: 3 + n + 1, bytes: stats.body.cache.l1.bytes },
        l1_hits: 3 + n + n,
        l1_misses: 3 + n + 1,
        l1_hit_ratio: Math.round(((3 + 2 * n) / (6 + 3 * n + 1)) * 10_000) / 10_000,
        l2_hits: 0,
        l2_misses: 3 + n + 1,
        l2_errors: 0,
        l2_hit_ratio: 0,
        loads_in_flight: 0,
      });
      assert(stats.body.cache.l1.bytes > 0);
      assertEquals(
        [stats.body.flag.known, stats.body.flag.enabled, stats.body.flag.traffic_percentage],
        [true, true, 100],
      );
      assert(stats.body.flag.age_ms >= 0);
      assertEquals(stats.body.pool, { max: 3, legacy_searches_in_flight: 0, batches_in_flight: 0 });
      assertEquals(stats.body.coalescer, { pending: 0, batches_in_flight: 0 });
      assertEquals(stats.body.isolate.id, a.metrics.isolateId);
      assert(stats.body.isolate.memory_rss_bytes > 0);
      assert(stats.body.isolate.uptime_s >= 0);
    } finally {
      for (const sql of pools) await sql.end({ timeout: 1 });
      await upstash.stop();
      await proxy.close();
      await db.drop();
    }
  },
);
