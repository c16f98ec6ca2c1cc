/**
 * The daily timetable the seed repeats over its days: which airline flies which route how often,
 * at what local time, on what aircraft.
 *
 * Shape, hub-and-spoke like real networks: each airline flies only from its hubs (or bases);
 * a route's weight is a gravity model — the product of both airports' size weights, decaying with
 * distance, boosted in the airline's home market. Each airline gets a share of the day's round
 * trips by its size tier, spends them on a limited set of routes drawn by weight (about two and a
 * half round trips per route on average, at most twenty), and gives its heaviest routes the most
 * frequencies. So a search on a busy pair returns many flights of several carriers, while a thin
 * pair has one or two.
 *
 * @module
 */
import { blockMinutes, greatCircleKm, isEastbound } from "./geo.ts";
import type { Prng } from "./prng.ts";
import type { Airline, Airport, ReferenceData } from "./reference_data.ts";
import type { TimeZoneRules } from "./time_zone_rules.ts";

/** A cabin as the schema names it. */
export type Cabin = "economy" | "premium_economy" | "business" | "first";

/** Aircraft size class; it decides cabins, seats and turnaround time. */
export type Body = "regional" | "narrow" | "wide";

/** One direction of a route, flown once a day at a fixed local time. */
export interface Service {
  airline: Airline;
  /** 1-9998: odd from the hub, even towards it; lower numbers for longer routes. */
  flightNumber: number;
  origin: Airport;
  destination: Airport;
  /** Local departure time at the origin, minutes after midnight, within the departure window. */
  departureMinute: number;
  blockMinutes: number;
  distanceKm: number;
  aircraft: string;
  body: Body;
  /** Cabins fitted on this route's aircraft; economy first and always present. */
  cabins: readonly Cabin[];
  /** Reference one-way economy fare in USD before class and day-to-day variation. */
  baseFareUsd: number;
}

/** First and last local minute a flight may depart: none in the small hours, where DST shifts. */
export const departureWindow = { first: 5 * 60, last: 23 * 60 + 55 } as const;

/** Flight numbers run 1-9999 per airline and day; round trips use them in odd/even pairs. */
export const maxRoundTripsPerAirline = 4999;

/** Shortest sector flown: closer airports are served by road or rail. */
const minDistanceKm = 150;
/** Longest block time scheduled, under the schema's 20 hours with room for the wind factor. */
const maxBlockMinutes = 19 * 60;
/** Average daily round trips per route an airline aims for. */
const roundTripsPerRoute = 2.5;
/** Most daily round trips one airline flies on one route (busy shuttles run about this many). */
const maxRoundTripsPerRoute = 20;

/** Size weight of a tier: each tier about three times the traffic of the one below. */
const tierWeight = (tier: number) => 3 ** (tier - 1);
/**
 * An airport's pull on routes grows more slowly than its traffic: much of a big airport's
 * traffic is frequency on routes it already has, not more routes.
 */
const airportWeight = (tier: number) => 2.5 ** (tier - 1);

/** Most round trips per day the reference data can number. */
export function maxRoundTripsPerDay(data: ReferenceData): number {
  return data.airlines.length * maxRoundTripsPerAirline;
}

interface Candidate {
  hub: Airport;
  other: Airport;
  distanceKm: number;
  weight: number;
}

function candidateRoutes(airline: Airline, data: ReferenceData): Candidate[] {
  const byCode = new Map(data.airports.map((a) => [a.iata, a]));
  const hubs = new Set(airline.hubs);
  const maxKm = airline.rangeKm ?? Infinity;
  const out: Candidate[] = [];
  for (const hubCode of airline.hubs) {
    const hub = byCode.get(hubCode);
    if (!hub) continue;
    for (const other of data.airports) {
      // Hub-to-hub routes once, from the hub listed first.
      if (
        other === hub ||
        (hubs.has(other.iata) && airline.hubs.indexOf(other.iata) < airline.hubs.indexOf(hubCode))
      ) {
        continue;
      }
      const distanceKm = greatCircleKm(hub, other);
      if (distanceKm < minDistanceKm || distanceKm > maxKm) continue;
      if (blockMinutes(distanceKm, false) > maxBlockMinutes) continue;
      const domestic = hub.country === airline.country && other.country === airline.country;
      const weight = airportWeight(hub.tier) * airportWeight(other.tier) / (1 + distanceKm / 1200) *
        (domestic ? 3 : 1);
      out.push({ hub, other, distanceKm, weight });
    }
  }
  return out;
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest remainder, ties to the
 * lower index), never giving a part more than `cap`.
 *
 * @throws {RangeError} when `total` exceeds `cap` times the number of weights.
 */
export function apportion(total: number, weights: readonly number[], cap = Infinity): number[] {
  if (total > cap * weights.length) {
    throw new RangeError(`cannot split ${total} into ${weights.length} parts of at most ${cap}`);
  }
  const parts = weights.map(() => 0);
  const open = new Set(weights.map((_, i) => i));
  let remaining = total;
  while (remaining > 0) {
    const sum = [...open].reduce((s, i) => s + (weights[i] ?? 0), 0);
    const exact = new Map([...open].map((i) => [i, (remaining * (weights[i] ?? 0)) / sum]));
    let capped = false;
    for (const [i, share] of exact) {
      if ((parts[i] ?? 0) + share > cap) {
        remaining -= cap - (parts[i] ?? 0);
        parts[i] = cap;
        open.delete(i);
        capped = true;
      }
    }
    if (capped) continue;
    let given = 0;
    for (const [i, share] of exact) {
      parts[i] = (parts[i] ?? 0) + Math.floor(share);
      given += Math.floor(share);
    }
    const order = [...exact].sort((a, b) => (b[1] % 1) - (a[1] % 1) || a[0] - b[0]);
    for (const [i] of order.slice(0, remaining - given)) parts[i] = (parts[i] ?? 0) + 1;
    remaining = 0;
  }
  return parts;
}

/** Picks `k` distinct indices with probability proportional to weight (Efraimidis–Spirakis). */
function weightedSample(weights: readonly number[], k: number, prng: Prng): number[] {
  return weights
    .map((w, i) => ({ i, key: Math.log(1 - prng.next()) / w }))
    .sort((a, b) => b.key - a.key || a.i - b.i)
    .slice(0, k)
    .map((e) => e.i)
    .sort((a, b) => a - b);
}

// Relative departures per local hour, 05:00-23:00: morning and evening banks; long-haul leans late.
const shortHaulHours = [2, 7, 9, 9, 7, 6, 6, 6, 6, 6, 6, 7, 8, 8, 7, 5, 4, 3, 2];
const longHaulHours = [0, 1, 2, 3, 4, 5, 5, 4, 4, 4, 4, 4, 4, 5, 5, 5, 6, 6, 5];

function departureMinute(distanceKm: number, prng: Prng): number {
  const hours = distanceKm > 4000 ? longHaulHours : shortHaulHours;
  let x = prng.next() * hours.reduce((s, w) => s + w, 0);
  let hour = 0;
  for (; hour < hours.length - 1; hour++) {
    x -= hours[hour] ?? 0;
    if (x < 0) break;
  }
  return departureWindow.first + hour * 60 + prng.int(0, 11) * 5;
}

function aircraftFor(airline: Airline, a: Airport, b: Airport, km: number, prng: Prng) {
  let body: Body;
  if (airline.lowCost) body = km < 5200 ? "narrow" : "wide";
  else if (km < 800 && Math.min(a.tier, b.tier) <= 2) body = "regional";
  else body = km < 4500 ? "narrow" : "wide";
  const types = body === "regional"
    ? (km < 500 ? ["E175", "E190", "CRJ9", "AT76", "DH8D"] : ["E175", "E190", "CRJ9"])
    : body === "narrow"
    ? ["A319", "A320", "A20N", "A321", "A21N", "B737", "B738", "B38M", "B739"]
    : km < 9000
    ? ["A332", "A333", "A339", "A359", "B763", "B788", "B789"]
    : Math.min(a.tier, b.tier) === 5
    ? ["A359", "A35K", "B77W", "B789", "A388"]
    : ["A359", "A35K", "B77W", "B789"];
  const cabins: Cabin[] = ["economy"];
  if (body === "wide") {
    if (!airline.lowCost && prng.chance(0.7)) cabins.push("premium_economy");
    if (!airline.lowCost || prng.chance(0.5)) cabins.push("business");
    if (!airline.lowCost && km > 6000 && Math.min(a.tier, b.tier) >= 4 && prng.chance(0.35)) {
      cabins.push("first");
    }
  } else if (!airline.lowCost) {
    if (body === "narrow" && prng.chance(0.15)) cabins.push("premium_economy");
    if (prng.chance(body === "narrow" ? 0.85 : 0.5)) cabins.push("business");
  }
  return { body, aircraft: prng.pick(types), cabins };
}

const turnaroundMinutes: Record<Body, number> = { regional: 30, narrow: 45, wide: 120 };

function baseFareUsd(km: number, airline: Airline, prng: Prng): number {
  const distanceFare = 40 + 0.11 * Math.min(km, 1500) + 0.055 * Math.max(0, km - 1500);
  return distanceFare * (airline.lowCost ? 0.7 : 1) * (0.85 + 0.4 * prng.next());
}

/** Options of {@link buildTimetable}. */
export interface TimetableOptions {
  /** Services (one-way flights) per day. */
  servicesPerDay: number;
  prng: Prng;
  rules: TimeZoneRules;
  /** Day (epoch day) whose UTC offsets place return flights in local time. */
  referenceDay: number;
}

/**
 * Builds the daily timetable: exactly `servicesPerDay` services, ordered by airline (as listed in
 * the data) and flight number.
 *
 * @throws {RangeError} when the airlines cannot number that many services a day.
 */
export function buildTimetable(data: ReferenceData, options: TimetableOptions): Service[] {
  const { servicesPerDay, prng, rules, referenceDay } = options;
  const roundTrips = Math.ceil(servicesPerDay / 2);
  // Airlines with no route in range get no share, so the day always has exactly the count asked.
  const networks = data.airlines
    .map((airline) => ({ airline, candidates: candidateRoutes(airline, data) }))
    .filter((n) => n.candidates.length > 0);
  if (roundTrips > networks.length * maxRoundTripsPerAirline) {
    throw new RangeError(
      `${servicesPerDay} flights a day exceed what ${networks.length} airlines can number`,
    );
  }
  const perAirline = apportion(
    roundTrips,
    networks.map((n) => tierWeight(n.airline.tier)),
    maxRoundTripsPerAirline,
  );
  const offset = (a: Airport) => rules.offsetMinutes(a.timeZone, referenceDay, 12 * 60);

  const services: Service[] = [];
  networks.forEach(({ airline, candidates }, airlineIndex) => {
    const count = perAirline[airlineIndex] ?? 0;
    if (count === 0) return;
    const routeCount = Math.min(candidates.length, Math.ceil(count / roundTripsPerRoute));
    const chosen = weightedSample(candidates.map((c) => c.weight), routeCount, prng)
      .map((i) => candidates[i] as Candidate);
    const perRouteCap = Math.max(maxRoundTripsPerRoute, Math.ceil(count / chosen.length));
    const extra = apportion(count - chosen.length, chosen.map((c) => c.weight), perRouteCap - 1);
    const trips = chosen.flatMap((route, i) => {
      const equipment = aircraftFor(airline, route.hub, route.other, route.distanceKm, prng);
      const fare = baseFareUsd(route.distanceKm, airline, prng);
      return Array.from({ length: 1 + (extra[i] ?? 0) }, () => ({ route, equipment, fare }));
    });
    // Longer routes get the lower flight numbers, as carriers number their flagships.
    trips.sort((a, b) => b.route.distanceKm - a.route.distanceKm);
    const legs: Service[] = [];
    trips.forEach(({ route, equipment, fare }, k) => {
      const { hub, other, distanceKm } = route;
      const [first, second] = prng.chance(0.5) ? [hub, other] : [other, hub];
      const firstBlock = blockMinutes(distanceKm, isEastbound(first, second));
      const secondBlock = blockMinutes(distanceKm, isEastbound(second, first));
      const firstDeparture = departureMinute(distanceKm, prng);
      // The aircraft turns around at the far end; its return leaves in that airport's local time.
      let secondDeparture = firstDeparture - offset(first) + firstBlock +
        turnaroundMinutes[equipment.body] + offset(second);
      secondDeparture = Math.ceil((((secondDeparture % 1440) + 1440) % 1440) / 5) * 5;
      if (secondDeparture < departureWindow.first || secondDeparture > departureWindow.last) {
        secondDeparture = departureMinute(distanceKm, prng);
      }
      for (
        const [origin, destination, block, minute] of [
          [first, second, firstBlock, firstDeparture],
          [second, first, secondBlock, secondDeparture],
        ] as const
      ) {
        legs.push({
          airline,
          flightNumber: 2 * k + (origin === hub ? 1 : 2),
          origin,
          destination,
          departureMinute: minute,
          blockMinutes: block,
          distanceKm: Math.round(distanceKm),
          aircraft: equipment.aircraft,
          body: equipment.body,
          cabins: equipment.cabins,
          baseFareUsd: fare,
        });
      }
    });
    legs.sort((a, b) => a.flightNumber - b.flightNumber);
    services.push(...legs);
  });
  // An odd count: the last return leg is not flown.
  return services.slice(0, servicesPerDay);
}
