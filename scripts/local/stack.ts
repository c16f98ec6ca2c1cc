/**
 * The Docker-free local Supabase stack: Postgres 17 (embedded, or any server by URL) with
 * Supabase's roles, migrations pushed by the real CLI, a small seed, every function in its own
 * isolate behind a JWT-verifying gateway.
 *
 * `startStack()` is used by `npm start` and by integration tests alike.
 *
 * @module
 */
import { startEmbeddedPostgres } from "./embedded_postgres.ts";
import { discoverFunctions, type FunctionSpec } from "./functions_config.ts";
import { type FunctionProcess, startFunction } from "./function_process.ts";
import { checkIsolateCounts, startIsolates } from "./function_isolates.ts";
import { startGateway } from "./gateway.ts";
import { type ApiKeys, apiKeys, defaultJwtSecret } from "./keys.ts";
import { localStateDir, repoRoot } from "./paths.ts";
import { assertPortFree, freePort } from "./ports.ts";
import {
  childStopMs,
  postgresStopMs,
  type StackChildren,
  StackChildrenSet,
  type StackRestarts,
} from "./stack_children.ts";
import { prepareDatabase, startL2Cache, startLocalKms } from "./stack_services.ts";

export { childStopMs, postgresStopMs, type StackChildren, type StackRestarts };

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

/** The functions to serve: every one under `workdir/supabase/functions/`, or those named. */
async function selectFunctions(
  workdir: string,
  names: readonly string[] | undefined,
): Promise<FunctionSpec[]> {
  const specs = await discoverFunctions(`${workdir}/supabase`);
  if (!names) return specs;
  const wanted = new Set(names);
  const unknown = [...wanted].filter((name) => !specs.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`no such function: ${unknown.join(", ")}`);
  return specs.filter((s) => wanted.has(s.name));
}

/** What {@link StackFunctions} starts its isolates with. */
interface StackFunctionsOptions {
  specs: readonly FunctionSpec[];
  /** Every function's environment, until restartFunction() gives one its own. */
  env: Record<string, string>;
  onLog: StackOptions["onFunctionLog"];
  detached: boolean;
  onChildrenChange: (children: StackChildren) => void;
}

/**
 * Each function's isolates, supervised in the stack's children and routed by its gateway: the
 * gateway picks among the isolates running now, so a restarted one (on a new port) is routed
 * again. A supervised restart keeps the environment restartFunction() last gave.
 */
class StackFunctions {
  readonly #children: StackChildrenSet;
  readonly #options: StackFunctionsOptions;
  readonly #envs = new Map<string, Record<string, string>>();

  constructor(children: StackChildrenSet, options: StackFunctionsOptions) {
    this.#children = children;
    this.#options = options;
  }

  #isolateOptions(spec: FunctionSpec) {
    const { env, onLog, detached } = this.#options;
    return { env: this.#envs.get(spec.name) ?? env, onLog, detached };
  }

  #route(spec: FunctionSpec): void {
    this.#children.routes.set(spec.name, {
      verifyJwt: spec.verifyJwt,
      upstreams: (this.#children.functions.get(spec.name) ?? []).map((s) => s.current()),
    });
  }

  #watch(spec: FunctionSpec, procs: FunctionProcess[]): void {
    this.#children.functions.set(
      spec.name,
      procs.map((proc, i) =>
        this.#children.watch(
          `function ${spec.name}${procs.length > 1 ? ` (isolate ${i + 1})` : ""}`,
          proc,
          () => startFunction(spec, this.#isolateOptions(spec)),
          () => this.#route(spec),
        )
      ),
    );
    this.#route(spec);
  }

  /** Starts every function's isolates (1 unless `isolates` says otherwise), all at once. */
  async startAll(isolates: Readonly<Record<string, number>>): Promise<void> {
    const started = await Promise.allSettled(
      this.#options.specs.map(async (spec) =>
        this.#watch(
          spec,
          await startIsolates(spec, isolates[spec.name] ?? 1, this.#isolateOptions(spec)),
        )
      ),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** Restarts one function's isolates with `env` on top of the stack's environment. */
  async restart(name: string, env: Record<string, string>): Promise<void> {
    const spec = this.#options.specs.find((s) => s.name === name);
    const supervisors = this.#children.functions.get(name);
    if (!spec || !supervisors) throw new Error(`no such function: ${name}`);
    await Promise.all(supervisors.map((s) => s.current().stop()));
    this.#envs.set(name, { ...this.#options.env, ...env });
    const procs = await startIsolates(spec, supervisors.length, this.#isolateOptions(spec));
    procs.forEach((proc, i) => supervisors[i]!.replace(proc));
    this.#route(spec);
    this.#options.onChildrenChange(this.#children.children());
  }
}

/** Postgres for the stack: the server of `databaseUrl`, or the embedded one, supervised. */
async function startDatabase(
  options: Pick<StackOptions, "databaseUrl" | "dataDir" | "ephemeral" | "detached">,
  dbPort: number,
  children: StackChildrenSet,
  log: (line: string) => void,
  checkpoint: () => void,
): Promise<string> {
  const {
    databaseUrl,
    dataDir = `${localStateDir}/postgres`,
    ephemeral = false,
    detached = false,
  } = options;
  if (databaseUrl) {
    log(`Postgres: using ${new URL(databaseUrl).host}`);
    return databaseUrl;
  }
  const pgOptions = { dataDir, port: dbPort, ephemeral, detached, notice: log };
  const pg = children.watch("Postgres", await startEmbeddedPostgres(pgOptions), async () => {
    const server = await startEmbeddedPostgres(pgOptions);
    log(`Postgres accepts connections again on 127.0.0.1:${dbPort}`);
    return server;
  });
  children.postgres = pg;
  checkpoint();
  log(`Postgres 17 (embedded) ready on 127.0.0.1:${dbPort}, data in ${dataDir}`);
  return pg.current().url;
}

/** What {@link stackHandle} exposes. */
interface StackParts {
  url: string;
  keys: ApiKeys;
  dbUrl: string;
  specs: readonly FunctionSpec[];
  functionEnv: Record<string, string>;
  upstashEnv: Record<string, string>;
  children: StackChildrenSet;
  functions: StackFunctions;
}

/** The running stack as its callers see it. */
function stackHandle(parts: StackParts): Stack {
  const { url, keys, dbUrl, specs, functionEnv, upstashEnv, children, functions } = parts;
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
    functionProcess: (name) => children.functions.get(name)?.[0]?.current(),
    functionProcesses: (name) => (children.functions.get(name) ?? []).map((s) => s.current()),
    children: () => children.children(),
    restarts: () => children.restarts(),
    restartFunction: (name, env = {}) => functions.restart(name, env),
    stop() {
      stopping ??= children.stopAll();
      return stopping;
    },
    killSync: () => children.killSync(),
  };
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
    seedFlights = 5000,
    env: extraEnv = {},
    jwtSecret = defaultJwtSecret,
    workdir = repoRoot,
    log = () => {},
    detached = false,
    onChildrenChange = () => {},
  } = options;
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
  const children = new StackChildrenSet({
    supervised: options.supervise ?? true,
    log,
    onChildrenChange,
  });

  try {
    const dbUrl = await startDatabase(options, dbPort, children, log, checkpoint);
    await prepareDatabase(dbUrl, { workdir, seedFlights, log, checkpoint });
    checkpoint();
    const kmsDir = options.kmsDir ?? `${localStateDir}/kms`;
    const kmsEnv = await startLocalKms(options.kms ?? true, kmsDir, children, log);
    const upstashEnv = await startL2Cache(options.redis ?? true, detached, children, log);

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
    const specs = await selectFunctions(workdir, options.functions);
    checkIsolateCounts(isolates, specs.map((s) => s.name));
    const functions = new StackFunctions(children, {
      specs,
      env: functionEnv,
      onLog: options.onFunctionLog,
      detached,
      onChildrenChange,
    });
    await functions.startAll(isolates);
    checkpoint();
    children.gateway = startGateway({ port, jwtSecret: keys.jwtSecret, routes: children.routes });
    log(
      `Functions: ${
        specs.map((s) =>
          `${s.name}${s.verifyJwt ? "" : " (no JWT)"}${
            (isolates[s.name] ?? 1) > 1 ? ` (${isolates[s.name]} isolates, round robin)` : ""
          }`
        ).join(", ")
      }`,
    );
    return stackHandle({ url, keys, dbUrl, specs, functionEnv, upstashEnv, children, functions });
  } catch (error) {
    await children.stopAll();
    throw error;
  }
}
