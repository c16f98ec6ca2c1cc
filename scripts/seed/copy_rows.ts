/**
 * A plan's flights and fares as COPY text rows (tab-separated, newline-terminated). No value the
 * generator produces contains a tab, newline or backslash, so none needs escaping.
 *
 * @module
 */
import { faresFor } from "./fares.ts";
import { plannedFlights, type SeedPlan } from "./seed_plan.ts";

/** Column list of {@link flightCopyRows}; `departure_date` is left to the trigger. */
export const flightColumns =
  "id, airline_code, flight_number, origin, destination, departure_at, arrival_at, aircraft";

/** Column list of {@link fareCopyRows}. */
export const fareColumns =
  "id, flight_id, cabin, fare_class, price_minor, currency, seats_left, refundable";

const timestamp = (ms: number) => new Date(ms).toISOString();

/** Rows of `public.flights`, ids from 1 in write order. */
export function* flightCopyRows(plan: SeedPlan): Generator<string> {
  for (const { id, service: s, departureAt, arrivalAt } of plannedFlights(plan)) {
    yield `${id}\t${s.airline.iata}\t${s.flightNumber}\t${s.origin.iata}\t${s.destination.iata}\t${
      timestamp(departureAt)
    }\t${timestamp(arrivalAt)}\t${s.aircraft}\n`;
  }
}

/** Rows of `public.fares`, ids from 1; one string per flight (all its fares). */
export function* fareCopyRows(plan: SeedPlan): Generator<string> {
  const seed = plan.options.seed;
  let id = 0;
  for (const f of plannedFlights(plan)) {
    let rows = "";
    for (const fare of faresFor(f.service, f.id, seed)) {
      rows +=
        `${++id}\t${f.id}\t${fare.cabin}\t${fare.fareClass}\t${fare.priceMinor}\t${fare.currency}\t${fare.seatsLeft}\t${
          fare.refundable ? "t" : "f"
        }\n`;
    }
    yield rows;
  }
}
