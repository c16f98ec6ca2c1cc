/**
 * One deploy, start to end: the plan (configuration and environment), the context every step
 * shares, the steps of `steps.ts` (checks, target, lock, the five phases over the traffic steps),
 * the archive, and the clean-up. {@link runRollout} never throws for a deploy that went wrong; it
 * resolves with the exit code and why.
 *
 * Exit codes: configuration or environment problems → 2, nothing done (`plan.ts`); anything
 * failing before the flag moves → 3; a rollback, a stop or an interruption after the flag moved
 * → 1 (`steps.ts` says which and how).
 *
 * @module
 */
import { ExitCode, exitCodeOf } from "../_cli/errors.ts";
import type { Clock } from "../../supabase/functions/_shared/clock.ts";
import { systemClock } from "./clock.ts";
import type { RolloutContext } from "./context.ts";
import {
  DeploymentLog,
  type DeploymentStatus,
  newDeploymentId,
  writeDeploymentFiles,
} from "./deployment_log.ts";
import { writeDeploymentRow } from "./deployment_row.ts";
import { Executor } from "./executor.ts";
import { rolloutFlagKey } from "../../supabase/functions/_shared/rollout_flag.ts";
import type { LocalStack } from "./local_stack.ts";
import type { RolloutOptions } from "./options.ts";
import { deploymentReportsDir } from "./paths.ts";
import { planRollout, type RolloutPlan } from "./plan.ts";
import { Progress } from "./progress.ts";
import { invokeFunction, type SmokeCaller } from "./smoke.ts";
import { afterFailure, type Ending, type RolloutState, rolloutSteps, runSteps } from "./steps.ts";
import { closeTarget } from "./target.ts";
import type { PerformanceTester, TrafficGenerator } from "./tools.ts";
import { deployFlag, finalTraffic } from "./traffic_flag.ts";

/** What a deploy needs from outside; everything has a default except the optional tools. */
export interface RolloutDeps {
  /** Output. @default console.log */
  print?: (line: string) => void;
  clock?: Clock;
  /** For the deploy id. @default Math.random */
  random?: () => number;
  /** Environment variables. @default Deno.env.toObject() */
  env?: Record<string, string | undefined>;
  environmentsPath?: string;
  slaPath?: string | URL;
  /** Where the JSON + markdown logs go. @default reports/deployments */
  reportsDir?: string;
  /** The running local stack (`npm start` passes its own handle). */
  localStack?: LocalStack;
  /** Starts a local stack for this command when `-e local` finds none running. */
  startLocalStack?: () => Promise<LocalStack>;
  /** The Supabase CLI binary. @default SUPABASE_CLI, else node_modules/.bin/supabase */
  supabaseBinary?: string;
  smoke?: SmokeCaller;
  performanceTest?: PerformanceTester;
  traffic?: TrafficGenerator;
  /** Aborts the deploy (Ctrl-C): the flag is rolled back. */
  signal?: AbortSignal;
}

/** How a deploy ended. */
export interface RolloutResult {
  exitCode: number;
  status: DeploymentStatus | "invalid" | "dry_run";
  deploymentId?: string;
  reason?: string;
  /** The flag's traffic percentage at the end (undefined when unknown). */
  finalTraffic?: number;
  /** The JSON and markdown logs (not written for dry runs and configuration errors). */
  reports?: { json: string; markdown: string };
}

/** Every step went on: the last traffic step holds. */
const promoted: Ending = { status: "promoted", exitCode: ExitCode.promoted, reason: null };

/**
 * Runs a deploy. Resolves with the exit code (0 promoted, 1 rolled back, 2 configuration error,
 * 3 precondition failed) and why; see the module doc for the failure handling.
 *
 * @example
 * ```ts
 * const result = await runRollout(parseRolloutArgs(["-e", "local", "-t", "25"]).options, { localStack });
 * Deno.exit(result.exitCode);
 * ```
 */
export async function runRollout(
  options: RolloutOptions,
  deps: RolloutDeps = {},
): Promise<RolloutResult> {
  const print = deps.print ?? ((line: string) => console.log(line));
  let plan: RolloutPlan;
  try {
    plan = await planRollout(options, {
      env: deps.env ?? Deno.env.toObject(),
      ...(deps.environmentsPath ? { environmentsPath: deps.environmentsPath } : {}),
      ...(deps.slaPath ? { slaPath: deps.slaPath } : {}),
    });
  } catch (error) {
    print(`error: ${(error as Error).message}`);
    return { exitCode: exitCodeOf(error), status: "invalid", reason: (error as Error).message };
  }

  const state: RolloutState = {
    ctx: startDeploy(plan, deps, print),
    tools: {
      smoke: deps.smoke ?? invokeFunction,
      performanceTest: deps.performanceTest,
      traffic: deps.traffic,
      supabaseBinary: deps.supabaseBinary,
      ...(deps.localStack ? { localStack: deps.localStack } : {}),
      ...(deps.startLocalStack ? { startLocalStack: deps.startLocalStack } : {}),
    },
    flag: deployFlag(rolloutFlagKey),
    recorded: false,
  };
  try {
    let ending: Ending;
    try {
      ending = await runSteps(rolloutSteps(state.ctx.options.steps), state) ?? promoted;
    } catch (error) {
      ending = await afterFailure(state, error);
    }
    return await archive(state, ending, deps.reportsDir ?? deploymentReportsDir, print);
  } finally {
    await state.session?.lock.release().catch((error) =>
      print(`warning: releasing the deploy lock failed: ${(error as Error).message}`)
    );
    if (state.target) await closeTarget(state.target);
  }
}

/** The context of a deploy of `plan`: its log, executor and progress, announced. */
function startDeploy(
  plan: RolloutPlan,
  deps: RolloutDeps,
  print: (line: string) => void,
): RolloutContext {
  const { options, environment } = plan;
  const clock = deps.clock ?? systemClock;
  const startedAt = new Date(clock.now());
  const log = new DeploymentLog({
    id: newDeploymentId(startedAt, deps.random),
    environment: environment.name,
    flagKey: rolloutFlagKey,
    steps: options.steps,
    startedBy: options.actor,
    startedAt,
    dryRun: options.dryRun,
    options: {
      environment: options.environment,
      steps: options.steps,
      dryRun: options.dryRun,
      skipTests: options.skipTests,
      force: options.force,
      monitorMs: options.monitorMs,
      intervalMs: options.intervalMs,
      threshold: options.threshold,
    },
  });
  const executor = new Executor({
    dryRun: options.dryRun,
    print: (line) => print(`    ${line}`),
    record: (e) => log.executed(e),
  });
  const progress = new Progress({ print, clock, log });
  progress.info(
    `${
      options.dryRun ? "DRY RUN: " : ""
    }deploy ${log.id} to ${environment.name}: ${rolloutFlagKey} → ` +
      `${options.steps.join("% → ")}% by ${options.actor}`,
  );
  return {
    ...plan,
    executor,
    progress,
    log,
    clock,
    signal: deps.signal ?? new AbortController().signal,
  };
}

/**
 * Archives the deploy as it ended: the row finished, the JSON and markdown logs written (not for
 * a dry run), the outcome announced.
 */
async function archive(
  state: RolloutState,
  { status, exitCode, reason }: Ending,
  reportsDir: string,
  print: (line: string) => void,
): Promise<RolloutResult> {
  const { log, options, progress, executor, clock } = state.ctx;
  log.finish(status, reason, new Date(clock.now()));
  if (state.recorded || options.dryRun) {
    await writeDeploymentRow(executor, state.session?.writer, log, "finish").catch((error) =>
      print(`warning: could not archive the deployment row: ${(error as Error).message}`)
    );
  }
  const result: RolloutResult = {
    exitCode,
    status: options.dryRun ? "dry_run" : status,
    deploymentId: log.id,
    ...(reason ? { reason } : {}),
  };
  const final = finalTraffic(state.flag);
  if (final !== undefined && !options.dryRun) result.finalTraffic = final;
  if (options.dryRun) {
    progress.info(
      `dry run complete: nothing was changed (a real run would end ${
        status === "promoted" ? "after the last step" : status
      })`,
    );
    return result;
  }
  try {
    result.reports = await writeDeploymentFiles(log, reportsDir);
  } catch (error) {
    print(`warning: could not write the deployment log files: ${(error as Error).message}`);
  }
  progress.info(
    `deploy ${log.id} ${status.replace("_", " ")}${reason ? `: ${reason}` : ""}` +
      (result.reports ? ` — log ${result.reports.markdown}` : ""),
  );
  return result;
}
