import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import postgres from "postgres";
import { MigrationError, pushMigrations } from "../../scripts/local/migrate.ts";
import { repoRoot } from "../../scripts/local/paths.ts";
import { ensureSupabaseRoles } from "../../scripts/local/supabase_roles.ts";
import { serverUrl, testDatabase } from "../support/database.ts";

const db = { sanitizeResources: false, sanitizeOps: false };

async function emptyDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = await serverUrl();
  const name = `pf_mig_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

Deno.test(
  "supabase db push applies every migration once; a second push is a no-op",
  db,
  async () => {
    const target = await emptyDatabase();
    try {
      await ensureSupabaseRoles(target.url);
      const files = [...Deno.readDirSync(`${repoRoot}/supabase/migrations`)]
        .map((e) => e.name)
        .filter((n) => /^\d{14}_.+\.sql$/.test(n))
        .sort();
      const first = await pushMigrations(target.url);
      assertEquals(first.applied, files);
      const second = await pushMigrations(target.url);
      assertEquals(second.applied, []);
      assert(/up to date/i.test(second.output), second.output);
      const sql = postgres(target.url, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<{ version: string }[]>`
        select version from supabase_migrations.schema_migrations order by version`;
        assertEquals(rows.map((r) => r.version), files.map((f) => f.slice(0, 14)));
      } finally {
        await sql.end();
      }
    } finally {
      await target.drop();
    }
  },
);

Deno.test("supabase db push of a broken migration fails with the CLI's SQL error", db, async () => {
  const target = await emptyDatabase();
  const workdir = await Deno.makeTempDir({ prefix: "pf-broken-" });
  try {
    await ensureSupabaseRoles(target.url);
    await Deno.mkdir(`${workdir}/supabase/migrations`, { recursive: true });
    await Deno.writeTextFile(`${workdir}/supabase/config.toml`, 'project_id = "broken"\n');
    await Deno.writeTextFile(
      `${workdir}/supabase/migrations/20990101000000_broken.sql`,
      "create table public.ok (id int primary key);\nselect missing_column from public.nowhere;\n",
    );
    const error = await assertRejects(
      () => pushMigrations(target.url, { workdir }),
      MigrationError,
    );
    assert(error.message.includes('relation "public.nowhere" does not exist'), error.message);
    const sql = postgres(target.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql`select to_regclass('public.ok') is null as rolled_back`;
      assert(row?.rolled_back, "the failed migration's transaction must roll back");
    } finally {
      await sql.end();
    }
  } finally {
    await Deno.remove(workdir, { recursive: true });
    await target.drop();
  }
});

Deno.test(
  "schema: every table in public and monitoring has row level security enabled",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const rows = await t.sql<{ table: string; rls: boolean }[]>`
      select n.nspname || '.' || c.relname as table, c.relrowsecurity as rls
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname in ('public', 'monitoring')
      order by 1`;
      assert(
        rows.length >= 7,
        `expected the domain, flag and monitoring tables, found ${rows.length}`,
      );
      assertEquals(rows.filter((r) => !r.rls).map((r) => r.table), []);
    } finally {
      await t.drop();
    }
  },
);

Deno.test(
  "schema: RLS lets anon read reference data and denies anon and authenticated writes",
  db,
  async () => {
    const t = await testDatabase();
    try {
      for (const role of ["anon", "authenticated"]) {
        const readable = await t.sql.begin(async (tx) => {
          await tx.unsafe(`set local role ${role}`);
          const [row] = await tx`select count(*)::int as n from public.airports`;
          return row?.n as number;
        });
        assert(readable > 0, `${role} must read airports`);
        for (
          const statement of [
            "insert into public.airports values ('ZZZ','Nowhere','Nowhere','ZZ','UTC',0,0)",
            "update public.fares set seats_left = 0",
            "delete from public.flights",
            "update public.feature_flags set traffic_percentage = 100, reason = 'x'",
            "insert into monitoring.function_metrics (bucket_start, function_name, path, isolate_id, latency_buckets, batch_size_buckets) values (date_trunc('minute', now()), 'x', 'none', 'i', '{}', '{}')",
          ]
        ) {
          const error = await assertRejects(() =>
            t.sql.begin(async (tx) => {
              await tx.unsafe(`set local role ${role}`);
              await tx.unsafe(statement);
            })
          );
          assert(
            /permission denied/.test((error as Error).message),
            `${role}: ${statement}: ${(error as Error).message}`,
          );
        }
      }
    } finally {
      await t.drop();
    }
  },
);

Deno.test("schema: flag changes by service_role land in the append-only history", db, async () => {
  const t = await testDatabase({ seeded: false });
  try {
    await t.sql.begin(async (tx) => {
      await tx.unsafe("set local role service_role");
      await tx`update public.feature_flags set enabled = true, traffic_percentage = 25,
        updated_by = 'test', reason = 'canary 25%' where flag_key = 'flight_search_optimization'`;
    });
    const history = await t
      .sql`select operation, old_traffic_percentage, new_traffic_percentage, reason
      from public.feature_flag_history where flag_key = 'flight_search_optimization' order by id`;
    assertEquals(
      history.map((
        h,
      ) => [h.operation, h.old_traffic_percentage, h.new_traffic_percentage, h.reason]),
      [
        ["INSERT", null, 0, "initial: optimized path off until a rollout enables it"],
        ["UPDATE", 0, 25, "canary 25%"],
      ],
    );
    await assertRejects(() => t.sql`delete from public.feature_flag_history`, Error, "append-only");
    await assertRejects(
      () => t.sql`update public.feature_flags set traffic_percentage = 101, reason = 'x'`,
      Error,
      "traffic_percentage",
    );
  } finally {
    await t.drop();
  }
});
