/**
 * The Docker-free local Supabase stack: Postgres 17 (embedded, or any server by URL) with
 * Supabase's roles, migrations pushed by the real CLI, a small seed, every function in its own
 * isolate behind a JWT-verifying gateway.
 *
 * `startStack()` is used by `npm start` and by integration tests alike.
 *
 * @module
 */
import postgres from "postgres";
import { seedDatabase } from "../seed/seed.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded_postgres.ts";
import { discoverFunctions, type FunctionSpec } from "./functions_config.ts";
import { type FunctionProcess, startFunction } from "./function_process.ts";
import { checkIsolateCounts, startIsolates } from "./function_isolates.ts";
import { type Gateway, type Route, startGateway } from "./gateway.ts";
import { apiKeys, defaultJwtSecret } from "./keys.ts";
import { pushMigrations } from "./migrate.ts";
import { startKmsServer } from "./kms_server.ts";
import { localStateDir, repoRoot } from "./paths.ts";
import { assertPortFree, freePort } from "./ports.ts";
import { type RedisServer, RedisUnavailableError, startRedis } from "./redis.ts";
import { supervise, type Supervisor, unsupervised } from "./supervisor.ts";
import { ensureSupabaseRoles } from "./supabase_roles.ts";
import { startUpstashBridge } from "./upstash_bridge.ts";

/** Options for {@link startStack}; every one has a default suited to `npm start`. */
export interface StackOptions {
  /** Use this Postgres server instead of starting the embedded one. */
  databaseUrl?: string;
  /** Embedded Postgres data folder. @default .local/postgres */
  dataDir?: string;
  /** Embedded Postgres port; 0 picks a free one. @default 54322 */
  dbPort?: number;
  /** Gateway port; 0 picks a free one. @default 54321 */
  port?: number;
  /** Embedded cluster is throw-away (fsync off). @default false */
  ephemeral?: boolean;
  /** Flights to seed into an empty database; 0 or false skips seeding. @default 5000 */
  seedFlights?: number | false;
  /** Serve only these functions. @default all of supabase/functions/ */
  functions?: string[];
  /**
   * Isolates per function, e.g. `{ "flight-search": 4 }`: each its own process with its own
   * module state, the gateway sending requests to them round robin. @default 1 for every function
   */
  isolates?: Readonly<Record<string, number>>;
  /** Extra environment for every function (on top of what hosted Supabase sets). */
  env?: Record<string, string>;
  /** Folder holding supabase/ (migrations, functions, config.toml). @default the repository root */
  workdir?: string;
  /** JWT secret for the gateway and the API keys. @default Supabase's local secret */
  jwtSecret?: string;
  /** Progress lines ("Postgres ready", ...). @default ignore */
  log?: (line: string) => void;
  /** Where the local KMS endpoint keeps its key material and CA. @default .local/kms */
  kmsDir?: string;
  /**
   * Start the local KMS endpoint and give every function its `KMS_*`/`AWS_*` variables. `false`
   * leaves KMS unconfigured (health reports it "not_configured"; payment-methods cannot work).
   * @default true
   */
  kms?: boolean;
  /** Lines the functions print. @default ignore */
  onFunctionLog?: (name: string, line: string) => void;
  /**
   * The L2 result cache: `true` starts Debian's `redis-server` (or uses `REDIS_URL`) behind the
   * Upstash REST bridge and gives the functions `UPSTASH_REDIS_REST_URL`/`_TOKEN`; with no Redis
   * available the stack runs L1-only and says so. `false` never starts one (L1 only).
   * @default true
   */
  redis?: boolean;
  /**
   * Start Postgres, Redis and the function isolates in process groups of their own: a terminal's
   * Ctrl-C then reaches only this process, which can still use them (e.g. to roll a deploy back)
   * before stopping them. Whoever sets it must stop the stack on exit (`stop()` or `killSync()`).
   * @default false
   */
  detached?: boolean;
  /**
   * The `METRICS_BEARER_TOKEN` of the `metrics` function (at least 32 characters).
   * @default 64 random hex characters, new for every stack
   */
  metricsBearerToken?: string;
  /**
   * Restart Postgres, Redis and the isolates the stack started when they die unasked (bounded
   * attempts with backoff, see supervisor.ts). @default true
   */
  supervise?: boolean;
  /** Called when a child's pid changes (a restart), with the pids as they are now. */
  onChildrenChange?: (children: StackChildren) => void;
  /**
   * Aborts the start between two phases (Ctrl-C while it comes up): what was started is stopped
   * and {@link StackStartAborted} is thrown.
   */
  signal?: AbortSignal;
}

/** Thrown by {@link startStack} when its `signal` aborted the start; nothing is left running. */
export class StackStartAborted extends Error {
  override name = "StackStartAborted";
}

/** The pids of the processes a stack started (for stack.json and fault tests). */
export interface StackChildren {
  /** The embedded postmaster; absent with `databaseUrl`. */
  postgres?: number;
  /** Our redis-server; absent without Redis or with `REDIS_URL`. */
  redis?: number;
  /** Each function's isolates (one pid per isolate). */
  functions: Record<string, number[]>;
}

/** How many times each supervised child was restarted. */
export interface StackRestarts {
  postgres: number;
  redis: number;
  functions: Record<string, number>;
}

/**
 * Bounds of a graceful stop: the isolates get this long after SIGTERM before SIGKILL, in
 * parallel; then Redis as long and, at the same time, Postgres {@link postgresStopMs} of fast
 * shutdown before SIGQUIT.
 */
export const childStopMs = 2_000;
/** See {@link childStopMs}. */
export const postgresStopMs = 5_000;

/** A running stack. */
export interface Stack {
  /** Gateway base URL, e.g. http://127.0.0.1:54321 (the SUPABASE_URL of the functions). */
  readonly url: string;
  /** `${url}/functions/v1` */
  readonly functionsUrl: string;
  readonly anonKey: string;
  readonly serviceRoleKey: string;
  readonly jwtSecret: string;
  /** Direct Postgres URL (SUPABASE_DB_URL of the functions). */
  readonly dbUrl: string;
  /** Names of the functions served. */
  readonly functions: string[];
  /** The bearer secret Prometheus (or curl) presents to the `metrics` function. */
  readonly metricsBearerToken: string;
  /** The Upstash REST URL given to the functions; undefined when the stack runs L1-only. */
  readonly upstashUrl: string | undefined;
  /** The (first) isolate of a function, e.g. to read its log tail in a failing test. */
  functionProcess(name: string): FunctionProcess | undefined;
  /** Every isolate of a function, in the gateway's round-robin order; empty when not served. */
  functionProcesses(name: string): readonly FunctionProcess[];
  /** The pids of the processes it started, as they are now. */
  children(): StackChildren;
  /** Restarts the supervisors made so far (a function's: summed over its isolates). */
  restarts(): StackRestarts;
  /** Restarts one function's isolates (fresh module state, same environment). */
  restartFunction(name: string, env?: Record<string, string>): Promise<void>;
  /**
   * Stops functions, gateway and (when embedded) Postgres, within the bounds of
   * {@link childStopMs} and {@link postgresStopMs}. Idempotent.
   */
  stop(): Promise<void>;
  /** Synchronous last-resort kill of every child, for process-exit handlers. */
  killSync(): void;
}

/**
 * Settings every local function gets (before `env`, which overrides them): metrics flushed and the
 * traffic flag re-read every second instead of the hosted defaults, so a local rollout's analysis
 * intervals of a few seconds see fresh numbers and a rollback takes effect at once. Likewise a
 * payment data key seals at most 10 cards locally (hosted default 100): the few cards a local
 * rollout's 5-second windows save then still call KMS in most windows, so the KMS reuse column is
 * measured there (bench:kms measures the data-key cache at the hosted limit).
 */
export const localFunctionSettings: Readonly<Record<string, string>> = {
  METRICS_FLUSH_INTERVAL_MS: "1000",
  FLAG_CACHE_TTL_MS: "1000",
  KMS_DATA_KEY_MAX_MESSAGES: "10",
};

/** 32 random bytes as hex: a fresh secret for one stack. */
function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

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

/**
 * Brings the stack up and resolves once every function answers on the gateway.
 *
 * @throws {PortInUseError} when the gateway or database port is taken (nothing left running).
 * @throws {MigrationError} when `supabase db push` fails (with the CLI's output).
 * @throws {RangeError} when an isolate count is not an integer 1..`maxIsolates` or names no served function.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const {
    databaseUrl,
    dataDir = `${localStateDir}/postgres`,
    ephemeral = false,
    seedFlights = 5000,
    env: extraEnv = {},
    jwtSecret = defaultJwtSecret,
    workdir = repoRoot,
    log = () => {},
    onFunctionLog,
    detached = false,
    onChildrenChange = () => {},
  } = options;
  const supervised = options.supervise ?? true;
  const checkpoint = () => {
    if (options.signal?.aborted) {
      throw new StackStartAborted(`start aborted: ${String(options.signal.reason)}`);
    }
  };
  const port = options.port === 0 ? freePort() : options.port ?? 54321;
  const dbPort = options.dbPort === 0 ? freePort() : options.dbPort ?? 54322;

  assertPortFree(
    port,
    "API gateway",
    "Is another `npm start` running? Stop it, or set STACK_PORT.",
  );
  const isolates = options.isolates ?? {};
  checkIsolateCounts(isolates);
  const metricsBearerToken = options.metricsBearerToken ?? randomSecret();
  if (metricsBearerToken.length < 32) {
    throw new RangeError("startStack metricsBearerToken: expected at least 32 characters");
  }
  const keys = await apiKeys(jwtSecret);
  const stoppers: Array<() => Promise<void>> = [];
  const routes = new Map<string, Route>();
  let gateway: Gateway | undefined;
  /** Each child with its supervisor (a supervisor that never restarts when `supervise` is off). */
  let pg: Supervisor<EmbeddedPostgres> | undefined;
  let redis: Supervisor<RedisServer> | undefined;
  /** Each function's isolates, one supervisor per isolate, in round-robin order. */
  const functions = new Map<string, Supervisor<FunctionProcess>[]>();
  const watch = <T extends EmbeddedPostgres | RedisServer | FunctionProcess>(
    name: string,
    first: T,
    restart: () => Promise<T>,
    onRestart: (server: T) => void = () => {},
  ): Supervisor<T> =>
    supervised
      ? supervise<T>({
        name,
        first,
        restart,
        log,
        onRestart: (server) => {
          onRestart(server);
          onChildrenChange(children());
        },
      })
      : unsupervised(first);
  const children = (): StackChildren => ({
    ...(pg ? { postgres: pg.current().pid } : {}),
    ...(redis?.current().pid !== undefined ? { redis: redis.current().pid } : {}),
    functions: Object.fromEntries(
      [...functions].map(([n, ss]) => [n, ss.map((s) => s.current().pid)]),
    ),
  });

  const stopAll = async () => {
    const sups = [pg, redis, ...[...functions.values()].flat()];
    await Promise.all(sups.map((s) => s?.stop()));
    await gateway?.stop().catch(() => {});
    await Promise.all([...functions.values()].flat().map((f) => f.current().stop(childStopMs)));
    // The bridge and the KMS endpoint close in-process, before Redis goes (no "Redis unavailable").
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
    await Promise.all([
      redis?.current().stop(childStopMs),
      pg?.current().stop(postgresStopMs),
    ]);
  };

  try {
    let dbUrl: string;
    if (databaseUrl) {
      dbUrl = databaseUrl;
      log(`Postgres: using ${new URL(databaseUrl).host}`);
    } else {
      const pgOptions = { dataDir, port: dbPort, ephemeral, detached, notice: log };
      pg = watch("Postgres", await startEmbeddedPostgres(pgOptions), async () => {
        const server = await startEmbeddedPostgres(pgOptions);
        log(`Postgres accepts connections again on 127.0.0.1:${dbPort}`);
        return server;
      });
      dbUrl = pg.current().url;
      checkpoint();
      log(`Postgres 17 (embedded) ready on 127.0.0.1:${dbPort}, data in ${dataDir}`);
    }
    await ensureSupabaseRoles(dbUrl);
    checkpoint();
    const pushed = await pushMigrations(dbUrl, { workdir });
    log(
      pushed.applied.length > 0
        ? `Migrations applied by supabase db push: ${pushed.applied.join(", ")}`
        : "Migrations: database is up to date",
    );
    checkpoint();
    if (seedFlights !== false && seedFlights > 0 && (await isEmpty(dbUrl))) {
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

    checkpoint();
    // The project's own KMS endpoint (AWS JSON 1.1 over HTTPS), so payment-methods runs the real
    // AWS SDK end to end. Its key file persists, keeping stored cards decryptable across restarts.
    let kmsEnv: Readonly<Record<string, string>> = {};
    if (options.kms ?? true) {
      const kmsDir = options.kmsDir ?? `${localStateDir}/kms`;
      const kms = await startKmsServer({
        https: true,
        keyFile: `${kmsDir}/key.json`,
        caCertFile: `${kmsDir}/ca.pem`,
      });
      stoppers.push(() => kms.stop());
      kmsEnv = kms.env;
      log(`KMS endpoint (local, HTTPS) on ${kms.url}`);
    } else {
      log("KMS: not configured (disabled)");
    }

    // The L2 cache: a real Redis behind the Upstash REST bridge, so the functions run the real
    // @upstash/redis client. Without Redis the cache is L1-only, which is said once, here.
    const upstashEnv: Record<string, string> = {};
    if (options.redis ?? true) {
      try {
        const server = await startRedis({ detached });
        // Restarted on the same port: the bridge's client reconnects by itself.
        redis = watch("Redis", server, () => startRedis({ detached, port: server.port }));
        const bridge = await startUpstashBridge({
          redisUrl: server.url,
          token: `local-${crypto.randomUUID()}`,
          log,
        });
        stoppers.push(() => bridge.stop());
        upstashEnv.UPSTASH_REDIS_REST_URL = bridge.url;
        upstashEnv.UPSTASH_REDIS_REST_TOKEN = bridge.token;
        log(
          `Redis ${
            server.owned ? `(redis-server, port ${server.port})` : `(REDIS_URL)`
          } behind the Upstash REST bridge on ${bridge.url}: result cache L1 + L2`,
        );
      } catch (error) {
        if (!(error instanceof RedisUnavailableError)) throw error;
        log(`Result cache: L1 only (${error.message})`);
      }
    } else {
      log("Result cache: L1 only (Redis disabled)");
    }

    checkpoint();
    const url = `http://127.0.0.1:${port}`;
    const functionEnv: Record<string, string> = {
      ...localFunctionSettings,
      SUPABASE_URL: url,
      SUPABASE_DB_URL: dbUrl,
      SUPABASE_ANON_KEY: keys.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
      JWT_SECRET: keys.jwtSecret,
      METRICS_BEARER_TOKEN: metricsBearerToken,
      // Every function gets the KMS variables: payment-methods encrypts with them, health checks
      // the key with DescribeKey through the same shared client code.
      ...kmsEnv,
      ...upstashEnv,
      ...extraEnv,
    };
    let specs = await discoverFunctions(`${workdir}/supabase`);
    if (options.functions) {
      const wanted = new Set(options.functions);
      const unknown = [...wanted].filter((name) => !specs.some((s) => s.name === name));
      if (unknown.length > 0) throw new Error(`no such function: ${unknown.join(", ")}`);
      specs = specs.filter((s) => wanted.has(s.name));
    }
    checkIsolateCounts(isolates, specs.map((s) => s.name));
    /** Each function's environment: a supervised restart keeps what restartFunction() gave. */
    const envs = new Map<string, Record<string, string>>();
    const isolateOptions = (spec: FunctionSpec) => ({
      env: envs.get(spec.name) ?? functionEnv,
      onLog: onFunctionLog,
      detached,
    });
    // The gateway picks among the isolates running now: a restarted one listens on a new port.
    const route = (spec: FunctionSpec) =>
      routes.set(spec.name, {
        verifyJwt: spec.verifyJwt,
        upstreams: (functions.get(spec.name) ?? []).map((s) => s.current()),
      });
    const watchIsolates = (spec: FunctionSpec, procs: FunctionProcess[]) => {
      functions.set(
        spec.name,
        procs.map((proc, i) =>
          watch(
            `function ${spec.name}${procs.length > 1 ? ` (isolate ${i + 1})` : ""}`,
            proc,
            () => startFunction(spec, isolateOptions(spec)),
            () => route(spec),
          )
        ),
      );
      route(spec);
    };
    const started = await Promise.allSettled(
      specs.map(async (spec) =>
        watchIsolates(
          spec,
          await startIsolates(spec, isolates[spec.name] ?? 1, isolateOptions(spec)),
        )
      ),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    checkpoint();
    gateway = startGateway({ port, jwtSecret: keys.jwtSecret, routes });
    log(
      `Functions: ${
        specs.map((s) =>
          `${s.name}${s.verifyJwt ? "" : " (no JWT)"}${
            (isolates[s.name] ?? 1) > 1 ? ` (${isolates[s.name]} isolates, round robin)` : ""
          }`
        ).join(", ")
      }`,
    );

    let stopping: Promise<void> | undefined;
    return {
      url,
      functionsUrl: `${url}/functions/v1`,
      anonKey: keys.anonKey,
      serviceRoleKey: keys.serviceRoleKey,
      jwtSecret: keys.jwtSecret,
      dbUrl,
      functions: specs.map((s) => s.name),
      // extraEnv may replace it (a test pinning its own scrape token): expose what functions got.
      metricsBearerToken: functionEnv.METRICS_BEARER_TOKEN!,
      upstashUrl: upstashEnv.UPSTASH_REDIS_REST_URL,
      functionProcess: (name) => functions.get(name)?.[0]?.current(),
      functionProcesses: (name) => (functions.get(name) ?? []).map((s) => s.current()),
      children,
      restarts: () => ({
        postgres: pg?.restarts() ?? 0,
        redis: redis?.restarts() ?? 0,
        functions: Object.fromEntries(
          [...functions].map(([n, ss]) => [n, ss.reduce((sum, s) => sum + s.restarts(), 0)]),
        ),
      }),
      async restartFunction(name, env = {}) {
        const spec = specs.find((s) => s.name === name);
        const supervisors = functions.get(name);
        if (!spec || !supervisors) throw new Error(`no such function: ${name}`);
        await Promise.all(supervisors.map((s) => s.current().stop()));
        envs.set(name, { ...functionEnv, ...env });
        const procs = await startIsolates(spec, supervisors.length, isolateOptions(spec));
        procs.forEach((proc, i) => supervisors[i]!.replace(proc));
        route(spec);
        onChildrenChange(children());
      },
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
      killSync() {
        for (const supervisor of [...[...functions.values()].flat(), redis, pg]) {
          supervisor?.current().killSync();
        }
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
