/**
 * Phase 2: deploy the functions (hosted: `supabase functions deploy --use-api`; local: the stack
 * already serves the working tree), set the traffic flag to the first step, and smoke-call every
 * function through `@supabase/supabase-js`.
 *
 * @module
 */
import type { RolloutContext } from "../context.ts";
import { PreconditionError } from "../../_cli/errors.ts";
import { defaultSmokeRequest, type SmokeCaller } from "../smoke.ts";
import { functionsDeployCommand } from "../supabase_cli.ts";
import type { Session } from "../target.ts";
import { type DeployFlag, setTraffic } from "../traffic_flag.ts";

/** Thrown when a smoke call fails after the flag moved: the deploy rolls back. */
export class SmokeTestError extends Error {
  override name = "SmokeTestError";
}

/** What phase 2 needs besides the context, the session and the flag. */
export interface FunctionsPhaseOptions {
  /** The first traffic step, and how many there are. */
  firstStep: number;
  stepCount: number;
  smoke: SmokeCaller;
  /** The Supabase CLI; its default when undefined. */
  supabaseBinary: string | undefined;
}

/**
 * Deploys the functions (precondition: a failure here leaves traffic untouched).
 *
 * @throws {PreconditionError} when `supabase functions deploy` fails.
 */
export async function deployFunctions(
  ctx: RolloutContext,
  session: Session,
  supabaseBinary?: string,
): Promise<string> {
  const env = ctx.environment;
  if (env.kind === "local") {
    const where = session.api ? `${session.api.apiUrl}/functions/v1/` : "the local stack";
    ctx.executor.note(
      `local: ${env.functions.join(", ")} served from the working tree by ${where}`,
    );
    return "served by the local stack";
  }
  const deployed = await ctx.executor.command(
    functionsDeployCommand(
      env.functions,
      env.projectRef!,
      supabaseBinary ? { binary: supabaseBinary } : {},
    ),
  );
  if (deployed.code !== 0) {
    throw new PreconditionError(
      `supabase functions deploy failed (exit ${deployed.code}): ${
        deployed.output.split("\n").slice(-8).join("\n")
      }`,
    );
  }
  return `${ctx.executor.dryRun ? "would deploy" : "deployed"} ${
    env.functions.join(", ")
  } to ${env.projectRef}`;
}

/** Smoke-calls every function once; resolves with the failures (none in a dry run). */
async function smokeAll(
  ctx: RolloutContext,
  session: Session,
  smoke: SmokeCaller,
  when: string,
  info: (message: string) => void,
): Promise<string[]> {
  if (!session.api) {
    ctx.executor.note(`would smoke-call ${ctx.environment.functions.join(", ")} ${when}`);
    return [];
  }
  const failures: string[] = [];
  for (const name of ctx.environment.functions) {
    const request = ctx.environment.smoke[name] ?? defaultSmokeRequest;
    if (ctx.executor.dryRun) {
      ctx.executor.note(
        `would call functions.invoke("${name}", { method: "${request.method}" }) on ${session.api.apiUrl} ${when}`,
      );
      continue;
    }
    const result = await smoke(session.api, name, request);
    info(`smoke ${name} ${when}: ${result.ok ? "ok" : "FAILED"} — ${result.detail}`);
    if (!result.ok) failures.push(`${name}: ${result.detail}`);
  }
  return failures;
}

/**
 * Runs phase 2: deploy, smoke-call every function before the flag moves (a failure there is a
 * precondition: nothing to undo), set the flag to the first step (from then on the deploy owns
 * it: `flag.moved`), and smoke-call again with the new path taking traffic (a failure there rolls
 * back).
 *
 * @throws {PreconditionError} when the deploy or the first smoke calls fail.
 * @throws {SmokeTestError} when a smoke call fails once the flag moved.
 */
export async function functionsPhase(
  ctx: RolloutContext,
  session: Session,
  flag: DeployFlag,
  options: FunctionsPhaseOptions,
): Promise<void> {
  const { firstStep, stepCount, smoke } = options;
  await ctx.progress.phase(2, async (phase) => {
    phase.info(await deployFunctions(ctx, session, options.supabaseBinary));

    const before = await smokeAll(ctx, session, smoke, "before the flag moves", phase.info);
    if (before.length > 0) {
      throw new PreconditionError(`smoke test failed before traffic moved: ${before.join("; ")}`);
    }

    flag.moved = true;
    await setTraffic(ctx, session, flag, firstStep, `step 1/${stepCount} → ${firstStep}%`);
    phase.info(`flag ${flag.key} → enabled ${firstStep}%`);

    const after = await smokeAll(ctx, session, smoke, `at ${firstStep}%`, phase.info);
    if (after.length > 0) throw new SmokeTestError(`smoke test failed: ${after.join("; ")}`);
    if (!ctx.executor.dryRun) {
      phase.detail(
        `flag at ${firstStep}%, ${ctx.environment.functions.length} function(s) answered`,
      );
    }
  });
}
