import { assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { startStack } from "../../scripts/local/stack.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "health: through the gateway, database up; L2 cache up (stack's Redis), unreachable, half-set, not configured",
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
    });
    try {
      const res = await fetch(`${l1Only.functionsUrl}/health`, {
        headers: { authorization: `Bearer ${l1Only.anonKey}` },
      });
      assertEquals(res.status, 200);
      assertEquals((await res.json()).checks.l2_cache, { status: "not_configured" });
    } finally {
      await l1Only.stop();
      await t.drop();
    }
  },
);
