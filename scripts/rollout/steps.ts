/**
 * A deploy as an explicit sequence of named steps over a small state: each step reads the state,
 * may fill in what later steps need (the target, the session, the flag), and either lets the
 * deploy go on or ends it. {@link rolloutSteps} lists a deploy's steps in order — checks,
 * connection and lock, the five phases over the traffic steps — and {@link rollbackSteps} the
 * steps that undo a deploy once it moved the flag.
 *
 * Failure handling, in one place ({@link afterFailure}):
 * - anything failing before the flag moves (lock held, push or deploy failed) → exit 3, status
 *   `failed`, nothing to undo;
 * - anything failing after the flag moved (smoke, load test, an error, Ctrl-C) → the rollback
 *   steps (flag disabled, 0%) → exit 1;
 * - a rollback that fails itself → exit 1, status `failed`, and how to disable the flag by hand.
 * A step ends the deploy itself when the analysis asks for a rollback, or when someone else
 * changed the flag mid-deploy (the deploy stops and leaves their value → exit 1).
 *
 * @module
 */
import { ExitCode, exitCodeOf, PreconditionError } from "../_cli/errors.ts";
import type { RolloutContext } from "./context.ts";
import type { DeploymentStatus } from "./deployment_log.ts";
import { writeDeploymentRow } from "./deployment_row.ts";
import { acquireDeployLock } from "./lock.ts";
import { databasePhase } from "./phases/database.ts";
import { finishPhase, promotePhase, rollbackPhase } from "./phases/completion.ts";
import { functionsPhase } from "./phases/functions.ts";
import { monitoringPhase } from "./phases/monitoring.ts";
import { performancePhase } from "./phases/performance.ts";
import {
  checkReader,
  type LocalStackSource,
  openTarget,
  type Session,
  type Target,
} from "./target.ts";
import type { RolloutTools } from "./tools.ts";
import { type DeployFlag, readDeployFlag } from "./traffic_flag.ts";

/** How a deploy ended. */
export interface Ending {
  status: Exclude<DeploymentStatus, "running">;
  exitCode: ExitCode;
  reason: string | null;
}

/** What a step decides: go on with the next step, or end the deploy. */
export type StepResult = { next: true } | { next: false; ending: Ending };

/** The state the steps of one deploy share. */
export interface RolloutState {
  readonly ctx: RolloutContext;
  readonly tools: RolloutTools & LocalStackSource;
  /** The flag the deploy moves. */
  readonly flag: DeployFlag;
  /** The target, once the connect step resolved it. */
  target?: Target;
  /** The session, once the lock step holds the deploy lock. */
  session?: Session;
  /** Whether the deploy's row exists in `public.deployments` (never in a dry run). */
  recorded: boolean;
}

/** One named step of a deploy. */
export interface RolloutStep {
  readonly name: string;
  run(state: RolloutState): Promise<StepResult>;
}

const proceed: StepResult = { next: true };

function end(status: Ending["status"], exitCode: ExitCode, reason: string | null): StepResult {
  return { next: false, ending: { status, exitCode, reason } };
}

/** The state's session. @throws {Error} when a step needing it runs before the lock step. */
function sessionOf(state: RolloutState): Session {
  if (!state.session) throw new Error("rollout step ran before the deploy lock was taken");
  return state.session;
}

/**
 * Runs `steps` in order until one ends the deploy.
 *
 * @returns The ending a step decided, or undefined when every step went on.
 */
export async function runSteps(
  steps: readonly RolloutStep[],
  state: RolloutState,
): Promise<Ending | undefined> {
  for (const step of steps) {
    const result = await step.run(state);
    if (!result.next) return result.ending;
  }
  return undefined;
}

/** Checks that need nothing but the options: a load tester for phase 3. */
async function preflight({ ctx, tools }: RolloutState): Promise<StepResult> {
  if (ctx.options.skipTests) return proceed;
  if (!tools.performanceTest) {
    throw new PreconditionError(
      "no load tester for phase 3: k6 is not on PATH and the built-in driver is unavailable (or pass -s)",
    );
  }
  await tools.performanceTest.preflight?.();
  return proceed;
}

async function connect(state: RolloutState): Promise<StepResult> {
  state.target = await openTarget(state.ctx, state.tools);
  await checkReader(state.ctx, state.target);
  return proceed;
}

async function lock(state: RolloutState): Promise<StepResult> {
  const { ctx, target } = state;
  if (!target) throw new Error("rollout lock step ran before the connect step");
  const lock = await acquireDeployLock(target.dbUrl, {
    environment: ctx.environment.name,
    deploymentId: ctx.log.id,
    holder: ctx.options.actor,
    executor: ctx.executor,
  });
  const { api, dbUrl, reader } = target;
  state.session = { api, dbUrl, reader, writer: lock.session, lock };
  ctx.progress.info(
    `${ctx.options.dryRun ? "would hold" : "holding"} the ${ctx.environment.name} deploy lock`,
  );
  return proceed;
}

async function database(state: RolloutState): Promise<StepResult> {
  const session = sessionOf(state);
  await databasePhase(state.ctx, session, state.tools.supabaseBinary);
  await session.lock.recordHolder();
  return proceed;
}

async function readFlag(state: RolloutState): Promise<StepResult> {
  await readDeployFlag(state.ctx, sessionOf(state), state.flag);
  return proceed;
}

async function record(state: RolloutState): Promise<StepResult> {
  const { ctx } = state;
  await writeDeploymentRow(ctx.executor, sessionOf(state).writer, ctx.log, "start");
  state.recorded = !ctx.options.dryRun;
  return proceed;
}

async function functions(state: RolloutState): Promise<StepResult> {
  const { ctx, tools, flag } = state;
  const steps = ctx.options.steps;
  await functionsPhase(ctx, sessionOf(state), flag, {
    firstStep: steps[0]!,
    stepCount: steps.length,
    smoke: tools.smoke,
    supabaseBinary: tools.supabaseBinary,
  });
  return proceed;
}

async function performance(state: RolloutState): Promise<StepResult> {
  await performancePhase(state.ctx, sessionOf(state), state.tools.performanceTest);
  return proceed;
}

/** Phase 4 for one traffic step: the deploy ends when the analysis or someone else says so. */
function monitor(step: number): RolloutStep {
  return {
    name: `monitor ${step}%`,
    async run(state) {
      const { ctx, flag } = state;
      const verdict = await monitoringPhase(ctx, sessionOf(state), flag, {
        step,
        traffic: state.tools.traffic,
      });
      if (verdict.outcome === "flag_changed") {
        flag.moved = false; // someone else owns the flag now: do not touch it
        ctx.progress.info(`STOPPED: ${verdict.reason}`);
        return end("aborted", ExitCode.rolledBack, verdict.reason);
      }
      if (verdict.outcome === "rollback") {
        await runSteps(rollbackSteps(verdict.reason, step), state);
        return end("rolled_back", ExitCode.rolledBack, verdict.reason);
      }
      return proceed;
    },
  };
}

/** Phase 5 after the healthy step `index` (0-based) of `steps`: promote, or finish. */
function complete(steps: readonly number[], index: number): RolloutStep {
  const step = steps[index]!;
  const next = steps[index + 1];
  if (next === undefined) {
    return {
      name: `finish at ${step}%`,
      run: async ({ ctx, flag }) => {
        await finishPhase(ctx, flag, step);
        return proceed;
      },
    };
  }
  return {
    name: `promote ${step}% → ${next}%`,
    run: async (state) => {
      await promotePhase(state.ctx, sessionOf(state), state.flag, {
        from: step,
        next,
        index: index + 2,
        count: steps.length,
      });
      return proceed;
    },
  };
}

/**
 * The steps of a deploy through `trafficSteps`, in order. A deploy whose steps all go on is
 * promoted.
 */
export function rolloutSteps(trafficSteps: readonly number[]): RolloutStep[] {
  return [
    { name: "preflight", run: preflight },
    { name: "connect", run: connect },
    { name: "lock", run: lock },
    { name: "database", run: database },
    { name: "read flag", run: readFlag },
    { name: "record deployment", run: record },
    { name: "functions", run: functions },
    { name: "performance test", run: performance },
    ...trafficSteps.flatMap((step, index) => [monitor(step), complete(trafficSteps, index)]),
  ];
}

/**
 * The steps that undo a deploy that moved the flag: the flag disabled at 0% with `reason`
 * (announced as phase 5 of traffic step `step`, when there is one). Afterwards the deploy no
 * longer owns the flag.
 */
export function rollbackSteps(reason: string, step?: number): RolloutStep[] {
  return [{
    name: "roll back",
    async run(state) {
      await rollbackPhase(state.ctx, sessionOf(state), state.flag, reason, step);
      state.flag.moved = false;
      return proceed;
    },
  }];
}

/**
 * How a deploy ends after `error` stopped a step: rolled back when it had moved the flag (see
 * the module doc), else failed (or aborted, for Ctrl-C) with nothing to undo.
 */
export async function afterFailure(state: RolloutState, error: unknown): Promise<Ending> {
  const { ctx, flag } = state;
  const message = error instanceof Error ? error.message : String(error);
  const interrupted = ctx.signal.aborted;
  const reason = interrupted ? `interrupted: ${String(ctx.signal.reason ?? "aborted")}` : message;
  if (!flag.moved) {
    ctx.progress.info(`deploy stopped before traffic moved: ${message}`);
    return {
      status: interrupted ? "aborted" : "failed",
      exitCode: interrupted ? ExitCode.rolledBack : exitCodeOf(error),
      reason,
    };
  }
  try {
    await runSteps(rollbackSteps(reason), state);
    return {
      status: interrupted ? "aborted" : "rolled_back",
      exitCode: ExitCode.rolledBack,
      reason,
    };
  } catch (rollbackError) {
    const failed =
      `${reason}; ROLLBACK FAILED: ${
        (rollbackError as Error).message
      } — disable the flag by hand: ` +
      `scripts/deploy-performance-optimizations.sh flags disable ${flag.key} -e ${ctx.environment.name} --reason "..."`;
    ctx.progress.info(failed);
    return { status: "failed", exitCode: ExitCode.rolledBack, reason: failed };
  }
}
