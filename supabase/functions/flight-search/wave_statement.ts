/**
 * The one statement of a wave: `public.search_wave_columns(...)` (migration
 * `…_search_wave_columns.sql`) returns the flights of every leg, their fares and the airports and
 * airlines they refer to, so a wave costs one statement instead of two dependent stages (flights,
 * then fares + references). Flights and fares come as objects of column arrays: building one
 * JSON array per row took 18.3 ms for a 50-leg wave against 13.8 ms by columns (see the
 * migration); `public.search_wave` (row arrays) stays for function versions deployed before it.
 *
 * And one round trip, in both connection modes (`_shared/connection_mode.ts`), told apart by the
 * pool's `prepare` option:
 *
 * - direct: a parameterised call, prepared by postgres.js on each connection's first wave (two
 *   round trips, once) and then sent as Bind/Execute/Sync: one round trip.
 * - pooler (no named prepared statements): postgres.js sends every parameterised statement as
 *   Parse/Describe/Flush and waits for the parameter types before Bind/Execute: two round trips,
 *   every time. A statement without parameters it sends as Parse/Describe/Bind/Execute/Sync of
 *   the unnamed statement in one flight, so the call goes out with its arguments as typed
 *   literals (`_shared/sql_literal.ts`). It uses the extended protocol all the same (not the
 *   simple Query message), which refuses more than one statement in the text. The server still
 *   plans the function's statement only once per server connection: PL/pgSQL caches it.
 *
 * Why one statement, and this one. A wave of N=50 legs on 20,000 flights (812 flights, 1,673
 * fares), client-observed p50 with no added latency, every variant interleaved in one run on a
 * 2-core machine busy with other jobs (so only the ratios mean much): the three separate queries
 * 38.0 ms; this function, one row of JSON arrays, 61.7 ms (the same statement sent inline 58.3
 * ms); rows of all four kinds side by side, 23 mostly-null columns, 83.5 ms (inline 77.5 ms).
 * One statement does more work than the three (its fares read the flights back from a CTE; the
 * JSON is built and parsed), but the three need a second dependent stage: at least one more
 * round trip, 10 ms at +5 ms each way, and two more where postgres.js describes each statement
 * first. Fares as one index scan over the array of flight ids took 2.4–8 ms against 8–17 ms for a
 * join probing the index once per flight. The function costs about what the inline statement
 * does and saves the pooler mode a plan per wave. What a wave costs end to end is for `npm run
 * bench:search` to say.
 *
 * @module
 */
import type postgres from "postgres";
import type { Sql } from "../_shared/db.ts";
import { integerLiteral, textArrayLiteral } from "../_shared/sql_literal.ts";
import { textArray } from "../_shared/pg_array.ts";
import type { FareRow, FlightRow, LegKey, RefRow } from "./search_rows.ts";

/** What one wave asks for: distinct legs, the cabins searched, the fewest passengers. */
export interface WaveQuery {
  legs: readonly LegKey[];
  cabins: readonly string[];
  minSeats: number;
}

/** The wave's rows, shaped as the legacy path's three queries return them. */
export interface WaveRows {
  flights: FlightRow[];
  fares: FareRow[];
  refs: RefRow[];
}

/** Flights as `public.search_wave_columns` returns them: one array per column, or null. */
interface FlightColumns {
  id: string[] | null;
  airline_code: string[] | null;
  flight_number: number[] | null;
  origin: string[] | null;
  destination: string[] | null;
  departure_date: string[] | null;
  /** Epoch milliseconds. */
  departure_at: number[] | null;
  /** Epoch milliseconds. */
  arrival_at: number[] | null;
  aircraft: Array<string | null> | null;
  status: string[] | null;
}

/** Fares as `public.search_wave_columns` returns them: one array per column, or null. */
interface FareColumns {
  flight_id: string[] | null;
  cabin: string[] | null;
  fare_class: string[] | null;
  price_minor: number[] | null;
  currency: string[] | null;
  seats_left: number[] | null;
  refundable: boolean[] | null;
}

/**
 * The one row of `public.search_wave_columns`: flights and fares as objects of column arrays
 * (every array null when there are no rows), airports and airlines as arrays of arrays, each
 * inner array's values in the order the function builds them.
 */
interface WaveRow {
  flights: FlightColumns;
  fares: FareColumns;
  airports: Array<[string, string, string, string, string]>;
  airlines: Array<[string, string, string, string | null]>;
}

/**
 * The statement for `query` on `sql`: parameterised (prepared) on a direct connection, with
 * literal arguments behind a transaction pooler. Not awaited, so the caller can cancel it.
 *
 * @throws {SqlLiteralError} (pooler mode) for a value without a safe literal; validated searches
 *   never have one.
 */
export function waveStatement(sql: Sql, query: WaveQuery) {
  const origins = query.legs.map((l) => l.origin);
  const destinations = query.legs.map((l) => l.destination);
  const dates = query.legs.map((l) => l.date);
  if (sql.options.prepare) {
    return sql<WaveRow[]>`
      select * from public.search_wave_columns(${textArray(sql, origins)}::text[],
        ${textArray(sql, destinations)}::text[], ${textArray(sql, dates)}::date[],
        ${textArray(sql, query.cabins)}::text[], ${query.minSeats}::int)`;
  }
  const call = `select * from public.search_wave_columns(${textArrayLiteral(origins, "text")}, ${
    textArrayLiteral(destinations, "text")
  }, ${textArrayLiteral(dates, "date")}, ${textArrayLiteral(query.cabins, "text")}, ${
    integerLiteral(query.minSeats)
  })`;
  // `simple: false` (postgres.js reads it; its types omit it): the extended protocol, one flight.
  const extended = { simple: false } as postgres.UnsafeQueryOptions;
  return sql.unsafe<WaveRow[]>(call, [], extended);
}

/** Turns the statement's row into the row types the result is assembled from. */
export function splitWaveRows(rows: readonly WaveRow[]): WaveRows {
  const [row] = rows;
  if (!row) return { flights: [], fares: [], refs: [] };
  const f = row.flights;
  const flights = (f.id ?? []).map((id, i): FlightRow => ({
    id,
    airline_code: f.airline_code![i]!,
    flight_number: f.flight_number![i]!,
    origin: f.origin![i]!,
    destination: f.destination![i]!,
    departure_date: f.departure_date![i]!,
    departure_at: new Date(f.departure_at![i]!),
    arrival_at: new Date(f.arrival_at![i]!),
    aircraft: f.aircraft![i] ?? null,
    status: f.status![i]!,
  }));
  const a = row.fares;
  const fares = (a.flight_id ?? []).map((flightId, i): FareRow => ({
    flight_id: flightId,
    cabin: a.cabin![i]!,
    fare_class: a.fare_class![i]!,
    price_minor: a.price_minor![i]!,
    currency: a.currency![i]!,
    seats_left: a.seats_left![i]!,
    refundable: a.refundable![i]!,
  }));
  const refs: RefRow[] = [
    ...row.airports.map(([code, name, city, country, zone]): RefRow => ({
      kind: "airport",
      code,
      name,
      city,
      country_code: country,
      time_zone: zone,
      alliance: null,
    })),
    ...row.airlines.map(([code, name, country, alliance]): RefRow => ({
      kind: "airline",
      code,
      name,
      city: null,
      country_code: country,
      time_zone: null,
      alliance,
    })),
  ];
  return { flights, fares, refs };
}
