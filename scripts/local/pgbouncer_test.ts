import postgres from "postgres";
import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { testDatabase } from "../../tests/support/database.ts";
import { PgBouncerUnavailableError, startPgBouncer } from "./pgbouncer.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "startPgBouncer() pools by transaction: clients share server connections between transactions",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    // One server connection, so which one a client gets is not left to chance.
    const bouncer = await startPgBouncer({ targetPort: Number(new URL(db.url).port), poolSize: 1 });
    const url = bouncer.urlFor(db.url);
    const a = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
    const b = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
    try {
      const rows = await Promise.all(Array.from({ length: 6 }, (_, i) => a`select ${i}::int as n`));
      assertEquals(rows.map((r) => r[0]!.n), [0, 1, 2, 3, 4, 5]);
      // A prepares a named statement and stays connected; B, another client, can run it: the
      // statement lives on the server connection, which B got once A's transaction ended. In
      // session mode B would wait for A to disconnect; so a client cannot count on finding its
      // own named statement on the connection it gets next.
      await a.unsafe("prepare probe as select 42 as answer");
      const [row] = await b.unsafe("execute probe");
      assertEquals(row!.answer, 42);
      const [pidA] = await a`select pg_backend_pid() as pid`;
      const [pidB] = await b`select pg_backend_pid() as pid`;
      assertEquals(pidA!.pid, pidB!.pid, "both clients ran on the one server connection");
    } finally {
      await a.end({ timeout: 1 });
      await b.end({ timeout: 1 });
      await bouncer.stop();
      await db.drop();
    }
  },
);

Deno.test("startPgBouncer() names a missing binary", async () => {
  await assertRejects(
    () => startPgBouncer({ targetPort: 1, binary: "/nonexistent/pgbouncer" }),
    PgBouncerUnavailableError,
  );
});
