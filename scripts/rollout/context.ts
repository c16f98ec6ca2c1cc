/**
 * What every phase of a deploy shares: the resolved options and environment, the SLA, the
 * executor (live or dry run), the connections, the log and the progress printer.
 *
 * @module
 */
import type { Sla } from "../sla/sla.ts";
import type { Clock } from "../../supabase/functions/_shared/clock.ts";
import type { DeploymentLog } from "./deployment_log.ts";
import type { ResolvedEnvironment, Workload } from "./environments.ts";
import type { Executor, Queryable } from "./executor.ts";
import type { FlagState } from "../../supabase/functions/_shared/rollout_flag.ts";
import type { DeployLock } from "./lock.ts";
import type { Progress } from "./progress.ts";
import type { SmokeCaller } from "./smoke.ts";
import type { RolloutOptions } from "./options.ts";

/** How the deploy reaches the target's API. */
export interface ApiTarget {
  /** Project or gateway URL; functions at `${apiUrl}/functions/v1/<name>`. */
  apiUrl: string;
  anonKey: string;
}

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

/** Options with every default applied. */
export interface EffectiveOptions extends RolloutOptions {
  monitorMs: number;
  intervalMs: number;
  threshold: number;
  actor: string;
}

/** Shared by all phases of one deploy. */
export interface RolloutContext {
  options: EffectiveOptions;
  environment: ResolvedEnvironment;
  sla: Sla;
  executor: Executor;
  progress: Progress;
  log: DeploymentLog;
  clock: Clock;
  signal: AbortSignal;
  flagKey: string;
  /** The API; undefined only in a dry run of `-e local` without a running stack. */
  api: ApiTarget | undefined;
  /** The target's database URL; undefined only in such a dry run. */
  dbUrl: string | undefined;
  /** Connection for reads (a small pool); undefined only in such a dry run. */
  reader: Queryable | undefined;
  /** The lock's session, through which every write goes; undefined in a dry run. */
  writer: Queryable | undefined;
  lock: DeployLock;
  /** The flag as the deploy last set or read it. */
  flag: FlagState | null | undefined;
  smoke: SmokeCaller;
  performanceTest: PerformanceTester | undefined;
  traffic: TrafficGenerator | undefined;
}
