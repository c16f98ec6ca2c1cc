// @ts-check
/**
 * The search mix of a load test: which search request number `i` of phase `p` sends, the same
 * whichever driver sends it. Plain ECMAScript with no k6, Node or Deno API.
 *
 * The mix is deterministic: request `i` of phase `p` is a function of (seed, p, i) only. With
 * duplication `d`, a share `d` of requests repeats one of a small hot set of searches (the same
 * popular searches in every run); the rest are searches never sent before in the run. The seed
 * is chosen afresh for each run unless given (LOAD_SEED / `seed`) and is recorded in the
 * summary, so a run can be replayed exactly while consecutive runs do not find each other's
 * "fresh" searches in the cache.
 *
 * @module
 */

/** @typedef {import("./routes.js").Route} Route */

/** Size of the hot set the repeated searches are drawn from. */
export const hotSetSize = 20;

/**
 * Search parameters besides the route; their combinations make fresh searches distinct. With 50
 * routes that is 180,000 distinct searches, shared out between a workload's phases.
 */
export const searchDimensions = Object.freeze({
  passengers: Object.freeze([1, 2, 3, 4, 5, 6]),
  cabin: Object.freeze(["economy", "premium_economy", "business", "first"]),
  sort: Object.freeze(["price", "departure", "duration"]),
  limit: Object.freeze(Array.from({ length: 50 }, (_, i) => i + 1)),
});

/**
 * One flight search.
 * @typedef {object} Search
 * @property {string} origin
 * @property {string} destination
 * @property {string} departureDate YYYY-MM-DD
 * @property {number} passengers
 * @property {string} cabin
 * @property {string} sort
 * @property {number} limit
 * @property {boolean} repeat True when drawn from the hot set.
 * @property {number} key The search's number in the mix; equal keys are equal searches.
 */

/**
 * A 32-bit integer hash of a few integers (murmur3's finaliser over a running mix), so the
 * mix is deterministic without any runtime's random source.
 * @param {number[]} parts
 * @returns {number} 0 .. 2^32-1
 */
export function hash32(parts) {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * How many distinct searches `routes` allow: routes × passengers × cabins × sorts × limits.
 * @param {number} routeCount
 * @returns {number}
 */
export function searchSpace(routeCount) {
  const d = searchDimensions;
  return routeCount * d.passengers.length * d.cabin.length * d.sort.length * d.limit.length;
}

/**
 * The search with number `key`: a mixed-radix decoding, so distinct keys below
 * {@link searchSpace} are distinct searches.
 * @param {readonly Route[]} routes
 * @param {number} key
 * @returns {Omit<Search, "repeat">}
 */
export function searchAt(routes, key) {
  const d = searchDimensions;
  let rest = key % searchSpace(routes.length);
  /** @param {number} n */
  const digit = (n) => {
    const value = rest % n;
    rest = Math.floor(rest / n);
    return value;
  };
  const route = /** @type {Route} */ (routes[digit(routes.length)]);
  return {
    origin: route.origin,
    destination: route.destination,
    departureDate: route.departureDate,
    passengers: /** @type {number} */ (d.passengers[digit(d.passengers.length)]),
    cabin: /** @type {string} */ (d.cabin[digit(d.cabin.length)]),
    sort: /** @type {string} */ (d.sort[digit(d.sort.length)]),
    limit: /** @type {number} */ (d.limit[digit(d.limit.length)]),
    key,
  };
}

/**
 * A seed for a run that was given none (k6: in `setup()`, once for all VUs).
 * @returns {number} 1 .. 2^31-1
 */
export function freshSeed() {
  return 1 + Math.floor(Math.random() * 2147483646);
}

/**
 * The `iteration`-th search (0-based, counted over the whole phase) of phase `phaseIndex`.
 *
 * Repeats (a share `duplication`) draw uniformly from keys 0..{@link hotSetSize}-1. Fresh
 * searches take the next unused key of the phase's own block of the rest of the search space,
 * starting at an offset derived from the seed, so no two fresh searches of a run are equal
 * until a phase has used up its block (then it wraps), and runs with other seeds start
 * elsewhere.
 *
 * @param {{ routes: readonly Route[], duplication: number, seed: number, phaseCount: number }} mix
 * @param {number} phaseIndex
 * @param {number} iteration
 * @returns {Search}
 */
export function searchFor(mix, phaseIndex, iteration) {
  if (mix.routes.length === 0) throw new RangeError("routes: at least one route is needed");
  const space = searchSpace(mix.routes.length);
  const hot = Math.min(hotSetSize, space);
  const rest = Math.max(1, space - hot);
  const block = Math.max(1, Math.floor(rest / Math.max(1, mix.phaseCount)));
  const draw = hash32([mix.seed, phaseIndex, iteration]) / 4294967296;
  if (draw < mix.duplication) {
    const which = hash32([mix.seed, phaseIndex, iteration, 1]) % hot;
    return { ...searchAt(mix.routes, which), repeat: true };
  }
  const offset = hash32([mix.seed, 0x5eed]) % rest;
  const key = hot + ((offset + phaseIndex * block + (iteration % block)) % rest);
  return { ...searchAt(mix.routes, key), repeat: false };
}

/**
 * The flight-search request body for a search (the function's JSON input).
 * @param {Search} search
 * @returns {Record<string, string | number>}
 */
export function searchBody(search) {
  return {
    origin: search.origin,
    destination: search.destination,
    departure_date: search.departureDate,
    passengers: search.passengers,
    cabin: search.cabin,
    sort: search.sort,
    limit: search.limit,
  };
}

/**
 * The session id a request sends in `x-session-id`, so sticky bucketing spreads VUs (or, with
 * `request`, requests: see the workloads' `sessions`) over buckets.
 * @param {number} seed
 * @param {number} vu
 * @param {number} [request] The request's number in its phase, for `request` sessions.
 * @returns {string}
 */
export function sessionId(seed, vu, request) {
  return request === undefined ? `load-${seed}-vu-${vu}` : `load-${seed}-vu-${vu}-req-${request}`;
}
