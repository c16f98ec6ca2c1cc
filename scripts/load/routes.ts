/**
 * Where a load test's routes come from, for the built-in driver and `deno task load:routes`
 * (which writes the ROUTES_FILE the k6 scripts read): the database (the busiest route-dates with
 * bookable fares), a routes file, or flights read through the project's REST API.
 *
 * @module
 */
import { z } from "zod";
import postgres from "postgres";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import type { Route } from "./workloads/routes.js";
import { parseRoutes, restFlightsPath, routesFromFlights } from "./workloads/routes.js";

export type { Route };

/**
 * How many route-dates a load test searches unless told otherwise: with the other search
 * parameters, 200 give 720,000 distinct searches, so long runs seldom wrap around.
 */
export const defaultRouteLimit = 200;

/** zod schema of one route (extra fields, such as `popularRoutes()`'s `flights`, are dropped). */
export const routeSchema = z.object({
  origin: z.string().regex(/^[A-Z]{3}$/, "expected an IATA airport code"),
  destination: z.string().regex(/^[A-Z]{3}$/, "expected an IATA airport code"),
  departureDate: z.iso.date(),
});

/** Thrown when no routes can be had; the message says which sources were tried. */
export class RoutesError extends Error {
  override name = "RoutesError";
}

/**
 * The `limit` route-dates with the most scheduled flights that have fares, busiest first.
 */
export async function routesFromDatabase(sql: Sql, limit = defaultRouteLimit): Promise<Route[]> {
  const rows = await sql<{ origin: string; destination: string; departure_date: string }[]>`
    select f.origin, f.destination, to_char(f.departure_date, 'YYYY-MM-DD') as departure_date
    from public.flights f
    where f.status = 'scheduled'
      and exists (select 1 from public.fares fa where fa.flight_id = f.id)
    group by f.origin, f.destination, f.departure_date
    order by count(*) desc, f.origin, f.destination, f.departure_date
    limit ${limit}`;
  if (rows.length === 0) throw new RoutesError("the database has no scheduled flights with fares");
  return rows.map((r) => ({
    origin: r.origin,
    destination: r.destination,
    departureDate: r.departure_date,
  }));
}

/**
 * Routes derived from flights read through PostgREST (`/rest/v1/flights`, readable by anon under
 * RLS) — what the k6 scripts do when given no routes. A hosted project has it; the local stack
 * serves functions only.
 *
 * @throws {RoutesError} when the API does not answer 200 with flight rows.
 */
export async function routesFromRest(
  baseUrl: string,
  anonKey: string,
  { fetch: fetchFn = fetch, limit = defaultRouteLimit } = {},
): Promise<Route[]> {
  const url = baseUrl.replace(/\/+$/, "") + restFlightsPath;
  const res = await fetchFn(url, {
    headers: { authorization: `Bearer ${anonKey}`, apikey: anonKey },
  });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new RoutesError(`${url.split("?")[0]} answered ${res.status}`);
  }
  const rows = z.array(z.object({
    origin: z.string(),
    destination: z.string(),
    departure_date: z.string(),
  })).safeParse(await res.json());
  if (!rows.success) throw new RoutesError(`${url.split("?")[0]} did not answer flight rows`);
  try {
    return parseRoutes(routesFromFlights(rows.data, limit), "flights from the REST API");
  } catch (error) {
    throw new RoutesError((error as Error).message);
  }
}

/** Reads a routes file (the format ./workloads/routes.js accepts). @throws {RoutesError} */
export async function readRoutesFile(path: string): Promise<Route[]> {
  try {
    return parseRoutes(JSON.parse(await Deno.readTextFile(path)), path);
  } catch (error) {
    throw new RoutesError(
      error instanceof TypeError ? error.message : `${path}: ${(error as Error).message}`,
    );
  }
}

/** Writes a routes file for ROUTES_FILE. */
export async function writeRoutesFile(path: string, routes: readonly Route[]): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify({ routes }, null, 2) + "\n");
}

/** Where {@link findRoutes} may take routes from, in this order. */
export interface RouteSources {
  routes?: readonly Route[] | undefined;
  routesFile?: string | undefined;
  /** A Postgres URL to read the busiest routes from. */
  dbUrl?: string | undefined;
  /** The project's API, whose REST API lists flights (a hosted project; not the local stack). */
  baseUrl: string;
  anonKey: string;
}

/**
 * The routes a load test searches, from the first source given: the routes themselves, a routes
 * file, the database, else flights read through the REST API. The built-in driver and phase 3's
 * k6 tester both call this, so both drivers search the same routes.
 *
 * @throws {RoutesError} when no routes could be had.
 */
export async function findRoutes(
  sources: RouteSources,
  log: (line: string) => void = () => {},
): Promise<Route[]> {
  if (sources.routes) return [...sources.routes];
  if (sources.routesFile) return await readRoutesFile(sources.routesFile);
  if (sources.dbUrl) {
    const sql = postgres(sources.dbUrl, { max: 1, prepare: false, onnotice: () => {} });
    try {
      return await routesFromDatabase(sql);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  try {
    const routes = await routesFromRest(sources.baseUrl, sources.anonKey);
    log(`routes: ${routes.length} derived from flights read through the REST API`);
    return routes;
  } catch (error) {
    throw new RoutesError(
      `no routes given (routes, routesFile or dbUrl) and the REST API gave none: ` +
        `${(error as Error).message}`,
    );
  }
}
