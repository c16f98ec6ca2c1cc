// @ts-check
/**
 * The load-test workloads, defined once and read by both drivers: the k6 scripts in this folder
 * and the built-in autocannon driver (scripts/load/driver.ts). Plain ECMAScript with no k6, Node
 * or Deno API, so each runtime imports it as it is.
 *
 * A workload resolves into *phases*, each one k6 scenario: `constant-vus`, `ramping-vus` or
 * `constant-arrival-rate`, run one after the other. The concurrency sweep is four constant-vus
 * phases tagged `concurrency: "<n>"`, so its figures come out per level.
 *
 * The search mix is deterministic: request number `i` of phase `p` is a function of
 * (seed, p, i) only, whichever driver sends it. With duplication `d`, a share `d` of requests
 * repeats one of a small hot set of searches (the same popular searches in every run); the rest
 * are searches never sent before in the run. The seed is chosen afresh for each run unless given
 * (LOAD_SEED / `seed`) and is recorded in the summary, so a run can be replayed exactly while
 * consecutive runs do not find each other's "fresh" searches in the cache.
 *
 * @module
 */
import { parseDuration } from "./lib/duration.js";

/**
 * A route with flights in the seed: what a search is made of.
 * @typedef {{ origin: string, destination: string, departureDate: string }} Route
 */

/**
 * The SLA metrics a client-side load test can measure and gate on.
 * @typedef {"error_rate" | "latency_p95_ms" | "cache_hit_ratio"} GateMetric
 */

/**
 * A workload as written below, before overrides.
 * @typedef {object} WorkloadSpec
 * @property {string} description
 * @property {number} duplication Share (0..1) of requests that repeat a hot search.
 * @property {GateMetric[]} gates SLA metrics whose k6 thresholds this workload enforces.
 * @property {"constant-vus" | "ramping-vus" | "constant-arrival-rate" | "sweep"} shape
 * @property {number} [vus] constant-vus: virtual users.
 * @property {number} [durationS] constant-vus and constant-arrival-rate: seconds.
 * @property {{ durationS: number, target: number }[]} [stages] ramping-vus.
 * @property {number} [rate] constant-arrival-rate: iterations per second.
 * @property {number} [maxVUs] constant-arrival-rate: most VUs it may use.
 * @property {number[]} [levels] sweep: concurrency levels, one phase each.
 * @property {Sessions} [sessions] default `vu`.
 */

/**
 * What `x-session-id` (hence the sticky path bucket) follows: `vu`, one session per virtual user,
 * as real users behave; `request`, a session per request, so even one VU spreads its requests
 * over both paths (the sweep compares the paths at every level, one VU included).
 * @typedef {"vu" | "request"} Sessions
 */

/**
 * One k6 scenario of a resolved workload.
 * @typedef {object} Phase
 * @property {string} name k6 scenario name.
 * @property {number} index Position in the workload; part of the search-mix key.
 * @property {"constant-vus" | "ramping-vus" | "constant-arrival-rate"} executor
 * @property {number} startS When it starts, seconds after the test starts.
 * @property {number} durationS How long it runs (for ramping-vus, the sum of its stages).
 * @property {number} vus constant-vus: VUs; ramping-vus: the peak; arrival rate: maxVUs.
 * @property {{ durationS: number, target: number }[]} [stages] ramping-vus.
 * @property {number} [rate] constant-arrival-rate: iterations per second.
 * @property {Record<string, string>} tags Tags on every metric sample of the phase.
 */

/**
 * A workload ready to run.
 * @typedef {object} Workload
 * @property {string} name
 * @property {string} description
 * @property {number} duplication
 * @property {GateMetric[]} gates
 * @property {number | null} seed Seed of the search mix; null: the driver picks one per run.
 * @property {Sessions} sessions
 * @property {Phase[]} phases
 */

/**
 * Overrides a caller may apply (k6: the LOAD_* environment variables; the driver: options).
 * @typedef {object} Overrides
 * @property {number} [durationS] Total duration; stages and sweep levels are scaled to it.
 * @property {number} [vus] Peak VUs (constant-vus, ramping-vus peak, arrival-rate maxVUs).
 * @property {number} [rate] constant-arrival-rate iterations per second.
 * @property {number} [seed] Seed of the search mix (default: a fresh one per run).
 */

/** Seconds k6 lets an iteration finish after a phase ends; the next phase starts after it. */
export const gracefulStopS = 5;

/** Size of the hot set the repeated searches are drawn from. */
export const hotSetSize = 20;

const cacheGates =
  /** @type {GateMetric[]} */ (["error_rate", "latency_p95_ms", "cache_hit_ratio"]);

/**
 * The workloads, by name. Each has a same-named k6 script in this folder (`baseline.js`, ...).
 * @type {Readonly<Record<string, WorkloadSpec>>}
 */
export const workloads = Object.freeze({
  baseline: {
    description: "50 users searching steadily with a realistic mix (half the searches repeat).",
    shape: "constant-vus",
    vus: 50,
    durationS: 300,
    duplication: 0.5,
    gates: cacheGates,
  },
  "cache-high": {
    description: "Cache validation, high duplication: 70% of searches repeat a hot search.",
    shape: "constant-vus",
    vus: 20,
    durationS: 120,
    duplication: 0.7,
    gates: cacheGates,
  },
  "cache-medium": {
    description: "Cache validation, medium duplication: 50% of searches repeat a hot search.",
    shape: "constant-vus",
    vus: 20,
    durationS: 120,
    duplication: 0.5,
    gates: cacheGates,
  },
  "cache-low": {
    description:
      "Cache validation, low duplication: 20% of searches repeat. The hit ratio is measured, " +
      "not gated: by construction it sits near the rollback level.",
    shape: "constant-vus",
    vus: 20,
    durationS: 120,
    duplication: 0.2,
    gates: ["error_rate", "latency_p95_ms"],
  },
  stress: {
    description: "Ramp to 300 users and hold, to find where errors start; gated on errors only.",
    shape: "ramping-vus",
    stages: [
      { durationS: 60, target: 50 },
      { durationS: 120, target: 150 },
      { durationS: 120, target: 300 },
      { durationS: 60, target: 300 },
      { durationS: 30, target: 0 },
    ],
    duplication: 0.5,
    gates: ["error_rate"],
  },
  soak: {
    description:
      "Constant arrival rate for a long time (LOAD_DURATION, default 1h) to surface leaks and " +
      "slow degradation.",
    shape: "constant-arrival-rate",
    rate: 20,
    maxVUs: 100,
    durationS: 3600,
    duplication: 0.5,
    gates: cacheGates,
  },
  sweep: {
    description:
      "Concurrency sweep: 1, 5, 10, 50 users in turn, every search fresh, so the database work " +
      "of each path shows per level.",
    shape: "sweep",
    levels: [1, 5, 10, 50],
    durationS: 120,
    duplication: 0,
    gates: ["error_rate", "latency_p95_ms"],
    sessions: "request",
  },
});

/** Names of {@link workloads}. */
export const workloadNames = Object.freeze(Object.keys(workloads));

/**
 * @param {unknown} value
 * @param {string} name
 * @returns {number}
 */
function positiveInt(value, name) {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name}: expected a positive integer, received ${String(value)}`);
  }
  return value;
}

/**
 * Applies overrides to a workload and lays it out in phases.
 *
 * @param {string} name One of {@link workloadNames}.
 * @param {Overrides} [overrides]
 * @returns {Workload}
 * @throws {RangeError} for an unknown workload or an override that does not fit it.
 */
export function resolveWorkload(name, overrides = {}) {
  const spec = Object.prototype.hasOwnProperty.call(workloads, name) ? workloads[name] : undefined;
  if (!spec) {
    throw new RangeError(
      `unknown workload "${name}", expected one of ${workloadNames.join(", ")}`,
    );
  }
  const durationS = overrides.durationS === undefined
    ? undefined
    : positiveInt(overrides.durationS, "durationS");
  const vus = overrides.vus === undefined ? undefined : positiveInt(overrides.vus, "vus");
  const rate = overrides.rate === undefined ? undefined : positiveInt(overrides.rate, "rate");
  const seed = overrides.seed === undefined ? null : positiveInt(overrides.seed, "seed");
  if (rate !== undefined && spec.shape !== "constant-arrival-rate") {
    throw new RangeError(`rate: applies only to constant-arrival-rate workloads, not "${name}"`);
  }
  if (vus !== undefined && spec.shape === "sweep") {
    throw new RangeError(`vus: the sweep's levels are fixed, it takes no vus override`);
  }

  /** @type {Phase[]} */
  const phases = [];
  const specDuration = spec.durationS ?? 0;
  switch (spec.shape) {
    case "constant-vus":
      phases.push({
        name,
        index: 0,
        executor: "constant-vus",
        startS: 0,
        durationS: durationS ?? specDuration,
        vus: vus ?? spec.vus ?? 1,
        tags: {},
      });
      break;
    case "ramping-vus": {
      const stages = spec.stages ?? [];
      const total = stages.reduce((sum, s) => sum + s.durationS, 0);
      const peak = Math.max(...stages.map((s) => s.target));
      const timeScale = durationS === undefined ? 1 : durationS / total;
      const vuScale = vus === undefined ? 1 : vus / peak;
      const scaled = stages.map((s) => ({
        durationS: Math.max(1, Math.round(s.durationS * timeScale)),
        target: Math.round(s.target * vuScale),
      }));
      phases.push({
        name,
        index: 0,
        executor: "ramping-vus",
        startS: 0,
        durationS: scaled.reduce((sum, s) => sum + s.durationS, 0),
        vus: Math.max(...scaled.map((s) => s.target)),
        stages: scaled,
        tags: {},
      });
      break;
    }
    case "constant-arrival-rate":
      phases.push({
        name,
        index: 0,
        executor: "constant-arrival-rate",
        startS: 0,
        durationS: durationS ?? specDuration,
        vus: vus ?? spec.maxVUs ?? 1,
        rate: rate ?? spec.rate ?? 1,
        tags: {},
      });
      break;
    case "sweep": {
      const levels = spec.levels ?? [];
      const each = Math.max(1, Math.round((durationS ?? specDuration) / levels.length));
      levels.forEach((level, index) => {
        phases.push({
          name: `concurrency_${level}`,
          index,
          executor: "constant-vus",
          startS: index * (each + gracefulStopS),
          durationS: each,
          vus: level,
          tags: { concurrency: String(level) },
        });
      });
      break;
    }
  }
  return {
    name,
    description: spec.description,
    duplication: spec.duplication,
    gates: [...spec.gates],
    seed,
    sessions: spec.sessions ?? "vu",
    phases,
  };
}

/**
 * Reads the overrides from LOAD_DURATION (a duration: `30s`, `5m`, `1h`), LOAD_VUS, LOAD_RATE
 * and LOAD_SEED.
 *
 * @param {Record<string, string | undefined>} env
 * @returns {Overrides}
 * @throws {RangeError} naming the variable that is malformed.
 */
export function overridesFromEnv(env) {
  /** @type {Overrides} */
  const overrides = {};
  /** @param {string} name */
  const int = (name) => {
    const text = env[name];
    if (text === undefined || text === "") return undefined;
    if (!/^\d+$/.test(text)) {
      throw new RangeError(`${name}: expected a positive integer, received "${text}"`);
    }
    return Number(text);
  };
  const duration = env.LOAD_DURATION;
  if (duration !== undefined && duration !== "") {
    try {
      overrides.durationS = Math.max(1, Math.round(parseDuration(duration) / 1000));
    } catch (error) {
      throw new RangeError(`LOAD_DURATION: ${/** @type {Error} */ (error).message}`);
    }
  }
  const vus = int("LOAD_VUS");
  if (vus !== undefined) overrides.vus = vus;
  const rate = int("LOAD_RATE");
  if (rate !== undefined) overrides.rate = rate;
  const seed = int("LOAD_SEED");
  if (seed !== undefined) overrides.seed = seed;
  return overrides;
}

// --- search mix ------------------------------------------------------------------------------

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
 * `request`, requests: see {@link Sessions}) over buckets.
 * @param {number} seed
 * @param {number} vu
 * @param {number} [request] The request's number in its phase, for `request` sessions.
 * @returns {string}
 */
export function sessionId(seed, vu, request) {
  return request === undefined ? `load-${seed}-vu-${vu}` : `load-${seed}-vu-${vu}-req-${request}`;
}
