import { assert } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";

const db = { sanitizeResources: false, sanitizeOps: false };

/** Every index node of a JSON plan, with its type. */
function indexScans(plan: Record<string, unknown>): Array<{ type: string; index: string }> {
  const found: Array<{ type: string; index: string }> = [];
  const walk = (node: Record<string, unknown>) => {
    if (typeof node["Index Name"] === "string") {
      found.push({ type: String(node["Node Type"]), index: node["Index Name"] as string });
    }
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk(plan);
  return found;
}

Deno.test(
  "search queries on seeded data use the indexes the migrations made for them",
  db,
  async () => {
    const t = await testDatabase();
    try {
      const routes = await t.sql<{ origin: string; destination: string; day: string }[]>`
      select origin, destination, departure_date::text as day from public.flights
      group by 1, 2, 3 order by count(*) desc, 1, 2, 3 limit 8`;
      assert(routes.length === 8, "the seed has routes");
      const first = routes[0]!;
      const explain = async (query: string, params: unknown[]) => {
        const [row] = await t.sql.unsafe(`explain (format json) ${query}`, params as never[]);
        return indexScans(
          (row!["QUERY PLAN"] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan,
        );
      };

      const oneRoute = await explain(
        `select id, airline_code, flight_number, departure_at, arrival_at from public.flights
       where origin = $1 and destination = $2 and departure_date = $3::date and status <> 'cancelled'
       order by departure_at`,
        [first.origin, first.destination, first.day],
      );
      assert(oneRoute.some((s) => s.index === "flights_route_date_idx"), JSON.stringify(oneRoute));

      const batched = await explain(
        `select f.id from unnest($1::text[], $2::text[], $3::date[]) as k(origin, destination, day)
       join public.flights f on f.origin = k.origin and f.destination = k.destination and f.departure_date = k.day`,
        [routes.map((r) => r.origin), routes.map((r) => r.destination), routes.map((r) => r.day)],
      );
      assert(batched.some((s) => s.index === "flights_route_date_idx"), JSON.stringify(batched));

      const ids =
        (await t.sql<{ id: string }[]>`select id from public.flights order by id limit 20`).map((
          r,
        ) => r.id);
      const fares = await explain(
        `select flight_id, cabin, fare_class, price_minor, currency, seats_left from public.fares
       where flight_id = any($1::bigint[])`,
        [ids],
      );
      assert(fares.some((s) => s.index === "fares_flight_cabin_idx"), JSON.stringify(fares));
    } finally {
      await t.drop();
    }
  },
);
