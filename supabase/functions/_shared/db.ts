/**
 * Postgres access for a function isolate: one postgres.js pool per isolate, created on first use
 * and kept at module scope so concurrent requests share its few connections.
 *
 * Prepared statements follow the connection mode (see `connection_mode.ts`): on a direct
 * connection they are on, so a statement costs one round trip once prepared; behind Supavisor in
 * transaction mode (port 6543) they are off, as it cannot keep them across transactions.
 *
 * @module
 */
import postgres from "postgres";
import { z } from "zod";
import { type ConnectionMode, connectionMode } from "./connection_mode.ts";
import { databaseUrl, type EnvSource, intVar, processEnv, readEnv } from "./env.ts";

/** A postgres.js client (tagged-template function plus pool controls). */
export type Sql = postgres.Sql;

/** Pool options; each has an environment variable and a default. */
export interface PoolOptions {
  /** Connection string. @default DB_POOLER_URL, else SUPABASE_DB_URL */
  url: string;
  /** Most connections the isolate opens. @default 3 (DB_POOL_MAX) */
  max: number;
  /** Server-side statement timeout in ms. @default 5000 (DB_STATEMENT_TIMEOUT_MS) */
  statementTimeoutMs: number;
  /** Close a connection idle this many seconds. @default 20 (DB_IDLE_TIMEOUT_S) */
  idleTimeoutS: number;
  /** Give up connecting after this many seconds. @default 10 (DB_CONNECT_TIMEOUT_S) */
  connectTimeoutS: number;
  /** application_name shown in pg_stat_activity. */
  applicationName: string;
  /**
   * `direct` prepares statements; `pooler` does not. @default "pooler" here; {@link poolOptions}
   * reads it from the URL and DB_CONNECTION_MODE.
   */
  mode?: ConnectionMode;
}

/** Reads {@link PoolOptions} from the environment. @throws {ConfigError} */
export function poolOptions(
  applicationName: string,
  source: EnvSource = processEnv(),
): PoolOptions {
  const env = readEnv(
    z.object({
      DB_POOL_MAX: intVar(3, { max: 100 }),
      DB_STATEMENT_TIMEOUT_MS: intVar(5000, { max: 600_000 }),
      DB_IDLE_TIMEOUT_S: intVar(20, { max: 3600 }),
      DB_CONNECT_TIMEOUT_S: intVar(10, { max: 300 }),
    }),
    source,
  );
  const url = databaseUrl(source);
  return {
    url,
    mode: connectionMode(url, source),
    max: env.DB_POOL_MAX,
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    idleTimeoutS: env.DB_IDLE_TIMEOUT_S,
    connectTimeoutS: env.DB_CONNECT_TIMEOUT_S,
    applicationName,
  };
}

/** Creates a pool. Prefer {@link isolatePool} in functions; this is for tools and tests. */
export function createPool(options: PoolOptions): Sql {
  return postgres(options.url, {
    max: options.max,
    prepare: (options.mode ?? "pooler") === "direct",
    idle_timeout: options.idleTimeoutS,
    connect_timeout: options.connectTimeoutS,
    // postgres.js waits before reconnecting, growing to 20 s after failed connects (its retries
    // are shared by the pool): after a database restart the pool stayed away for up to 17 s
    // (bench:faults). The circuit breaker already keeps an outage from being hammered, so cap
    // the wait at 1 s (seconds, jittered like postgres.js's own).
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1),
    connection: {
      application_name: options.applicationName,
      statement_timeout: options.statementTimeoutMs,
    },
    onnotice: () => {},
  });
}

/** A pool that forwards to a postgres.js pool it can replace (see {@link resetIsolatePool}). */
interface ResettablePool {
  sql: Sql;
  current: Sql;
  create: () => Sql;
}

const pools = new Map<string, ResettablePool>();

/**
 * The isolate's pool for `applicationName`, created on first call from the environment. What it
 * returns stays valid across {@link resetIsolatePool}: it forwards every call to the pool of now.
 *
 * @throws {ConfigError} when the database URL or a pool variable is missing or malformed.
 */
export function isolatePool(applicationName: string): Sql {
  let pool = pools.get(applicationName);
  if (!pool) {
    const options = poolOptions(applicationName);
    const create = () => createPool(options);
    const entry: ResettablePool = { create, current: create(), sql: undefined as unknown as Sql };
    // A function target, so the tagged-template call (apply) forwards too.
    entry.sql = new Proxy(function () {} as unknown as Sql, {
      apply: (_target, thisArg, args) => Reflect.apply(entry.current, thisArg, args),
      get: (_target, property) => Reflect.get(entry.current, property),
    });
    pools.set(applicationName, entry);
    pool = entry;
  }
  return pool.sql;
}

/**
 * Drops the connections of the isolate's pool for `applicationName` and starts a new pool behind
 * the same {@link isolatePool} handle. postgres.js 3.4.9 can leave a pool whose database was killed
 * and restarted with connections that finished their startup but never send the queued queries
 * (porsager/postgres#1193): every query then waits until the request budget ends. The database
 * breaker calls this each time it opens, so the next trial runs on fresh connections.
 */
export function resetIsolatePool(applicationName: string): void {
  const pool = pools.get(applicationName);
  if (!pool) return;
  const old = pool.current;
  pool.current = pool.create();
  // Queries still running on the old pool may finish (their budgets cancel them otherwise).
  old.end({ timeout: 5 }).catch(() => {});
}
