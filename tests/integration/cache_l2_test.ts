/**
 * TwoTierCache with a real L2: the real `@upstash/redis` client, the Upstash bridge, a real
 * redis-server. Failure cases use real failing servers (a stopped bridge, a stopped Redis behind a
 * running bridge, a listener that never answers), not mocks.
 */
import { startRedis } from "../../scripts/local/redis.ts";
import { startUpstashBridge } from "../../scripts/local/upstash_bridge.ts";
import { TwoTierCache, type TwoTierCacheOptions } from "../../supabase/functions/_shared/cache.ts";
import {
  cacheOptionsFromEnv,
  l2ClientFromEnv,
} from "../../supabase/functions/_shared/cache_env.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { startTestUpstash } from "../support/redis.ts";

// The bridge's server and the client's keep-alive connections span the whole test.
const opts = { sanitizeResources: false, sanitizeOps: false };

/** Cache options as a function isolate would build them from its environment. */
function isolateOptions(url: string, token: string, extra: TwoTierCacheOptions = {}) {
  return {
    // The default timeout (50 ms) suits production; a loaded CI box needs more room for a real
    // answer. Set through the environment so the client's own abort signal gets it too.
    ...cacheOptionsFromEnv({
      UPSTASH_REDIS_REST_URL: url,
      UPSTASH_REDIS_REST_TOKEN: token,
      CACHE_L2_TIMEOUT_MS: "2000",
    }),
    prefix: `t-${crypto.randomUUID()}`,
    log: () => {},
    ...extra,
  };
}

/** Rejects if `promise` has not settled after `ms`: turns a hang into a failure. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

Deno.test("TwoTierCache promotes an L2 hit into L1 across isolates", opts, async () => {
  const upstash = await startTestUpstash();
  try {
    const { url, token } = upstash.bridge;
    const shared = isolateOptions(url, token, { l2TtlS: 120 });
    const first = new TwoTierCache<{ fares: number[]; city: string }>(shared);
    const second = new TwoTierCache<{ fares: number[]; city: string }>({
      ...shared,
      l2: l2ClientFromEnv({ UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token }, 2_000),
    });
    assert(first.l2Enabled && second.l2Enabled, "both caches have L2");
    const value = { fares: [120.5, 99], city: "Zürich ✈" };
    let loads = 0;
    const loader = () => {
      loads++;
      return Promise.resolve(value);
    };

    assertEquals(await first.getOrLoad("search:1", loader), { value, tier: "miss" });
    await first.flush();
    assertEquals(await second.getOrLoad("search:1", loader), { value, tier: "l2" });
    assertEquals(await second.getOrLoad("search:1", loader), { value, tier: "l1" });
    assertEquals(loads, 1);
    assertEquals(first.stats().l2Misses, 1);
    assertEquals(second.stats().l2Hits, 1);
    assertEquals(second.stats().l1Entries, 1);

    // Stored under prefix:v<version>:key with the L2 TTL.
    const raw = upstash.client();
    const ttl = await raw.ttl(`${shared.prefix}:v1:search:1`);
    assert(ttl > 0 && ttl <= 120, `expected an L2 TTL in 1..120, received ${ttl}`);

    // A new version never reads entries of the old one.
    const next = new TwoTierCache<typeof value>({ ...shared, version: 2 });
    assertEquals((await next.getOrLoad("search:1", loader)).tier, "miss");
    await next.flush();
    assertEquals(loads, 2);

    // delete() removes the entry from L2 too.
    await first.delete("search:1");
    const third = new TwoTierCache<typeof value>(shared);
    assertEquals((await third.getOrLoad("search:1", loader)).tier, "miss");
    await third.flush();
    assertEquals(
      [first, second, next, third].reduce((sum, c) => sum + c.stats().l2Errors, 0),
      0,
    );
  } finally {
    await upstash.stop();
  }
});

Deno.test("TwoTierCache works with the client's own JSON deserialisation too", opts, async () => {
  const upstash = await startTestUpstash();
  try {
    // upstash.client() keeps @upstash/redis defaults (automaticDeserialization on).
    const options = { prefix: `t-${crypto.randomUUID()}`, l2TimeoutMs: 2_000, log: () => {} };
    const writer = new TwoTierCache<unknown>({ ...options, l2: upstash.client() });
    const reader = new TwoTierCache<unknown>({ ...options, l2: upstash.client() });
    for (const [key, value] of [["s", "123"], ["n", 42], ["o", { a: [1, "2"] }], ["z", null]]) {
      await writer.getOrLoad(key as string, () => Promise.resolve(value));
      await writer.flush();
      assertEquals(await reader.getOrLoad(key as string, () => Promise.reject(new Error("no"))), {
        value,
        tier: "l2",
      });
    }
    assertEquals(reader.stats().l2Errors + writer.stats().l2Errors, 0);
  } finally {
    await upstash.stop();
  }
});

Deno.test(
  "TwoTierCache shares one L2 read and one loader call among 50 concurrent misses",
  opts,
  async () => {
    const upstash = await startTestUpstash();
    try {
      const handed: Promise<unknown>[] = [];
      const cache = new TwoTierCache<string>(
        isolateOptions(upstash.bridge.url, upstash.bridge.token, {
          waitUntil: (promise) => handed.push(promise),
        }),
      );
      const before = upstash.bridge.requests();
      let loads = 0;
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          cache.getOrLoad("k", () => {
            loads++;
            return Promise.resolve("v");
          })),
      );
      assertEquals(handed.length, 1, "the background L2 write is handed to waitUntil");
      await Promise.all(handed);
      assertEquals(loads, 1);
      assert(results.every((r) => r.value === "v" && r.tier === "miss"), "all got the load");
      assertEquals(upstash.bridge.requests() - before, 2, "one GET and one SET reached L2");
      assertEquals(cache.stats().l2Misses, 1);
    } finally {
      await upstash.stop();
    }
  },
);

Deno.test("TwoTierCache treats a stopped L2 as a miss and counts the errors", opts, async () => {
  const upstash = await startTestUpstash();
  const { url, token } = upstash.bridge;
  await upstash.stop();
  const cache = new TwoTierCache<string>(isolateOptions(url, token));
  let loads = 0;
  const loader = () => Promise.resolve(`v${++loads}`);
  assertEquals(await within(cache.getOrLoad("k", loader), 5_000, "getOrLoad"), {
    value: "v1",
    tier: "miss",
  });
  await within(cache.flush(), 5_000, "flush");
  assertEquals(cache.stats().l2Errors, 2, "the read and the write failed");
  assertEquals(cache.stats().l2Hits + cache.stats().l2Misses, 0);
  assertEquals(await cache.getOrLoad("k", loader), { value: "v1", tier: "l1" });
  await cache.delete("k");
  assertEquals(cache.stats().l2Errors, 3, "delete's L2 failure is counted, not thrown");
});

Deno.test("TwoTierCache treats an L2 whose Redis is down (HTTP 503) as a miss", opts, async () => {
  const redis = await startRedis();
  const bridge = await startUpstashBridge({ redisUrl: redis.url, token: "t", log: () => {} });
  try {
    await redis.stop();
    const logged: string[] = [];
    const cache = new TwoTierCache<string>(
      isolateOptions(bridge.url, "t", { log: (line) => logged.push(line) }),
    );
    assertEquals(await cache.getOrLoad("k", () => Promise.resolve("v")), {
      value: "v",
      tier: "miss",
    });
    await cache.flush();
    assertEquals(cache.stats().l2Errors, 2);
    assertEquals(logged.length, 1, "one line when L2 starts failing, not one per error");
    assert(!logged[0]?.includes('"v"'), "no cached value in the log");
  } finally {
    await bridge.stop();
    await redis.stop();
  }
});

Deno.test("TwoTierCache gives up on an L2 that never answers after l2TimeoutMs", opts, async () => {
  // A real server that accepts connections and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  try {
    const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    const cache = new TwoTierCache<string>(isolateOptions(url, "t", {
      l2: l2ClientFromEnv({ UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: "t" }, 50),
      l2TimeoutMs: 50,
    }));
    const result = await within(cache.getOrLoad("k", () => Promise.resolve("v")), 5_000, "load");
    assertEquals(result, { value: "v", tier: "miss" });
    await within(cache.flush(), 5_000, "flush");
    assertEquals(cache.stats().l2Errors, 2);
    assert(held.length >= 1, "the client did reach the silent server");
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting;
  }
});

Deno.test(
  "TwoTierCache counts a corrupt L2 entry as an error and overwrites it",
  opts,
  async () => {
    const upstash = await startTestUpstash();
    try {
      const options = isolateOptions(upstash.bridge.url, upstash.bridge.token);
      const raw = upstash.client();
      await raw.set(`${options.prefix}:v1:k`, "not json {");
      const cache = new TwoTierCache<string>(options);
      assertEquals(await cache.getOrLoad("k", () => Promise.resolve("v")), {
        value: "v",
        tier: "miss",
      });
      await cache.flush();
      assertEquals(cache.stats().l2Errors, 1);
      const reader = new TwoTierCache<string>(options);
      assertEquals(await reader.getOrLoad("k", () => Promise.resolve("other")), {
        value: "v",
        tier: "l2",
      });
    } finally {
      await upstash.stop();
    }
  },
);
