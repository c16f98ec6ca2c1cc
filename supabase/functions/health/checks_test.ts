import { assertEquals, assertRejects, assertThrows } from "../../../tests/support/assert.ts";
import { ConfigError } from "../_shared/env.ts";
import type { Sql } from "../_shared/db.ts";
import { freePort } from "../../../scripts/local/ports.ts";
import { startKmsServer } from "../../../scripts/local/kms_server.ts";
import { createKmsClient } from "../_shared/kms/kms_client.ts";
import { kmsConfig } from "../_shared/kms/kms_config.ts";
import {
  healthChecks,
  type KeyDescriber,
  kmsCheck,
  kmsConfigured,
  type KmsHandle,
  l2Config,
  type Pingable,
  redisCheck,
  upstashClient,
} from "./checks.ts";
import { handler } from "./handler.ts";

const url = "https://eu1-fine-cat-12345.upstash.io";
const noSql = (): Sql => {
  throw new Error("the database is not used here");
};
const noKms = (): KmsHandle => {
  throw new Error("KMS is not used here");
};
const noRedis = (): Pingable => {
  throw new Error("Redis is not used here");
};
const opts = { sanitizeResources: false, sanitizeOps: false };

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
  assertEquals(healthChecks({ sql: noSql, redis, kms: noKms, env: {} }).l2_cache, undefined);

  const half = healthChecks({
    sql: noSql,
    redis,
    kms: noKms,
    env: { UPSTASH_REDIS_REST_URL: url },
  });
  await assertRejects(() => half.l2_cache!(), ConfigError);

  const full = healthChecks({
    sql: noSql,
    redis,
    kms: noKms,
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

Deno.test("kmsConfigured() is true once KMS_KEY_ID or KMS_ENDPOINT is set", () => {
  assertEquals(kmsConfigured({}), false);
  assertEquals(kmsConfigured({ AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "a" }), false);
  assertEquals(kmsConfigured({ KMS_KEY_ID: "" }), false);
  assertEquals(kmsConfigured({ KMS_KEY_ID: "alias/pf" }), true);
  assertEquals(kmsConfigured({ KMS_ENDPOINT: "https://127.0.0.1:4566" }), true);
});

Deno.test("healthChecks() leaves an unset KMS not configured and fails a half-set one", async () => {
  // The real configuration reader behind a fake client: a half-set KMS is a ConfigError.
  const described: string[] = [];
  const kms = (env: Record<string, string | undefined>): KmsHandle => {
    const config = kmsConfig(env);
    const client: KeyDescriber = {
      send: (command) => {
        described.push(command.input.KeyId!);
        return Promise.resolve({
          KeyMetadata: { KeyId: config.keyId, Enabled: true, KeyState: "Enabled" },
          $metadata: {},
        });
      },
    };
    return { client, config };
  };
  assertEquals(healthChecks({ sql: noSql, redis: noRedis, kms, env: {} }).kms, undefined);
  const half = healthChecks({ sql: noSql, redis: noRedis, kms, env: { KMS_KEY_ID: "alias/pf" } });
  await assertRejects(() => half.kms!(), ConfigError, "AWS_REGION");
  const full = healthChecks({
    sql: noSql,
    redis: noRedis,
    kms,
    env: {
      KMS_KEY_ID: "alias/pf",
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "id",
      AWS_SECRET_ACCESS_KEY: "secret",
    },
  });
  await full.kms!();
  assertEquals(described, ["alias/pf"]);
});

Deno.test("kmsCheck() fails for a key that is not enabled", async () => {
  const client = (state: string, enabled: boolean): KeyDescriber => ({
    send: () =>
      Promise.resolve({
        KeyMetadata: { KeyId: "k", Enabled: enabled, KeyState: state as "Enabled" },
        $metadata: {},
      }),
  });
  await kmsCheck(client("Enabled", true), "k")();
  await assertRejects(
    () => kmsCheck(client("PendingDeletion", false), "k")(),
    Error,
    "PendingDeletion",
  );
});

Deno.test(
  "health handler() reports KMS up, and down for an unknown key (real client, local KMS)",
  opts,
  async () => {
    const server = await startKmsServer({ https: true });
    const handle = createKmsClient(kmsConfig(server.env));
    try {
      const check = (keyId: string) =>
        handler(new Request("http://x/health"), {
          checks: { database: () => Promise.resolve(), kms: kmsCheck(handle.client, keyId) },
        });
      const up = await check(server.keyId);
      assertEquals(up.status, 200);
      const upBody = await up.json();
      assertEquals(upBody.checks.kms.status, "up");
      assertEquals(typeof upBody.checks.kms.latency_ms, "number");
      assertEquals(server.calls().DescribeKey, 1);

      const unknown = await check("00000000-0000-4000-8000-000000000000");
      assertEquals(unknown.status, 503);
      const { kms } = (await unknown.json()).checks;
      assertEquals([kms.status, kms.error], ["down", "NotFoundException"]);
    } finally {
      handle.destroy();
      await server.stop();
    }
  },
);
