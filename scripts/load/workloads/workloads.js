// @ts-check
/**
 * The load-test workloads, defined once and run by both drivers: the k6 entry scripts of
 * tests/load/ (one per workload, through ./k6_workload.js) and the built-in autocannon driver
 * (scripts/load/driver.ts). Plain ECMAScript with no k6, Node or Deno API, so each runtime
 * imports it as it is.
 *
 * A workload resolves into *phases*, each one k6 scenario: `constant-vus`, `ramping-vus` or
 * `constant-arrival-rate`, run one after the other. The concurrency sweep is four constant-vus
 * phases tagged `concurrency: "<n>"`, so its figures come out per level. What each phase sends is
 * the search mix of ./search_mix.js.
 *
 * @module
 */
import { parseDuration } from "./duration.js";

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

const cacheGates =
  /** @type {GateMetric[]} */ (["error_rate", "latency_p95_ms", "cache_hit_ratio"]);

/**
 * The workloads, by name. Each has a same-named k6 script in tests/load/ (`baseline.js`, ...).
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

  return {
    name,
    description: spec.description,
    duplication: spec.duplication,
    gates: [...spec.gates],
    seed,
    sessions: spec.sessions ?? "vu",
    phases: layOut(name, spec, { durationS, vus, rate }),
  };
}

/**
 * The phases of workload `name`, with the overrides already checked against it.
 * @param {string} name
 * @param {WorkloadSpec} spec
 * @param {{ durationS?: number, vus?: number, rate?: number }} overrides
 * @returns {Phase[]}
 */
function layOut(name, spec, { durationS, vus, rate }) {
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
  return phases;
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
