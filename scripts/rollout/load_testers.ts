/**
 * Phase 3's load testers: k6 (v0.53 or newer) with the tests/load/ scripts when `k6` is on PATH,
 * else the built-in driver (scripts/load/driver.ts). Both run the same workload with thresholds built from
 * config/sla.json (at its rollback levels) and write the same summary, read here through
 * scripts/load/summary.ts.
 *
 * @module
 */
import type { PerformanceTester, PerformanceTestResult, PerformanceTestRun } from "./tools.ts";
import { parseDuration } from "../sla/sla.ts";
import { type DriverOptions, runScenario } from "../load/driver.ts";
import {
  type LoadSummary,
  metricValue,
  readLoadSummary,
  slaFigures,
  thresholdResults,
} from "../load/summary.ts";
import { findRoutes, writeRoutesFile } from "../load/routes.ts";
import { checkK6Version, formatK6Version, type K6Version } from "../load/k6_version.ts";
import { PreconditionError } from "../_cli/errors.ts";
import { repoRoot, reportsDir as defaultReportsDir } from "./paths.ts";

/** The absolute path of `name` on PATH, or undefined. */
export function findOnPath(
  name: string,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string | undefined {
  for (const dir of (env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const candidate = `${dir}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** k6's exit code when thresholds fail. */
const k6ThresholdsFailed = 99;

/** Headline figures of a summary for the log: requests and the SLA figures it measures. */
export function summaryFigures(summary: LoadSummary): Record<string, number | null> {
  return { requests: metricValue(summary, "http_reqs", "count"), ...slaFigures(summary) };
}

/** The summary's failed thresholds, one line each. */
export function failedThresholds(summary: LoadSummary): string[] {
  return thresholdResults(summary).filter((r) => !r.ok).map((r) => `${r.metric} ${r.expression}`);
}

/** Options of {@link k6Tester}. */
export interface K6TesterOptions {
  /**
   * Where the routes file k6 reads (`load/routes.json`) is written, and, with `keepSummary`, the
   * summary (`load/<scenario>.json`, where the HTML report reads it). @default REPORTS_DIR
   */
  reportsDir?: string;
  /** Keep k6's summary under `reportsDir/load/` instead of a temporary file. @default false */
  keepSummary?: boolean;
  /** Checks `k6 version`. @default {@link checkK6Version} */
  checkVersion?: (k6: string) => Promise<K6Version>;
}

/**
 * Runs `k6 run tests/load/<scenario>.js` with the target in the environment (keys never on the
 * command line) and the routes the built-in driver would search (the target's busiest routes, or
 * its REST API's flights) in a routes file (ROUTES_FILE): the local stack has no REST API for the
 * scripts to find routes themselves. `k6 version` is checked first; the script's handleSummary
 * writes the summary to SUMMARY_FILE.
 *
 * `preflight()` (run by the rollout before anything changes) and every run check `k6 version`.
 *
 * @throws {PreconditionError} when k6 is older than the scripts need or no routes could be had.
 */
export function k6Tester(k6: string, options: K6TesterOptions = {}): PerformanceTester {
  const { reportsDir = defaultReportsDir, keepSummary = false, checkVersion = checkK6Version } =
    options;
  let checked: Promise<K6Version> | undefined;
  const gate = () =>
    checked ??= checkVersion(k6).catch((error) => {
      checked = undefined;
      throw new PreconditionError((error as Error).message);
    });
  const run: PerformanceTestRun = async ({ api, workload, executor, dbUrl }) => {
    const version = await gate();
    executor.note(`k6 ${formatK6Version(version)}: ${k6}`);
    const routesPath = `${reportsDir}/load/routes.json`;
    if (!executor.dryRun) {
      const routes = await findRoutes({ dbUrl, baseUrl: api.apiUrl, anonKey: api.anonKey })
        .catch((error) => {
          throw new PreconditionError(`k6 needs routes: ${(error as Error).message}`);
        });
      await writeRoutesFile(routesPath, routes);
    }
    const summaryPath = executor.dryRun || keepSummary
      ? `${reportsDir}/load/${workload.scenario}.json`
      : await Deno.makeTempFile({ prefix: "k6-summary-", suffix: ".json" });
    const result = await executor.command({
      cmd: k6,
      args: ["run", "--quiet", `${repoRoot}/tests/load/${workload.scenario}.js`],
      env: {
        SUPABASE_URL: api.apiUrl,
        SUPABASE_ANON_KEY: api.anonKey,
        ROUTES_FILE: routesPath,
        LOAD_DURATION: workload.duration,
        LOAD_VUS: String(workload.vus),
        SUMMARY_FILE: summaryPath,
      },
      cwd: repoRoot,
    });
    if (executor.dryRun) return { tool: "k6", passed: true, failures: [], summary: {} };
    let summary: LoadSummary | undefined;
    let unreadable: string | undefined;
    try {
      summary = await readLoadSummary(summaryPath);
    } catch (error) {
      unreadable = (error as Error).message;
    } finally {
      if (!keepSummary) await Deno.remove(summaryPath).catch(() => {});
    }
    return k6Result(result, summary, unreadable);
  };
  return Object.assign(run, { preflight: async () => void await gate() });
}

function k6Result(
  result: { code: number; output: string },
  summary: LoadSummary | undefined,
  unreadable: string | undefined,
): PerformanceTestResult {
  const failures: string[] = [];
  if (result.code === k6ThresholdsFailed) {
    failures.push(...(summary ? failedThresholds(summary) : []));
    if (failures.length === 0) failures.push("k6 thresholds (from config/sla.json) crossed");
  } else if (result.code !== 0) {
    failures.push(`k6 exited ${result.code}: ${result.output.split("\n").slice(-3).join(" ")}`);
  }
  if (unreadable && result.code === 0) {
    failures.push(`k6 wrote no readable summary: ${unreadable}`);
  }
  return {
    tool: "k6",
    passed: failures.length === 0,
    failures,
    summary: summary ? summaryFigures(summary) : {},
  };
}

/** The built-in driver's entry, as scripts/load/driver.ts exports it. */
export type RunScenario = (options: DriverOptions) => Promise<LoadSummary>;

/**
 * Runs the built-in driver (autocannon under Node) and judges its summary's thresholds. With the
 * target's database URL the driver searches the busiest routes; else routes from the REST API.
 */
export function driverTester(run: RunScenario = runScenario): PerformanceTester {
  return async ({ api, workload, executor, signal, dbUrl }) => {
    const durationS = Math.max(1, Math.round(parseDuration(workload.duration) / 1000));
    executor.note(
      `built-in load driver: scenario ${workload.scenario}, ${workload.vus} VUs, ${durationS} s against ${api.apiUrl}`,
    );
    if (executor.dryRun) return { tool: "driver", passed: true, failures: [], summary: {} };
    const summary = await run({
      baseUrl: api.apiUrl,
      anonKey: api.anonKey,
      scenario: workload.scenario,
      durationS,
      vus: workload.vus,
      signal,
      ...(dbUrl ? { dbUrl } : {}),
    });
    const failures = failedThresholds(summary);
    return {
      tool: "driver",
      passed: failures.length === 0,
      failures,
      summary: summaryFigures(summary),
    } satisfies PerformanceTestResult;
  };
}

/** k6 when it is on PATH, else the built-in driver. */
export function defaultPerformanceTester(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): PerformanceTester {
  const k6 = findOnPath("k6", env);
  return k6 ? k6Tester(k6) : driverTester(runScenario);
}
