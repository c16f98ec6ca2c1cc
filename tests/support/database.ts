/**
 * Databases for tests: a fresh database per call, cloned from a template that has every migration
 * pushed by the real Supabase CLI (and, for `seeded`, the small deterministic seed).
 *
 * The server is an embedded Postgres 17 started once per test process in a temp folder, or the
 * server of `DATABASE_URL` when set (the role needs CREATEDB). Templates are named by a hash of
 * the migrations and seed code, so a shared server reuses them until either changes.
 *
 * @module
 */
import postgres from "postgres";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { seedDatabase } from "../../scripts/seed/seed.ts";
import { startEmbeddedPostgres } from "../../scripts/local/embedded_postgres.ts";
import { makeOwnedTempDir } from "../../scripts/local/owned_temp_dir.ts";
import { pushMigrations } from "../../scripts/local/migrate.ts";
import { repoRoot } from "../../scripts/local/paths.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { ensureSupabaseRoles } from "../../scripts/local/supabase_roles.ts";

/** Flights in the seeded template: enough for realistic plans, small enough to clone fast. */
export const testSeedFlights = 3000;

/** A database of its own for one test (file). */
export interface TestDatabase {
  /** Connection URL (superuser). */
  url: string;
  /** A small pool on {@link url}. */
  sql: Sql;
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

interface Server {
  /** URL of the maintenance database. */
  url: string;
}

let serverPromise: Promise<Server> | undefined;
const templates = new Map<string, Promise<string>>();

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function startServer(): Promise<Server> {
  const external = Deno.env.get("DATABASE_URL");
  if (external) return { url: external };
  const dir = await makeOwnedTempDir("pf-test-pg-");
  const pg = await startEmbeddedPostgres({
    dataDir: `${dir}/data`,
    port: freePort(),
    ephemeral: true,
  });
  globalThis.addEventListener("unload", () => {
    pg.killSync();
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // the server may still hold files for a moment; the OS cleans temp folders
    }
  });
  return { url: pg.url };
}

/** The URL of the test server's maintenance database, starting the server on first use. */
export function serverUrl(): Promise<string> {
  serverPromise ??= startServer();
  return serverPromise.then((s) => s.url);
}

async function contentHash(): Promise<string> {
  const parts: string[] = [];
  const migrations = [...Deno.readDirSync(`${repoRoot}/supabase/migrations`)].map((e) => e.name)
    .sort();
  for (const name of migrations) {
    parts.push(name, await Deno.readTextFile(`${repoRoot}/supabase/migrations/${name}`));
  }
  for (const entry of [...Deno.readDirSync(`${repoRoot}/scripts/seed`)].map((e) => e.name).sort()) {
    if (/\.(ts|json|csv)$/.test(entry) && !entry.endsWith("_test.ts")) {
      parts.push(entry, await Deno.readTextFile(`${repoRoot}/scripts/seed/${entry}`));
    }
  }
  parts.push(await Deno.readTextFile(`${repoRoot}/scripts/local/supabase_roles.sql`));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\0")));
  return [...new Uint8Array(digest)].slice(0, 6).map((b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

async function buildTemplate(kind: "migrated" | "seeded"): Promise<string> {
  const base = await serverUrl();
  const name = `pf_tpl_${await contentHash()}_${kind}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  try {
    // One builder per template across concurrent test processes sharing a server.
    await admin`select pg_advisory_lock(hashtext(${name}))`;
    const [found] = await admin`select 1 from pg_database where datname = ${name}`;
    if (found) return name;
    const building = `${name}_building_${Deno.pid}`;
    if (kind === "migrated") {
      await admin.unsafe(`create database "${building}"`);
      const url = withDatabase(base, building);
      await ensureSupabaseRoles(url);
      await pushMigrations(url);
    } else {
      const migrated = await template("migrated");
      await admin.unsafe(`create database "${building}" template "${migrated}"`);
      const sql = postgres(withDatabase(base, building), { max: 2, onnotice: () => {} });
      try {
        await seedDatabase(sql, { flights: testSeedFlights });
      } finally {
        await sql.end({ timeout: 5 });
      }
    }
    await admin.unsafe(`alter database "${building}" rename to "${name}"`);
    return name;
  } finally {
    await admin`select pg_advisory_unlock(hashtext(${name}))`.catch(() => {});
    await admin.end({ timeout: 5 });
  }
}

function template(kind: "migrated" | "seeded"): Promise<string> {
  let pending = templates.get(kind);
  if (!pending) {
    pending = buildTemplate(kind);
    templates.set(kind, pending);
  }
  return pending;
}

/**
 * A fresh database with every migration applied by `supabase db push` and, unless
 * `seeded: false`, the deterministic seed of {@link testSeedFlights} flights.
 */
export async function testDatabase(options: { seeded?: boolean } = {}): Promise<TestDatabase> {
  const { seeded = true } = options;
  const base = await serverUrl();
  const from = await template(seeded ? "seeded" : "migrated");
  const name = `pf_test_${Deno.pid}_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${from}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = withDatabase(base, name);
  const sql = postgres(url, { max: 5, onnotice: () => {} });
  return {
    url,
    sql,
    name,
    async drop() {
      await sql.end({ timeout: 5 });
      const dropper = postgres(base, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}
