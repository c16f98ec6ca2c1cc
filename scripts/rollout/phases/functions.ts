/**
 * Phase 2: deploy the functions (hosted: `supabase functions deploy --use-api`; local: the stack
 * already serves the working tree), set the traffic flag to the first step, and smoke-call every
 * function through `@supabase/supabase-js`.
 *
 * @module
 */
import type { RolloutContext } from "../context.ts";
import { PreconditionError } from "../errors.ts";
import { writeFlag } from "../flag_store.ts";
import { defaultSmokeRequest } from "../smoke.ts";
import { functionsDeployCommand } from "../supabase_cli.ts";

/** Thrown when a smoke call fails after the flag moved: the deploy rolls back. */
export class SmokeTestError extends Error {
  override name = "SmokeTestError";
}

/** Sets the flag to `percentage`, with a reason naming the deploy, and records it. */
export async function setTraffic(
  ctx: RolloutContext,
  percentage: number,
  why: string,
): Promise<void> {
  const reason = `deploy ${ctx.log.id}: ${why}`.slice(0, 500);
  const state = await writeFlag(ctx.executor, ctx.writer, {
    flagKey: ctx.flagKey,
    enabled: percentage > 0,
    trafficPercentage: percentage,
    actor: ctx.options.actor,
    reason,
  });
  ctx.flag = state ?? ctx.flag;
  ctx.log.setTraffic(percentage);
}

/**
 * Deploys the functions (precondition: a failure here leaves traffic untouched).
 *
 * @throws {PreconditionError} when `supabase functions deploy` fails.
 */
export async function deployFunctions(
  ctx: RolloutContext,
  supabaseBinary?: string,
): Promise<string> {
  const env = ctx.environment;
  if (env.kind === "local") {
    const where = ctx.api ? `${ctx.api.apiUrl}/functions/v1/` : "the local stack";
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

/**
 * Runs phase 2. Deploy failures throw {@link PreconditionError} before the flag moves; once the
 * flag is set, a failed smoke call throws {@link SmokeTestError}.
 */
export async function functionsPhase(
  ctx: RolloutContext,
  options: {
    firstStep: number;
    stepCount: number;
    supabaseBinary?: string;
    onTrafficMoved: () => void;
  },
): Promise<void> {
  await ctx.progress.phase(2, async (phase) => {
    phase.info(await deployFunctions(ctx, options.supabaseBinary));

    options.onTrafficMoved();
    await setTraffic(ctx, options.firstStep, `step 1/${options.stepCount} → ${options.firstStep}%`);
    phase.info(`flag ${ctx.flagKey} → enabled ${options.firstStep}%`);

    if (!ctx.api) {
      ctx.executor.note(
        `would smoke-call ${ctx.environment.functions.join(", ")} with functions.invoke`,
      );
      return;
    }
    const failures: string[] = [];
    for (const name of ctx.environment.functions) {
      const request = ctx.environment.smoke[name] ?? defaultSmokeRequest;
      if (ctx.executor.dryRun) {
        ctx.executor.note(
          `would call functions.invoke("${name}", { method: "${request.method}" }) on ${ctx.api.apiUrl}`,
        );
        continue;
      }
      const result = await ctx.smoke(ctx.api, name, request);
      phase.info(`smoke ${name}: ${result.ok ? "ok" : "FAILED"} — ${result.detail}`);
      if (!result.ok) failures.push(`${name}: ${result.detail}`);
    }
    if (failures.length > 0) throw new SmokeTestError(`smoke test failed: ${failures.join("; ")}`);
    if (!ctx.executor.dryRun) {
      phase.detail(
        `flag at ${options.firstStep}%, ${ctx.environment.functions.length} function(s) answered`,
      );
    }
  });
}
