// @ts-check
/**
 * The routes a load test searches: routes that have flights, so searches do real work. Read from
 * a JSON file (`ROUTES_FILE`, written by `deno task load:routes` from the database), or derived
 * from flight rows read through the project's REST API when no file is given.
 *
 * Plain ES2020, no runtime API.
 *
 * @module
 */

/**
 * A route with flights in the seed: what a search is made of.
 * @typedef {{ origin: string, destination: string, departureDate: string }} Route
 */

const iata = /^[A-Z]{3}$/;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Validates a routes document: an array of `{ origin, destination, departureDate }` (or an
 * object with such an array under `routes`).
 * @param {unknown} value
 * @param {string} [source] Where it came from, for the error message.
 * @returns {Route[]}
 * @throws {TypeError} naming the first bad entry and field.
 */
export function parseRoutes(value, source = "routes") {
  const list = Array.isArray(value) ? value : value !== null && typeof value === "object" &&
      Array.isArray(/** @type {{ routes?: unknown }} */ (value).routes)
    ? /** @type {unknown[]} */ (/** @type {{ routes: unknown[] }} */ (value).routes)
    : null;
  if (list === null) {
    throw new TypeError(`${source}: expected an array of routes or { "routes": [...] }`);
  }
  if (list.length === 0) throw new TypeError(`${source}: no routes`);
  return list.map((entry, i) => {
    const e = /** @type {Record<string, unknown>} */ (entry !== null && typeof entry === "object"
      ? entry
      : {});
    /** @param {string} field @param {RegExp} pattern */
    const field = (field, pattern) => {
      const v = e[field];
      if (typeof v !== "string" || !pattern.test(v)) {
        throw new TypeError(`${source}[${i}].${field}: expected ${pattern}, received ${String(v)}`);
      }
      return v;
    };
    return {
      origin: field("origin", iata),
      destination: field("destination", iata),
      departureDate: field("departureDate", isoDate),
    };
  });
}

/**
 * The most frequent (origin, destination, departure date) combinations among flight rows, most
 * flights first (ties by name, so the order is stable).
 * @param {ReadonlyArray<{ origin: string, destination: string, departure_date: string }>} rows
 * @param {number} limit
 * @returns {Route[]}
 */
export function routesFromFlights(rows, limit) {
  /** @type {Record<string, { route: Route, flights: number }>} */
  const counts = {};
  for (const row of rows) {
    const key = `${row.origin}-${row.destination}-${row.departure_date}`;
    const entry = counts[key];
    if (entry) entry.flights += 1;
    else {
      counts[key] = {
        route: {
          origin: row.origin,
          destination: row.destination,
          departureDate: row.departure_date.slice(0, 10),
        },
        flights: 1,
      };
    }
  }
  return Object.keys(counts)
    .map((key) => /** @type {{ route: Route, flights: number }} */ (counts[key]))
    .sort((a, b) =>
      b.flights - a.flights ||
      (a.route.origin + a.route.destination + a.route.departureDate <
          b.route.origin + b.route.destination + b.route.departureDate
        ? -1
        : 1)
    )
    .slice(0, limit)
    .map((entry) => entry.route);
}

/** Flight rows read through PostgREST to derive routes when no routes file is given. */
export const restFlightsPath =
  "/rest/v1/flights?select=origin,destination,departure_date&status=eq.scheduled&limit=2000";
