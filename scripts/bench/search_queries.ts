/**
 * Which statements the latency proxy counted belong to the search itself: the legacy queries on
 * flights, fares, airports/airlines and the optimized wave statement; the rest (metrics flushes,
 * connection set-up, the isolate's airport set read) is reported apart.
 *
 * @module
 */
import type { ProxyStats } from "../local/latency_proxy.ts";
import { airportSetStatement } from "../../supabase/functions/flight-search/airports.ts";

/** Statements and round trips the proxy has counted so far. */
export interface QueryCounts {
  /** Statements of the search. */
  search: number;
  /** Every other statement. */
  other: number;
  /** Round trips of the search's statements. */
  roundTrips: number;
}

/**
 * True for a statement of the search itself; the isolate's airport set read (at start and per
 * refresh, not per request) is not one.
 */
export function isSearchQuery(text: string): boolean {
  return /public\.(flights|fares|airports|airlines|search_wave(?:_columns)?)\b/.test(text) &&
    !text.startsWith(airportSetStatement);
}

/** The proxy's counts split into the search's and the rest. */
export function countQueries(stats: ProxyStats): QueryCounts {
  let search = 0;
  let other = 0;
  let roundTrips = 0;
  for (const [text, n] of Object.entries(stats.byStatement)) {
    if (isSearchQuery(text)) search += n;
    else other += n;
  }
  for (const [text, n] of Object.entries(stats.roundTripsByStatement)) {
    if (isSearchQuery(text)) roundTrips += n;
  }
  return { search, other, roundTrips };
}
