/**
 * The built-in load driver (autocannon) against the real local stack: the shared search mix goes
 * through the JWT-verifying gateway to the flight-search function on Postgres, routes are read
 * from the database the way a local run reads them, and the summary JSON it writes is validated
 * and cross-checked with what the function itself flushed into monitoring.function_metrics.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { runScenario } from "../../scripts/load/driver.ts";
import { parseLoadSummary, slaFigures, thresholdsOk } from "../../scripts/load/summary.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const flagKey = "flight_search_optimization";

Deno.test(
  "load driver: a short baseline against the local stack, summary validated against the database",
  opts,
  async () => {
    const db = await testDatabase();
    const stack = await startStack({
      databaseUrl: db.url,
      port: 0,
      seedFlights: false,
      functions: ["flight-search"],
      env: { FLAG_CACHE_TTL_MS: "200", METRICS_FLUSH_INTERVAL_MS: "300" },
    });
    try {
      await db.sql`update public.feature_flags set enabled = true, traffic_percentage = 50,
                   reason = 'load driver test' where flag_key = ${flagKey}`;
      // Let the function's flag cache see the change before the run starts.
      await new Promise((resolve) => setTimeout(resolve, 600));
      const started = new Date();
      const vus = 4;
      const summary = await runScenario({
        baseUrl: stack.url,
        anonKey: stack.anonKey,
        scenario: "baseline",
        durationS: 3,
        vus,
        // The local stack has no PostgREST: routes come from the database, as `deno task load`
        // reads them from the stack's .local/stack.json.
        dbUrl: stack.dbUrl,
      });
      const out = await Deno.makeTempFile({ suffix: ".json" });
      try {
        await Deno.writeTextFile(out, JSON.stringify(summary));
        parseLoadSummary(JSON.parse(await Deno.readTextFile(out)), out);
      } finally {
        await Deno.remove(out);
      }

      const count = (name: string) => summary.metrics[name]?.values.count ?? 0;
      const answered = count("http_reqs");
      assert(answered >= 20, `only ${answered} requests answered`);
      assertEquals(summary.meta.driver, "autocannon");
      assert((summary.meta.routes ?? 0) > 0, "routes derived from the database");
      // Every answer was a search served by one of the two paths, none failed its checks.
      assertEquals(count("search_legacy") + count("search_optimized"), answered);
      assert(count("search_legacy") > 0 && count("search_optimized") > 0, "both paths at 50%");
      assert(
        summary.root_group!.checks.every((c) => c.fails === 0),
        JSON.stringify(summary.root_group!.checks),
      );
      const figures = slaFigures(summary);
      assertEquals(figures.error_rate, 0);
      assertEquals(thresholdsOk(summary), true);

      // What the function counted: every request the driver saw answered (and at most one per VU
      // still in flight when the run stopped), split by path the same way.
      let rows: { path: string; requests: number; server_errors: number }[] = [];
      const wanted = answered;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        rows = await db.sql<{ path: string; requests: number; server_errors: number }[]>`
          select path, sum(requests)::int as requests, sum(server_errors)::int as server_errors
            from monitoring.function_metrics
           where function_name = 'flight-search' and flushed_at >= ${started}
           group by path order by path`;
        if (rows.reduce((n, r) => n + r.requests, 0) >= wanted) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const byPath = Object.fromEntries(rows.map((r) => [r.path, r]));
      const total = rows.reduce((n, r) => n + r.requests, 0);
      assert(
        total >= answered && total <= answered + vus,
        `database ${total} vs driver ${answered}`,
      );
      assertEquals(rows.reduce((n, r) => n + r.server_errors, 0), 0);
      const legacy = byPath.legacy?.requests ?? 0;
      assert(
        legacy >= count("search_legacy") && legacy <= count("search_legacy") + vus,
        `legacy: database ${legacy} vs driver ${count("search_legacy")}`,
      );
    } finally {
      await stack.stop();
      await db.drop();
    }
  },
);
