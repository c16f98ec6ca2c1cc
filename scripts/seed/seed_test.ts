import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { testDatabase } from "../../tests/support/database.ts";
import { loadDatabaseTimeZoneRules } from "./database_time_zone_rules.ts";
import { parseSeedOptions } from "./options.ts";
import { referenceData } from "./reference_data.ts";
import { popularRoutes, seedDatabase, SeedError } from "./seed.ts";
import { planDays, plannedFlights, planSeed } from "./seed_plan.ts";
import { departureWindow } from "./timetable.ts";

const options = { flights: 1500, days: 5, seed: 11 };

Deno.test({
  name: "seedDatabase() loads a migrated database the schema accepts, as planned",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await testDatabase({ seeded: false });
    const { sql } = db;
    try {
      const catalog = () =>
        sql`
          select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
          where conrelid in ('public.flights'::regclass, 'public.fares'::regclass)
          union all
          select indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index
          where indrelid in ('public.flights'::regclass, 'public.fares'::regclass)
          order by 1, 2`.then((rows) => [...rows]);
      const before = await catalog();

      const summary = await seedDatabase(sql, options);
      const data = referenceData();
      assertEquals(summary.counts.airports, data.airports.length);
      assertEquals(summary.counts.airlines, data.airlines.length);
      assertEquals(summary.counts.flights, options.flights);
      const [{ fares } = { fares: -1 }] = await sql<{ fares: number }[]>`
        select count(*)::int as fares from public.fares`;
      assertEquals(summary.counts.fares, fares);
      assert(fares >= 2 * options.flights, `${fares} fares`);
      assertEquals(summary.dateRange, { from: "2027-01-04", to: "2027-01-08" });
      // Indexes and constraints dropped for the load are back exactly as the migrations made them.
      assertEquals(await catalog(), before);

      // The trigger's local date equals the plan's, flight by flight, with the server's tz rules.
      const opts = parseSeedOptions(options);
      const rules = await loadDatabaseTimeZoneRules(sql, {
        zones: [...new Set(data.airports.map((a) => a.timeZone))],
        ...planDays(opts),
        window: departureWindow,
      });
      const planned = [...plannedFlights(planSeed(opts, { data, rules }))];
      const rows = await sql<{ id: string; departure_date: string; local_time: string }[]>`
        select f.id, f.departure_date::text,
               to_char(f.departure_at at time zone a.time_zone, 'HH24:MI') as local_time
        from public.flights f join public.airports a on a.iata_code = f.origin order by f.id`;
      assertEquals(rows.length, planned.length);
      rows.forEach((row, i) => {
        const plan = planned[i];
        assertEquals(Number(row.id), plan?.id);
        assertEquals(row.departure_date, plan?.departureDate, `flight ${row.id}`);
        const minute = plan?.service.departureMinute ?? -1;
        const hhmm = `${String(Math.floor(minute / 60)).padStart(2, "0")}:${
          String(minute % 60).padStart(2, "0")
        }`;
        assertEquals(row.local_time, hhmm, `local departure time of flight ${row.id}`);
      });

      const [fareShape] = await sql<{ without_economy: number; min: number; max: number }[]>`
        select count(*) filter (where economy = 0)::int as without_economy,
               min(n)::int as min, max(n)::int as max
        from (
          select f.id, count(x.id) as n, count(x.id) filter (where x.cabin = 'economy') as economy
          from public.flights f left join public.fares x on x.flight_id = f.id group by f.id
        ) per_flight`;
      assertEquals(fareShape?.without_economy, 0);
      assert((fareShape?.min ?? 0) >= 2 && (fareShape?.max ?? 99) <= 6, JSON.stringify(fareShape));

      // Later inserts get fresh ids: the identity sequences were moved past the supplied ids.
      const [inserted] = await sql<{ id: string }[]>`
        insert into public.flights (airline_code, flight_number, origin, destination, departure_at,
                                    arrival_at)
        values ('BA', 9999, 'LHR', 'JFK', '2027-03-01T10:00:00Z', '2027-03-01T18:00:00Z')
        returning id`;
      assertEquals(Number(inserted?.id), options.flights + 1);

      // Statistics and the visibility map are set, so index-only scans work right away.
      const [stats] = await sql<{ relpages: number; relallvisible: number; analyzed: boolean }[]>`
        select c.relpages, c.relallvisible, s.last_analyze is not null as analyzed
        from pg_class c join pg_stat_user_tables s on s.relid = c.oid
        where c.oid = 'public.flights'::regclass`;
      assert(stats?.analyzed, "flights not analyzed");
      assert((stats?.relallvisible ?? 0) >= (stats?.relpages ?? 1) - 1, JSON.stringify(stats));

      const top = await popularRoutes(sql, 3);
      assertEquals(top.length, 3);
      assertEquals(summary.popularRoutes.slice(0, 3), top);
      assert(top[0] !== undefined && top[0].flights >= 2, JSON.stringify(top));
      const [{ n } = { n: -1 }] = await sql<{ n: number }[]>`
        select count(*)::int as n from public.flights
        where origin = ${top[0].origin} and destination = ${top[0].destination}
          and departure_date = ${top[0].departureDate}`;
      assertEquals(n, top[0].flights);
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name: "seedDatabase() refuses non-empty tables unless replace, then reloads identical rows",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await testDatabase({ seeded: false });
    const { sql } = db;
    const fingerprint = async () => {
      const [row] = await sql<{ flights: string; fares: string }[]>`
        select (select md5(string_agg(f::text, ',' order by f.id)) from public.flights f) as flights,
               (select md5(string_agg(x::text, ',' order by x.id)) from public.fares x) as fares`;
      return row;
    };
    try {
      const small = { flights: 300, days: 3 };
      await seedDatabase(sql, small);
      const first = await fingerprint();
      await assertRejects(() => seedDatabase(sql, small), SeedError, "public.flights");
      assertEquals(await fingerprint(), first, "a refused seed changed the data");
      const again = await seedDatabase(sql, { ...small, replace: true });
      assertEquals(again.counts.flights, small.flights);
      assertEquals(await fingerprint(), first, "the same options loaded different rows");
    } finally {
      await db.drop();
    }
  },
});
