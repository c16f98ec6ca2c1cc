/**
 * Runs queries as the caller, the way PostgREST does: inside one transaction, the local `role`
 * set to the caller's API role and `request.jwt.claims` to the verified claims, so `auth.uid()` and
 * the tables' RLS policies apply to what the function reads and writes. The function connects as
 * the database owner; without this it would see every user's rows.
 *
 * Transaction-local settings only, so a pooled connection (Supavisor transaction mode too)
 * carries nothing over to the next transaction.
 *
 * @module
 */
import type postgres from "postgres";
import type { Caller } from "../_shared/auth.ts";
import type { Sql } from "../_shared/db.ts";

/** The API roles a caller may assume (identifiers never come from input). */
const apiRoles = new Set(["anon", "authenticated", "service_role"]);

/** A transaction handle (`sql` inside `sql.begin`). */
export type Tx = postgres.TransactionSql;

/**
 * Runs `work` in a transaction as `caller`.
 *
 * @throws {RangeError} when the caller's role is not an API role (a bug: roles are checked first).
 */
export async function asCaller<T>(
  sql: Sql,
  caller: Caller,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  if (!apiRoles.has(caller.role)) {
    throw new RangeError(`cannot run queries as role '${caller.role}'`);
  }
  const result = await sql.begin(async (tx) => {
    // set_config('role', …, true) is SET LOCAL ROLE with a bind parameter; one round trip for both.
    await tx`
      select set_config('role', ${caller.role}, true),
             set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)`;
    return await work(tx);
  });
  return result as T;
}

/**
 * Runs `work` as `service_role` on behalf of `caller`: for the writes a user may make only through
 * this function. RLS grants `authenticated` no insert or update on `payment_methods`, so a card
 * reaches the table only after the function's validation (lengths, Luhn, expiry) and encryption;
 * a user holding the anon key and a session cannot write a row straight through the Data API.
 * The caller's claims stay in `request.jwt.claims` (role replaced), so `auth.uid()` still names
 * the user whose request it is.
 */
export async function asServiceRole<T>(
  sql: Sql,
  caller: Caller,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  const claims = { ...caller.claims, role: "service_role" };
  return await asCaller(sql, { role: "service_role", claims }, work);
}
