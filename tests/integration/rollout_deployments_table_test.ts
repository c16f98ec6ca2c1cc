import { assertEquals, assertRejects } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "deployments and deployment_locks: service_role only, and a row's status agrees with finished_at",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      const insert = (id: string, status: string, finished: string | null) =>
        db.sql`insert into public.deployments (id, environment, flag_key, from_percentage, to_percentage, steps, status, finished_at, started_by)
        values (${id}, 'staging', 'flight_search_optimization', 0, 10, '{10}', ${status}, ${finished}, 'ops@host')`;
      await insert("dep_20261122_100000_aaaaaa", "running", null);
      await insert("dep_20261122_100001_bbbbbb", "promoted", "2099-01-01T00:00:00Z");
      await assertRejects(
        () => insert("dep_20261122_100002_cccccc", "promoted", null),
        Error,
        "deployments_finished_when_done",
      );
      await assertRejects(() => insert("not-an-id", "running", null), Error, "check constraint");
      await assertRejects(
        () => insert("dep_20261122_100003_dddddd", "exploded", null),
        Error,
        "check constraint",
      );

      for (const role of ["anon", "authenticated"]) {
        await assertRejects(
          () =>
            db.sql.begin(async (tx) => {
              await tx.unsafe(`set local role ${role}`);
              await tx`select * from public.deployments`;
            }),
          Error,
          "permission denied",
        );
        await assertRejects(
          () =>
            db.sql.begin(async (tx) => {
              await tx.unsafe(`set local role ${role}`);
              await tx`select * from public.deployment_locks`;
            }),
          Error,
          "permission denied",
        );
      }
      const seen = await db.sql.begin(async (tx) => {
        await tx.unsafe("set local role service_role");
        return await tx`select id from public.deployments order by id`;
      });
      assertEquals(seen.map((r) => r.id), [
        "dep_20261122_100000_aaaaaa",
        "dep_20261122_100001_bbbbbb",
      ]);
    } finally {
      await db.drop();
    }
  },
);
