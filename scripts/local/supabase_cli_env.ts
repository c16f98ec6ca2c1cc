/**
 * The environment the Supabase CLI runs with, wherever this project runs it (the local stack's
 * migrations, the rollout's push and deploy): no telemetry, and for a loopback database URL no
 * TLS — our local servers speak none, and saying so up front keeps the CLI from trying and
 * warning about it.
 *
 * @module
 */

/** Whether `url` names this machine (127.0.0.1, localhost, ::1). */
export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  } catch {
    return false;
  }
}

/**
 * The CLI's environment for a command against `databaseUrl` (none: a command that reaches no
 * database directly, e.g. `functions deploy`).
 *
 * @example
 * ```ts
 * supabaseCliEnv("postgresql://postgres@127.0.0.1:54322/postgres").PGSSLMODE; // "disable"
 * ```
 */
export function supabaseCliEnv(databaseUrl?: string): Record<string, string> {
  const env: Record<string, string> = { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };
  if (databaseUrl !== undefined && isLoopback(databaseUrl)) env.PGSSLMODE = "disable";
  return env;
}
