import { assert, assertEquals, assertRejects, assertStringIncludes } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { PreconditionError } from "../../scripts/_cli/errors.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import { Executor } from "../../scripts/rollout/executor.ts";
import { acquireDeployLock, LockHeldError } from "../../scripts/rollout/lock.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const quiet = () => new Executor({ dryRun: false, echo: false, print: () => {} });

Deno.test(
  "acquireDeployLock() refuses a second holder with who and since when, until released",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      const first = await acquireDeployLock(db.url, {
        environment: "staging",
        deploymentId: "dep_20261122_100000_aaaaaa",
        holder: "alice@laptop",
        executor: quiet(),
      });
      const refused = await assertRejects(
        () =>
          acquireDeployLock(db.url, {
            environment: "staging",
            deploymentId: "dep_20261122_100001_bbbbbb",
            holder: "bob@ci",
            executor: quiet(),
          }),
        LockHeldError,
      );
      assertEquals(refused.holder, "alice@laptop");
      assertEquals(refused.deploymentId, "dep_20261122_100000_aaaaaa");
      assert(refused.since instanceof Date && Date.now() - refused.since.getTime() < 60_000);
      assertStringIncludes(refused.message, "by alice@laptop since");

      // Another environment has its own lock.
      const production = await acquireDeployLock(db.url, {
        environment: "production",
        deploymentId: "dep_20261122_100002_cccccc",
        holder: "bob@ci",
        executor: quiet(),
      });
      await production.release();

      await first.verify();
      await first.release();
      await first.release(); // idempotent
      const [row] = await db.sql`select count(*)::int as n from public.deployment_locks`;
      assertEquals(row?.n, 0);

      const second = await acquireDeployLock(db.url, {
        environment: "staging",
        deploymentId: "dep_20261122_100001_bbbbbb",
        holder: "bob@ci",
        executor: quiet(),
      });
      await second.release();
    } finally {
      await db.drop();
    }
  },
);

Deno.test(
  "acquireDeployLock() takes over after the holder's session died; verify() notices a lost session",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      const crashed = await acquireDeployLock(db.url, {
        environment: "local",
        deploymentId: "dep_20261122_110000_aaaaaa",
        holder: "crashed@host",
        executor: quiet(),
      });
      // The server ends the holder's session, as when its process dies: the advisory lock goes with it.
      await db
        .sql`select pg_terminate_backend(backend_pid) from public.deployment_locks where environment = 'local'`;
      await assertRejects(() => crashed.verify(), PreconditionError, "was lost");

      const next = await acquireDeployLock(db.url, {
        environment: "local",
        deploymentId: "dep_20261122_110001_bbbbbb",
        holder: "next@host",
        executor: quiet(),
      });
      const [row] = await db
        .sql`select deployment_id, holder from public.deployment_locks where environment = 'local'`;
      assertEquals({ ...row }, {
        deployment_id: "dep_20261122_110001_bbbbbb",
        holder: "next@host",
      });
      await next.verify();
      await next.release();
      await crashed.release().catch(() => {});
    } finally {
      await db.drop();
    }
  },
);

Deno.test("acquireDeployLock() refuses the transaction pooler (port 6543) before connecting", async () => {
  const error = await assertRejects(
    () =>
      acquireDeployLock(
        "postgresql://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres",
        {
          environment: "production",
          deploymentId: "dep_20261122_120000_aaaaaa",
          holder: "x@y",
          executor: quiet(),
        },
      ),
    ConfigError,
  );
  assertStringIncludes(error.message, "port 6543");
  assertStringIncludes(error.message, "session");
});

Deno.test(
  "acquireDeployLock() works on a database the deploy has not migrated yet",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      await db.sql`drop table public.deployment_locks`;
      const lock = await acquireDeployLock(db.url, {
        environment: "staging",
        deploymentId: "dep_20261122_130000_aaaaaa",
        holder: "alice@laptop",
        executor: quiet(),
      });
      const refused = await assertRejects(
        () =>
          acquireDeployLock(db.url, {
            environment: "staging",
            deploymentId: "dep_20261122_130001_bbbbbb",
            holder: "bob@ci",
            executor: quiet(),
          }),
        PreconditionError,
      );
      assertStringIncludes(refused.message, "holder row is not written yet");
      await db
        .sql`create table public.deployment_locks (environment text primary key, deployment_id text not null,
      holder text not null, acquired_at timestamptz not null default now(), backend_pid integer not null default pg_backend_pid())`;
      await lock.recordHolder();
      const [row] = await db.sql`select holder from public.deployment_locks`;
      assertEquals(row?.holder, "alice@laptop");
      await lock.release();
    } finally {
      await db.drop();
    }
  },
);
