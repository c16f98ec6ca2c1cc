/**
 * The outside tools a deploy drives against its target — phase 2's smoke caller, phase 3's load
 * tester, the monitoring window's traffic generator — and the set one deploy runs with. Tests
 * and `npm start` inject theirs.
 *
 * @module
 */
import type { Sla } from "../sla/sla.ts";
import type { Workload } from "./environments.ts";
import type { Executor } from "./executor.ts";
import type { SmokeCaller } from "./smoke.ts";
import type { ApiTarget } from "./target.ts";

/** Phase 3: a load test against the target, judged against config/sla.json. */
export interface PerformanceTestResult {
  tool: "k6" | "driver";
  passed: boolean;
  /** One line per threshold crossed. */
  failures: string[];
  /** Headline figures for the log (requests, error rate, p95...). */
  summary: Record<string, number | string | null>;
}

/**
 * Runs phase 3's load test. `preflight`, when present, checks before anything changes that the
 * tester can run at all (k6: its version), so a tester that cannot run stops the deploy before
 * traffic moves.
 */
export type PerformanceTester = PerformanceTestRun & { preflight?: () => Promise<void> };

/** One load test run of a {@link PerformanceTester}. */
export type PerformanceTestRun = (request: {
  api: ApiTarget;
  /** The target's database (read-only use: the busiest routes to search). */
  dbUrl: string | undefined;
  workload: Workload & { duration: string };
  sla: Sla;
  executor: Executor;
  signal: AbortSignal;
}) => Promise<PerformanceTestResult>;

/**
 * Generates synthetic traffic for `durationMs` (for targets without real users, i.e. the local
 * stack) so the monitoring window has something to judge. Resolves when done or aborted.
 */
export type TrafficGenerator = (request: {
  api: ApiTarget;
  /** The target's database (read-only use: the busiest routes to search). */
  dbUrl: string | undefined;
  workload: Workload;
  durationMs: number;
  signal: AbortSignal;
}) => Promise<void>;

/** The tools of one deploy. */
export interface RolloutTools {
  /** Calls one function in phase 2. */
  smoke: SmokeCaller;
  /** Phase 3's load tester; a deploy without one needs `--skip-tests`. */
  performanceTest: PerformanceTester | undefined;
  /** Traffic for the monitoring windows of a target without users. */
  traffic: TrafficGenerator | undefined;
  /** The Supabase CLI binary (`db push`, `functions deploy`); its default when undefined. */
  supabaseBinary: string | undefined;
}
