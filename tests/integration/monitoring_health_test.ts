import { assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { startStack } from "../../scripts/local/stack.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "health: through the gateway, database, L2 cache (stack's Redis) and KMS (stack's endpoint) up; down, half-set, not configured",
  opts,
  async () => {
    const t = await testDatabase({ seeded: false });
    const stack = await startStack({
      databaseUrl: t.url,
      port: 0,
      seedFlights: false,
      functions: ["health"],
    });
    try {
      const health = async () => {
        const res = await fetch(`${stack.functionsUrl}/health`, {
          headers: { authorization: `Bearer ${stack.anonKey}` },
        });
        return { status: res.status, body: await res.json() };
      };

      const plain = await health();
      assertEquals(plain.status, 200);
      assertEquals(plain.body.checks.database.status, "up");
      assertEquals(typeof plain.body.checks.database.latency_ms, "number");
      assertEquals(plain.body.checks.l2_cache.status, "up");
      assertEquals(typeof plain.body.checks.l2_cache.latency_ms, "number");
      assertEquals(plain.body.checks.kms.status, "up");
      assertEquals(typeof plain.body.checks.kms.latency_ms, "number");

      // A key the KMS endpoint does not hold: DescribeKey answers NotFoundException.
      await stack.restartFunction("health", {
        KMS_KEY_ID: "00000000-0000-4000-8000-000000000000",
      });
      const unknownKey = await health();
      assertEquals(unknownKey.status, 503);
      assertEquals(unknownKey.body.checks.kms.status, "down");
      assertEquals(unknownKey.body.checks.kms.error, "NotFoundException");
      assertEquals(unknownKey.body.checks.l2_cache.status, "up");

      // KMS named but its region malformed: the configuration error, not a crash.
      await stack.restartFunction("health", { AWS_REGION: "nowhere" });
      const badConfig = await health();
      assertEquals(badConfig.status, 503);
      assertEquals(badConfig.body.checks.kms.error, "ConfigError");

      const closed = `http://127.0.0.1:${freePort()}`;
      await stack.restartFunction("health", {
        UPSTASH_REDIS_REST_URL: closed,
        UPSTASH_REDIS_REST_TOKEN: "token-of-a-cache-that-is-not-there",
      });
      const unreachable = await health();
      assertEquals(unreachable.status, 503);
      assertEquals(unreachable.body.status, "degraded");
      assertEquals(unreachable.body.checks.database.status, "up");
      assertEquals(unreachable.body.checks.l2_cache.status, "down");

      // The stack sets both variables; blanking the token leaves only the URL set.
      await stack.restartFunction("health", {
        UPSTASH_REDIS_REST_URL: closed,
        UPSTASH_REDIS_REST_TOKEN: "",
      });
      const halfSet = await health();
      assertEquals(halfSet.status, 503);
      assertEquals(halfSet.body.checks.l2_cache.error, "ConfigError");
    } finally {
      await stack.stop();
    }

    const l1Only = await startStack({
      databaseUrl: t.url,
      port: 0,
      seedFlights: false,
      functions: ["health"],
      redis: false,
      kms: false,
    });
    try {
      const res = await fetch(`${l1Only.functionsUrl}/health`, {
        headers: { authorization: `Bearer ${l1Only.anonKey}` },
      });
      assertEquals(res.status, 200);
      const { checks } = await res.json();
      assertEquals(checks.l2_cache, { status: "not_configured" });
      assertEquals(checks.kms, { status: "not_configured" });
      assertEquals(checks.database.status, "up");
    } finally {
      await l1Only.stop();
      await t.drop();
    }
  },
);
