/**
 * The result cache's settings from the environment: {@link cacheOptionsFromEnv} for a
 * `TwoTierCache` (`cache.ts`), and where L2 is ({@link upstashConfig}, shared with `health`).
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { z } from "zod";
import { cacheDefaults, type TwoTierCacheOptions } from "./cache.ts";
import { ConfigError, type EnvSource, intVar, processEnv, readEnv } from "./env.ts";

/**
 * The `@upstash/redis` client for L2 from `UPSTASH_REDIS_REST_URL` and
 * `UPSTASH_REDIS_REST_TOKEN`, or undefined when neither is set. Retries are off and every request
 * is aborted after `timeoutMs`: the cache bounds its waits and must not leave requests running.
 *
 * @throws {ConfigError} when only one of the two is set or the URL is not http(s).
 */
export function l2ClientFromEnv(
  source: EnvSource = processEnv(),
  timeoutMs: number = cacheDefaults.l2TimeoutMs,
): Redis | undefined {
  const env = upstashConfig(source);
  if (!env) return undefined;
  return new Redis({
    url: env.url,
    token: env.token,
    retry: false,
    enableTelemetry: false,
    automaticDeserialization: false,
    signal: () => AbortSignal.timeout(timeoutMs),
  });
}

/**
 * Where L2 is: `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`, both or neither
 * (undefined). Shared with `health`, so a half-set pair fails there the way it fails here.
 *
 * @throws {ConfigError} when only one of the two is set or the URL is not http(s).
 */
export function upstashConfig(
  source: EnvSource = processEnv(),
): { url: string; token: string } | undefined {
  const env = readEnv(
    z.object({
      UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" })
        .optional(),
      UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
    }),
    source,
  );
  const url = env.UPSTASH_REDIS_REST_URL;
  const token = env.UPSTASH_REDIS_REST_TOKEN;
  if (url === undefined && token === undefined) return undefined;
  if (url === undefined || token === undefined) {
    throw new ConfigError(
      `invalid function environment: ${
        url === undefined ? "UPSTASH_REDIS_REST_URL" : "UPSTASH_REDIS_REST_TOKEN"
      } is not set but ${
        url === undefined ? "UPSTASH_REDIS_REST_TOKEN" : "UPSTASH_REDIS_REST_URL"
      } is; set both for L2 or neither for L1 only`,
    );
  }
  return { url, token };
}

/**
 * {@link TwoTierCacheOptions} from the environment, with the L2 client when
 * `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` are set:
 *
 * | variable | option | default |
 * | --- | --- | --- |
 * | CACHE_L1_MAX_ENTRIES | l1MaxEntries | 1000 |
 * | CACHE_L1_MAX_BYTES | l1MaxBytes | 16777216 |
 * | CACHE_TTL_MS | ttlMs | 30000 |
 * | CACHE_L2_TTL_S | l2TtlS | 300 |
 * | CACHE_L2_TIMEOUT_MS | l2TimeoutMs | 50 |
 * | CACHE_KEY_PREFIX | prefix | pf-cache |
 * | UPSTASH_REDIS_REST_URL + UPSTASH_REDIS_REST_TOKEN | l2 | none (L1 only) |
 *
 * `version` is not read from the environment: it belongs to the code that knows the values'
 * shape; spread these options and add it.
 *
 * @example
 * ```ts
 * const cache = new TwoTierCache<Result>({ ...cacheOptionsFromEnv(), version: 2 });
 * ```
 * @throws {ConfigError} when a variable is malformed or only one Upstash variable is set.
 */
export function cacheOptionsFromEnv(source: EnvSource = processEnv()): TwoTierCacheOptions {
  const env = readEnv(
    z.object({
      CACHE_L1_MAX_ENTRIES: intVar(cacheDefaults.l1MaxEntries, { max: 10_000_000 }),
      CACHE_L1_MAX_BYTES: intVar(cacheDefaults.l1MaxBytes),
      CACHE_TTL_MS: intVar(cacheDefaults.ttlMs, { max: 2 ** 31 - 1 }),
      CACHE_L2_TTL_S: intVar(cacheDefaults.l2TtlS, { max: 2 ** 31 - 1 }),
      CACHE_L2_TIMEOUT_MS: intVar(cacheDefaults.l2TimeoutMs, { max: 600_000 }),
      CACHE_KEY_PREFIX: z.string().min(1).max(200).regex(/^\S+$/, "expected no whitespace")
        .default(cacheDefaults.prefix),
    }),
    source,
  );
  return {
    l1MaxEntries: env.CACHE_L1_MAX_ENTRIES,
    l1MaxBytes: env.CACHE_L1_MAX_BYTES,
    ttlMs: env.CACHE_TTL_MS,
    l2TtlS: env.CACHE_L2_TTL_S,
    l2TimeoutMs: env.CACHE_L2_TIMEOUT_MS,
    prefix: env.CACHE_KEY_PREFIX,
    l2: l2ClientFromEnv(source, env.CACHE_L2_TIMEOUT_MS) ?? null,
  };
}
