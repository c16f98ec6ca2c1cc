/**
 * What the flight-search integration tests share: a pool set up as a function isolate sets up
 * its own, and the search queries a latency proxy counted.
 *
 * @module
 */
import type { LatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { createPool, type PoolOptions, type Sql } from "../../supabase/functions/_shared/db.ts";
import { airportSetStatement } from "../../supabase/functions/flight-search/airports.ts";

/** A pool like a flight-search isolate's (max 3, prepare off, 5 s statement timeout) on `url`. */
export function testIsolatePool(url: string, overrides: Partial<PoolOptions> = {}): Sql {
  return createPool({
    url,
    max: 3,
    statementTimeoutMs: 5000,
    idleTimeoutS: 20,
    connectTimeoutS: 5,
    applicationName: "flight-search",
    ...overrides,
  });
}

/**
 * Search statements (flights, fares, airports) the proxy has seen, summed over statements; the
 * isolate's read of the airport set (at start and per refresh, not per request) is not one.
 */
export function searchQueryCount(proxy: LatencyProxy): number {
  return Object.entries(proxy.stats().byStatement)
    .filter(([text]) =>
      /public\.(flights|fares|airports)/.test(text) && !text.startsWith(airportSetStatement)
    )
    .reduce((n, [, count]) => n + count, 0);
}
