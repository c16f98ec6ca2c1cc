/**
 * flight-search's metrics: the isolate's `FunctionMetrics` (`_shared/metrics.ts`) plus the
 * searches per route, which ride in the same rows and the same single INSERT per flush and which
 * cache warming reads back (`demand.ts`, `monitoring.top_routes()`).
 *
 * @module
 */
import type { MetricPath } from "../_shared/metric_row.ts";
import { FunctionMetrics } from "../_shared/metrics.ts";

/** An airport code as a route names it. */
const iataCode = /^[A-Z]{3}$/;

/**
 * The route of a search as `monitoring.is_route_demand()` accepts it: `JFK-ORD`.
 *
 * @throws {RangeError} for a code that is not three upper-case letters.
 */
export function routeKey(origin: string, destination: string): string {
  if (!iataCode.test(origin) || !iataCode.test(destination)) {
    throw new RangeError(
      `metrics recordRoute: expected IATA codes like "JFK", received ${origin}-${destination}`,
    );
  }
  return `${origin}-${destination}`;
}

/** The metrics of one flight-search isolate; see the module comment. */
export class SearchMetrics extends FunctionMetrics {
  /**
   * Counts one search of the route `origin` → `destination` (upper-case IATA codes) in the row
   * of `path`; at most `maxRoutesPerRow` distinct routes per row.
   *
   * @throws {RangeError} for a code that is not three upper-case letters.
   */
  recordRoute(path: MetricPath, origin: string, destination: string): void {
    this.recordDemand(path, routeKey(origin, destination));
  }
}
