import { Redis } from "@upstash/redis";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "../../../tests/support/assert.ts";
import { TwoTierCache } from "./cache.ts";
import { cacheOptionsFromEnv, upstashConfig } from "./cache_env.ts";
import { ConfigError } from "./env.ts";

Deno.test("cacheOptionsFromEnv() applies defaults and reads every variable", () => {
  const defaults = cacheOptionsFromEnv({});
  assertEquals(defaults.l2, null);
  assertEquals(new TwoTierCache(defaults).l2Enabled, false);
  assert((defaults.l1MaxEntries ?? 0) > 0 && (defaults.l2TimeoutMs ?? 0) > 0, "defaults set");

  const options = cacheOptionsFromEnv({
    CACHE_L1_MAX_ENTRIES: "10",
    CACHE_L1_MAX_BYTES: "2048",
    CACHE_TTL_MS: "500",
    CACHE_L2_TTL_S: "60",
    CACHE_L2_TIMEOUT_MS: "25",
    CACHE_KEY_PREFIX: "search",
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079",
    UPSTASH_REDIS_REST_TOKEN: "secret-token",
  });
  const { l2, ...rest } = options;
  assertEquals(rest, {
    l1MaxEntries: 10,
    l1MaxBytes: 2048,
    ttlMs: 500,
    l2TtlS: 60,
    l2TimeoutMs: 25,
    prefix: "search",
  });
  assertInstanceOf(l2, Redis);
  assertEquals(new TwoTierCache(options).l2Enabled, true);
});

Deno.test("cacheOptionsFromEnv() names a malformed or half-set variable", () => {
  const malformed = assertThrows(
    () => cacheOptionsFromEnv({ CACHE_L1_MAX_BYTES: "lots" }),
    ConfigError,
  );
  assertStringIncludes(malformed.message, "CACHE_L1_MAX_BYTES");
  assertThrows(() => cacheOptionsFromEnv({ CACHE_TTL_MS: "0" }), ConfigError, "CACHE_TTL_MS");
  assertThrows(
    () => cacheOptionsFromEnv({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079" }),
    ConfigError,
    "UPSTASH_REDIS_REST_TOKEN is not set",
  );
  const badUrl = assertThrows(
    () =>
      cacheOptionsFromEnv({
        UPSTASH_REDIS_REST_URL: "redis://127.0.0.1:6379",
        UPSTASH_REDIS_REST_TOKEN: "secret-token",
      }),
    ConfigError,
    "UPSTASH_REDIS_REST_URL",
  );
  assert(!badUrl.message.includes("secret-token"), "the token is never echoed");
});

Deno.test("upstashConfig() wants both Upstash variables or neither", () => {
  assertEquals(upstashConfig({}), undefined);
  assertEquals(
    upstashConfig({
      UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "t",
    }),
    { url: "https://x.upstash.io", token: "t" },
  );
  assertThrows(
    () => upstashConfig({ UPSTASH_REDIS_REST_TOKEN: "t" }),
    ConfigError,
    "UPSTASH_REDIS_REST_URL is not set",
  );
});
