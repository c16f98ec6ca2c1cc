/**
 * A dry run prints every command and SQL statement and changes nothing: the database (schema,
 * data, flag history) and every file of the repository are byte-identical before and after, and
 * the CLI is never invoked.
 */
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { type TestDatabase, testDatabase } from "../support/database.ts";
import { repoRoot } from "../../scripts/local/paths.ts";
import { redact } from "../../scripts/rollout/executor.ts";
import { main } from "../../scripts/rollout/main.ts";
import { environmentsFile, recordingSupabase, testProjectRef } from "./rollout_fixtures.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const schemas = ["public", "monitoring", "supabase_migrations", "auth"];

async function sha256(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Schema (columns, constraints, indexes, functions, policies) and every row of every table. */
async function databaseSnapshot(db: TestDatabase): Promise<Record<string, string>> {
  const [schema] = await db.sql`
    select string_agg(line, E'\n' order by line) as text from (
      select format('column %s.%s.%s %s %s %s', table_schema, table_name, column_name, data_type,
        is_nullable, column_default) as line
        from information_schema.columns where table_schema = any(${schemas})
      union all select format('index %s %s', schemaname, indexdef)
        from pg_indexes where schemaname = any(${schemas})
      union all select format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
        from pg_constraint where connamespace::regnamespace::text = any(${schemas})
      union all select format('function %s', pg_get_functiondef(p.oid))
        from pg_proc p where pronamespace::regnamespace::text = any(${schemas}) and prokind = 'f'
      union all select format('policy %s.%s %s %s %s', schemaname, tablename, policyname, qual, with_check)
        from pg_policies where schemaname = any(${schemas})
      union all select format('trigger %s %s', tgrelid::regclass, pg_get_triggerdef(oid))
        from pg_trigger where not tgisinternal
    ) s`;
  const snapshot: Record<string, string> = { schema: await sha256(schema?.text ?? "") };
  const tables = await db.sql`select table_schema, table_name from information_schema.tables
    where table_schema = any(${schemas}) and table_type = 'BASE TABLE' order by 1, 2`;
  for (const t of tables) {
    const name = `"${t.table_schema}"."${t.table_name}"`;
    const [row] = await db.sql.unsafe(
      `select count(*)::int as n, coalesce(string_agg(r::text, E'\\n' order by r::text), '') as rows from ${name} r`,
    );
    snapshot[name] = `${row?.n} rows ${await sha256(row?.rows ?? "")}`;
  }
  return snapshot;
}

/** Every file of the working tree except node_modules and .git, by content hash. */
async function filesSnapshot(dir = repoRoot, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const rel = `${prefix}${entry.name}`;
    if (rel === "node_modules" || rel === ".git") continue;
    if (entry.isDirectory) {
      Object.assign(out, await filesSnapshot(`${dir}/${entry.name}`, `${rel}/`));
    } else if (entry.isFile) out[rel] = await sha256(await Deno.readFile(`${dir}/${entry.name}`));
  }
  return out;
}

Deno.test({
  name:
    "a dry run to staging prints every command and statement and leaves database and files identical",
  ...opts,
  async fn() {
    const db = await testDatabase({ seeded: false });
    const cli = await recordingSupabase();
    const dir = await Deno.makeTempDir({ prefix: "rollout-dry-" });
    try {
      // A deploy already happened once, so there is history and a deployments row to protect.
      await db.sql`update public.feature_flags set enabled = true, traffic_percentage = 10,
        updated_by = 'earlier@deploy', reason = 'earlier deploy' where flag_key = 'flight_search_optimization'`;
      const environmentsPath = await environmentsFile(dir, (config) => {
        config.environments.staging.api.url_env = "STAGING_SUPABASE_URL";
      });
      const env = {
        USER: "tester",
        STAGING_DB_URL: db.url,
        STAGING_PROJECT_REF: testProjectRef,
        STAGING_SUPABASE_URL: "http://127.0.0.1:9",
        STAGING_SUPABASE_ANON_KEY: "anon-key-for-the-dry-run-test",
      };
      const dbBefore = await databaseSnapshot(db);
      const filesBefore = await filesSnapshot();
      const lines: string[] = [];
      const code = await main(
        [
          "-e",
          "staging",
          "--steps",
          "25,50,100",
          "--dry-run",
          "--monitor",
          "1m",
          "--interval",
          "20s",
        ],
        {
          print: (line) => lines.push(line),
          env,
          environmentsPath,
          supabaseBinary: cli.path,
          performanceTest: async ({ executor }) => {
            executor.note("load test would run here");
            return await Promise.resolve({
              tool: "driver" as const,
              passed: true,
              failures: [],
              summary: {},
            });
          },
        },
      );
      const output = lines.join("\n");
      assertEquals(code, 0, output);
      assertEquals(await databaseSnapshot(db), dbBefore);
      assertEquals(await filesSnapshot(), filesBefore);
      assertEquals(await cli.calls(), [], "the CLI was not run");
      assert(!output.includes(`:${new URL(db.url).password}@`), "the database password is masked");

      for (
        const expected of [
          `$ SUPABASE_TELEMETRY_DISABLED=… DO_NOT_TRACK=… PGSSLMODE=… ${cli.path} db push --remote=${
            redact(db.url)
          } --yes --workdir ${repoRoot}`,
          `${cli.path} functions deploy flight-search --remote=${testProjectRef} --use-api --yes --workdir ${repoRoot}`,
          "sql> select pg_try_advisory_lock(hashtextextended($1, 0))",
          "sql> insert into public.deployment_locks",
          "sql> analyze public.flights;",
          "sql> insert into public.deployments",
          `sql> update public.feature_flags set enabled = $2, traffic_percentage = $3, updated_by = $4, reason = $5 where flag_key = $1`,
          `$2=true $3=25 $4="tester@${Deno.hostname()}"`,
          "$3=50",
          "$3=100",
          "monitoring.path_summary($1, $2, $3)",
          "sql> update public.deployments set status",
          "sql> select pg_advisory_unlock",
          "flight_search_optimization is enabled at 10% (last set by earlier@deploy: earlier deploy)",
          "dry run complete: nothing was changed",
        ]
      ) assertStringIncludes(output, expected);
      // Every write is marked as not done.
      for (
        const line of lines.filter((l) => l.includes("sql> update") || l.includes("sql> insert"))
      ) {
        assert(line.includes("[dry-run]"), line);
      }
    } finally {
      await cli.remove();
      await Deno.remove(dir, { recursive: true });
      await db.drop();
    }
  },
});

Deno.test({
  name: "a dry run of -e local without a running stack starts nothing and connects to nothing",
  ...opts,
  async fn() {
    const lines: string[] = [];
    const code = await main(["-e", "local", "-t", "25", "-d", "-s"], {
      print: (line) => lines.push(line),
      env: { USER: "tester" },
      startLocalStack: () => Promise.reject(new Error("a dry run must not start a stack")),
      // No running stack: an absent stack file.
      localStack: undefined,
    });
    const output = lines.join("\n");
    // .local/stack.json may exist on a developer machine running `npm start`; then the dry run
    // reads that stack instead, which is fine too. Either way nothing was changed.
    assertEquals(code, 0, output);
    assertStringIncludes(output, "dry run complete");
  },
});
