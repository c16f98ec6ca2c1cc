/**
 * The isolate's KMS client: one `KMSClient` at module scope whose Node HTTP handler keeps its
 * connections alive, so consecutive operations share one TLS connection instead of paying a
 * handshake each (under Deno the SDK uses this handler; one client keeps one connection for
 * sequential calls, twenty fresh clients open twenty).
 *
 * The client counts what the reuse alert needs: calls and latency by operation (initialize-step
 * middleware, once per `send()`), HTTP requests (deserialize-step middleware, once per attempt,
 * inside the retry loop) and new TCP connections (the agents' `createConnection`, called only
 * when no idle socket can be reused).
 *
 * Retries are the SDK's own strategy (`standard`: exponential backoff with full jitter, a longer
 * base for throttling errors, a retry quota; `adaptive` adds client-side rate limiting). It
 * retries throttling, 5xx, timeouts and refused connections, up to `maxAttempts` in total.
 *
 * @module
 */
import { KMSClient } from "@aws-sdk/client-kms";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { type EnvSource, processEnv } from "../env.ts";
import { type KmsConfig, kmsConfig } from "./kms_config.ts";
import { KmsStats, type KmsStatsSnapshot } from "./kms_stats.ts";

/** A KMS client with its counters. */
export interface KmsClientHandle {
  readonly client: KMSClient;
  readonly config: KmsConfig;
  readonly stats: KmsStats;
  /** Closes the client's connections (tools and tests; an isolate keeps its client). */
  destroy(): void;
}

/** Options for {@link createKmsClient} beyond the configuration. */
export interface CreateKmsClientOptions {
  /** Counters to record into. @default a new {@link KmsStats} */
  stats?: KmsStats;
  /** PEM text of the CA to trust, instead of reading `config.caCertFile`. */
  caCertPem?: string;
}

type AgentWithCreate = {
  createConnection: (...args: unknown[]) => Duplex;
};

/** Makes `agent` report every socket it opens (reused sockets never pass through here). */
function countConnections<A extends http.Agent>(agent: A, stats: KmsStats): A {
  const target = agent as unknown as AgentWithCreate;
  const create = target.createConnection;
  target.createConnection = function (this: unknown, ...args: unknown[]) {
    stats.recordNewConnection();
    return create.apply(this, args);
  };
  return agent;
}

/**
 * Creates a KMS client from `config`: keep-alive agents, timeouts, the SDK's retry strategy,
 * explicit region and credentials, and the counters of `stats`.
 *
 * @example
 * ```ts
 * const kms = createKmsClient(kmsConfig());
 * await kms.client.send(new DescribeKeyCommand({ KeyId: kms.config.keyId }));
 * kms.stats.snapshot(); // { calls: { DescribeKey: 1 }, requests: 1, newConnections: 1, ... }
 * ```
 * @throws {Deno.errors.NotFound} when `config.caCertFile` does not exist.
 */
export function createKmsClient(
  config: KmsConfig,
  options: CreateKmsClientOptions = {},
): KmsClientHandle {
  const stats = options.stats ?? new KmsStats();
  const ca = options.caCertPem ??
    (config.caCertFile ? Deno.readTextFileSync(config.caCertFile) : undefined);
  const agentOptions = {
    keepAlive: true,
    // TCP keep-alive probes on idle pooled sockets, so a peer that vanished is noticed; a socket
    // the server closed meanwhile fails its next request with ECONNRESET, which the SDK retries.
    keepAliveMsecs: 1000,
    maxSockets: config.maxSockets,
    maxFreeSockets: config.maxSockets,
    scheduling: "lifo" as const,
  };
  const httpsAgent = countConnections(
    new https.Agent({ ...agentOptions, ...(ca ? { ca: [ca] } : {}) }),
    stats,
  );
  const httpAgent = countConnections(new http.Agent(agentOptions), stats);

  const client = new KMSClient({
    region: config.region,
    credentials: config.credentials,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    maxAttempts: config.maxAttempts,
    retryMode: config.retryMode,
    // Every setting the SDK would otherwise look up in ~/.aws files is given here.
    defaultsMode: "standard",
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    authSchemePreference: [],
    userAgentAppId: "parker-flight",
    requestHandler: new NodeHttpHandler({
      httpAgent,
      httpsAgent,
      connectionTimeout: config.connectTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Without it the handler only logs a warning when requestTimeout passes and keeps waiting:
      // an endpoint that accepts and never answers held a request for its whole outage.
      throwOnRequestTimeout: true,
    }),
  });

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? "Unknown").replace(/Command$/, "");
      const started = performance.now();
      let ok = false;
      try {
        const result = await next(args);
        ok = true;
        return result;
      } finally {
        stats.recordCall(operation, performance.now() - started, ok);
      }
    },
    { step: "initialize", name: "pfKmsCallStats", priority: "high" },
  );
  client.middlewareStack.add(
    (next) => (args) => {
      stats.recordRequest();
      return next(args);
    },
    { step: "deserialize", name: "pfKmsRequestStats", priority: "low" },
  );

  return {
    client,
    config,
    stats,
    destroy() {
      client.destroy();
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}

let isolateClient: KmsClientHandle | undefined;

/**
 * The isolate's client, created from the environment on first call and kept for the isolate's
 * life.
 *
 * @throws {ConfigError} when a KMS or AWS variable is missing or malformed.
 */
export function isolateKmsClient(source: EnvSource = processEnv()): KmsClientHandle {
  isolateClient ??= createKmsClient(kmsConfig(source));
  return isolateClient;
}

const emptyStats: KmsStatsSnapshot = {
  calls: {},
  errors: {},
  latencyMsSum: {},
  requests: 0,
  newConnections: 0,
};

/** The isolate client's counters (all zero before the first KMS call). */
export function kmsStats(): KmsStatsSnapshot {
  return isolateClient?.stats.snapshot() ?? structuredClone(emptyStats);
}
