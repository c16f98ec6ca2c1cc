/**
 * `POST /flight-search/cache/warm`: prefetches the most searched routes of the recent past into
 * the result cache (L1 of this isolate, and L2 for every isolate), so the next real searches of
 * those routes are hits.
 *
 * A warmed entry is exactly what a real search would have cached: the search is the route with
 * every other field at its default (passengers, cabin, sort, limit, no return) on one of the next
 * dates the route has flights, its key is `resultCacheKey()` and it is loaded by the same path
 * code a request runs.
 *
 * @module
 */
import { z } from "zod";
import type { CacheTier } from "../_shared/cache.ts";
import { type Clock, systemClock } from "../_shared/clock.ts";
import { HttpError, parseInput } from "../_shared/http_error.ts";
import type { ForcedPath } from "./config.ts";
import type { RouteDate, RouteDemand } from "./demand.ts";
import { type SearchRequest, validateSearch } from "./request.ts";

/** Most routes one warm request may ask for. */
export const maxTop = 500;
/** Longest demand window, in minutes (a week). */
export const maxWindowMinutes = 10_080;

/** The body of a warm request; every field has a default, so `{}` or no body is valid. */
export const warmRequestSchema = z.strictObject({
  /** How many of the most searched routes to warm. */
  top: z.number().int().min(1).max(maxTop).default(50),
  /** How far back demand is counted, in minutes. */
  window_minutes: z.number().int().min(1).max(maxWindowMinutes).default(60),
});

/** A validated warm request. */
export type WarmRequest = z.output<typeof warmRequestSchema>;

/** Largest body accepted; the two fields fit in far less. */
const maxBodyBytes = 1024;

/**
 * The warm request of `req`: a JSON object body, or no body at all for the defaults.
 *
 * @throws {HttpError} 400 naming the field at fault, 413 for a large body, 415 for a body that
 * is not JSON.
 */
export async function parseWarmRequest(req: Request): Promise<WarmRequest> {
  const text = await req.text();
  if (new TextEncoder().encode(text).byteLength > maxBodyBytes) {
    throw new HttpError(413, "payload_too_large", `body exceeds ${maxBodyBytes} bytes`);
  }
  let body: unknown = {};
  if (text.trim() !== "") {
    if (!/^application\/json\b/i.test(req.headers.get("content-type") ?? "")) {
      throw new HttpError(415, "unsupported_media_type", "content-type must be application/json");
    }
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, "invalid_json", "body is not valid JSON");
    }
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "invalid_request", "body must be a JSON object");
  }
  return parseInput(warmRequestSchema, body, "field");
}

/** What a warm request did. */
export interface WarmReport {
  /** The path that loaded the misses. */
  path: ForcedPath;
  top: number;
  window_minutes: number;
  /** Routes with demand in the window (at most `top`). */
  routes: number;
  /** Route-dates looked up: up to `datesPerRoute` per route. */
  searches: number;
  /** Loaded now and cached. */
  warmed: number;
  /** Already in L1 or L2 (an L2 entry is now in this isolate's L1 too). */
  already_cached: number;
  /** Could not be loaded; nothing cached for them. */
  failed: number;
  duration_ms: number;
}

/** Options of {@link createCacheWarmer}. */
export interface CacheWarmerOptions {
  /** The most searched routes over the last `windowMinutes`, most searched first. */
  topRoutes(windowMinutes: number, top: number): Promise<RouteDemand[]>;
  /** Up to `perRoute` dates from `fromDate` with flights, for each route. */
  nextDates(routes: RouteDemand[], fromDate: string, perRoute: number): Promise<RouteDate[]>;
  /** The path misses are loaded on (the flag's view, or the pinned path). */
  choosePath(): Promise<ForcedPath>;
  /** Looks `search` up in the result cache, loading it on `path` on a miss. */
  warmOne(search: SearchRequest, path: ForcedPath): Promise<CacheTier>;
  /** Resolves once the cache's background L2 writes have settled. */
  flush?(): Promise<void>;
  /** Dates warmed per route. @default 3 */
  datesPerRoute?: number;
  /** Searches loading at once; on the optimized path they share batches. @default 16 */
  concurrency?: number;
  clock?: Clock;
  /** Told about the first failure of a warm request (name and message, no values). */
  log?: (line: string) => void;
}

/** A cache warmer; see {@link CacheWarmerOptions}. */
export type CacheWarmer = (request: WarmRequest) => Promise<WarmReport>;

/** UTC calendar date of a wall-clock time. */
function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Creates the warmer.
 *
 * @throws {RangeError} when `datesPerRoute` or `concurrency` is not a positive integer.
 */
export function createCacheWarmer(options: CacheWarmerOptions): CacheWarmer {
  const {
    datesPerRoute = 3,
    concurrency = 16,
    clock = systemClock,
    log = (line) => console.warn(line),
  } = options;
  for (const [name, value] of Object.entries({ datesPerRoute, concurrency })) {
    if (!Number.isInteger(value) || value < 1 || value > 1000) {
      throw new RangeError(`cache warmer ${name}: expected an integer 1..1000, received ${value}`);
    }
  }
  return async (request) => {
    const started = clock.now();
    const path = await options.choosePath();
    const routes = await options.topRoutes(request.window_minutes, request.top);
    const dates = await options.nextDates(routes, utcDate(clock.wallNow()), datesPerRoute);
    const counts = { warmed: 0, already_cached: 0, failed: 0 };
    let logged = false;
    const warm = async (target: RouteDate) => {
      try {
        const search = validateSearch({
          origin: target.origin,
          destination: target.destination,
          departure_date: target.departureDate,
        });
        const tier = await options.warmOne(search, path);
        if (tier === "miss") counts.warmed++;
        else counts.already_cached++;
      } catch (error) {
        counts.failed++;
        if (!logged) {
          logged = true;
          log(
            `cache warm: a search failed (${
              error instanceof Error ? `${error.name}: ${error.message}` : "unknown error"
            }); counting it and going on`,
          );
        }
      }
    };
    // A fixed number of workers over one queue bounds what is in flight at once.
    let next = 0;
    const worker = async () => {
      while (next < dates.length) await warm(dates[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, dates.length) }, worker));
    await options.flush?.();
    return {
      path,
      top: request.top,
      window_minutes: request.window_minutes,
      routes: routes.length,
      searches: dates.length,
      ...counts,
      duration_ms: Math.round(clock.now() - started),
    };
  };
}
