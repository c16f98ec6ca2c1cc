/**
 * The fares of one flight: 2-6 across the cabins its aircraft has, economy always among them,
 * priced by the route's reference fare with cabin and booking-class multipliers, in the origin
 * country's currency.
 *
 * Each flight draws from its own PRNG stream (seed, flight id), so fares can be generated in a
 * second pass over the flights without replaying anything else.
 *
 * @module
 */
import { currencyFor, toMinorUnits } from "./currency.ts";
import { createPrng, type Prng } from "./prng.ts";
import type { Body, Cabin, Service } from "./timetable.ts";

/** One row of `public.fares` without its id. */
export interface Fare {
  cabin: Cabin;
  fareClass: string;
  priceMinor: number;
  currency: string;
  seatsLeft: number;
  refundable: boolean;
}

interface BookingClass {
  code: string;
  /** Price relative to the cabin's reference fare. */
  factor: number;
  refundable: boolean;
}

// Booking classes from the most to the least flexible, as carriers commonly file them.
const classes: Record<Cabin, readonly BookingClass[]> = {
  economy: [
    { code: "Y", factor: 2.4, refundable: true },
    { code: "B", factor: 1.8, refundable: true },
    { code: "M", factor: 1.45, refundable: false },
    { code: "H", factor: 1.2, refundable: false },
    { code: "K", factor: 1.0, refundable: false },
    { code: "L", factor: 0.85, refundable: false },
    { code: "Q", factor: 0.72, refundable: false },
    { code: "V", factor: 0.6, refundable: false },
  ],
  premium_economy: [
    { code: "W", factor: 1.0, refundable: true },
    { code: "E", factor: 0.82, refundable: false },
  ],
  business: [
    { code: "J", factor: 1.0, refundable: true },
    { code: "C", factor: 0.88, refundable: true },
    { code: "D", factor: 0.76, refundable: false },
    { code: "I", factor: 0.65, refundable: false },
  ],
  first: [
    { code: "F", factor: 1.0, refundable: true },
    { code: "A", factor: 0.85, refundable: false },
  ],
};

function cabinFactor(cabin: Cabin, distanceKm: number): number {
  switch (cabin) {
    case "economy":
      return 1;
    case "premium_economy":
      return 1.8;
    case "business":
      return distanceKm < 2500 ? 2.6 : 4.2;
    case "first":
      return 7.5;
  }
}

const seatsPerClass: Record<Cabin, Record<Body, number>> = {
  economy: { regional: 25, narrow: 45, wide: 80 },
  premium_economy: { regional: 0, narrow: 12, wide: 18 },
  business: { regional: 6, narrow: 8, wide: 24 },
  first: { regional: 0, narrow: 0, wide: 6 },
};

/** `count` distinct classes of the cabin, kept in most-to-least-flexible order. */
function chooseClasses(cabin: Cabin, count: number, prng: Prng): BookingClass[] {
  const pool = [...classes[cabin]];
  for (let i = 0; i < count; i++) {
    const j = prng.int(i, pool.length - 1);
    [pool[i], pool[j]] = [pool[j] as BookingClass, pool[i] as BookingClass];
  }
  const chosen = new Set(pool.slice(0, count));
  return classes[cabin].filter((c) => chosen.has(c));
}

/** The fares of the flight with `flightId` flying `service`, for PRNG `seed`. */
export function faresFor(service: Service, flightId: number, seed: number): Fare[] {
  const prng = createPrng(seed, flightId >>> 0);
  const others = service.cabins.filter((c) => c !== "economy");
  const counts = new Map<Cabin, number>(
    others.map((c) => [c, c === "business" ? prng.int(1, 2) : 1]),
  );
  const otherTotal = [...counts.values()].reduce((s, n) => s + n, 0);
  const economy = Math.min(prng.int(others.length === 0 ? 2 : 1, 3), 6 - otherTotal);
  counts.set("economy", economy);

  const currency = currencyFor(service.origin.country);
  // Day-to-day demand moves every fare of a flight together.
  const demand = 0.8 + 0.5 * prng.next();
  const fares: Fare[] = [];
  for (const cabin of service.cabins) {
    const reference = service.baseFareUsd * demand * cabinFactor(cabin, service.distanceKm);
    for (const booking of chooseClasses(cabin, counts.get(cabin) ?? 0, prng)) {
      const seats = seatsPerClass[cabin][service.body];
      fares.push({
        cabin,
        fareClass: booking.code,
        priceMinor: toMinorUnits(reference * booking.factor, currency),
        currency: currency.code,
        seatsLeft: prng.chance(0.07) ? 0 : prng.int(1, Math.max(1, seats)),
        refundable: booking.refundable,
      });
    }
  }
  return fares;
}
