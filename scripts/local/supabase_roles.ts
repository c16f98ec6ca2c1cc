/**
 * Prepares a plain Postgres database the way hosted Supabase already is (roles, auth helpers),
 * before migrations are pushed to it.
 *
 * @module
 */
import postgres from "postgres";

const bootstrapSql = await Deno.readTextFile(new URL("./supabase_roles.sql", import.meta.url));

/**
 * Creates Supabase's API roles and auth helper functions in the database at `url` where they
 * are missing. Idempotent; leaves a real Supabase database unchanged.
 */
export async function ensureSupabaseRoles(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(bootstrapSql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
