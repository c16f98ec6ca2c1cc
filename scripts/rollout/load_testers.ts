/**
 * Phase 3's load testers: k6 with the tests/load/ scripts when `k6` is on PATH (its exit code
 * says whether the scripts' thresholds, built from config/sla.json, held), else the built-in
 * driver, whose k6-like summary is judged here against the same SLA.
 *
 * @module
 */
import { evaluate, type Sla } from "./_sla_shim.ts";
import type { PerformanceTester, PerformanceTestResult } from "./context.ts";
import { parseDuration } from "./_sla_shim.ts";
import { repoRoot } from "./paths.ts";

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

/**
 * Runs `k6 run tests/load/<scenario>.js` with the target in the environment (keys never on the
 * command line).
 */
export function k6Tester(k6: string): PerformanceTester {
  return async ({ api, workload, executor }) => {
    const summaryPath = executor.dryRun
      ? `${repoRoot}/reports/load/k6-<time>.json`
      : await Deno.makeTempFile({ prefix: "k6-summary-", suffix: ".json" });
    const result = await executor.command({
      cmd: k6,
      args: ["run", "--quiet", `${repoRoot}/tests/load/${workload.scenario}.js`],
      env: {
        SUPABASE_URL: api.apiUrl,
        SUPABASE_ANON_KEY: api.anonKey,
        LOAD_DURATION: workload.duration,
        LOAD_VUS: String(workload.vus),
        // The scripts' handleSummary writes the summary both drivers share here.
        SUMMARY_FILE: summaryPath,
      },
      cwd: repoRoot,
    });
    if (executor.dryRun) return { tool: "k6", passed: true, failures: [], summary: {} };
    let summary: Record<string, number | string | null> = {};
    try {
      summary = k6Figures(JSON.parse(await Deno.readTextFile(summaryPath)));
    } catch {
      // k6 failed before writing it; its output says why
    } finally {
      await Deno.remove(summaryPath).catch(() => {});
    }
    const failures = result.code === 0 ? [] : [
      result.code === k6ThresholdsFailed
        ? "k6 thresholds (from config/sla.json) crossed"
        : `k6 exited ${result.code}: ${result.output.split("\n").slice(-3).join(" ")}`,
    ];
    return { tool: "k6", passed: result.code === 0, failures, summary };
  };
}

/** The figures of a k6 `--summary-export` (or the driver's k6-like summary). */
export function k6Figures(summary: unknown): Record<string, number | string | null> {
  const metrics = (summary as { metrics?: Record<string, Record<string, unknown>> })?.metrics ?? {};
  const value = (metric: string, key: string): number | null => {
    const m = metrics[metric];
    const v = (m?.values as Record<string, unknown> | undefined)?.[key] ?? m?.[key];
    return typeof v === "number" ? v : null;
  };
  return {
    requests: value("http_reqs", "count"),
    // server_errors is the SLA's error rate (5xx or no answer); http_req_failed also counts 4xx.
    error_rate: value("server_errors", "rate") ?? value("http_req_failed", "rate"),
    p95_ms: value("http_req_duration", "p(95)"),
  };
}

/** The built-in driver's entry, as `scripts/load/driver.ts` exports it. */
export type RunScenario = (options: {
  baseUrl: string;
  anonKey: string;
  scenario: string;
  durationS?: number;
  vus?: number;
}) => Promise<unknown>;

/** Judges a k6-like summary's error rate and p95 against the SLA's rollback levels. */
export function judgeLoadSummary(sla: Sla, summary: unknown): PerformanceTestResult {
  const figures = k6Figures(summary);
  const failures: string[] = [];
  const judged: [string, number | null][] = [
    ["error_rate", figures.error_rate as number | null],
    ["latency_p95_ms", figures.p95_ms as number | null],
  ];
  for (const [metric, value] of judged) {
    if (!sla.metrics[metric]) continue;
    const verdict = evaluate(sla, metric, value);
    if (verdict === "rollback") {
      failures.push(
        `${metric} ${value} crosses the rollback level ${sla.metrics[metric]!.rollback}`,
      );
    }
    if (verdict === "no_data") failures.push(`${metric}: no data (did any request complete?)`);
  }
  return { tool: "driver", passed: failures.length === 0, failures, summary: figures };
}

/** Runs the built-in driver and judges its summary. */
export function driverTester(runScenario: RunScenario): PerformanceTester {
  return async ({ api, workload, sla, executor }) => {
    const durationS = Math.round(parseDuration(workload.duration) / 1000);
    executor.note(
      `built-in load driver: scenario ${workload.scenario}, ${workload.vus} VUs, ${durationS} s against ${api.apiUrl}`,
    );
    if (executor.dryRun) return { tool: "driver", passed: true, failures: [], summary: {} };
    const summary = await runScenario({
      baseUrl: api.apiUrl,
      anonKey: api.anonKey,
      scenario: workload.scenario,
      durationS,
      vus: workload.vus,
    });
    return judgeLoadSummary(sla, summary);
  };
}

/** k6 when it is on PATH, else the driver when given, else undefined. */
export function defaultPerformanceTester(
  runScenario: RunScenario | undefined,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): PerformanceTester | undefined {
  const k6 = findOnPath("k6", env);
  if (k6) return k6Tester(k6);
  return runScenario ? driverTester(runScenario) : undefined;
}
