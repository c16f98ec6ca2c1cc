/**
 * The services a local stack starts before its functions: the database made ready (Supabase's
 * roles, migrations by the real CLI, the seed when empty), the project's KMS endpoint, and the
 * L2 result cache (a real Redis behind the Upstash REST bridge). Each says what it did through
 * `log` and hands back what the functions need in their environment.
 *
 * @module
 */
import postgres from "postgres";
import { seedDatabase } from "../seed/seed.ts";
import { startKmsServer } from "./kms_server.ts";
import { pushMigrations } from "./migrate.ts";
import { RedisUnavailableError, startRedis } from "./redis.ts";
import type { StackChildrenSet } from "./stack_children.ts";
import { ensureSupabaseRoles } from "./supabase_roles.ts";
import { startUpstashBridge } from "./upstash_bridge.ts";

type Log = (line: string) => void;

async function isEmpty(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<
      { empty: boolean }[]
    >`select not exists (select 1 from public.airports) as empty`;
    return row?.empty ?? true;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** What {@link prepareDatabase} does, and between which steps a start may be aborted. */
export interface PrepareDatabaseOptions {
  /** Folder holding supabase/migrations. */
  workdir: string;
  /** Flights to seed into an empty database; 0 or false skips seeding. */
  seedFlights: number | false;
  log: Log;
  /** Throws when the start was aborted; called between steps. */
  checkpoint: () => void;
}

/** Supabase's roles, the migrations pushed by `supabase db push`, the seed if the data is empty. */
export async function prepareDatabase(dbUrl: string, options: PrepareDatabaseOptions) {
  const { workdir, seedFlights, log, checkpoint } = options;
  await ensureSupabaseRoles(dbUrl);
  checkpoint();
  const pushed = await pushMigrations(dbUrl, { workdir });
  log(
    pushed.applied.length > 0
      ? `Migrations applied by supabase db push: ${pushed.applied.join(", ")}`
      : "Migrations: database is up to date",
  );
  checkpoint();
  if (seedFlights === false || seedFlights <= 0 || !(await isEmpty(dbUrl))) return;
  const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  try {
    const summary = await seedDatabase(sql, { flights: seedFlights });
    log(
      `Seeded ${summary.counts.flights} flights, ${summary.counts.fares} fares in ${summary.elapsedMs} ms`,
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The project's own KMS endpoint (AWS JSON 1.1 over HTTPS), so payment-methods runs the real AWS
 * SDK end to end; its key file in `dir` persists, keeping stored cards decryptable across
 * restarts. Registered to stop with `children`. Resolves with the functions' `KMS_*`/`AWS_*`
 * variables, none when `enabled` is false.
 */
export async function startLocalKms(
  enabled: boolean,
  dir: string,
  children: StackChildrenSet,
  log: Log,
): Promise<Readonly<Record<string, string>>> {
  if (!enabled) {
    log("KMS: not configured (disabled)");
    return {};
  }
  const kms = await startKmsServer({
    https: true,
    keyFile: `${dir}/key.json`,
    caCertFile: `${dir}/ca.pem`,
  });
  children.onStop(() => kms.stop());
  log(`KMS endpoint (local, HTTPS) on ${kms.url}`);
  return kms.env;
}

/**
 * The L2 result cache: a real Redis (supervised in `children`) behind the Upstash REST bridge,
 * so the functions run the real @upstash/redis client. Resolves with the functions'
 * `UPSTASH_REDIS_REST_URL`/`_TOKEN`, none when disabled or when no Redis is available — the
 * cache is then L1-only, which is said once, here.
 */
export async function startL2Cache(
  enabled: boolean,
  detached: boolean,
  children: StackChildrenSet,
  log: Log,
): Promise<Record<string, string>> {
  if (!enabled) {
    log("Result cache: L1 only (Redis disabled)");
    return {};
  }
  try {
    const server = await startRedis({ detached });
    // Restarted on the same port: the bridge's client reconnects by itself.
    children.redis = children.watch(
      "Redis",
      server,
      () => startRedis({ detached, port: server.port }),
    );
    const bridge = await startUpstashBridge({
      redisUrl: server.url,
      token: `local-${crypto.randomUUID()}`,
      log,
    });
    children.onStop(() => bridge.stop());
    log(
      `Redis ${
        server.owned ? `(redis-server, port ${server.port})` : `(REDIS_URL)`
      } behind the Upstash REST bridge on ${bridge.url}: result cache L1 + L2`,
    );
    return { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: bridge.token };
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    log(`Result cache: L1 only (${error.message})`);
    return {};
  }
}
