/**
 * The result cache in front of both paths, with the real `@upstash/redis` client as L2 against a
 * real Redis behind the Upstash-REST bridge: two isolates share answers through L2, a repeated
 * search costs no query (counted by the database-side proxy), and L2 going away costs nothing
 * but hits.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startTestUpstash } from "../support/redis.ts";
import { startLatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { popularRoutes } from "../../scripts/seed/seed.ts";
import { searchConfig } from "../../supabase/functions/flight-search/config.ts";
import { buildDeps, resultCache } from "../../supabase/functions/flight-search/deps.ts";
import { rolloutFlagKey } from "../../supabase/functions/_shared/rollout_flag.ts";
import { handler } from "../../supabase/functions/flight-search/handler.ts";
import { searchQueryCount, testIsolatePool } from "../support/search.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "result cache: L1 per isolate, L2 shared through Upstash, queries only on a miss",
  opts,
  async () => {
    const db = await testDatabase();
    const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 0 });
    const upstash = await startTestUpstash();
    const pools: Array<ReturnType<typeof testIsolatePool>> = [];
    const env = {
      UPSTASH_REDIS_REST_URL: upstash.bridge.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.bridge.token,
      CACHE_L2_TIMEOUT_MS: "2000",
      METRICS_FLUSH_INTERVAL_MS: "3600000",
    };
    /** One "isolate": its own pool, flag cache, coalescer and result cache. */
    const isolate = async () => {
      const sql = testIsolatePool(proxy.urlFor(db.url));
      pools.push(sql);
      await sql`select 1`;
      const config = searchConfig(env);
      return buildDeps({ sql, config, cache: resultCache(config, env) });
    };
    const searchQueries = () => searchQueryCount(proxy);
    try {
      await db.sql`update public.feature_flags set enabled = true, traffic_percentage = 100,
                   reason = 'cache test' where flag_key = ${rolloutFlagKey}`;
      const [route] = await popularRoutes(db.sql, 1);
      const url = `http://127.0.0.1/flight-search?origin=${route!.origin}&destination=${
        route!.destination
      }&departure_date=${route!.departureDate}`;
      const ask = async (deps: Awaited<ReturnType<typeof isolate>>) => {
        const before = searchQueries();
        const res = await handler(new Request(url), deps);
        assertEquals(res.status, 200);
        const body = await res.json();
        return { tier: res.headers.get("x-cache"), body, queries: searchQueries() - before };
      };

      const a = await isolate();
      assert(a.stats?.().cache.l2_enabled, "L2 configured from UPSTASH_REDIS_REST_URL/TOKEN");
      const first = await ask(a);
      assertEquals([first.tier, first.queries], ["miss", 1]);
      assert(first.body.outbound.flights.length > 0);
      const again = await ask(a);
      assertEquals([again.tier, again.queries], ["l1", 0]);
      assertEquals(again.body, first.body);

      // The background L2 write lands in the real Redis, through the real client and bridge.
      const client = upstash.client();
      const deadline = Date.now() + 5000;
      while ((await client.keys("*flight-search:*")).length === 0) {
        assert(Date.now() < deadline, "the L2 write never arrived");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const b = await isolate();
      const fromL2 = await ask(b);
      assertEquals([fromL2.tier, fromL2.queries], ["l2", 0]);
      assertEquals(fromL2.body, first.body);
      assertEquals((await ask(b)).tier, "l1");
      const row = b.metrics.pendingRows().find((r) => r.path === "optimized");
      assertEquals([row?.cache_l2_hits, row?.cache_l1_hits, row?.cache_l1_misses], [1, 1, 1]);

      // Without L2 the search still answers: a miss, from the database.
      await upstash.stop();
      const c = await isolate();
      const noL2 = await ask(c);
      assertEquals([noL2.tier, noL2.queries], ["miss", 1]);
      assertEquals(noL2.body, first.body);
    } finally {
      for (const sql of pools) await sql.end({ timeout: 1 });
      await upstash.stop();
      await proxy.close();
      await db.drop();
    }
  },
);
