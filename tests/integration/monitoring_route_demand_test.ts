/**
 * Route demand (migration 20261122000800): the metrics flush carries searches per route in the
 * same single INSERT, the table's checks refuse malformed counts, and `monitoring.top_routes()`
 * sums them over isolates and flushes within a window, for service_role only.
 */
import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startLatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { createPool } from "../../supabase/functions/_shared/db.ts";
import { FakeClock } from "../../supabase/functions/_shared/fake_clock.ts";
import { metricsWriter } from "../../supabase/functions/_shared/metric_row.ts";
import { SearchMetrics } from "../../supabase/functions/flight-search/search_metrics.ts";

const db = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "route demand: flushed in the one metrics INSERT, summed by monitoring.top_routes()",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    const proxy = startLatencyProxy({ targetPort: Number(new URL(t.url).port), delayMs: 0 });
    const sql = createPool({
      url: proxy.urlFor(t.url),
      max: 1,
      statementTimeoutMs: 5000,
      idleTimeoutS: 5,
      connectTimeoutS: 5,
      applicationName: "route-demand-test",
    });
    try {
      await sql`select 1`;
      const isolate = (isolateId: string) =>
        new SearchMetrics({
          functionName: "flight-search",
          isolateId,
          write: metricsWriter(sql),
          clock: new FakeClock(),
          flushIntervalMs: 3_600_000,
        });
      const a = isolate("iso-a");
      const b = isolate("iso-b");
      const search = (m: SearchMetrics, route: string, times: number) => {
        const [origin, destination] = route.split("-") as [string, string];
        for (let i = 0; i < times; i++) {
          m.recordRequest("optimized", { status: 200, latencyMs: 3 });
          m.recordRoute(i % 2 ? "optimized" : "legacy", origin, destination);
        }
      };
      search(a, "JFK-ORD", 5);
      search(a, "LAX-SFO", 2);
      search(b, "JFK-ORD", 1);
      search(b, "BOS-MIA", 4);
      search(b, "SEA-DEN", 2);
      proxy.reset();
      await a.flush();
      assertEquals(proxy.stats().queries, 1, "one INSERT for both paths' rows and their routes");
      await b.flush();

      const top = (limit: number, sinceMinutes = 60) =>
        t.sql<{ origin: string; destination: string; searches: string }[]>`
          select * from monitoring.top_routes('flight-search',
            now() - make_interval(mins => ${sinceMinutes}), ${limit})`
          .then((rows) => rows.map((r) => [`${r.origin}-${r.destination}`, Number(r.searches)]));
      assertEquals(await top(10), [
        ["JFK-ORD", 6],
        ["BOS-MIA", 4],
        ["LAX-SFO", 2],
        ["SEA-DEN", 2],
      ]);
      assertEquals(await top(2), [["JFK-ORD", 6], ["BOS-MIA", 4]]);
      assertEquals(await top(0), []);
      assertEquals(await top(10, 0), [], "nothing flushed at or after now()");
      assertEquals(
        await t
          .sql`select * from monitoring.top_routes('payment-methods', now() - interval '1 hour', 10)`
          .then((r) => r.length),
        0,
      );

      // Old flushes fall out of the window.
      await t.sql`update monitoring.function_metrics set flushed_at = now() - interval '2 hours'
                  where isolate_id = 'iso-a'`;
      assertEquals(await top(10), [["BOS-MIA", 4], ["SEA-DEN", 2], ["JFK-ORD", 1]]);
      assertEquals(await top(10, 180), [
        ["JFK-ORD", 6],
        ["BOS-MIA", 4],
        ["LAX-SFO", 2],
        ["SEA-DEN", 2],
      ]);
    } finally {
      await sql.end({ timeout: 1 });
      await proxy.close();
      await t.drop();
    }
  },
);

Deno.test(
  "route demand: the table refuses malformed counts; only service_role reads top_routes()",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const insert = (demand: unknown) =>
        t.sql`insert into monitoring.function_metrics
                (bucket_start, function_name, path, isolate_id, latency_buckets,
                 batch_size_buckets, route_demand)
              values (date_trunc('minute', now()), 'flight-search', 'legacy', 'iso-x',
                array_fill(0, array[cardinality(monitoring.latency_bounds_ms()) + 1]),
                array_fill(0, array[cardinality(monitoring.batch_size_bounds()) + 1]),
                ${t.sql.json(demand as never)})`;
      await insert({ "JFK-ORD": 2 });
      for (
        const bad of [{ "jfk-ORD": 1 }, { "JFK-ORD": 0 }, { "JFK-ORD": 1.5 }, { "JFK-ORD": "1" }, [
          1,
        ]]
      ) {
        await assertRejects(() => insert(bad), Error, "check constraint");
      }

      const as = (role: string) =>
        t.sql.begin(async (tx) => {
          await tx.unsafe(`set local role ${role}`);
          return await tx`select * from monitoring.top_routes('flight-search', now() - interval '1 hour', 5)`;
        });
      const rows = await as("service_role");
      assertEquals(rows.map((r) => [r.origin, r.destination, Number(r.searches)]), [[
        "JFK",
        "ORD",
        2,
      ]]);
      for (const role of ["anon", "authenticated"]) {
        const error = await as(role).then(() => undefined, (e: Error) => e);
        assert(error && /permission denied/.test(error.message), `${role}: ${error?.message}`);
      }
    } finally {
      await t.drop();
    }
  },
);
