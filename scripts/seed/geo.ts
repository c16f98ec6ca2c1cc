/**
 * Distances and block times. Block time (gate to gate) is what a timetable shows: taxi, climb
 * and descent as a fixed overhead plus cruise, with a slower average speed on short sectors
 * (more of the flight is spent climbing) and the prevailing westerlies shortening eastbound
 * flights.
 *
 * @module
 */

const earthRadiusKm = 6371.0088;
const toRadians = (degrees: number) => (degrees * Math.PI) / 180;

/** A point on the globe in degrees. */
export interface LatLon {
  latitude: number;
  longitude: number;
}

/** Great-circle distance in km (haversine). */
export function greatCircleKm(from: LatLon, to: LatLon): number {
  const dLat = toRadians(to.latitude - from.latitude);
  const dLon = toRadians(to.longitude - from.longitude);
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(toRadians(from.latitude)) * Math.cos(toRadians(to.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadiusKm * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** True when the shorter way from `from` to `to` heads east. */
export function isEastbound(from: LatLon, to: LatLon): boolean {
  const delta = ((to.longitude - from.longitude + 540) % 360) - 180;
  return delta > 0;
}

/** Taxi out and in, climb and descent beyond cruise, in minutes. */
const overheadMinutes = 30;
/** Average airborne speed approaches cruise on long sectors. */
const slowestKmh = 500;
const cruiseKmh = 830;
/** Jet-stream effect on the airborne part, as a fraction. */
const windFactor = 0.04;

/**
 * Scheduled block time in whole 5-minute steps for a sector of `distanceKm`.
 *
 * @example
 * ```ts
 * blockMinutes(5540, false); // London → New York: 445 (7h25)
 * ```
 */
export function blockMinutes(distanceKm: number, eastbound: boolean): number {
  const speed = slowestKmh + (cruiseKmh - slowestKmh) * (1 - Math.exp(-distanceKm / 800));
  const airborne = (distanceKm / speed) * 60 * (eastbound ? 1 - windFactor : 1 + windFactor);
  return Math.max(5, Math.round((overheadMinutes + airborne) / 5) * 5);
}
