/**
 * Answers many searches with one query per query kind: the flights of every leg of every search
 * (`unnest` of the leg tuples), the fares of all those flights (`= any`), and the airports and
 * airlines they refer to (`= any`). The optimized path calls it with each batch the coalescer
 * gathers; the benchmark's dataloader peer calls it with dataloader's batches.
 *
 * @module
 */
import type { Sql } from "../_shared/db.ts";
import { cancellable } from "../_shared/deadline.ts";
import { flightColumns, type QueryCounter, refsQuery } from "./legacy.ts";
import type { SearchRequest } from "./request.ts";
import {
  assembleResult,
  type FareRow,
  type FlightRow,
  groupBy,
  legId,
  type LegKey,
  legsOf,
  referencedCodes,
  type RefRow,
  type SearchResult,
} from "./result.ts";
import { int8Array, textArray } from "../_shared/pg_array.ts";

/** Options for {@link searchBatch}. */
export interface BatchSearchOptions {
  /** Aborting cancels the queries still running. */
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
  const legList = [...legs.values()];

  countQuery(1);
  const flights = await cancellable(
    sql<FlightRow[]>`
      select ${sql.unsafe(flightColumns)}
        from unnest(${textArray(sql, legList.map((l) => l.origin))}::text[],
                    ${textArray(sql, legList.map((l) => l.destination))}::text[],
                    ${textArray(sql, legList.map((l) => l.date))}::date[])
             as leg(origin, destination, departure_date)
        join public.flights f
          on f.origin = leg.origin and f.destination = leg.destination
         and f.departure_date = leg.departure_date
       where f.status <> 'cancelled'`,
    signal,
  );

  let fares: readonly FareRow[] = [];
  let refs: readonly RefRow[] = [];
  if (flights.length > 0) {
    const codes = referencedCodes(flights);
    const cabinsWanted = [...new Set(searches.map((s) => s.cabin))];
    const fewestPassengers = Math.min(...searches.map((s) => s.passengers));
    countQuery(2);
    [fares, refs] = await Promise.all([
      cancellable(
        sql<FareRow[]>`
          select flight_id, cabin, fare_class, price_minor, currency, seats_left, refundable
            from public.fares
           where flight_id = any(${int8Array(sql, flights.map((f) => f.id))}::int8[])
             and cabin = any(${textArray(sql, cabinsWanted)}::text[])
             and seats_left >= ${fewestPassengers}`,
        signal,
      ),
      cancellable(refsQuery(sql, codes.airports, codes.airlines), signal),
    ]);
  }

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
