import { assertEquals } from "../../../tests/support/assert.ts";
import { testDatabase } from "../../../tests/support/database.ts";
import { writeBreakers } from "./breaker_store.ts";
import type { BreakerSnapshot } from "./circuit_breaker.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

const snapshot = (state: BreakerSnapshot["state"], opens: number): BreakerSnapshot => ({
  dependency: "database",
  state,
  consecutiveFailures: state === "open" ? 5 : 0,
  opens,
  rejected: opens * 10,
  lastOpenedAt: opens > 0 ? Date.UTC(2026, 11, 7, 12) : null,
});

Deno.test(
  "writeBreakers() upserts one row per isolate and dependency; the summary counts open isolates",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      await writeBreakers(db.sql, "flight-search", "iso-a", [snapshot("open", 1)]);
      await writeBreakers(db.sql, "flight-search", "iso-b", [snapshot("closed", 0)]);
      await writeBreakers(db.sql, "flight-search", "iso-a", [snapshot("open", 2)]);
      const rows = await db.sql`
      select isolate_id, state, opens from monitoring.circuit_breakers order by isolate_id`;
      assertEquals(rows.map((r) => [r.isolate_id, r.state, Number(r.opens)]), [
        ["iso-a", "open", 2],
        ["iso-b", "closed", 0],
      ]);
      const [summary] = await db.sql`select * from monitoring.circuit_breaker_summary`;
      assertEquals(
        [summary!.dependency, Number(summary!.open_isolates), Number(summary!.isolates)],
        ["database", 1, 2],
      );
      assertEquals([Number(summary!.opens), Number(summary!.rejected)], [2, 20]);
    } finally {
      await db.drop();
    }
  },
);
