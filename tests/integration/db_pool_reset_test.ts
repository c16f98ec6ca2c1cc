/**
 * resetIsolatePool() on a real Postgres: the handle isolatePool() gave keeps working and runs on
 * new connections; the old ones are closed.
 */
import { isolatePool, resetIsolatePool } from "../../supabase/functions/_shared/db.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";

Deno.test("resetIsolatePool() moves the isolate's pool handle onto fresh connections", async () => {
  const t = await testDatabase();
  const previous = Deno.env.get("SUPABASE_DB_URL");
  const previousPooler = Deno.env.get("DB_POOLER_URL");
  Deno.env.set("SUPABASE_DB_URL", t.url);
  Deno.env.delete("DB_POOLER_URL");
  const name = `reset-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const sql = isolatePool(name);
    assertEquals(isolatePool(name), sql, "one handle per name");
    const [before] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    resetIsolatePool(name);
    const [after] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    assert(before!.pid !== after!.pid, `a new connection after the reset (${before!.pid})`);
    // The old connection closes (end with timeout 0): gone from pg_stat_activity shortly.
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      const rows = await t.sql`select 1 from pg_stat_activity where pid = ${before!.pid}`;
      alive = rows.length > 0;
      if (alive) await new Promise((r) => setTimeout(r, 100));
    }
    assertEquals(alive, false, "the old connection is closed");
    // Properties forward too (unsafe, begin).
    assertEquals((await sql.unsafe("select 41 + 1 as n"))[0]!.n, 42);
    await sql.end({ timeout: 0 });
  } finally {
    if (previous === undefined) Deno.env.delete("SUPABASE_DB_URL");
    else Deno.env.set("SUPABASE_DB_URL", previous);
    if (previousPooler !== undefined) Deno.env.set("DB_POOLER_URL", previousPooler);
    await t.drop();
  }
});
