/**
 * Differential test: the optimized path answers exactly what the legacy path answers, over 1,000
 * random searches run concurrently (so they really share batches) against the seeded database,
 * in both connection modes (prepared statements; literal arguments for the pooler).
 */
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import type { BatchReport } from "../../supabase/functions/_shared/coalescer.ts";
import { legacySearch } from "../../supabase/functions/flight-search/legacy.ts";
import { createOptimizedSearch } from "../../supabase/functions/flight-search/optimized.ts";
import {
  cabins,
  type SearchRequest,
  sortOrders,
  validateSearch,
} from "../../supabase/functions/flight-search/request.ts";
import type { SearchResult } from "../../supabase/functions/flight-search/result.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { testIsolatePool } from "../support/search.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** mulberry32: a small seeded PRNG, so a failure reproduces. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

Deno.test(
  "optimized search ≡ legacy search over 1,000 random concurrent searches",
  opts,
  async () => {
    const db = await testDatabase();
    const seed = Number(Deno.env.get("DIFFERENTIAL_SEED") ?? 20261122);
    const random = prng(seed);
    try {
      // Cancelled and delayed flights exist in real timetables; the seed has none.
      await db.sql`update public.flights set status = 'cancelled' where id % 11 = 0`;
      await db.sql`update public.flights set status = 'delayed' where id % 13 = 0 and id % 11 <> 0`;
      const legs = await db.sql<{ origin: string; destination: string; date: string }[]>`
      select distinct origin, destination, departure_date::text as date from public.flights
       order by 1, 2, 3`;
      const routes = await db.sql<{ origin: string; destination: string }[]>`
      select distinct origin, destination from public.flights order by 1, 2`;
      const airports = (await db.sql<{ code: string }[]>`
      select iata_code as code from public.airports order by 1`).map((r) => r.code);
      const [range] = await db.sql<{ first: string; last: string }[]>`
      select min(departure_date)::text as first, max(departure_date)::text as last
        from public.flights`;
      const span = (Date.parse(range!.last) - Date.parse(range!.first)) / 86_400_000;

      const searches: SearchRequest[] = [];
      while (searches.length < 1000) {
        if (searches.length > 10 && random.next() < 0.05) {
          searches.push(random.pick(searches)); // identical concurrent searches
          continue;
        }
        const kind = random.next();
        let origin: string, destination: string, date: string;
        if (kind < 0.6) {
          ({ origin, destination, date } = random.pick(legs));
        } else if (kind < 0.8) {
          ({ origin, destination } = random.pick(routes));
          date = addDays(range!.first, random.int(-2, span + 2));
        } else {
          origin = random.pick(airports);
          do destination = random.pick(airports); while (destination === origin);
          date = addDays(range!.first, random.int(0, span));
        }
        searches.push(validateSearch({
          origin,
          destination,
          departure_date: date,
          ...(random.next() < 0.4 ? { return_date: addDays(date, random.int(0, 5)) } : {}),
          passengers: random.next() < 0.5 ? 1 : random.int(2, 9),
          cabin: random.next() < 0.5 ? "economy" : random.pick(cabins),
          sort: random.pick(sortOrders),
          limit: random.next() < 0.5 ? random.int(1, 3) : random.int(1, 50),
        }));
      }

      // The optimized path in both connection modes: prepared statements (direct) and the
      // call with literal arguments (pooler).
      const runOptimized = async (sql: Sql) => {
        const reports: BatchReport[] = [];
        const optimized = createOptimizedSearch({ sql, onBatch: (r) => reports.push(r) });
        const results: SearchResult[] = [];
        for (let i = 0; i < searches.length; i += 100) {
          results.push(
            ...await Promise.all(searches.slice(i, i + 100).map((s) => optimized.search(s))),
          );
        }
        return { results, reports };
      };
      const pooled = testIsolatePool(db.url, { mode: "pooler" });
      const direct = await runOptimized(db.sql);
      const pooler = await runOptimized(pooled).finally(() => pooled.end({ timeout: 1 }));
      assert(db.sql.options.prepare && !pooled.options.prepare, "one pool of each mode");
      const slow: SearchResult[] = [];
      for (let i = 0; i < searches.length; i += 10) {
        slow.push(
          ...await Promise.all(searches.slice(i, i + 10).map((s) => legacySearch(db.sql, s))),
        );
      }

      for (const [mode, fast] of [["direct", direct], ["pooler", pooler]] as const) {
        for (let i = 0; i < searches.length; i++) {
          assertEquals(
            fast.results[i],
            slow[i],
            `${mode}: search ${i} (seed ${seed}): ${JSON.stringify(searches[i])}`,
          );
        }
      }

      // The comparison covered what it should have.
      const outbound = slow.map((r) => r.outbound.flights);
      const all = slow.flatMap((r) => [...r.outbound.flights, ...(r.return?.flights ?? [])]);
      const covered = {
        empty: outbound.filter((f) => f.length === 0).length,
        nonEmpty: outbound.filter((f) => f.length > 0).length,
        withReturn: slow.filter((r) => (r.return?.flights.length ?? 0) > 0).length,
        cutByLimit: slow.filter((r) => r.outbound.flights.length === r.search.limit).length,
        delayed: all.filter((f) => f.status === "delayed").length,
        cancelled: all.filter((f) => f.status === "cancelled").length,
        sorts: new Set(slow.filter((r) => r.outbound.flights.length > 1).map((r) => r.search.sort))
          .size,
      };
      assert(covered.empty >= 100, `empty results: ${covered.empty}`);
      assert(covered.nonEmpty >= 300, `non-empty results: ${covered.nonEmpty}`);
      assert(covered.withReturn >= 100, `return legs with flights: ${covered.withReturn}`);
      assert(covered.cutByLimit >= 50, `results cut by limit: ${covered.cutByLimit}`);
      assert(covered.delayed > 0, "delayed flights are answered");
      assertEquals(covered.cancelled, 0, "cancelled flights are never offered");
      assertEquals(covered.sorts, sortOrders.length);
      // And the optimized path really batched: 1,000 searches in far fewer batches.
      for (const { reports } of [direct, pooler]) {
        assertEquals(reports.reduce((n, r) => n + r.size, 0) <= 1000, true);
        assert(reports.length <= 20, `${reports.length} batches for 10 waves of 100`);
        assert(reports.every((r) => r.outcome === "ok"));
      }
    } finally {
      await db.drop();
    }
  },
);
