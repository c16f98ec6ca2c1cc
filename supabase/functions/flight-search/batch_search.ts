/**
 * Answers many searches with one statement: the flights of every leg of every search, their
 * fares, and the airports and airlines they refer to (`wave_statement.ts`). The optimized path
 * calls it with each batch the coalescer gathers; the benchmark's dataloader peer calls it with
 * dataloader's batches.
 *
 * @module
 */
import type { Sql } from "../_shared/db.ts";
import { cancellable } from "../_shared/deadline.ts";
import type { QueryCounter } from "./legacy.ts";
import type { SearchRequest } from "./request.ts";
import {
  assembleResult,
  groupBy,
  legId,
  type LegKey,
  legsOf,
  type SearchResult,
} from "./result.ts";
import { splitWaveRows, waveStatement } from "./wave_statement.ts";

/** Options for {@link searchBatch}. */
export interface BatchSearchOptions {
  /** Aborting cancels the statement if it is still running. */
  signal?: AbortSignal;
  countQuery?: QueryCounter;
}

/**
 * The answers to `searches`, in order; a search whose rows turn out inconsistent gets an `Error`
 * in its place instead of failing the others.
 */
export async function searchBatch(
  sql: Sql,
  searches: readonly SearchRequest[],
  options: BatchSearchOptions = {},
): Promise<Array<SearchResult | Error>> {
  const { signal, countQuery = () => {} } = options;
  const legs = new Map<string, LegKey>();
  for (const search of searches) for (const leg of legsOf(search)) legs.set(legId(leg), leg);

  // One statement for the whole wave (see wave_statement.ts). Only the cabins searched and the
  // fewest passengers narrow the fares; assembleResult applies each search's own filters.
  countQuery(1);
  const { flights, fares, refs } = splitWaveRows(
    await cancellable(
      waveStatement(sql, {
        legs: [...legs.values()],
        cabins: [...new Set(searches.map((s) => s.cabin))],
        minSeats: Math.min(...searches.map((s) => s.passengers)),
      }),
      signal,
    ),
  );

  const flightsByLeg = groupBy(
    flights,
    (f) => legId({ origin: f.origin, destination: f.destination, date: f.departure_date }),
  );
  const faresByFlight = groupBy(fares, (f) => f.flight_id);
  const airports = new Map(refs.filter((r) => r.kind === "airport").map((r) => [r.code, r]));
  const airlines = new Map(refs.filter((r) => r.kind === "airline").map((r) => [r.code, r]));
  const rows = {
    flightsOf: (leg: LegKey) => flightsByLeg.get(legId(leg)) ?? [],
    faresOf: (id: string) => faresByFlight.get(id) ?? [],
    airport: (code: string) => airports.get(code),
    airline: (code: string) => airlines.get(code),
  };
  return searches.map((search) => {
    try {
      return assembleResult(search, rows);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  });
}
