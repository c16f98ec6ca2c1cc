/**
 * A small real HTTP server that answers searches the way flight-search does at the HTTP level —
 * anon-key check, JSON body, `x-search-path` from a sticky bucket of `x-session-id`, `x-cache`
 * from whether the same search was answered before — and counts what it received, so the
 * driver's figures can be compared with the server's. For the driver's and the report's tests;
 * the end-to-end test runs the driver against the real function on the local stack.
 *
 * @module
 */

/** Options of {@link startSearchHeaderServer}. */
export interface SearchHeaderServerOptions {
  anonKey: string;
  /** Share of sessions (0..100 buckets) served by the optimized path. @default 50 */
  optimizedPercent?: number;
  /** Answer every n-th request with a 503. @default never */
  failEvery?: number;
  /** Milliseconds to hold each answer. @default 0 */
  delayMs?: number;
  /** Serve `/rest/v1/flights` rows (for route discovery) from these. @default 404 */
  flights?: { origin: string; destination: string; departure_date: string }[];
}

/** What the server received. */
export interface SearchHeaderServerStats {
  requests: number;
  unauthorized: number;
  badRequests: number;
  serverErrors: number;
  byPath: { legacy: number; optimized: number };
  byCache: { l1: number; miss: number };
  /** Canonical bodies of the searches answered, in arrival order. */
  bodies: string[];
  sessions: Set<string>;
  /** Most requests in flight at once. */
  maxInFlight: number;
}

/** A running server. */
export interface SearchHeaderServer {
  /** Base URL, like SUPABASE_URL. */
  url: string;
  stats: SearchHeaderServerStats;
  close(): Promise<void>;
}

/** FNV-1a of a string → bucket 1..100. */
function bucket(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % 100) + 1;
}

/** Starts the server on a free port. */
export function startSearchHeaderServer(options: SearchHeaderServerOptions): SearchHeaderServer {
  const { anonKey, optimizedPercent = 50, failEvery, delayMs = 0, flights } = options;
  const stats: SearchHeaderServerStats = {
    requests: 0,
    unauthorized: 0,
    badRequests: 0,
    serverErrors: 0,
    byPath: { legacy: 0, optimized: 0 },
    byCache: { l1: 0, miss: 0 },
    bodies: [],
    sessions: new Set(),
    maxInFlight: 0,
  };
  const seen = new Set<string>();
  let inFlight = 0;

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/rest/v1/flights" && flights) {
      return Response.json(flights);
    }
    if (url.pathname !== "/functions/v1/flight-search" || req.method !== "POST") {
      return Response.json({ error: { code: "not_found", message: "no such route" } }, {
        status: 404,
      });
    }
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    try {
      stats.requests++;
      if (
        req.headers.get("authorization") !== `Bearer ${anonKey}` ||
        req.headers.get("apikey") !== anonKey
      ) {
        stats.unauthorized++;
        return Response.json({ error: { code: "unauthorized", message: "bad key" } }, {
          status: 401,
        });
      }
      let body: Record<string, unknown>;
      try {
        body = await req.json();
      } catch {
        stats.badRequests++;
        return Response.json({ error: { code: "invalid_json", message: "bad body" } }, {
          status: 400,
        });
      }
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      if (failEvery && stats.requests % failEvery === 0) {
        stats.serverErrors++;
        return Response.json({ error: { code: "internal_error", message: "injected" } }, {
          status: 503,
        });
      }
      const session = req.headers.get("x-session-id") ?? crypto.randomUUID();
      stats.sessions.add(session);
      const path = bucket(`flight_search_optimization:${session}`) <= optimizedPercent
        ? "optimized"
        : "legacy";
      const key = JSON.stringify(Object.keys(body).sort().map((k) => [k, body[k]]));
      const cache = seen.has(key) ? "l1" : "miss";
      seen.add(key);
      stats.byPath[path]++;
      stats.byCache[cache]++;
      stats.bodies.push(key);
      return Response.json({ flights: [] }, {
        headers: { "x-search-path": path, "x-cache": cache },
      });
    } finally {
      inFlight--;
    }
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () => server.shutdown(),
  };
}

/** The canonical form {@link SearchHeaderServerStats.bodies} holds, for a request body. */
export function canonicalBody(body: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(body).sort().map((k) => [k, body[k]]));
}
