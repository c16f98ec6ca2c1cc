/**
 * `flight-search`: one endpoint, two code paths. Each request is routed by the traffic flag and
 * its sticky bucket to the legacy path or the optimized one; the answer says which in
 * `x-search-path` and whether the result cache answered in `x-cache`.
 *
 * Served at `/functions/v1/flight-search` behind the gateway; the function itself sees
 * `/flight-search` (as on hosted Supabase), so routing looks only at the path's end.
 *
 * @module
 */
import { inRollout, type RolloutFlag } from "../_shared/bucketing.ts";
import type { CacheTier } from "../_shared/cache.ts";
import { type Clock, systemClock } from "../_shared/clock.ts";
import { OverloadError } from "../_shared/coalescer.ts";
import { DeadlineError } from "../_shared/deadline.ts";
import { type ErrorLogger, errorResponse, HttpError, json } from "../_shared/http_error.ts";
import type { MetricPath } from "../_shared/metrics.ts";
import { routingId, sessionHeader } from "../_shared/routing_id.ts";
import type { ForcedPath } from "./config.ts";
import { parseSearch, searchKey, type SearchRequest } from "./request.ts";
import type { SearchResult } from "./result.ts";

/** The flag routing traffic to the optimized path. */
export const flagKey = "flight_search_optimization";

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

/** A path's search function. */
export type SearchPath = (search: SearchRequest) => Promise<SearchResult>;

/** What the handler needs; `deps.ts` builds the real ones once per isolate. */
export interface SearchDeps {
  legacy: SearchPath;
  optimized: SearchPath;
  /** The benchmark's dataloader peer, served only when forced. */
  peer?: SearchPath;
  flags: { get(key: string): Promise<RolloutFlag | undefined> };
  /** Pin every request to a path, ignoring the flag. */
  forcePath?: ForcedPath;
  /** Result cache in front of both paths; none means every request runs its path. */
  cache?: ResultCache;
  metrics: {
    recordRequest(
      path: MetricPath,
      outcome: { status: number; latencyMs: number; fallback?: boolean },
    ): void;
    recordCache(path: MetricPath, tier: CacheTier, l2Enabled: boolean): void;
  };
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
  const outcome = { path: "none" as MetricPath, fallback: false };
  let response: Response;
  try {
    response = await serve(req, deps, outcome);
  } catch (error) {
    response = errorResponse(error, log);
  }
  const latencyMs = clock.now() - started;
  deps.metrics.recordRequest(outcome.path, {
    status: response.status,
    latencyMs,
    fallback: outcome.fallback,
  });
  // The server's own time, what the latency SLA is about; the benchmark reads it too.
  response.headers.set("server-timing", `total;dur=${latencyMs.toFixed(1)}`);
  return withCors(response);
}

async function serve(
  req: Request,
  deps: SearchDeps,
  outcome: { path: MetricPath; fallback: boolean },
): Promise<Response> {
  const { pathname } = new URL(req.url);
  if (!/(^|\/)flight-search\/?$/.test(pathname)) {
    throw new HttpError(404, "not_found", `no route for ${pathname}; search at /flight-search`);
  }
  if (req.method === "OPTIONS") return new Response(null, { status: 204 });
  if (req.method !== "GET" && req.method !== "POST") {
    throw new HttpError(405, "method_not_allowed", "use GET or POST", undefined, {
      allow: "GET, POST, OPTIONS",
    });
  }

  const path = await choosePath(req, deps);
  outcome.path = path === "dataloader" ? "none" : path;
  const search = await parseSearch(req);

  const { faultRate = 0, random = Math.random } = deps;
  const faulted = path === "optimized" && faultRate > 0 && random() < faultRate;
  let servedBy: ForcedPath = path;
  const run = async (): Promise<SearchResult> => {
    if (path === "legacy") return await deps.legacy(search);
    const fast = path === "dataloader" ? deps.peer : deps.optimized;
    if (!fast) throw new Error(`path ${path} is not configured`);
    try {
      if (faulted) throw new InjectedFaultError();
      return await fast(search);
    } catch (error) {
      if (error instanceof OverloadError) {
        // Shedding load: answering on the legacy path instead would add to it.
        throw new HttpError(
          503,
          "overloaded",
          "too many searches in flight; retry shortly",
          undefined,
          {
            "retry-after": "1",
          },
        );
      }
      // An injected fault was announced once when the isolate started; one line per request
      // would drown the function's log during a drill.
      if (!(error instanceof InjectedFaultError)) {
        (deps.log ?? ((m, e) => console.error(m, e)))(
          `${path} path failed, answering on the legacy path`,
          error instanceof Error ? `${error.name}: ${error.message}` : error,
        );
      }
      outcome.fallback = true;
      servedBy = "legacy";
      return await deps.legacy(search);
    }
  };

  let result: SearchResult;
  let tier: CacheTier = "miss";
  try {
    if (deps.cache && !faulted) {
      ({ value: result, tier } = await deps.cache.getOrLoad(resultCacheKey(search), run));
      deps.metrics.recordCache(outcome.path, tier, deps.cache.l2Enabled);
    } else {
      result = await run();
    }
  } catch (error) {
    if (error instanceof DeadlineError) {
      throw new HttpError(
        503,
        "search_timeout",
        "the search took too long; retry shortly",
        undefined,
        {
          "retry-after": "1",
        },
      );
    }
    throw error;
  }
  const headers: Record<string, string> = { "x-search-path": servedBy, "x-cache": tier };
  if (outcome.fallback) headers["x-search-fallback"] = path;
  return json(result, { headers });
}

async function choosePath(req: Request, deps: SearchDeps): Promise<ForcedPath> {
  if (deps.forcePath) return deps.forcePath;
  const who = routingId(req, deps.randomId);
  const flag = await deps.flags.get(flagKey);
  return inRollout(flag, flagKey, who.id) ? "optimized" : "legacy";
}
