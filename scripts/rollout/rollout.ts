/**
 * One deploy, start to end: configuration, the target, the lock, the five phases over the
 * traffic steps, and the archive. {@link runRollout} never throws for a deploy that went wrong;
 * it resolves with the exit code and why.
 *
 * Failure handling, in one place:
 * - configuration or environment problems → exit 2, nothing done;
 * - anything failing before the flag moves (lock held, push or deploy failed) → exit 3, status
 *   `failed`, nothing to undo;
 * - anything failing after the flag moved (smoke, load test, analysis, an error, Ctrl-C) → the
 *   flag is rolled back to disabled/0% → exit 1;
 * - someone else changing the flag mid-deploy → the deploy stops and leaves their value → exit 1.
 *
 * @module
 */
import { loadSla, type Sla } from "../sla/sla.ts";
import type { Clock } from "../../supabase/functions/_shared/clock.ts";
import { systemClock } from "./clock.ts";
import type {
  ApiTarget,
  EffectiveOptions,
  PerformanceTester,
  RolloutContext,
  TrafficGenerator,
} from "./context.ts";
import {
  DeploymentLog,
  type DeploymentStatus,
  finishDeploymentRow,
  insertDeploymentRow,
  newDeploymentId,
  writeDeploymentFiles,
} from "./deployment_log.ts";
import { ConfigurationError, ExitCode, exitCodeOf, PreconditionError } from "./errors.ts";
import { loadEnvironments, type ResolvedEnvironment, resolveEnvironment } from "./environments.ts";
import { Executor, type Queryable } from "./executor.ts";
import { defaultActor, readFlag } from "./flag_store.ts";
import { rolloutFlagKey as rolloutFlag } from "../../supabase/functions/_shared/rollout_flag.ts";
import { type LocalStack, readRunningStack } from "./local_stack.ts";
import { acquireDeployLock, type DeployLock } from "./lock.ts";
import type { RolloutOptions } from "./options.ts";
import { deploymentReportsDir } from "./paths.ts";
import { databasePhase } from "./phases/database.ts";
import { finishPhase, promotePhase, rollbackPhase } from "./phases/completion.ts";
import { functionsPhase } from "./phases/functions.ts";
import { monitoringPhase } from "./phases/monitoring.ts";
import { performancePhase } from "./phases/performance.ts";
import { Progress } from "./progress.ts";
import { invokeFunction, type SmokeCaller } from "./smoke.ts";
import { createPool } from "../../supabase/functions/_shared/db.ts";

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

interface Target {
  api: ApiTarget | undefined;
  dbUrl: string | undefined;
  stop?: () => Promise<void>;
}

async function resolveTarget(
  environment: ResolvedEnvironment,
  deps: RolloutDeps,
  dryRun: boolean,
  note: (line: string) => void,
): Promise<Target> {
  if (environment.kind === "hosted") {
    const dbUrl = environment.database.source === "local_stack"
      ? undefined
      : environment.database.url;
    return { api: { apiUrl: environment.apiUrl!, anonKey: environment.anonKey! }, dbUrl };
  }
  let stack = deps.localStack ?? await readRunningStack();
  let stop: (() => Promise<void>) | undefined;
  if (!stack) {
    if (dryRun) {
      note("no local stack is running: a real run would start one for the duration of the command");
      return { api: undefined, dbUrl: undefined };
    }
    if (!deps.startLocalStack) {
      throw new PreconditionError(
        "no local stack is running; start it with `npm start` (or `deno task stack`)",
      );
    }
    note("no local stack running: starting one for this command");
    stack = await deps.startLocalStack();
    stop = stack.stop;
  }
  const target: Target = { api: { apiUrl: stack.url, anonKey: stack.anonKey }, dbUrl: stack.dbUrl };
  if (stop) target.stop = stop;
  return target;
}

function effectiveOptions(
  options: RolloutOptions,
  environment: ResolvedEnvironment,
  sla: Sla,
  env: Record<string, string | undefined>,
): EffectiveOptions {
  const monitorMs = options.monitorMs ?? environment.monitorMs;
  const intervalMs = options.intervalMs ?? environment.intervalMs;
  if (intervalMs > monitorMs) {
    throw new ConfigurationError(
      `the analysis interval (${intervalMs / 1000} s) is longer than the monitoring window (${
        monitorMs / 1000
      } s)`,
    );
  }
  return {
    ...options,
    monitorMs,
    intervalMs,
    threshold: options.threshold ?? sla.analysis.threshold,
    actor: options.actor ?? defaultActor(env),
  };
}

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
  const clock = deps.clock ?? systemClock;
  const env = deps.env ?? Deno.env.toObject();
  const signal = deps.signal ?? new AbortController().signal;

  let sla: Sla;
  let environment: ResolvedEnvironment;
  let effective: EffectiveOptions;
  try {
    sla = await loadSla(deps.slaPath).catch((error) => {
      throw new ConfigurationError(`config/sla.json: ${(error as Error).message}`);
    });
    const file = await loadEnvironments(deps.environmentsPath);
    environment = await resolveEnvironment(file, options.environment, { env });
    effective = effectiveOptions(options, environment, sla, env);
  } catch (error) {
    print(`error: ${(error as Error).message}`);
    return { exitCode: exitCodeOf(error), status: "invalid", reason: (error as Error).message };
  }

  const startedAt = new Date(clock.now());
  const log = new DeploymentLog({
    id: newDeploymentId(startedAt, deps.random),
    environment: environment.name,
    flagKey: rolloutFlag,
    steps: effective.steps,
    startedBy: effective.actor,
    startedAt,
    dryRun: effective.dryRun,
    options: {
      environment: effective.environment,
      steps: effective.steps,
      dryRun: effective.dryRun,
      skipTests: effective.skipTests,
      force: effective.force,
      monitorMs: effective.monitorMs,
      intervalMs: effective.intervalMs,
      threshold: effective.threshold,
    },
  });
  const executor = new Executor({
    dryRun: effective.dryRun,
    print: (line) => print(`    ${line}`),
    record: (e) => log.executed(e),
  });
  const progress = new Progress({ print, clock, log });
  progress.info(
    `${
      effective.dryRun ? "DRY RUN: " : ""
    }deploy ${log.id} to ${environment.name}: ${rolloutFlag} → ` +
      `${effective.steps.join("% → ")}% by ${effective.actor}`,
  );

  let target: Target | undefined;
  let reader: (Queryable & { end(options?: { timeout?: number }): Promise<void> }) | undefined;
  let lock: DeployLock | undefined;
  let rowInserted = false;
  let trafficMoved = false;
  let status: Exclude<DeploymentStatus, "running"> = "failed";
  let reason: string | null = null;
  let exitCode: number = ExitCode.precondition;
  let ctx: RolloutContext | undefined;

  try {
    if (!effective.skipTests && !deps.performanceTest) {
      throw new PreconditionError(
        "no load tester for phase 3: k6 is not on PATH and the built-in driver is unavailable (or pass -s)",
      );
    }
    if (!effective.skipTests) await deps.performanceTest?.preflight?.();
    target = await resolveTarget(
      environment,
      deps,
      effective.dryRun,
      (line) => progress.info(line),
    );
    if (target.dbUrl) {
      reader = createPool({
        url: target.dbUrl,
        max: 2,
        statementTimeoutMs: 60_000,
        idleTimeoutS: 30,
        connectTimeoutS: 10,
        applicationName: `rollout:${environment.name}`,
      });
      try {
        await reader.unsafe("select 1");
      } catch (error) {
        const why = `cannot connect to the ${environment.name} database: ${
          (error as Error).message
        }`;
        if (!effective.dryRun) throw new PreconditionError(why);
        // A dry run still shows every statement; it just cannot show current values.
        progress.info(`${why} (dry run continues without reading)`);
        await reader.end({ timeout: 1 });
        reader = undefined;
      }
    }
    lock = await acquireDeployLock(target.dbUrl, {
      environment: environment.name,
      deploymentId: log.id,
      holder: effective.actor,
      executor,
    });
    progress.info(
      `${effective.dryRun ? "would hold" : "holding"} the ${environment.name} deploy lock`,
    );

    ctx = {
      options: effective,
      environment,
      sla,
      executor,
      progress,
      log,
      clock,
      signal,
      flagKey: rolloutFlag,
      api: target.api,
      dbUrl: target.dbUrl,
      reader,
      writer: lock.session,
      lock,
      flag: undefined,
      smoke: deps.smoke ?? invokeFunction,
      performanceTest: deps.performanceTest,
      traffic: deps.traffic,
    };

    await databasePhase(ctx, {
      ...(target.dbUrl ? { localDbUrl: target.dbUrl } : {}),
      ...(deps.supabaseBinary ? { supabaseBinary: deps.supabaseBinary } : {}),
    });
    await lock.recordHolder();
    ctx.flag = await readFlag(executor, reader, rolloutFlag).catch((error) => {
      // A dry run against a database the push would first migrate has no flag table yet.
      if (!effective.dryRun) throw error;
      progress.info(
        `cannot read ${rolloutFlag} yet (${(error as Error).message}); the push would create it`,
      );
      return undefined;
    });
    if (ctx.flag === null) {
      throw new PreconditionError(`flag ${rolloutFlag} does not exist after the migrations`);
    }
    if (ctx.flag) {
      log.setFrom(ctx.flag.enabled ? ctx.flag.trafficPercentage : 0);
      progress.info(
        `${rolloutFlag} is ${
          ctx.flag.enabled ? "enabled" : "disabled"
        } at ${ctx.flag.trafficPercentage}% ` +
          `(last set by ${ctx.flag.updatedBy}: ${ctx.flag.reason})`,
      );
    }
    await insertDeploymentRow(executor, lock.session, log);
    rowInserted = !effective.dryRun;

    const steps = effective.steps;
    await functionsPhase(ctx, {
      firstStep: steps[0]!,
      stepCount: steps.length,
      ...(deps.supabaseBinary ? { supabaseBinary: deps.supabaseBinary } : {}),
      onTrafficMoved: () => {
        trafficMoved = true;
      },
    });
    await performancePhase(ctx);

    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const verdict = await monitoringPhase(ctx, step);
      if (verdict.outcome === "flag_changed") {
        trafficMoved = false; // someone else owns the flag now: do not touch it
        status = "aborted";
        reason = verdict.reason;
        exitCode = ExitCode.rolledBack;
        progress.info(`STOPPED: ${verdict.reason}`);
        return await finish();
      }
      if (verdict.outcome === "rollback") {
        await rollbackPhase(ctx, verdict.reason, step);
        trafficMoved = false;
        status = "rolled_back";
        reason = verdict.reason;
        exitCode = ExitCode.rolledBack;
        return await finish();
      }
      const next = steps[i + 1];
      if (next !== undefined) await promotePhase(ctx, step, next, i + 2, steps.length);
      else await finishPhase(ctx, step);
    }
    status = "promoted";
    exitCode = ExitCode.promoted;
    return await finish();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const interrupted = signal.aborted;
    reason = interrupted ? `interrupted: ${String(signal.reason ?? "aborted")}` : message;
    if (trafficMoved && ctx) {
      try {
        await rollbackPhase(ctx, reason);
        status = interrupted ? "aborted" : "rolled_back";
        exitCode = ExitCode.rolledBack;
      } catch (rollbackError) {
        status = "failed";
        exitCode = ExitCode.rolledBack;
        reason =
          `${reason}; ROLLBACK FAILED: ${
            (rollbackError as Error).message
          } — disable the flag by hand: ` +
          `scripts/deploy-performance-optimizations.sh flags disable ${rolloutFlag} -e ${environment.name} --reason "..."`;
        progress.info(reason);
      }
    } else {
      status = interrupted ? "aborted" : "failed";
      exitCode = interrupted ? ExitCode.rolledBack : exitCodeOf(error);
      progress.info(`deploy stopped before traffic moved: ${message}`);
    }
    return await finish();
  } finally {
    await lock?.release().catch((error) =>
      print(`warning: releasing the deploy lock failed: ${(error as Error).message}`)
    );
    await reader?.end({ timeout: 5 });
    await target?.stop?.();
  }

  async function finish(): Promise<RolloutResult> {
    const finishedAt = new Date(clock.now());
    log.finish(status, reason, finishedAt);
    if (rowInserted || effective.dryRun) {
      await finishDeploymentRow(executor, lock?.session, log).catch((error) =>
        print(`warning: could not archive the deployment row: ${(error as Error).message}`)
      );
    }
    const result: RolloutResult = {
      exitCode,
      status: effective.dryRun ? "dry_run" : status,
      deploymentId: log.id,
      ...(reason ? { reason } : {}),
    };
    const final = ctx?.flag?.trafficPercentage;
    if (final !== undefined && !effective.dryRun) {
      result.finalTraffic = ctx?.flag?.enabled ? final : 0;
    }
    if (effective.dryRun) {
      progress.info(
        `dry run complete: nothing was changed (a real run would end ${
          status === "promoted" ? "after the last step" : status
        })`,
      );
      return result;
    }
    try {
      result.reports = await writeDeploymentFiles(log, deps.reportsDir ?? deploymentReportsDir);
    } catch (error) {
      print(`warning: could not write the deployment log files: ${(error as Error).message}`);
    }
    progress.info(
      `deploy ${log.id} ${status.replace("_", " ")}${reason ? `: ${reason}` : ""}` +
        (result.reports ? ` — log ${result.reports.markdown}` : ""),
    );
    return result;
  }
}
