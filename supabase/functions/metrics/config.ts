/**
 * Configuration of the `metrics` function.
 *
 * @module
 */
import { z } from "zod";
import { type EnvSource, processEnv, readEnv } from "../_shared/env.ts";

/** What the function reads from its environment. */
export interface MetricsConfig {
  /** The secret a scraper presents as `Authorization: Bearer <secret>`. */
  bearerToken: string;
}

/**
 * Reads {@link MetricsConfig}. A short secret is refused: it would be guessable.
 *
 * @throws {ConfigError} when METRICS_BEARER_TOKEN is unset or shorter than 32 characters.
 */
export function metricsConfig(source: EnvSource = processEnv()): MetricsConfig {
  const env = readEnv(
    z.object({
      METRICS_BEARER_TOKEN: z.string().min(32, "expected at least 32 characters")
        .regex(/^[A-Za-z0-9\-._~+/]+=*$/, "expected bearer token characters (RFC 6750)"),
    }),
    source,
  );
  return { bearerToken: env.METRICS_BEARER_TOKEN };
}
