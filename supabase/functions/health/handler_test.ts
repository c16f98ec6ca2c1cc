import { assertEquals } from "../../../tests/support/assert.ts";
import { CircuitBreaker } from "../_shared/circuit_breaker.ts";
import { DeadlineExceeded } from "../_shared/deadline.ts";
import { handler } from "./handler.ts";

const get = () => new Request("http://x/health");

Deno.test("health handler() answers 200 when every configured check is up", async () => {
  const res = await handler(get(), {
    checks: { database: () => Promise.resolve(), l2_cache: undefined },
  });
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.checks.database.status, "up");
  assertEquals(body.checks.l2_cache, { status: "not_configured" });
});

Deno.test("health handler() answers 503 naming the failed check without its message", async () => {
  const res = await handler(get(), {
    checks: { database: () => Promise.reject(new Error("password=hunter2 refused")) },
  });
  assertEquals(res.status, 503);
  const text = await res.text();
  assertEquals(text.includes("hunter2"), false);
  assertEquals(JSON.parse(text).checks.database.status, "down");
});

Deno.test("health handler() bounds a hanging check by its timeout", async () => {
  const res = await handler(get(), {
    checks: { database: () => new Promise(() => {}) },
    timeoutMs: 20,
  });
  assertEquals(res.status, 503);
  assertEquals((await res.json()).checks.database.error, "no answer within 20 ms");
});

Deno.test("health handler() answers 405 to POST", async () => {
  const res = await handler(new Request("http://x/health", { method: "POST" }), { checks: {} });
  assertEquals(res.status, 405);
});

Deno.test("health handler() reports breakers, and an open one answers down without waiting", async () => {
  const breaker = new CircuitBreaker({ dependency: "database", failureThreshold: 1 });
  let probes = 0;
  const deps = {
    checks: {
      database: () => breaker.run(() => (probes++, Promise.reject(new DeadlineExceeded("q", 1)))),
    },
    breakers: () => [breaker.snapshot()],
  };
  assertEquals((await handler(get(), deps)).status, 503);
  const res = await handler(get(), deps);
  assertEquals([res.status, res.headers.get("retry-after"), probes], [503, "1", 1]);
  const body = await res.json();
  assertEquals(body.checks.database.error, "CircuitOpenError");
  assertEquals(body.breakers.database, { state: "open", consecutive_failures: 1, opens: 1 });
});
