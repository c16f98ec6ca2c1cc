/**
 * How a function talks to Postgres: `direct` (prepared statements, one round trip per statement
 * once prepared) or `pooler` (Supavisor's transaction mode, port 6543, which cannot keep a named
 * prepared statement from one transaction to the next).
 *
 * postgres.js with `prepare: false` sends a parameterised statement as Parse/Describe/Flush and
 * waits for the parameter types before Bind/Execute/Sync: two round trips. With `prepare: true`
 * the first execution costs those two and every later one a single Bind/Execute/Sync. A statement
 * without parameters goes out as one flight either way, which is how the pooler mode reaches one
 * round trip for the statement that matters (see `flight-search/wave_statement.ts`).
 *
 * @module
 */
import { z } from "zod";
import { type EnvSource, processEnv, readEnv } from "./env.ts";

/** `direct`: prepared statements allowed. `pooler`: no named prepared statements. */
export type ConnectionMode = "direct" | "pooler";

/** Supavisor's transaction-mode port (its session mode listens on 5432 and keeps statements). */
export const transactionPoolerPort = "6543";

/**
 * The mode for `url`: `DB_CONNECTION_MODE` (`direct`, `pooler` or `auto`, the default) decides;
 * `auto` picks `pooler` when the URL's port is 6543 or the URL came from `DB_POOLER_URL` (a pooler
 * whose mode we cannot see is treated as transaction mode: the safe choice), else `direct`.
 *
 * @example
 * ```ts
 * connectionMode("postgresql://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres", {});
 * // "pooler"
 * ```
 * @throws {ConfigError} when DB_CONNECTION_MODE holds anything else.
 */
export function connectionMode(
  url: string,
  source: EnvSource = processEnv(),
): ConnectionMode {
  const env = readEnv(
    z.object({
      DB_CONNECTION_MODE: z.enum(["auto", "direct", "pooler"]).default("auto"),
    }),
    source,
  );
  if (env.DB_CONNECTION_MODE !== "auto") return env.DB_CONNECTION_MODE;
  const port = new URL(url).port;
  if (port === transactionPoolerPort) return "pooler";
  return source.DB_POOLER_URL !== undefined && source.DB_POOLER_URL === url ? "pooler" : "direct";
}
