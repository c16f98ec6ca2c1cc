/**
 * Phase 3: a load test against the target with the flag at the first step (k6 with the
 * tests/load/ scripts when `k6` is on PATH, else the built-in driver), judged by config/sla.json.
 * A failure stops the deploy (rollback) unless `--force`; `--skip-tests` skips the phase.
 *
 * @module
 */
import type { RolloutContext } from "../context.ts";
import type { Session } from "../target.ts";
import type { PerformanceTester } from "../tools.ts";

/** Thrown when the load test fails without `--force`: the deploy rolls back. */
export class PerformanceTestError extends Error {
  override name = "PerformanceTestError";
}

/** Runs phase 3. @throws {PerformanceTestError} */
export async function performancePhase(
  ctx: RolloutContext,
  session: Session,
  performanceTest: PerformanceTester | undefined,
): Promise<void> {
  await ctx.progress.phase(3, async (phase) => {
    if (ctx.options.skipTests) {
      phase.skip("--skip-tests");
      return;
    }
    const workload = ctx.environment.performance;
    if (!performanceTest) {
      throw new PerformanceTestError(
        "no load tester: k6 is not on PATH and the built-in driver is unavailable",
      );
    }
    if (!session.api) {
      ctx.executor.note(
        `would run the "${workload.scenario}" load test (${workload.vus} VUs, ${workload.duration})`,
      );
      return;
    }
    const result = await performanceTest({
      api: session.api,
      dbUrl: session.dbUrl,
      workload,
      sla: ctx.sla,
      executor: ctx.executor,
      signal: ctx.signal,
    });
    if (ctx.executor.dryRun) return;
    const figures = Object.entries(result.summary).map(([k, v]) => `${k} ${v ?? "–"}`).join(", ");
    phase.info(`${result.tool}: ${figures}`, result);
    if (result.passed) {
      phase.detail(`${result.tool} passed the SLA`);
      return;
    }
    const why = `load test failed: ${result.failures.join("; ")}`;
    if (ctx.options.force) {
      phase.info(`${why} — continuing because of --force`);
      phase.detail("failed, continued with --force");
      return;
    }
    throw new PerformanceTestError(why);
  });
}
