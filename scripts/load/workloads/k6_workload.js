// @ts-check
/**
 * Turns a workload of ./workloads.js into what a k6 script exports: `options` (one k6 scenario
 * per phase, thresholds from config/sla.json), `setup` (the routes), the iteration function and
 * `handleSummary` (the JSON summary both drivers write).
 *
 * Only the documented k6 API is used. Files are read by the calling script with `open()` (k6
 * allows it only in the init context and resolves relative paths against the script), then
 * passed in here as text.
 *
 * Environment: SUPABASE_URL, SUPABASE_ANON_KEY (required); ROUTES_FILE (read by the script) or
 * LOAD_ROUTES (JSON), else routes are derived from flights read through the REST API;
 * LOAD_DURATION, LOAD_VUS, LOAD_RATE, LOAD_SEED (overrides); LOAD_GATE_LEVEL
 * (warning|critical|rollback, default rollback); SUMMARY_FILE (default
 * $REPORTS_DIR/load/<workload>.json, REPORTS_DIR defaulting to reports, relative to where k6 runs).
 *
 * @module
 */
import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Rate, Trend } from "k6/metrics";
import { k6Duration } from "./duration.js";
import {
  classify,
  functionPath,
  headerLookup,
  metricNames,
  requestHeaders,
  responseChecks,
} from "./response.js";
import { parseRoutes, restFlightsPath, routesFromFlights } from "./routes.js";
import { freshSeed, searchBody, searchFor, sessionId } from "./search_mix.js";
import { summaryText, summaryTrendStats } from "./summary.js";
import { k6Thresholds } from "./thresholds.js";
import { overridesFromEnv, resolveWorkload } from "./workloads.js";

/** @typedef {import("./routes.js").Route} Route */
/** @typedef {import("./workloads.js").Phase} Phase */

/** Routes derived from the REST API when no routes are given. */
const discoveredRouteLimit = 200;

/**
 * @param {Record<string, string>} env
 * @param {string} name
 * @returns {string}
 */
function required(env, name) {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set (see tests/load/README.md)`);
  return value;
}

/**
 * @param {Phase} phase
 * @returns {import("k6/options").Scenario}
 */
function k6Scenario(phase) {
  const common = {
    startTime: k6Duration(phase.startS),
    gracefulStop: "5s",
    tags: phase.tags,
  };
  if (phase.executor === "ramping-vus") {
    return {
      ...common,
      executor: "ramping-vus",
      startVUs: 0,
      stages: (phase.stages || []).map((s) => ({
        duration: k6Duration(s.durationS),
        target: s.target,
      })),
      gracefulRampDown: "5s",
    };
  }
  if (phase.executor === "constant-arrival-rate") {
    return {
      ...common,
      executor: "constant-arrival-rate",
      rate: phase.rate || 1,
      timeUnit: "1s",
      duration: k6Duration(phase.durationS),
      preAllocatedVUs: Math.min(phase.vus, Math.max(1, phase.rate || 1)),
      maxVUs: phase.vus,
    };
  }
  return {
    ...common,
    executor: "constant-vus",
    vus: phase.vus,
    duration: k6Duration(phase.durationS),
  };
}

/**
 * The custom metrics an iteration records (k6 wants them created in the init context).
 * @typedef {ReturnType<typeof searchMetrics>} SearchMetrics
 */

/** The custom metrics of {@link metricNames}, created once per VU in the init context. */
function searchMetrics() {
  return {
    serverErrors: new Rate(metricNames.serverErrors),
    legacy: new Counter(metricNames.legacy),
    optimized: new Counter(metricNames.optimized),
    legacyDuration: new Trend(metricNames.legacyDuration, true),
    optimizedDuration: new Trend(metricNames.optimizedDuration, true),
    cacheL1: new Counter(metricNames.cacheL1),
    cacheL2: new Counter(metricNames.cacheL2),
    cacheMiss: new Counter(metricNames.cacheMiss),
    cacheHits: new Rate(metricNames.cacheHits),
  };
}

/**
 * Adds one classified response to the metrics.
 * @param {SearchMetrics} metrics
 * @param {import("./response.js").Classified} c
 * @param {number} durationMs
 */
function recordSearch(metrics, c, durationMs) {
  metrics.serverErrors.add(c.serverError);
  if (c.path === "legacy") {
    metrics.legacy.add(1);
    metrics.legacyDuration.add(durationMs);
  } else if (c.path === "optimized") {
    metrics.optimized.add(1);
    metrics.optimizedDuration.add(durationMs);
  }
  if (c.cache !== null) {
    if (c.cache === "l1") metrics.cacheL1.add(1);
    if (c.cache === "l2") metrics.cacheL2.add(1);
    if (c.cache === "miss") metrics.cacheMiss.add(1);
    metrics.cacheHits.add(c.cache !== "miss");
  }
}

/**
 * The k6 options of a workload: one scenario per phase, thresholds at `gateLevel`.
 * @param {import("./workloads.js").Workload} workload
 * @param {import("./thresholds.js").SlaLevels} sla
 * @param {import("./thresholds.js").GateLevel} gateLevel
 * @returns {import("k6/options").Options}
 */
function k6Options(workload, sla, gateLevel) {
  /** @type {import("k6/options").Options} */
  const options = {
    scenarios: {},
    thresholds: k6Thresholds(sla, workload, gateLevel),
    summaryTrendStats: [...summaryTrendStats],
    discardResponseBodies: true,
    setupTimeout: "60s",
  };
  for (const phase of workload.phases) {
    /** @type {Record<string, import("k6/options").Scenario>} */ (options.scenarios)[phase.name] =
      k6Scenario(phase);
  }
  return options;
}

/**
 * Routes derived from flights read through the project's REST API (when none are given).
 * @param {string} baseUrl
 * @param {string} anonKey
 * @returns {Route[]}
 */
function discoverRoutes(baseUrl, anonKey) {
  const res = http.get(baseUrl + restFlightsPath, {
    headers: { authorization: `Bearer ${anonKey}`, apikey: anonKey },
    responseType: "text",
  });
  if (res.status !== 200 || typeof res.body !== "string") {
    throw new Error(
      `no routes given (ROUTES_FILE or LOAD_ROUTES) and ${baseUrl}/rest/v1/flights answered ` +
        `${res.status}; write a routes file with \`deno task load:routes\``,
    );
  }
  const routes = routesFromFlights(JSON.parse(res.body), discoveredRouteLimit);
  return parseRoutes(routes, "flights from the REST API");
}

/**
 * The gate level of LOAD_GATE_LEVEL (default `rollback`).
 * @param {Record<string, string>} env
 * @returns {import("./thresholds.js").GateLevel}
 */
function gateLevelOf(env) {
  const gateLevel = env.LOAD_GATE_LEVEL || "rollback";
  if (gateLevel !== "warning" && gateLevel !== "critical" && gateLevel !== "rollback") {
    throw new Error(`LOAD_GATE_LEVEL: expected warning, critical or rollback, got "${gateLevel}"`);
  }
  return gateLevel;
}

/**
 * The routes given as text (ROUTES_FILE, read by the script) or in LOAD_ROUTES; null if none.
 * @param {string | undefined} text
 * @param {Record<string, string>} env
 * @returns {Route[] | null}
 */
function givenRoutesOf(text, env) {
  return text !== undefined
    ? parseRoutes(JSON.parse(text), env.ROUTES_FILE || "ROUTES_FILE")
    : env.LOAD_ROUTES
    ? parseRoutes(JSON.parse(env.LOAD_ROUTES), "LOAD_ROUTES")
    : null;
}

/**
 * What k6 passes to `handleSummary`.
 * @typedef {{ metrics: Record<string, unknown>, state: { testRunDurationMs: number }, setup_data?: { routes?: unknown[], seed?: number } }} K6SummaryData
 */

/**
 * The files `handleSummary` writes: the JSON summary with its `meta`, and the text on stdout.
 * @param {K6SummaryData} data
 * @param {import("./workloads.js").Workload} workload
 * @param {{ baseUrl: string, gateLevel: string, summaryFile: string }} run
 * @returns {Record<string, string>}
 */
function summaryFiles(data, workload, run) {
  const endedAt = new Date();
  const setupData = data.setup_data || {};
  const routes = setupData.routes ? setupData.routes.length : null;
  const out = Object.assign({}, data, {
    setup_data: undefined,
    meta: {
      driver: "k6",
      workload: workload.name,
      description: workload.description,
      startedAt: new Date(endedAt.getTime() - data.state.testRunDurationMs).toISOString(),
      endedAt: endedAt.toISOString(),
      baseUrl: run.baseUrl,
      seed: setupData.seed === undefined ? workload.seed : setupData.seed,
      duplication: workload.duplication,
      gateLevel: run.gateLevel,
      routes,
      phases: workload.phases,
    },
  });
  /** @type {Record<string, string>} */
  const files = {};
  files[run.summaryFile] = JSON.stringify(out, null, 2);
  files.stdout = summaryText(
    /** @type {import("./summary.js").SummaryLike} */ (/** @type {unknown} */ (out)),
  );
  return files;
}

/**
 * @typedef {object} K6Inputs
 * @property {string} sla Text of config/sla.json (`open("../../config/sla.json")`).
 * @property {string | undefined} routes Text of ROUTES_FILE when set.
 * @property {Record<string, string>} env `__ENV`.
 */

/**
 * The exports of the k6 script for workload `name`.
 * @param {string} name
 * @param {K6Inputs} inputs
 */
export function k6Workload(name, inputs) {
  const env = inputs.env;
  const baseUrl = required(env, "SUPABASE_URL").replace(/\/+$/, "");
  const anonKey = required(env, "SUPABASE_ANON_KEY");
  const workload = resolveWorkload(name, overridesFromEnv(env));
  const gateLevel = gateLevelOf(env);
  const sla = JSON.parse(inputs.sla);
  const givenRoutes = givenRoutesOf(inputs.routes, env);
  const summaryFile = env.SUMMARY_FILE || `${env.REPORTS_DIR || "reports"}/load/${name}.json`;
  const url = baseUrl + functionPath;
  /** @type {Record<string, Phase>} */
  const phaseByName = {};
  for (const phase of workload.phases) phaseByName[phase.name] = phase;
  // k6's own --vus/--duration/--iterations replace the scenarios with one named `default`: it
  // sends the first phase's search mix (its per-phase thresholds then see nothing, and fail).
  const firstPhase = /** @type {Phase} */ (workload.phases[0]);
  const metrics = searchMetrics();
  /** @type {{ [name: string]: (c: import("./response.js").Classified) => boolean }} */
  const checks = {};
  for (const rule of responseChecks) checks[rule.name] = rule.pass;
  const options = k6Options(workload, sla, gateLevel);

  /** @returns {{ routes: Route[], seed: number }} */
  function setup() {
    // One seed for the whole run, chosen here because every VU runs the init code separately.
    const seed = workload.seed === null ? freshSeed() : workload.seed;
    return { routes: givenRoutes || discoverRoutes(baseUrl, anonKey), seed };
  }

  /** @param {{ routes: Route[], seed: number }} data */
  function iteration(data) {
    const phase = phaseByName[exec.scenario.name] || firstPhase;
    const mix = {
      routes: data.routes,
      duplication: workload.duplication,
      seed: data.seed,
      phaseCount: workload.phases.length,
    };
    const search = searchFor(mix, phase.index, exec.scenario.iterationInTest);
    const res = http.post(url, JSON.stringify(searchBody(search)), {
      headers: requestHeaders(
        anonKey,
        sessionId(
          data.seed,
          exec.vu.idInTest,
          workload.sessions === "request" ? exec.scenario.iterationInTest : undefined,
        ),
      ),
      tags: { name: "flight-search" },
    });
    const c = classify(res.status, headerLookup(res.headers));
    recordSearch(metrics, c, res.timings.duration);
    check(c, checks);
  }

  /**
   * @param {K6SummaryData} data
   * @returns {Record<string, string>}
   */
  function handleSummary(data) {
    return summaryFiles(data, workload, { baseUrl, gateLevel, summaryFile });
  }

  return { options, setup, iteration, handleSummary };
}
