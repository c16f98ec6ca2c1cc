/**
 * The one statement of a wave: `public.search_wave(...)` (migration `…_search_wave.sql`) returns
 * the flights of every leg, their fares and the airports and airlines they refer to, so a wave
 * costs one statement instead of two dependent stages (flights, then fares + references).
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
 * Why one statement and this one, from scratch runs before it was written (N=50 legs: 812
 * flights, 1,673 fares; 20,000 flights; no added latency; both cores busy with other jobs, so
 * the figures are rough): server time per wave from pg_stat_statements was 21.6 ms for one
 * statement against 9.5 ms for the three separate queries together — more work on the server,
 * but the three need a second dependent stage, at least one more round trip (10 ms at +5 ms each
 * way, 20 ms with postgres.js describing each). Fares as one index scan over the array of flight
 * ids measured 2.4–8 ms against 8–17 ms for a join probing the index once per flight. Called as a
 * PL/pgSQL function the wave took p50 31.9 ms against 36.7 ms for the same statement sent inline
 * (both in a JSON-building variant, dropped for rows: the JSON aggregation cost more). What the
 * wave costs end to end is `npm run bench:search`'s to say.
 *
 * @module
 */
import type postgres from "postgres";
import type { Sql } from "../_shared/db.ts";
import { integerLiteral, textArrayLiteral } from "../_shared/sql_literal.ts";
import { textArray } from "../_shared/pg_array.ts";
import type { FareRow, FlightRow, LegKey, RefRow } from "./result.ts";

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

/** A row of `public.search_wave`: the columns of its `kind`, nulls elsewhere. */
interface WaveRow {
  kind: "flight" | "fare" | "airport" | "airline";
  flight_id: string;
  airline_code: string;
  flight_number: number;
  origin: string;
  destination: string;
  departure_date: string;
  departure_at: Date;
  arrival_at: Date;
  aircraft: string | null;
  status: string;
  cabin: string;
  fare_class: string;
  price_minor: number;
  currency: string;
  seats_left: number;
  refundable: boolean;
  code: string;
  name: string;
  city: string | null;
  country_code: string;
  time_zone: string | null;
  alliance: string | null;
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
      select * from public.search_wave(${textArray(sql, origins)}::text[],
        ${textArray(sql, destinations)}::text[], ${textArray(sql, dates)}::date[],
        ${textArray(sql, query.cabins)}::text[], ${query.minSeats}::int)`;
  }
  const call = `select * from public.search_wave(${textArrayLiteral(origins, "text")}, ${
    textArrayLiteral(destinations, "text")
  }, ${textArrayLiteral(dates, "date")}, ${textArrayLiteral(query.cabins, "text")}, ${
    integerLiteral(query.minSeats)
  })`;
  // `simple: false` (postgres.js reads it; its types omit it): the extended protocol, one flight.
  const extended = { simple: false } as postgres.UnsafeQueryOptions;
  return sql.unsafe<WaveRow[]>(call, [], extended);
}

/** Splits the statement's rows by kind into the row types the result is assembled from. */
export function splitWaveRows(rows: readonly WaveRow[]): WaveRows {
  const out: WaveRows = { flights: [], fares: [], refs: [] };
  for (const r of rows) {
    switch (r.kind) {
      case "flight":
        out.flights.push({
          id: r.flight_id,
          airline_code: r.airline_code,
          flight_number: r.flight_number,
          origin: r.origin,
          destination: r.destination,
          departure_date: r.departure_date,
          departure_at: r.departure_at,
          arrival_at: r.arrival_at,
          aircraft: r.aircraft,
          status: r.status,
        });
        break;
      case "fare":
        out.fares.push({
          flight_id: r.flight_id,
          cabin: r.cabin,
          fare_class: r.fare_class,
          price_minor: r.price_minor,
          currency: r.currency,
          seats_left: r.seats_left,
          refundable: r.refundable,
        });
        break;
      case "airport":
      case "airline":
        out.refs.push({
          kind: r.kind,
          code: r.code,
          name: r.name,
          city: r.city,
          country_code: r.country_code,
          time_zone: r.time_zone,
          alliance: r.alliance,
        });
        break;
    }
  }
  return out;
}
