/**
 * `flight-search`: one endpoint, two code paths. Each request is routed by the traffic flag and
 * its sticky bucket to the legacy path or the optimized one; the answer says which in
 * `x-search-path` and whether the result cache answered in `x-cache`.
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
import { inRollout, type RolloutFlag } from "../_shared/bucketing.ts";
import type { CacheTier } from "../_shared/cache.ts";
import { type Clock, systemClock } from "../_shared/clock.ts";
import { OverloadError } from "../_shared/coalescer.ts";
import type { CircuitBreaker } from "../_shared/circuit_breaker.ts";
import { Budget } from "../_shared/deadline.ts";
import { asUnavailable } from "../_shared/dependency_error.ts";
import { type ErrorLogger, errorResponse, HttpError, json } from "../_shared/http_error.ts";
import type { MetricPath } from "../_shared/metric_row.ts";
import { rolloutFlagKey } from "../_shared/rollout_flag.ts";
import { routingId, sessionHeader } from "../_shared/routing_id.ts";
import { type AirportSet, requireKnownAirports } from "./airports.ts";
import { type CacheWarmer, parseWarmRequest } from "./cache_warm.ts";
import type { ForcedPath } from "./config.ts";
import { parseSearch, searchKey, type SearchRequest } from "./request.ts";
import type { SearchResult } from "./result.ts";
import type { IsolateStats } from "./stats.ts";

/**
 * Version of the cached answer's shape, part of every L2 key (the cache's `version` option):
 * bump it when `SearchResult` changes so entries written by older code are never read.
 */
export const resultCacheVersion = 1;

/** The result cache as the handler uses it (a `TwoTierCache<SearchResult>`). */
export interface ResultCache {
  getOrLoad(
    key: string,
    loader: () => Promise<SearchResult>,
  ): Promise<{ value: SearchResult; tier: CacheTier }>;
  readonly l2Enabled: boolean;
}

/**
 * A path's search function. It spends from `budget` (the request's): its waits end, and its
 * queries are cancelled, when the budget does.
 */
export type SearchPath = (search: SearchRequest, budget: Budget) => Promise<SearchResult>;

/** Defaults of {@link SearchDeps.budgets}, in ms. */
export const defaultBudgets = { searchMs: 3000, warmMs: 30_000, fallbackMinMs: 500 } as const;

/** What the handler needs; `deps.ts` builds the real ones once per isolate. */
export interface SearchDeps {
  legacy: SearchPath;
  optimized: SearchPath;
  /** Known airports: an unknown code is a 400 naming the field. None checks the format only. */
  airports?: Pick<AirportSet, "isKnown">;
  /** The benchmark's dataloader peer, served only when forced. */
  peer?: SearchPath;
  flags: { get(key: string): Promise<RolloutFlag | undefined> };
  /** Pin every request to a path, ignoring the flag. */
  forcePath?: ForcedPath;
  /** Result cache in front of both paths; none means every request runs its path. */
  cache?: ResultCache;
  /**
   * The isolate's database breaker: loads (cache misses) run through it, so while it is open a
   * miss answers 503 at once and a hit is still served.
   */
  dbBreaker?: CircuitBreaker;
  /**
   * Budgets: a search request's (`searchMs`), a cache warm run's (`warmMs`), and the least a
   * legacy fallback needs to be tried (`fallbackMinMs`). @default defaultBudgets
   */
  budgets?: { searchMs: number; warmMs: number; fallbackMinMs: number };
  metrics: {
    recordRequest(
      path: MetricPath,
      outcome: { status: number; latencyMs: number; fallback?: boolean },
    ): void;
    recordCache(path: MetricPath, tier: CacheTier, l2Enabled: boolean): void;
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
  randomId?: () => string;
  /**
   * Share (0..1) of optimized-path requests that fail on purpose before answering, to rehearse
   * a rollback against real traffic. Faulted requests bypass the result cache: a cache hit would
   * hide the fault. @default 0
   */
  faultRate?: number;
  /** Random source of the fault injection, 0 ≤ x < 1. @default Math.random */
  random?: () => number;
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

/**
 * The result cache key of a search: `flight-search:` and every field of the normalized search
 * (`searchKey()`), nothing else. Equal searches share an entry whichever path computed it —
 * the paths' answers are identical (the differential test) — and which user asked does not
 * matter: the answer holds no per-user data.
 */
export function resultCacheKey(search: SearchRequest): string {
  return `flight-search:${searchKey(search)}`;
}

function withCors(response: Response): Response {
  for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
  return response;
}

/** The error an injected fault throws (see `SearchDeps.faultRate`). */
export class InjectedFaultError extends Error {
  override name = "InjectedFaultError";
  constructor() {
    super("fault injected into the optimized path (FLIGHT_SEARCH_FAULT_RATE)");
  }
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

  const path = await choosePath(req, deps);
  outcome.path = path === "dataloader" ? "none" : path;
  const search = await parseSearch(req);
  if (deps.airports) await requireKnownAirports(search, deps.airports);
  deps.metrics.recordRoute(outcome.path, search.origin, search.destination);

  const { faultRate = 0, random = Math.random } = deps;
  const faulted = path === "optimized" && faultRate > 0 && random() < faultRate;
  let servedBy: ForcedPath = path;
  // A faulted request fails on the optimized path itself, so the fallback and its accounting
  // are the ones a real failure gets.
  const onPath = faulted
    ? { ...deps, optimized: () => Promise.reject(new InjectedFaultError()) }
    : deps;
  const budget = new Budget((deps.budgets ?? defaultBudgets).searchMs, {
    what: "flight-search request",
    clock: deps.clock,
  });
  const run = () =>
    loadThroughBreaker(deps.dbBreaker, () =>
      runOnPath(path, search, onPath, () => {
        outcome.fallback = true;
        servedBy = "legacy";
      }, budget));

  let result: SearchResult;
  let tier: CacheTier = "miss";
  try {
    if (deps.cache && !faulted) {
      ({ value: result, tier } = await budget.run(
        deps.cache.getOrLoad(resultCacheKey(search), run),
        "flight-search request",
        "database",
      ));
      deps.metrics.recordCache(outcome.path, tier, deps.cache.l2Enabled);
    } else {
      result = await budget.run(run(), "flight-search request", "database");
    }
  } catch (error) {
    // A search waits on nothing but the database (L2 waits are bounded and never fail it).
    throw asUnavailable("database", error);
  } finally {
    budget.dispose();
  }
  const headers: Record<string, string> = { "x-search-path": servedBy, "x-cache": tier };
  if (outcome.fallback) headers["x-search-fallback"] = path;
  return json(result, { headers });
}

function loadThroughBreaker(
  breaker: CircuitBreaker | undefined,
  load: () => Promise<SearchResult>,
): Promise<SearchResult> {
  return breaker ? breaker.run(load) : load();
}

/**
 * Runs `search` on `path` within `budget`; a failure of a fast path is answered by legacy
 * (`onFallback` is told) when at least `fallbackMinMs` of the budget is left, except an
 * overloaded coalescer, which answers 503 (legacy would add to the load). Requests and cache
 * warming load through here alike, so a warmed entry is what a request would have cached.
 *
 * @throws {HttpError} 503 `overloaded` when the coalescer sheds load.
 * @throws the fast path's dependency failure when too little budget is left for the fallback.
 * @throws whatever the legacy path throws.
 */
export async function runOnPath(
  path: ForcedPath,
  search: SearchRequest,
  deps: Pick<SearchDeps, "legacy" | "optimized" | "peer" | "log" | "budgets" | "clock">,
  onFallback: () => void = () => {},
  budget?: Budget,
): Promise<SearchResult> {
  const budgets = deps.budgets ?? defaultBudgets;
  const own = budget ? undefined : new Budget(budgets.searchMs, {
    what: "flight-search load",
    clock: deps.clock,
  });
  const spend = (budget ?? own)!;
  try {
    return await runWithFallback(path, search, deps, onFallback, spend, budgets.fallbackMinMs);
  } finally {
    own?.dispose();
  }
}

async function runWithFallback(
  path: ForcedPath,
  search: SearchRequest,
  deps: Pick<SearchDeps, "legacy" | "optimized" | "peer" | "log">,
  onFallback: () => void,
  budget: Budget,
  fallbackMinMs: number,
): Promise<SearchResult> {
  if (path === "legacy") return await deps.legacy(search, budget);
  const fast = path === "dataloader" ? deps.peer : deps.optimized;
  if (!fast) throw new Error(`path ${path} is not configured`);
  try {
    return await fast(search, budget);
  } catch (error) {
    if (error instanceof OverloadError) {
      throw new HttpError(503, "overloaded", "too many searches in flight; retry shortly", {
        headers: { "retry-after": "1" },
        cause: error,
      });
    }
    // The fallback spends what is left; with less than it needs it would only fail later.
    if (budget.remaining() < fallbackMinMs) throw error;
    // An injected fault was announced once when the isolate started; one line per request
    // would drown the function's log during a drill.
    if (!(error instanceof InjectedFaultError)) {
      (deps.log ?? ((m, e) => console.error(m, e)))(
        `${path} path failed, answering on the legacy path`,
        error instanceof Error ? `${error.name}: ${error.message}` : error,
      );
    }
    onFallback();
    return await deps.legacy(search, budget);
  }
}

async function choosePath(req: Request, deps: SearchDeps): Promise<ForcedPath> {
  if (deps.forcePath) return deps.forcePath;
  const who = routingId(req, deps.randomId);
  const flag = await deps.flags.get(rolloutFlagKey);
  return inRollout(flag, rolloutFlagKey, who.id) ? "optimized" : "legacy";
}
