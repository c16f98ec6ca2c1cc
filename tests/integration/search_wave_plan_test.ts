/**
 * The optimized path's one statement per wave reads flights and fares through their indexes
 * only: the plan of the statement `public.search_wave_columns` runs, read back from the catalog
 * (pg_proc.prosrc) with its parameters in place, EXPLAINed on a seeded database both as a generic
 * plan (what PL/pgSQL may cache) and as a custom plan for a real wave of 50 legs.
 *
 * Seeded with the benchmark's 20,000 flights, not the tests' usual 3,000: on 3,000 a hash join
 * over a sequential scan of flights is rightly the cheaper plan for 50 legs; the question is what
 * the plan is at the scale the path is built for.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { seedDatabase } from "../../scripts/seed/seed.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

/** The part of search_wave_columns' row this test reads. */
interface WaveRow {
  flights: { id: string[] | null; origin: string[] | null };
  fares: { flight_id: string[] | null };
  airports: unknown[];
  airlines: unknown[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The statement the function runs, with `$1..$5` for its parameters. */
function waveStatement(prosrc: string): string {
  const match = /return query\s+([\s\S]+?);\s*end;\s*$/i.exec(prosrc);
  assert(match, "search_wave's body is `return query <statement>; end;`");
  return match[1]!
    .replaceAll("p_origins", "$1::text[]")
    .replaceAll("p_destinations", "$2::text[]")
    .replaceAll("p_dates", "$3::date[]")
    .replaceAll("p_cabins", "$4::text[]")
    .replaceAll("p_min_seats", "$5::integer");
}

Deno.test(
  "search_wave_columns' statement scans flights and fares by index only (generic and custom plans)",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      await seedDatabase(db.sql, { flights: 20_000 });
      const [fn] = await db.sql<{ prosrc: string }[]>`
        select prosrc from pg_proc where oid = 'public.search_wave_columns'::regproc`;
      const statement = waveStatement(fn!.prosrc);
      const legs = await db.sql<{ origin: string; destination: string; day: string }[]>`
        select origin, destination, departure_date::text as day from public.flights
         group by 1, 2, 3 order by count(*) desc, 1, 2, 3 limit 50`;
      assertEquals(legs.length, 50, "the seed has 50 route-dates");
      const origins = legs.map((l) => l.origin);
      const destinations = legs.map((l) => l.destination);
      const days = legs.map((l) => l.day);
      const cabins = ["economy", "business"];
      const params = [origins, destinations, days, cabins, 1];
      const plans = {
        generic: await db.sql.unsafe(`explain (generic_plan, format json) ${statement}`),
        custom: await db.sql.unsafe(`explain (format json) ${statement}`, params as never[]),
      };
      for (const [kind, rows] of Object.entries(plans)) {
        const plan = (rows[0]!["QUERY PLAN"] as Array<{ Plan: PlanNode }>)[0]!.Plan;
        const all = nodes(plan);
        const seqScans = all.filter((n) =>
          n["Node Type"] === "Seq Scan" && ["flights", "fares"].includes(n["Relation Name"] ?? "")
        );
        assertEquals(seqScans.length, 0, `${kind} plan: ${JSON.stringify(plan)}`);
        const indexes = new Set(all.map((n) => n["Index Name"]).filter(Boolean));
        assert(indexes.has("flights_route_date_idx"), `${kind}: ${[...indexes]}`);
        assert(indexes.has("fares_flight_cabin_idx"), `${kind}: ${[...indexes]}`);
      }
      // And the function answers the same wave (the statement above is the one it runs).
      const [row] = await db.sql<WaveRow[]>`select * from public.search_wave_columns(
        ${origins}::text[], ${destinations}::text[], ${days}::date[], ${cabins}::text[], 1)`;
      assert((row?.flights.id?.length ?? 0) > 0, "flights in the wave's row");
      assertEquals(row?.flights.origin?.length, row?.flights.id?.length, "one value per column");
      assert((row?.fares.flight_id?.length ?? 0) > 0, "fares in the wave's row");
      assert((row?.airports.length ?? 0) > 0, "airports in the wave's row");
      assert((row?.airlines.length ?? 0) > 0, "airlines in the wave's row");
    } finally {
      await db.drop();
    }
  },
);
