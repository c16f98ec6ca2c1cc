/**
 * Queries and round trips counted by the database side — the latency proxy reading the wire
 * protocol — not by our code: the legacy path costs three queries per request, and a wave of 50
 * concurrent optimized requests costs one statement and one round trip in steady state, on a
 * direct connection (prepared statements) and under the pooler's rules (none). Requests go
 * through the real handler with its real dependencies (flag cache, coalescer, metrics) on a pool
 * that reaches Postgres only through the proxy.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startLatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { popularRoutes } from "../../scripts/seed/seed.ts";
import { searchConfig } from "../../supabase/functions/flight-search/config.ts";
import { buildDeps } from "../../supabase/functions/flight-search/deps.ts";
import { handler } from "../../supabase/functions/flight-search/handler.ts";
import { searchQueryCount, searchRoundTripCount, testIsolatePool } from "../support/search.ts";
import type { ConnectionMode } from "../../supabase/functions/_shared/connection_mode.ts";
import { searchBatch } from "../../supabase/functions/flight-search/batch_search.ts";
import { validateSearch } from "../../supabase/functions/flight-search/request.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function setup(mode: ConnectionMode = "pooler") {
  const db = await testDatabase();
  const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 1 });
  const sql = testIsolatePool(proxy.urlFor(db.url), { mode });
  // Metrics would flush after an hour: nothing but searches (and the first flag read) runs here.
  const deps = buildDeps({ sql, config: searchConfig({ METRICS_FLUSH_INTERVAL_MS: "3600000" }) });
  // Distinct searches that all find flights: one route-date each way, several sort orders.
  const routes = await popularRoutes(db.sql, 25);
  const urls = routes.flatMap((r) =>
    ["price", "departure"].map((sort) =>
      `http://127.0.0.1/flight-search?origin=${r.origin}&destination=${r.destination}&departure_date=${r.departureDate}&sort=${sort}`
    )
  );
  const setFlag = (enabled: boolean, percentage: number) =>
    db.sql`update public.feature_flags set enabled = ${enabled},
             traffic_percentage = ${percentage}, reason = 'test'
           where flag_key = 'flight_search_optimization'`;
  // Open all three connections now: each new one runs postgres.js's own type lookup first.
  const warm = () => Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.05)`));
  const close = async () => {
    await sql.end({ timeout: 1 });
    await proxy.close();
    await db.drop();
  };
  return { db, proxy, sql, deps, urls, setFlag, warm, close };
}

Deno.test("database-counted queries: the legacy path costs 3 per request", opts, async () => {
  const { proxy, deps, urls, setFlag, warm, close } = await setup();
  try {
    await setFlag(false, 0);
    await (await handler(new Request(urls[0]!), deps)).body?.cancel(); // first flag read
    await warm();
    proxy.reset();
    const responses = await Promise.all(
      urls.slice(0, 10).map((u) => handler(new Request(u), deps)),
    );
    for (const res of responses) {
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("x-search-path"), "legacy");
      assert((await res.json()).outbound.flights.length > 0);
    }
    const stats = proxy.stats();
    assertEquals(stats.queries, 30, JSON.stringify(stats.byStatement));
    assert(
      !Object.keys(stats.byStatement).some((t) => t.includes("feature_flags")),
      "no flag query per request in steady state",
    );
  } finally {
    await close();
  }
});

for (const mode of ["direct", "pooler"] as const) {
  Deno.test(
    `database-counted: a wave of 50 optimized requests is 1 statement, 1 round trip (${mode})`,
    opts,
    async () => {
      const { proxy, sql, deps, urls, setFlag, warm, close } = await setup(mode);
      try {
        await setFlag(true, 100);
        await (await handler(new Request(urls[0]!), deps)).body?.cancel(); // first flag read
        // Steady state: each of the pool's three connections has run the wave statement once (on
        // a direct connection that prepares it there). postgres.js sends nothing else on a
        // connection that waits for a statement's description, so three at once use all three.
        await warm();
        const search = validateSearch({
          origin: "LHR",
          destination: "JFK",
          departure_date: "2026-12-01",
        });
        await Promise.all([1, 2, 3].map(() => searchBatch(sql, [search])));
        proxy.reset();
        const fifty = urls.slice(0, 50);
        assertEquals(fifty.length, 50);
        const responses = await Promise.all(fifty.map((u) => handler(new Request(u), deps)));
        for (const res of responses) {
          assertEquals(res.status, 200);
          assertEquals(res.headers.get("x-search-path"), "optimized");
          assert((await res.json()).outbound.flights.length > 0);
        }
        const stats = proxy.stats();
        const detail = JSON.stringify({ q: stats.byStatement, rt: stats.roundTripsByStatement });
        assertEquals(searchQueryCount(proxy), 1, `one statement: ${detail}`);
        assertEquals(stats.queries, 1, `nothing else either: ${detail}`);
        assertEquals(searchRoundTripCount(proxy), 1, `one round trip: ${detail}`);
        assertEquals(stats.roundTrips, 1, detail);
        assertEquals(stats.namedParses, 0, "no statement prepared in steady state");
        const batches = deps.metrics.pendingRows().find((r) => r.path === "optimized");
        assertEquals(batches?.db_batches, 2, "the first request's batch and one batch of 50");
        if (mode === "direct") assert(sql.options.prepare, "direct mode prepares statements");
      } finally {
        await close();
      }
    },
  );
}

Deno.test(
  "database-counted: the pooler mode never prepares a named statement",
  opts,
  async () => {
    const { proxy, deps, urls, setFlag, close } = await setup("pooler");
    try {
      await setFlag(true, 100);
      proxy.reset();
      for (let i = 0; i < 3; i++) {
        const wave = urls.slice(i * 10, i * 10 + 10).map((u) => handler(new Request(u), deps));
        for (const res of await Promise.all(wave)) assertEquals(res.status, 200);
      }
      assert(searchQueryCount(proxy) >= 3, JSON.stringify(proxy.stats().byStatement));
      assertEquals(proxy.stats().namedParses, 0);
    } finally {
      await close();
    }
  },
);

Deno.test(
  "database-counted: the forced dataloader peer, imported on first use, answers as legacy does",
  opts,
  async () => {
    const { sql, deps, urls, setFlag, close } = await setup();
    try {
      await setFlag(false, 0);
      const peer = buildDeps({
        sql,
        config: searchConfig({
          FLIGHT_SEARCH_FORCE_PATH: "dataloader",
          FLIGHT_SEARCH_RESULT_CACHE: "off",
          METRICS_FLUSH_INTERVAL_MS: "3600000",
        }),
      });
      for (const url of urls.slice(0, 3)) {
        const [legacy, loaded] = await Promise.all(
          [deps, peer].map((d) => handler(new Request(url), d)),
        );
        assertEquals([legacy!.status, loaded!.status], [200, 200]);
        assertEquals(loaded!.headers.get("x-search-path"), "dataloader");
        assertEquals(await loaded!.json(), await legacy!.json());
      }
      const counted = peer.metrics.pendingRows().find((r) => r.path === "none");
      assertEquals(counted?.db_queries, 3, "one statement per dataloader batch");
    } finally {
      await close();
    }
  },
);
