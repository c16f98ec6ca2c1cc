/**
 * What `deno task bench:faults` judges each fault on: no 500 and every request answered within
 * the function's budget (plus the margin), a killed Postgres serving again within 30 s, and an
 * open breaker answering fast.
 *
 * @module
 */
import type { BenchTarget } from "./bench_run.ts";
import type { FaultResult } from "./faults_report.ts";

/** The targets each fault is judged against, on its figures. */
export function faultsTargets(results: readonly FaultResult[]): BenchTarget[] {
  const out: BenchTarget[] = [];
  for (const r of results) {
    const fives = r.statusHistogram["500"] ?? 0;
    out.push({
      name: `${r.name}: no 500, every request answered within budget + ${r.marginMs} ms`,
      goal: "0 × 500, 100 %",
      measured: `${fives} × 500, ${r.withinBudgetPct.toFixed(1)} %`,
      met: fives === 0 && r.withinBudgetPct === 100,
    });
    if (r.name === "postgres_kill") {
      out.push({
        name: "postgres_kill: 200 again after the restart",
        goal: "≤ 30000 ms",
        measured: r.recoveredAfterMs === null ? "never" : `${r.recoveredAfterMs} ms`,
        met: r.recoveredAfterMs !== null && r.recoveredAfterMs <= 30_000,
      });
    }
    if (r.openBreakerP50Ms !== null) {
      out.push({
        name: `${r.name}: an open breaker answers fast (p50)`,
        goal: "< 50 ms",
        measured: `${r.openBreakerP50Ms} ms`,
        met: r.openBreakerP50Ms < 50,
      });
    }
  }
  return out;
}
