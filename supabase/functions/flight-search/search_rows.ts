/**
 * The rows both paths read from the database and what they do with them before assembling the
 * answer: the row types, a leg's identity, the look-ups `assembleResult()` (`result.ts`) reads
 * rows through, and the counter of the statements sent for them.
 *
 * The legacy path fetches its rows per request and the optimized path per wave; neither depends
 * on the other, so either can be deleted alone.
 *
 * @module
 */

/** Called once per statement a path sends, with how many it sent; for metrics. */
export type QueryCounter = (queries: number) => void;

/** A row of the flights query (both paths select the same columns). */
export interface FlightRow {
  /** int8, as postgres.js returns it. */
  id: string;
  airline_code: string;
  flight_number: number;
  origin: string;
  destination: string;
  /** Local departure date, YYYY-MM-DD (selected as text). */
  departure_date: string;
  departure_at: Date;
  arrival_at: Date;
  aircraft: string | null;
  status: string;
}

/** A row of the fares query. */
export interface FareRow {
  flight_id: string;
  cabin: string;
  fare_class: string;
  price_minor: number;
  currency: string;
  seats_left: number;
  refundable: boolean;
}

/** A row of the reference-data query: an airport or an airline. */
export interface RefRow {
  kind: "airport" | "airline";
  code: string;
  name: string;
  city: string | null;
  country_code: string;
  time_zone: string | null;
  alliance: string | null;
}

/** The rows fetched for one or more searches. */
export interface SearchRows {
  flights: readonly FlightRow[];
  fares: readonly FareRow[];
  refs: readonly RefRow[];
}

/** A direction to search: route and local departure date. */
export interface LegKey {
  origin: string;
  destination: string;
  date: string;
}

/** Identity of a leg, for grouping rows. */
export function legId(leg: LegKey): string {
  return `${leg.origin}:${leg.destination}:${leg.date}`;
}

/** What `assembleResult()` (`result.ts`) reads rows from. */
export interface RowSource {
  /** Flights of a leg (any order). */
  flightsOf(leg: LegKey): readonly FlightRow[];
  /** Fares of a flight (any order; may include other cabins). */
  faresOf(flightId: string): readonly FareRow[];
  airport(code: string): RefRow | undefined;
  airline(code: string): RefRow | undefined;
}

/** Groups rows by a key. */
function groupBy<T>(rows: Iterable<T>, key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

/** The look-ups over `rows`: flights by leg, fares by flight, airports and airlines by code. */
export function rowSource(rows: SearchRows): RowSource {
  const flightsByLeg = groupBy(
    rows.flights,
    (f) => legId({ origin: f.origin, destination: f.destination, date: f.departure_date }),
  );
  const faresByFlight = groupBy(rows.fares, (f) => f.flight_id);
  const airports = new Map(rows.refs.filter((r) => r.kind === "airport").map((r) => [r.code, r]));
  const airlines = new Map(rows.refs.filter((r) => r.kind === "airline").map((r) => [r.code, r]));
  return {
    flightsOf: (leg) => flightsByLeg.get(legId(leg)) ?? [],
    faresOf: (id) => faresByFlight.get(id) ?? [],
    airport: (code) => airports.get(code),
    airline: (code) => airlines.get(code),
  };
}

/** Airport and airline codes the rows of `flights` refer to, each sorted. */
export function referencedCodes(flights: Iterable<FlightRow>): {
  airports: string[];
  airlines: string[];
} {
  const airports = new Set<string>();
  const airlines = new Set<string>();
  for (const f of flights) {
    airports.add(f.origin);
    airports.add(f.destination);
    airlines.add(f.airline_code);
  }
  return { airports: [...airports].sort(), airlines: [...airlines].sort() };
}
