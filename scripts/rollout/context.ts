/**
 * What every step of a deploy shares and never changes: the resolved options and environment,
 * the SLA, the executor (live or dry run), the log and the progress printer, the clock and the
 * abort signal. What only some steps need lives with its concern: the target and its session
 * (`target.ts`), the flag as the deploy moved it (`traffic_flag.ts`), the outside tools
 * (`tools.ts`).
 *
 * @module
 */
import type { Sla } from "../sla/sla.ts";
import type { Clock } from "../../supabase/functions/_shared/clock.ts";
import type { DeploymentLog } from "./deployment_log.ts";
import type { ResolvedEnvironment } from "./environments.ts";
import type { Executor } from "./executor.ts";
import type { Progress } from "./progress.ts";
import type { RolloutOptions } from "./options.ts";

/** Options with every default applied. */
export interface EffectiveOptions extends RolloutOptions {
  monitorMs: number;
  intervalMs: number;
  threshold: number;
  actor: string;
}

/** Shared by every step of one deploy. */
export interface RolloutContext {
  readonly options: EffectiveOptions;
  readonly environment: ResolvedEnvironment;
  readonly sla: Sla;
  /** The one way commands and SQL run (printed instead in a dry run). */
  readonly executor: Executor;
  readonly progress: Progress;
  readonly log: DeploymentLog;
  readonly clock: Clock;
  /** Aborts the deploy (Ctrl-C): the flag is rolled back. */
  readonly signal: AbortSignal;
}
