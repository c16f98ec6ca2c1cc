// @ts-check
/**
 * What both drivers do with a flight-search response: the request headers they send, how a
 * response is classified (path and cache tier from its headers), the checks, and the names of
 * the custom metrics, so k6's summary and the built-in driver's carry the same figures.
 *
 * Plain ES2020 with no runtime API: k6, Node and Deno import it unchanged.
 *
 * @module
 */

/** Names of the metrics in a load summary, k6's built-in ones and ours. */
export const metricNames = Object.freeze({
  /** k6 built-in: requests sent (counter). */
  requests: "http_reqs",
  /** k6 built-in: request duration in ms (trend). */
  duration: "http_req_duration",
  /** k6 built-in: share of responses outside 200..399, or not answered (rate). */
  failed: "http_req_failed",
  /** k6 built-in: share of checks that passed (rate). */
  checks: "checks",
  /** Share of requests answered 5xx or not answered: the SLA's error_rate (rate). */
  serverErrors: "server_errors",
  /** Responses served by each path, from `x-search-path` (counters). */
  legacy: "search_legacy",
  optimized: "search_optimized",
  /** Duration of the responses each path served, in ms (trends). */
  legacyDuration: "search_duration_legacy",
  optimizedDuration: "search_duration_optimized",
  /** Responses by cache tier, from `x-cache` (counters). */
  cacheL1: "cache_l1",
  cacheL2: "cache_l2",
  cacheMiss: "cache_miss",
  /** Share of responses with `x-cache` answered by L1 or L2: the SLA's cache_hit_ratio (rate). */
  cacheHits: "cache_hits",
});

/** The flight-search function's path under the API URL. */
export const functionPath = "/functions/v1/flight-search";

/**
 * Headers of a search request: the anon key as Supabase expects it (both `Authorization` and
 * `apikey`), JSON, and the VU's session id for sticky path bucketing.
 * @param {string} anonKey
 * @param {string} session
 * @returns {Record<string, string>}
 */
export function requestHeaders(anonKey, session) {
  return {
    authorization: `Bearer ${anonKey}`,
    apikey: anonKey,
    "content-type": "application/json",
    "x-session-id": session,
  };
}

/**
 * @typedef {object} Classified
 * @property {number} status HTTP status; 0 when no response arrived.
 * @property {"legacy" | "optimized" | null} path From `x-search-path`.
 * @property {"l1" | "l2" | "miss" | null} cache From `x-cache`.
 * @property {boolean} serverError 5xx or no response.
 * @property {boolean} failed Outside 200..399 or no response (k6's http_req_failed).
 */

/**
 * Classifies a response by its status and headers.
 * @param {number} status
 * @param {(name: string) => string | null | undefined} header Case-insensitive header lookup.
 * @returns {Classified}
 */
export function classify(status, header) {
  const pathValue = (header("x-search-path") || "").trim().toLowerCase();
  const cacheValue = (header("x-cache") || "").trim().toLowerCase();
  return {
    status,
    path: pathValue === "legacy" || pathValue === "optimized" ? pathValue : null,
    cache: cacheValue === "l1" || cacheValue === "l2" || cacheValue === "miss" ? cacheValue : null,
    serverError: status === 0 || status >= 500,
    failed: status < 200 || status >= 400,
  };
}

/**
 * Looks a header up case-insensitively in a plain object (k6 canonicalises names as
 * `X-Search-Path`; autocannon gives them as received).
 * @param {Record<string, unknown>} headers
 * @returns {(name: string) => string | null}
 */
export function headerLookup(headers) {
  /** @type {Record<string, string>} */
  const lower = {};
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    lower[key.toLowerCase()] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return (name) => {
    const value = lower[name.toLowerCase()];
    return value === undefined ? null : value;
  };
}

/**
 * The checks run on every response, by name (k6 `check()` names).
 * @type {ReadonlyArray<{ name: string, pass: (c: Classified) => boolean }>}
 */
export const responseChecks = Object.freeze([
  { name: "status is 200", pass: (c) => c.status === 200 },
  { name: "x-search-path names the path", pass: (c) => c.path !== null },
]);
