/**
 * What a deploy will do, resolved before it does anything: config/sla.json, the environment of
 * config/environments.json with its variables, and the options with every default applied. Any
 * problem here is a configuration error (exit 2) and nothing is done.
 *
 * @module
 */
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import { loadSla, type Sla } from "../sla/sla.ts";
import type { EffectiveOptions } from "./context.ts";
import { loadEnvironments, type ResolvedEnvironment, resolveEnvironment } from "./environments.ts";
import { defaultActor } from "./flag_store.ts";
import type { RolloutOptions } from "./options.ts";

/** A deploy's resolved configuration. */
export interface RolloutPlan {
  sla: Sla;
  environment: ResolvedEnvironment;
  options: EffectiveOptions;
}

/** Where the configuration comes from; the repository's files and the process by default. */
export interface PlanSources {
  /** Environment variables. */
  env: Record<string, string | undefined>;
  environmentsPath?: string;
  slaPath?: string | URL;
}

/**
 * The options with the environment's and the SLA's defaults applied.
 *
 * @throws {ConfigError} when the analysis interval is longer than the monitoring window.
 */
export function effectiveOptions(
  options: RolloutOptions,
  environment: ResolvedEnvironment,
  sla: Sla,
  env: Record<string, string | undefined>,
): EffectiveOptions {
  const monitorMs = options.monitorMs ?? environment.monitorMs;
  const intervalMs = options.intervalMs ?? environment.intervalMs;
  if (intervalMs > monitorMs) {
    throw new ConfigError(
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
 * Resolves the plan of a deploy with `options`.
 *
 * @throws {ConfigError} naming the file, field or variable at fault.
 */
export async function planRollout(
  options: RolloutOptions,
  sources: PlanSources,
): Promise<RolloutPlan> {
  const sla = await loadSla(sources.slaPath).catch((error) => {
    throw new ConfigError(`config/sla.json: ${(error as Error).message}`);
  });
  const file = await loadEnvironments(sources.environmentsPath);
  const environment = await resolveEnvironment(file, options.environment, { env: sources.env });
  return { sla, environment, options: effectiveOptions(options, environment, sla, sources.env) };
}
