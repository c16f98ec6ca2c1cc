/**
 * Several isolates of flight-search behind the gateway, as a hosted project runs them: requests
 * are spread round robin, each isolate flushes its metrics under its own id, and each coalesces
 * only the requests it receives — so a wave split over two isolates costs two batches.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startLatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { popularRoutes } from "../../scripts/seed/seed.ts";
import { searchQueryCount } from "../support/search.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface IsolateRow {
  isolate_id: string;
  requests: number;
  db_queries: number;
  db_batches: number;
}

Deno.test(
  "flight-search in 2 isolates: round robin over both, each coalesces on its own",
  opts,
  async () => {
    const db = await testDatabase();
    const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 1 });
    const stack = await startStack({
      databaseUrl: db.url,
      port: 0,
      seedFlights: false,
      functions: ["flight-search"],
      isolates: { "flight-search": 2 },
      kms: false,
      redis: false,
      env: {
        DB_POOLER_URL: proxy.urlFor(db.url),
        FLIGHT_SEARCH_FORCE_PATH: "optimized",
        FLIGHT_SEARCH_RESULT_CACHE: "off",
        METRICS_FLUSH_INTERVAL_MS: "300",
      },
    });
    try {
      const url = `${stack.functionsUrl}/flight-search`;
      const processes = stack.functionProcesses("flight-search");
      assertEquals(processes.length, 2);
      assert(processes[0]!.pid !== processes[1]!.pid, "two processes");

      // The stats route answers for the isolate that serves it: round robin shows both ids.
      const service = { authorization: `Bearer ${stack.serviceRoleKey}` };
      const statsIds: string[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${url}/stats`, { headers: service });
        assertEquals(res.status, 200);
        statsIds.push((await res.json()).isolate.id);
      }
      assertEquals(new Set(statsIds).size, 2, `ids ${statsIds.join(", ")}`);
      assertEquals([statsIds[2], statsIds[3]], [statsIds[0], statsIds[1]], "alternating");

      // Waves of 20 distinct searches, the next when all have answered.
      const routes = await popularRoutes(db.sql, 10);
      const searches = routes.flatMap((r) =>
        ["price", "departure"].map((sort) =>
          `origin=${r.origin}&destination=${r.destination}&departure_date=${r.departureDate}&sort=${sort}`
        )
      );
      assertEquals(searches.length, 20);
      const auth = { authorization: `Bearer ${stack.anonKey}` };
      const waves = 5;
      proxy.reset();
      for (let w = 0; w < waves; w++) {
        const statuses = await Promise.all(searches.map(async (query) => {
          const res = await fetch(`${url}?${query}`, { headers: auth });
          await res.body?.cancel();
          return `${res.status} ${res.headers.get("x-search-path")}`;
        }));
        assertEquals(new Set(statuses), new Set(["200 optimized"]));
      }
      const counted = searchQueryCount(proxy);

      // Each isolate's own rows, once both have flushed every request.
      const total = waves * searches.length;
      let rows: IsolateRow[] = [];
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        rows = await db.sql<IsolateRow[]>`
          select isolate_id, sum(requests)::int as requests, sum(db_queries)::int as db_queries,
                 sum(db_batches)::int as db_batches
            from monitoring.function_metrics
           where function_name = 'flight-search' and path = 'optimized'
           group by isolate_id order by isolate_id`;
        if (rows.reduce((n, r) => n + r.requests, 0) >= total) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const detail = JSON.stringify(rows);
      assertEquals(rows.map((r) => r.isolate_id), [...new Set(statsIds)].sort(), detail);
      // Round robin: an even number of requests before, so exactly half of every wave each.
      assertEquals(rows.map((r) => r.requests), [total / 2, total / 2], detail);
      for (const row of rows) {
        // Coalesced: fewer batches than requests (10 concurrent requests per wave each)…
        assert(row.db_batches >= waves && row.db_batches < row.requests, detail);
        // …and every batch costs the same few statements (3 today; 1 once a wave is one).
        assert(row.db_queries >= row.db_batches && row.db_queries <= 3 * row.db_batches, detail);
      }
      // Batches are per isolate: at least one per isolate per wave, as the database counted.
      const batches = rows.reduce((n, r) => n + r.db_batches, 0);
      assert(batches >= 2 * waves, detail);
      assertEquals(rows.reduce((n, r) => n + r.db_queries, 0), counted, detail);
    } finally {
      await stack.stop();
      await proxy.close();
      await db.drop();
    }
  },
);
