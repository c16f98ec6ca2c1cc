/**
 * What the flight-search integration tests share: a pool set up as a function isolate sets up
 * its own, and the search queries a latency proxy counted.
 *
 * @module
 */
import type { LatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { createPool, type PoolOptions, type Sql } from "../../supabase/functions/_shared/db.ts";
import { airportSetStatement } from "../../supabase/functions/flight-search/airports.ts";

/**
 * A pool like a flight-search isolate's (max 3, 5 s statement timeout) on `url`, in pooler mode
 * (prepared statements off) unless `overrides.mode` says `direct`.
 */
export function testIsolatePool(url: string, overrides: Partial<PoolOptions> = {}): Sql {
  return createPool({
    url,
    max: 3,
    statementTimeoutMs: 5000,
    idleTimeoutS: 20,
    connectTimeoutS: 5,
    applicationName: "flight-search",
    mode: "pooler",
    ...overrides,
  });
}

/**
 * Whether a statement's text is one of the search's (the legacy queries, the wave statement); the
 * isolate's read of the airport set (at start and per refresh, not per request) is not one.
 */
export function isSearchStatement(text: string): boolean {
  return /public\.(flights|fares|airports|airlines|search_wave(?:_columns)?)\b/.test(text) &&
    !text.startsWith(airportSetStatement);
}

/** Search statements the proxy has seen, summed over statements. */
export function searchQueryCount(proxy: LatencyProxy): number {
  return Object.entries(proxy.stats().byStatement)
    .filter(([text]) => isSearchStatement(text))
    .reduce((n, [, count]) => n + count, 0);
}

/** Round trips of search statements the proxy has seen (see `ProxyStats.roundTrips`). */
export function searchRoundTripCount(proxy: LatencyProxy): number {
  return Object.entries(proxy.stats().roundTripsByStatement)
    .filter(([text]) => isSearchStatement(text))
    .reduce((n, [, count]) => n + count, 0);
}
