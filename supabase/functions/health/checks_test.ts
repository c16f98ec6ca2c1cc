import { assertEquals, assertRejects, assertThrows } from "../../../tests/support/assert.ts";
import { ConfigError } from "../_shared/env.ts";
import type { Sql } from "../_shared/db.ts";
import { freePort } from "../../../scripts/local/ports.ts";
import { healthChecks, l2Config, type Pingable, redisCheck, upstashClient } from "./checks.ts";
import { handler } from "./handler.ts";

const url = "https://eu1-fine-cat-12345.upstash.io";
const noSql = (): Sql => {
  throw new Error("the database is not used here");
};

Deno.test("l2Config() wants both Upstash variables or neither", () => {
  assertEquals(l2Config({}), undefined);
  assertEquals(l2Config({ UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: "t0k" }), {
    url,
    token: "t0k",
  });
  assertThrows(
    () => l2Config({ UPSTASH_REDIS_REST_URL: url }),
    ConfigError,
    "UPSTASH_REDIS_REST_TOKEN is not set",
  );
  assertThrows(
    () => l2Config({ UPSTASH_REDIS_REST_TOKEN: "t0k" }),
    ConfigError,
    "UPSTASH_REDIS_REST_URL is not set",
  );
  assertThrows(
    () => l2Config({ UPSTASH_REDIS_REST_URL: "redis://x:6379", UPSTASH_REDIS_REST_TOKEN: "t" }),
    ConfigError,
    "UPSTASH_REDIS_REST_URL",
  );
});

Deno.test("healthChecks() leaves an unset L2 cache not configured and fails a half-set one", async () => {
  const pinged: string[] = [];
  const redis = (config: { url: string }): Pingable => ({
    ping: () => {
      pinged.push(config.url);
      return Promise.resolve("PONG");
    },
  });
  assertEquals(healthChecks({ sql: noSql, redis, env: {} }).l2_cache, undefined);

  const half = healthChecks({ sql: noSql, redis, env: { UPSTASH_REDIS_REST_URL: url } });
  await assertRejects(() => half.l2_cache!(), ConfigError);

  const full = healthChecks({
    sql: noSql,
    redis,
    env: { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: "t0k" },
  });
  await full.l2_cache!();
  assertEquals(pinged, [url]);
});

Deno.test("redisCheck() passes on PONG only", async () => {
  await redisCheck({ ping: () => Promise.resolve("PONG") })();
  await assertRejects(() => redisCheck({ ping: () => Promise.resolve("LOADING") })(), Error);
});

Deno.test("health handler() reports an unreachable L2 cache as down (real Upstash client)", async () => {
  const port = freePort(); // nothing listens there
  const client = upstashClient({ url: `http://127.0.0.1:${port}`, token: "t0k" }, 1000);
  const res = await handler(new Request("http://x/health"), {
    checks: {
      database: () => Promise.resolve(),
      l2_cache: redisCheck(client),
    },
  });
  assertEquals(res.status, 503);
  const body = await res.json();
  assertEquals(body.checks.database.status, "up");
  assertEquals(body.checks.l2_cache.status, "down");
  assertEquals(typeof body.checks.l2_cache.latency_ms, "number");
});
