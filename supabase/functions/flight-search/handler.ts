/**
 * `flight-search`'s HTTP edge: one endpoint, two code paths. Each request is routed by the
 * traffic flag and its sticky bucket to the legacy path or the optimized one, through the result
 * cache (`pipeline.ts`); the answer says which path in `x-search-path` and whether the result
 * cache answered in `x-cache`.
 *
 * Two operational routes sit beside the search, for service_role callers only (401 without a
 * valid JWT, 403 for any other role): `GET /flight-search/stats` (this isolate's flag, cache,
 * coalescer, pool, uptime and memory) and `POST /flight-search/cache/warm` (prefetch the most
 * searched routes into the result cache).
 *
 * Served at `/functions/v1/flight-search` behind the gateway; the function itself sees
 * `/flight-search` (as on hosted Supabase), so routing looks only at the path's end.
 *
 * @module
 */
import { type AuthVerifier, requireRole } from "../_shared/auth.ts";
import { type Clock, systemClock } from "../_shared/clock.ts";
import { Budget } from "../_shared/deadline.ts";
import { type ErrorLogger, errorResponse, HttpError, json } from "../_shared/http_error.ts";
import type { MetricPath } from "../_shared/metric_row.ts";
import { routingId, sessionHeader } from "../_shared/routing_id.ts";
import { type AirportSet, requireKnownAirports } from "./airports.ts";
import { type CacheWarmer, parseWarmRequest } from "./cache_warm.ts";
import type { ForcedPath } from "./config.ts";
import {
  defaultBudgets,
  metricPathOf,
  type SearchBudgets,
  type SearchPipeline,
} from "./pipeline.ts";
import { parseSearch } from "./request.ts";
import type { IsolateStats } from "./stats.ts";

/** What the handler needs; `deps.ts` builds the real ones once per isolate. */
export interface SearchDeps {
  /** Chooses the path and answers the search: cache, paths, fallback (`pipeline.ts`). */
  pipeline: SearchPipeline;
  /** Known airports: an unknown code is a 400 naming the field. None checks the format only. */
  airports?: Pick<AirportSet, "isKnown">;
  /** The warm route's budget (`warmMs`). @default defaultBudgets */
  budgets?: Pick<SearchBudgets, "warmMs">;
  metrics: {
    recordRequest(
      path: MetricPath,
      outcome: { status: number; latencyMs: number; fallback?: boolean },
    ): void;
    /** Counts one search of a route: the demand cache warming prefetches by. */
    recordRoute(path: MetricPath, origin: string, destination: string): void;
  };
  /**
   * Verifies the caller of the service_role routes; throws HttpError 401 for a missing or bad
   * JWT, and a ConfigError (answered 500) when the function has no way to verify.
   */
  verify?: AuthVerifier;
  /** This isolate's numbers for `GET /flight-search/stats`. */
  stats?: () => IsolateStats;
  /** The warmer behind `POST /flight-search/cache/warm`; none answers 409 (no result cache). */
  warm?: CacheWarmer;
  /** The routing id of a caller with neither a JWT `sub` nor `x-session-id`. @default a UUID */
  randomId?: () => string;
  clock?: Clock;
  log?: ErrorLogger;
}

const cors = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    `authorization, x-client-info, apikey, content-type, ${sessionHeader}`,
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-expose-headers": "x-search-path, x-cache, x-search-fallback, server-timing",
};

function withCors(response: Response): Response {
  for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
  return response;
}

/** Answers one request. Never throws: every failure becomes an error response. */
export async function handler(req: Request, deps: SearchDeps): Promise<Response> {
  const { clock = systemClock, log } = deps;
  const started = clock.now();
  const outcome: Outcome = { path: "none", fallback: false, operational: false };
  let response: Response;
  try {
    response = await serve(req, deps, outcome);
  } catch (error) {
    response = errorResponse(error, log);
  }
  const latencyMs = clock.now() - started;
  // The service_role routes are not search traffic: a warm run of seconds must not count
  // against the search latency SLA (nor its look-ups in the cache hit ratio).
  if (!outcome.operational) {
    deps.metrics.recordRequest(outcome.path, {
      status: response.status,
      latencyMs,
      fallback: outcome.fallback,
    });
  }
  // The server's own time, what the latency SLA is about; the benchmark reads it too.
  response.headers.set("server-timing", `total;dur=${latencyMs.toFixed(1)}`);
  return withCors(response);
}

/** What serving a request found out, for its metrics. */
interface Outcome {
  path: MetricPath;
  fallback: boolean;
  /** A service_role route (stats, cache warm): not recorded as a request. */
  operational: boolean;
}

/** The routes of the function, by the end of the path. */
const routes = {
  search: /(^|\/)flight-search\/?$/,
  stats: /(^|\/)flight-search\/stats\/?$/,
  warm: /(^|\/)flight-search\/cache\/warm\/?$/,
} as const;

/** 401 unless the caller holds a valid JWT, 403 unless its role is service_role. */
async function requireServiceRole(req: Request, deps: SearchDeps): Promise<void> {
  if (!deps.verify) throw new Error("flight-search: no JWT verifier configured");
  requireRole(await deps.verify(req), "service_role");
}

function allow(req: Request, methods: string[]): void {
  if (!methods.includes(req.method)) {
    throw new HttpError(405, "method_not_allowed", `use ${methods.join(" or ")}`, {
      headers: { allow: [...methods, "OPTIONS"].join(", ") },
    });
  }
}

async function serve(
  req: Request,
  deps: SearchDeps,
  outcome: Outcome,
): Promise<Response> {
  const { pathname } = new URL(req.url);
  const route = (Object.keys(routes) as (keyof typeof routes)[])
    .find((name) => routes[name].test(pathname));
  if (route === undefined) {
    throw new HttpError(404, "not_found", `no route for ${pathname}; search at /flight-search`);
  }
  if (req.method === "OPTIONS") return new Response(null, { status: 204 });
  outcome.operational = route !== "search";
  // The method before the token, as payment-methods does: a wrong method is 405 for everyone.
  if (route === "stats") {
    allow(req, ["GET", "HEAD"]);
    await requireServiceRole(req, deps);
    if (!deps.stats) throw new Error("flight-search: no stats source configured");
    const response = json(deps.stats());
    return req.method === "HEAD" ? new Response(null, response) : response;
  }
  if (route === "warm") {
    allow(req, ["POST"]);
    await requireServiceRole(req, deps);
    const request = await parseWarmRequest(req);
    const warm = deps.warm;
    if (!warm) {
      throw new HttpError(
        409,
        "cache_disabled",
        "the result cache is off in this deployment (FLIGHT_SEARCH_RESULT_CACHE=off): nothing to warm",
      );
    }
    const budget = new Budget((deps.budgets ?? defaultBudgets).warmMs, {
      what: "cache warm",
      clock: deps.clock,
    });
    try {
      return json(await budget.run(warm(request), "cache warm", "database"));
    } finally {
      budget.dispose();
    }
  }
  if (req.method !== "GET" && req.method !== "POST") {
    throw new HttpError(405, "method_not_allowed", "use GET or POST", {
      headers: { allow: "GET, POST, OPTIONS" },
    });
  }

  const path = await deps.pipeline.routeRequest(() => routingId(req, deps.randomId).id);
  outcome.path = metricPathOf(path);
  const search = await parseSearch(req);
  if (deps.airports) await requireKnownAirports(search, deps.airports);
  deps.metrics.recordRoute(outcome.path, search.origin, search.destination);

  let servedBy: ForcedPath = path;
  const { result, tier } = await deps.pipeline.search(search, path, () => {
    outcome.fallback = true;
    servedBy = "legacy";
  });
  const headers: Record<string, string> = { "x-search-path": servedBy, "x-cache": tier };
  if (outcome.fallback) headers["x-search-fallback"] = path;
  return json(result, { headers });
}
