/**
 * The search answer and how it is assembled from database rows (`search_rows.ts`).
 *
 * Both paths fetch rows differently — the legacy path per request, the optimized path per batch —
 * and both hand them to {@link assembleResult}, which applies the search's filters, order and
 * limit. Answers are therefore identical when the rows each path fetched for a search are.
 *
 * @module
 */
import type { SearchRequest } from "./request.ts";
import type { FareRow, LegKey, RefRow, RowSource } from "./search_rows.ts";

/** An airport as answered. */
export interface Airport {
  code: string;
  name: string;
  city: string;
  country_code: string;
  time_zone: string;
}

/** An airline as answered. */
export interface Airline {
  code: string;
  name: string;
  country_code: string;
  alliance: string | null;
}

/** A bookable fare as answered: its row without the flight id. */
export type Fare = Omit<FareRow, "flight_id">;

/** A flight with its qualifying fares. */
export interface FlightOffer {
  id: number;
  /** e.g. "LH 400" */
  designator: string;
  airline: Airline;
  flight_number: number;
  origin: Airport;
  destination: Airport;
  departure_at: string;
  arrival_at: string;
  duration_minutes: number;
  aircraft: string | null;
  status: string;
  /** The cheapest qualifying fare's price, in `currency`'s minor units. */
  lowest_price_minor: number;
  currency: string;
  /** Fares of the searched cabin with enough seats, cheapest first. */
  fares: Fare[];
}

/** One direction of a trip. */
export interface Leg {
  origin: string;
  destination: string;
  date: string;
  flights: FlightOffer[];
}

/** The answer to a search. */
export interface SearchResult {
  search: SearchRequest;
  outbound: Leg;
  /** The return leg when `return_date` was given, else null. */
  return: Leg | null;
}

/** The legs of a search: outbound, then return when asked for. */
export function legsOf(search: SearchRequest): LegKey[] {
  const outbound = {
    origin: search.origin,
    destination: search.destination,
    date: search.departure_date,
  };
  if (search.return_date === undefined) return [outbound];
  return [outbound, {
    origin: search.destination,
    destination: search.origin,
    date: search.return_date,
  }];
}

/** Thrown when rows contradict each other (a flight whose airline is missing). */
export class InconsistentRowsError extends Error {
  override name = "InconsistentRowsError";
}

function airport(row: RefRow | undefined, code: string): Airport {
  if (!row || row.kind !== "airport") throw new InconsistentRowsError(`airport ${code} missing`);
  return {
    code: row.code,
    name: row.name,
    city: row.city ?? "",
    country_code: row.country_code,
    time_zone: row.time_zone ?? "UTC",
  };
}

function airline(row: RefRow | undefined, code: string): Airline {
  if (!row || row.kind !== "airline") throw new InconsistentRowsError(`airline ${code} missing`);
  return { code: row.code, name: row.name, country_code: row.country_code, alliance: row.alliance };
}

const byPrice = (a: Fare, b: Fare) =>
  a.price_minor - b.price_minor || (a.fare_class < b.fare_class ? -1 : 1);

function compareOffers(sort: SearchRequest["sort"]) {
  const tie = (a: FlightOffer, b: FlightOffer) =>
    a.departure_at.localeCompare(b.departure_at) || a.id - b.id;
  switch (sort) {
    case "price":
      return (a: FlightOffer, b: FlightOffer) =>
        a.lowest_price_minor - b.lowest_price_minor || tie(a, b);
    case "duration":
      return (a: FlightOffer, b: FlightOffer) =>
        a.duration_minutes - b.duration_minutes || tie(a, b);
    case "departure":
      return tie;
  }
}

function assembleLeg(search: SearchRequest, leg: LegKey, rows: RowSource): Leg {
  const offers: FlightOffer[] = [];
  for (const flight of rows.flightsOf(leg)) {
    if (flight.status === "cancelled") continue;
    const fares = rows.faresOf(flight.id)
      .filter((f) => f.cabin === search.cabin && f.seats_left >= search.passengers)
      .map((f): Fare => ({
        cabin: f.cabin,
        fare_class: f.fare_class,
        price_minor: f.price_minor,
        currency: f.currency,
        seats_left: f.seats_left,
        refundable: f.refundable,
      }))
      .sort(byPrice);
    const cheapest = fares[0];
    if (!cheapest) continue;
    const id = Number(flight.id);
    if (!Number.isSafeInteger(id)) throw new InconsistentRowsError(`flight id ${flight.id}`);
    offers.push({
      id,
      designator: `${flight.airline_code} ${flight.flight_number}`,
      airline: airline(rows.airline(flight.airline_code), flight.airline_code),
      flight_number: flight.flight_number,
      origin: airport(rows.airport(flight.origin), flight.origin),
      destination: airport(rows.airport(flight.destination), flight.destination),
      departure_at: flight.departure_at.toISOString(),
      arrival_at: flight.arrival_at.toISOString(),
      duration_minutes: Math.round(
        (flight.arrival_at.getTime() - flight.departure_at.getTime()) / 60_000,
      ),
      aircraft: flight.aircraft,
      status: flight.status,
      lowest_price_minor: cheapest.price_minor,
      currency: cheapest.currency,
      fares,
    });
  }
  offers.sort(compareOffers(search.sort));
  return { ...leg, flights: offers.slice(0, search.limit) };
}

/**
 * The answer to `search` from `rows`: for each leg, flights that are not cancelled and have at
 * least one fare in the searched cabin with `seats_left >= passengers`, ordered by `sort` (ties:
 * earlier departure, then lower id), at most `limit` of them.
 *
 * @throws {InconsistentRowsError} when a flight's airline or airport is missing from `rows`.
 */
export function assembleResult(search: SearchRequest, rows: RowSource): SearchResult {
  const [outbound, inbound] = legsOf(search);
  return {
    search,
    outbound: assembleLeg(search, outbound!, rows),
    return: inbound ? assembleLeg(search, inbound, rows) : null,
  };
}
