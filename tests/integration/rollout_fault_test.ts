/**
 * A rollback drill with nothing faked: a real local stack whose flight-search isolate fails about
 * 10% of optimized requests (FLIGHT_SEARCH_FAULT_RATE), real traffic from the built-in load
 * driver, and the real rollout CLI (`-e local`) reading the metrics the function flushed. The
 * failures are fallbacks (the legacy path still answers 200), which the analysis counts against
 * the optimized path.
 */
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { localFunctionSettings, startStack } from "../../scripts/local/stack.ts";
import { main } from "../../scripts/rollout/main.ts";
import { loadSla } from "../../scripts/sla/sla.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const flag = "flight_search_optimization";
const faultRate = 0.1;

Deno.test({
  name:
    "rollout -e local rolls back within one analysis interval when the optimized path fails ~10% of real requests",
  ...opts,
  async fn() {
    const sla = await loadSla();
    const rollbackLevel = sla.metrics.error_rate!.rollback!;
    assert(faultRate > rollbackLevel, "the injected fault crosses the rollback level");
    const db = await testDatabase();
    const dir = await Deno.makeTempDir({ prefix: "rollout-fault-" });
    const stack = await startStack({
      databaseUrl: db.url,
      port: 0,
      functions: ["flight-search"],
      redis: false,
    });
    try {
      await stack.restartFunction("flight-search", { FLIGHT_SEARCH_FAULT_RATE: String(faultRate) });
      const lines: string[] = [];
      const interval = 2;
      const code = await main(
        [
          "-e",
          "local",
          "-t",
          "50",
          "--monitor",
          `${interval * 5}s`,
          "--interval",
          `${interval}s`,
          "--threshold",
          "1",
          "-s",
          "--actor",
          "drill@test",
        ],
        { localStack: stack, print: (line) => lines.push(line), reportsDir: dir, env: {} },
      );
      const output = lines.join("\n");
      assertEquals(code, 1, output);

      // The first judged check saw the fault and rolled back at once: no further interval was
      // waited. (Checks before it may be skipped while the driver warms up: too few requests.)
      const checks = output.split("\n").filter((line) => /check \d+: /.test(line));
      assert(checks.length >= 1, output);
      assertStringIncludes(checks.at(-1)!, "FAIL (1/1)");
      for (const earlier of checks.slice(0, -1)) assertStringIncludes(earlier, "SKIPPED");
      const why = output.match(/error_rate (\d\.\d+) > rollback level ([\d.]+)/);
      assert(why, `the log names the metric, its value and the level:\n${output}`);
      const measured = Number(why[1]);
      assertEquals(Number(why[2]), rollbackLevel);
      assert(
        measured > rollbackLevel && measured < faultRate * 2,
        `error_rate ${measured} reflects the injected ${faultRate}`,
      );
      assertStringIncludes(output, "ROLLED BACK");

      const [row] = await db.sql`select enabled, traffic_percentage, reason
        from public.feature_flags where flag_key = ${flag}`;
      assertEquals([row?.enabled, row?.traffic_percentage], [false, 0]);
      assertStringIncludes(row?.reason, "error_rate");
      const [deployment] = await db.sql`select status, to_percentage,
        jsonb_array_length(log -> 'checks') as checks from public.deployments
        where started_by = 'drill@test'`;
      assertEquals({ ...deployment }, {
        status: "rolled_back",
        to_percentage: 0,
        checks: checks.length,
      });

      // Past the functions' flag TTL every search is back on the legacy path. The flag cache
      // serves a stale value while it refreshes, so the first request after a quiet spell (the
      // traffic has stopped) may still see the old flag: it only starts the refresh.
      const flagTtlMs = Number(localFunctionSettings.FLAG_CACHE_TTL_MS);
      const date = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
      const search = async (session: string) => {
        const res = await fetch(
          `${stack.functionsUrl}/flight-search?origin=JFK&destination=LAX&departure_date=${date}`,
          { headers: { authorization: `Bearer ${stack.anonKey}`, "x-session-id": session } },
        );
        const body = await res.text();
        assertEquals(res.status, 200, body);
        return res.headers.get("x-search-path");
      };
      await new Promise((resolve) => setTimeout(resolve, flagTtlMs));
      await search("drill-session-refresh");
      await new Promise((resolve) => setTimeout(resolve, 250));
      const paths = new Set<string | null>();
      for (let i = 0; i < 20; i++) paths.add(await search(`drill-session-${i}`));
      assertEquals([...paths], ["legacy"]);
    } finally {
      await stack.stop();
      await db.drop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
