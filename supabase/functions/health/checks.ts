/**
 * The dependencies `health` checks, built from the function's environment: the database always,
 * the L2 cache (Upstash Redis) when `UPSTASH_REDIS_REST_URL`/`UPSTASH_REDIS_REST_TOKEN` are set,
 * KMS when `KMS_KEY_ID` or `KMS_ENDPOINT` is set (DescribeKey on the configured key through the
 * isolate's shared KMS client, the one payment-methods uses).
 *
 * An unset dependency is `undefined` (reported "not_configured", not a failure); a half-set one
 * is a check that fails with the configuration error, so a deployment missing one of the two
 * secrets shows up as unhealthy rather than silently running without its cache.
 *
 * @module
 */
import { DescribeKeyCommand, type DescribeKeyCommandOutput } from "@aws-sdk/client-kms";
import { Redis } from "@upstash/redis";
import { upstashConfig } from "../_shared/cache_env.ts";
import type { Sql } from "../_shared/db.ts";
import { cancellable } from "../_shared/deadline.ts";
import { type EnvSource, processEnv } from "../_shared/env.ts";
import type { Check } from "./handler.ts";

/** The part of a Redis client a health check needs. */
export interface Pingable {
  ping(): Promise<string>;
}

/** Where the L2 cache is, when it is configured. */
export interface L2Config {
  url: string;
  token: string;
}

/**
 * Reads the L2 cache configuration: both variables or neither, read as the result cache reads
 * them.
 *
 * @throws {ConfigError} when only one is set or the URL is not http(s).
 */
export function l2Config(source: EnvSource = processEnv()): L2Config | undefined {
  return upstashConfig(source);
}

/** The part of a KMS client a health check needs (a `KMSClient` is one). */
export interface KeyDescriber {
  send(
    command: DescribeKeyCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<DescribeKeyCommandOutput>;
}

/** What the KMS check uses: the isolate's client and the configured key. */
export interface KmsHandle {
  client: KeyDescriber;
  config: { keyId: string };
}

/** The configured key exists but cannot be used (disabled, pending deletion, ...). */
export class KmsKeyNotEnabledError extends Error {
  override name = "KmsKeyNotEnabledError";
}

/**
 * Whether this deployment uses KMS: `KMS_KEY_ID` or `KMS_ENDPOINT` is set. The AWS variables alone
 * do not say so (they may serve another AWS client); once KMS is named, `kmsConfig()` must accept
 * the whole configuration or the check fails with its ConfigError.
 */
export function kmsConfigured(source: EnvSource = processEnv()): boolean {
  return ["KMS_KEY_ID", "KMS_ENDPOINT"].some((name) => (source[name] ?? "") !== "");
}

/** DescribeKey on `keyId` must answer with an enabled key. */
export function kmsCheck(client: KeyDescriber, keyId: string): Check {
  return async (signal) => {
    const { KeyMetadata: meta } = await client.send(new DescribeKeyCommand({ KeyId: keyId }), {
      abortSignal: signal,
    });
    if (meta?.Enabled !== true) {
      throw new KmsKeyNotEnabledError(`key state ${meta?.KeyState ?? "unknown"}`);
    }
  };
}

/** Round trip to the database. */
export function databaseCheck(sql: Sql): Check {
  return async (signal) => {
    await cancellable(sql`select 1`, signal);
  };
}

/** Round trip to Redis: PING must answer PONG. */
export function redisCheck(redis: Pingable): Check {
  return async () => {
    const answer = await redis.ping();
    if (answer !== "PONG") throw new Error(`unexpected PING answer`);
  };
}

/** An Upstash client for a health check: no retries (a check reports, it does not insist). */
export function upstashClient(config: L2Config, timeoutMs: number): Redis {
  return new Redis({
    url: config.url,
    token: config.token,
    retry: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(timeoutMs),
  });
}

/** What {@link healthChecks} builds checks from. */
export interface HealthCheckDeps {
  /** The isolate's database pool (created lazily). */
  sql: () => Sql;
  /** An L2 client for a configuration (cached by the caller). */
  redis: (config: L2Config) => Pingable;
  /**
   * The isolate's KMS client for an environment (`isolateKmsClient`, shared with every other KMS
   * user of the isolate); throws ConfigError for a missing or malformed KMS variable.
   */
  kms: (env: EnvSource) => KmsHandle;
  env?: EnvSource;
}

/** The named checks of this deployment. */
export function healthChecks(deps: HealthCheckDeps): Record<string, Check | undefined> {
  const env = deps.env ?? processEnv();
  let l2: Check | undefined;
  try {
    const config = l2Config(env);
    l2 = config ? redisCheck(deps.redis(config)) : undefined;
  } catch (error) {
    l2 = () => Promise.reject(error);
  }
  const kms: Check | undefined = kmsConfigured(env)
    ? (signal) => {
      const handle = deps.kms(env);
      return kmsCheck(handle.client, handle.config.keyId)(signal);
    }
    : undefined;
  return {
    database: (signal) => databaseCheck(deps.sql())(signal),
    l2_cache: l2,
    kms,
  };
}
