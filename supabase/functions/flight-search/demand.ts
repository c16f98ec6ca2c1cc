/**
 * Recent demand, read back from the database for cache warming: the most searched routes
 * (`monitoring.top_routes()`, over the route counts the isolates flush with their metrics) and
 * the next dates each of them has flights on.
 *
 * @module
 */
import type { Sql } from "../_shared/db.ts";
import { textArray } from "../_shared/pg_array.ts";

/** A route and how often it was searched in the window. */
export interface RouteDemand {
  origin: string;
  destination: string;
  searches: number;
}

/** A route on a date with flights. */
export interface RouteDate {
  origin: string;
  destination: string;
  /** `YYYY-MM-DD`. */
  departureDate: string;
}

/** The `top` most searched routes of `functionName` over the last `windowMinutes`. One query. */
export async function topRoutes(
  sql: Sql,
  functionName: string,
  windowMinutes: number,
  top: number,
): Promise<RouteDemand[]> {
  const rows = await sql<{ origin: string; destination: string; searches: string }[]>`
    select origin, destination, searches
      from monitoring.top_routes(${functionName},
                                 now() - make_interval(mins => ${windowMinutes}::int),
                                 ${top}::int)`;
  return rows.map((r) => ({
    origin: r.origin,
    destination: r.destination,
    searches: Number(r.searches),
  }));
}

/**
 * Up to `perRoute` dates on or after `fromDate` on which each route has a flight that is not
 * cancelled, earliest first, in the order of `routes`. One query for all routes.
 */
export async function nextDepartureDates(
  sql: Sql,
  routes: readonly { origin: string; destination: string }[],
  fromDate: string,
  perRoute: number,
): Promise<RouteDate[]> {
  if (routes.length === 0) return [];
  const rows = await sql<{ origin: string; destination: string; departure_date: string }[]>`
    select r.origin, r.destination, d.departure_date::text as departure_date
      from unnest(${textArray(sql, routes.map((r) => r.origin))}::text[],
                  ${textArray(sql, routes.map((r) => r.destination))}::text[])
           with ordinality as r (origin, destination, n)
     cross join lateral (
       select distinct f.departure_date
         from public.flights f
        where f.origin = r.origin and f.destination = r.destination
          and f.departure_date >= ${fromDate}::date
          and f.status <> 'cancelled'
        order by f.departure_date
        limit ${perRoute}::int) d
     order by r.n, d.departure_date`;
  return rows.map((r) => ({
    origin: r.origin,
    destination: r.destination,
    departureDate: r.departure_date,
  }));
}
