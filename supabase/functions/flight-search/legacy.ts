/**
 * The legacy path: the original shape, three queries per request — the flights of the searched
 * legs, their fares, their airports and airlines. (A search without flights stops after the
 * first.)
 *
 * @module
 */
import type { Sql } from "../_shared/db.ts";
import { cancellable } from "../_shared/deadline.ts";
import { int8Array, textArray } from "../_shared/pg_array.ts";
import type { SearchRequest } from "./request.ts";
import { assembleResult, type SearchResult } from "./result.ts";
import {
  type FareRow,
  type FlightRow,
  type QueryCounter,
  referencedCodes,
  type RefRow,
  rowSource,
} from "./search_rows.ts";

/** Columns selected from `public.flights`: a `FlightRow`. */
const flightColumns = `f.id, f.airline_code, f.flight_number, f.origin, f.destination,
  f.departure_date::text as departure_date, f.departure_at, f.arrival_at, f.aircraft, f.status`;

/** Reference rows (airports, then airlines) for `airports` and `airlines` codes: one query. */
function refsQuery(sql: Sql, airports: string[], airlines: string[]) {
  return sql<RefRow[]>`
    select 'airport' as kind, a.iata_code as code, a.name, a.city, a.country_code, a.time_zone,
           null::text as alliance
      from public.airports a
     where a.iata_code = any(${textArray(sql, airports)}::text[])
    union all
    select 'airline', l.iata_code, l.name, null, l.country_code, null, l.alliance
      from public.airlines l
     where l.iata_code = any(${textArray(sql, airlines)}::text[])`;
}

/**
 * Answers one search with its own three queries; `signal` (the request's budget) cancels the one
 * running when it aborts.
 */
export async function legacySearch(
  sql: Sql,
  search: SearchRequest,
  countQuery: QueryCounter = () => {},
  signal?: AbortSignal,
): Promise<SearchResult> {
  const ret = search.return_date ?? null;
  countQuery(1);
  const flights = await cancellable(
    sql<FlightRow[]>`
    select ${sql.unsafe(flightColumns)}
      from public.flights f
     where f.status <> 'cancelled'
       and ((f.origin = ${search.origin} and f.destination = ${search.destination}
             and f.departure_date = ${search.departure_date}::date)
         or (${ret}::date is not null and f.origin = ${search.destination}
             and f.destination = ${search.origin} and f.departure_date = ${ret}::date))
     order by f.departure_at, f.id`,
    signal,
  );

  let fares: FareRow[] = [];
  let refs: RefRow[] = [];
  if (flights.length > 0) {
    const codes = referencedCodes(flights);
    countQuery(1);
    fares = await cancellable(
      sql<FareRow[]>`
      select flight_id, cabin, fare_class, price_minor, currency, seats_left, refundable
        from public.fares
       where flight_id = any(${int8Array(sql, flights.map((f) => f.id))}::int8[])
         and cabin = ${search.cabin}
         and seats_left >= ${search.passengers}`,
      signal,
    );
    countQuery(1);
    refs = await cancellable(refsQuery(sql, codes.airports, codes.airlines), signal);
  }

  return assembleResult(search, rowSource({ flights, fares, refs }));
}
