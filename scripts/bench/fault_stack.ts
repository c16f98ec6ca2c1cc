/**
 * The local stack `deno task bench:faults` hurts: flight-search (pinned to the optimized path)
 * and payment-methods behind the gateway, on dependencies of the benchmark's own so each can be
 * frozen, killed or hung — an embedded Postgres 17 it can restart, a redis-server, and the KMS
 * endpoint behind a proxy that can stop answering.
 *
 * @module
 */
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../local/embedded_postgres.ts";
import { startKmsServer } from "../local/kms_server.ts";
import { freePort } from "../local/ports.ts";
import { startRedis } from "../local/redis.ts";
import { type Stack, startStack } from "../local/stack.ts";
import { type HangProxy, startHangProxy } from "./hang_proxy.ts";

/** The running stack and the handles on what it depends on. */
export interface FaultStack {
  stack: Stack;
  /** The Postgres now running (a new one after {@link FaultStack.restartPostgres}). */
  postgres(): EmbeddedPostgres;
  /** Starts Postgres again on the same data folder and port (after it was killed). */
  restartPostgres(): Promise<void>;
  /** Process id of the redis-server. */
  redisPid: number;
  /** The proxy in front of the KMS endpoint. */
  kmsProxy: HangProxy;
  /** Stops everything and removes the data folder. */
  stop(): Promise<void>;
}

/** Starts the dependencies, then the stack on them; on failure stops what had started. */
export async function startFaultStack(): Promise<FaultStack> {
  const dir = await Deno.makeTempDir({ prefix: "pf-bench-faults-" });
  const dbPort = freePort();
  const startPg = () =>
    startEmbeddedPostgres({ dataDir: `${dir}/pg`, port: dbPort, ephemeral: true });
  let pg: EmbeddedPostgres = await startPg();
  const redis = await startRedis({ env: {} });
  const kms = await startKmsServer({});
  const kmsProxy = startHangProxy(Number(new URL(kms.url).port));
  let stack: Stack | undefined;
  const stop = async () => {
    await stack?.stop();
    kmsProxy.stop();
    await kms.stop();
    await redis.stop();
    await pg.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    // The stack uses this Redis (REDIS_URL) and this KMS (through the proxy), so both can fail.
    const previousRedisUrl = Deno.env.get("REDIS_URL");
    Deno.env.set("REDIS_URL", redis.url);
    stack = await startStack({
      databaseUrl: pg.url,
      port: 0,
      seedFlights: 2000,
      functions: ["flight-search", "payment-methods"],
      kms: false,
      env: {
        ...kms.env,
        KMS_ENDPOINT: `${new URL(kms.url).protocol}//127.0.0.1:${kmsProxy.port}`,
        FLIGHT_SEARCH_FORCE_PATH: "optimized",
      },
      log: (line) => console.error(`stack: ${line}`),
      onFunctionLog: (name, line) => console.error(`${name}: ${line}`),
    }).finally(() => {
      if (previousRedisUrl === undefined) Deno.env.delete("REDIS_URL");
      else Deno.env.set("REDIS_URL", previousRedisUrl);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    stack,
    postgres: () => pg,
    restartPostgres: async () => {
      pg = await startPg();
    },
    redisPid: redis.pid!,
    kmsProxy,
    stop,
  };
}
