import { errors } from "@upstash/redis";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { startTestUpstash } from "../../tests/support/redis.ts";
import { startRedis } from "./redis.ts";
import { startUpstashBridge } from "./upstash_bridge.ts";

// The bridge's HTTP server and the client's keep-alive connections outlive single assertions.
const opts = { sanitizeResources: false, sanitizeOps: false };

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

Deno.test("upstash bridge: the real @upstash/redis client runs GET/SET/EX/DEL", opts, async () => {
  const upstash = await startTestUpstash();
  try {
    const client = upstash.client();
    const key = `t:${crypto.randomUUID()}`;
    assertEquals(await client.get(key), null);
    assertEquals(await client.set(key, "plain value"), "OK");
    assertEquals(await client.get<string>(key), "plain value");

    const object = { city: "Zürich ✈ 東京", fares: [120.5, 99], nested: { ok: true } };
    await client.set(`${key}:json`, object, { ex: 60 });
    assertEquals(await client.get(`${key}:json`), object);
    const ttl = await client.ttl(`${key}:json`);
    assert(ttl > 0 && ttl <= 60, `expected a TTL in 1..60, received ${ttl}`);
    assertEquals(await client.ttl(key), -1);

    assertEquals(await client.del(key, `${key}:json`), 2);
    assertEquals(await client.get(key), null);
    assertEquals(await client.exists(`${key}:json`), 0);
  } finally {
    await upstash.stop();
  }
});

Deno.test("upstash bridge: pipeline and multi-exec keep command order", opts, async () => {
  const upstash = await startTestUpstash();
  try {
    const client = upstash.client();
    const key = `t:${crypto.randomUUID()}`;
    const results = await client.pipeline()
      .set(key, "1")
      .incr(key)
      .get(key)
      .set(`${key}:ex`, "x", { ex: 30 })
      .ttl(`${key}:ex`)
      .exec();
    assertEquals(results.slice(0, 4), ["OK", 2, 2, "OK"]);
    assert((results[4] as number) > 0, "pipeline SET EX sets a TTL");

    // A per-command error stays in its position; the other commands still run.
    const mixed = await client.pipeline().incr(key).hset(key, { f: "v" }).get(key).exec({
      keepErrors: true,
    });
    assertEquals(mixed[0]?.result, 3);
    assertStringIncludes(String(mixed[1]?.error), "WRONGTYPE");
    assertEquals(mixed[2]?.result, 3);

    const tx = await client.multi().set(`${key}:m`, "a").append(`${key}:m`, "b").get(`${key}:m`)
      .exec();
    assertEquals(tx, ["OK", 2, "ab"]);
  } finally {
    await upstash.stop();
  }
});

Deno.test(
  "upstash bridge: a wrong token is refused with 401 and the client rejects",
  opts,
  async () => {
    const upstash = await startTestUpstash();
    try {
      const error = await assertRejects(
        () => upstash.client({ token: "not-the-token" }).get("k"),
        errors.UpstashError,
      );
      assertStringIncludes(error.message, "Unauthorized");
      const raw = await fetch(upstash.bridge.url, { method: "POST", body: '["PING"]' });
      assertEquals(raw.status, 401);
      assertEquals(await raw.json(), { error: "Unauthorized" });
      const query = await fetch(`${upstash.bridge.url}/?_token=${upstash.bridge.token}`, {
        method: "POST",
        body: '["PING"]',
      });
      assertEquals(await query.json(), { result: "PONG" });
    } finally {
      await upstash.stop();
    }
  },
);

Deno.test(
  "upstash bridge: base64 encoding covers every string but the OK status",
  opts,
  async () => {
    const upstash = await startTestUpstash();
    try {
      const key = `t:${crypto.randomUUID()}`;
      const post = async (body: unknown, path = "", base64 = true) => {
        const res = await fetch(`${upstash.bridge.url}${path}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${upstash.bridge.token}`,
            ...(base64 ? { "upstash-encoding": "base64" } : {}),
          },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: await res.json() };
      };
      assertEquals(await post(["SET", key, "Zürich"]), { status: 200, body: { result: "OK" } });
      assertEquals(await post(["GET", key]), { status: 200, body: { result: b64("Zürich") } });
      assertEquals(await post(["GET", key], "", false), {
        status: 200,
        body: { result: "Zürich" },
      });
      assertEquals(await post(["STRLEN", key]), { status: 200, body: { result: 7 } });
      assertEquals(await post(["MGET", key, `${key}:none`]), {
        status: 200,
        body: { result: [b64("Zürich"), null] },
      });
      assertEquals(await post([["TYPE", key], ["GET", `${key}:none`]], "/pipeline"), {
        status: 200,
        body: [{ result: b64("string") }, { result: null }],
      });
    } finally {
      await upstash.stop();
    }
  },
);

Deno.test("upstash bridge: client mistakes get 4xx JSON errors, never 5xx", opts, async () => {
  const upstash = await startTestUpstash();
  try {
    const { url, token } = upstash.bridge;
    const auth = { authorization: `Bearer ${token}` };
    const cases: { name: string; path?: string; init: RequestInit; status: number }[] = [
      { name: "not JSON", init: { method: "POST", headers: auth, body: "{nope" }, status: 400 },
      { name: "empty body", init: { method: "POST", headers: auth, body: "" }, status: 400 },
      { name: "object", init: { method: "POST", headers: auth, body: '{"a":1}' }, status: 400 },
      { name: "empty command", init: { method: "POST", headers: auth, body: "[]" }, status: 400 },
      { name: "numeric name", init: { method: "POST", headers: auth, body: "[1]" }, status: 400 },
      {
        name: "null argument",
        init: { method: "POST", headers: auth, body: '["SET","k",null]' },
        status: 400,
      },
      {
        name: "nested argument",
        init: { method: "POST", headers: auth, body: '["SET","k",["v"]]' },
        status: 400,
      },
      {
        name: "refused command",
        init: { method: "POST", headers: auth, body: '["SUBSCRIBE","c"]' },
        status: 400,
      },
      {
        name: "blocking command",
        init: { method: "POST", headers: auth, body: '["blpop","q","0"]' },
        status: 400,
      },
      {
        name: "unknown command",
        init: { method: "POST", headers: auth, body: '["NOSUCHCMD"]' },
        status: 400,
      },
      {
        name: "wrong type",
        init: { method: "POST", headers: auth, body: '["INCR","pf:bridge:not-a-number"]' },
        status: 400,
      },
      {
        name: "pipeline not a list",
        path: "/pipeline",
        init: { method: "POST", headers: auth, body: '["GET","k"]' },
        status: 400,
      },
      {
        name: "empty pipeline",
        path: "/pipeline",
        init: { method: "POST", headers: auth, body: "[]" },
        status: 400,
      },
      {
        name: "transaction Redis aborts",
        path: "/multi-exec",
        init: { method: "POST", headers: auth, body: '[["SET","k","v"],["NOSUCHCMD"]]' },
        status: 400,
      },
      {
        name: "MULTI inside a pipeline",
        path: "/pipeline",
        init: { method: "POST", headers: auth, body: '[["MULTI"],["EXEC"]]' },
        status: 400,
      },
      { name: "GET method", init: { method: "GET", headers: auth }, status: 405 },
      {
        name: "unknown endpoint",
        path: "/get/k",
        init: { method: "POST", headers: auth, body: "[]" },
        status: 404,
      },
      {
        name: "too large",
        init: { method: "POST", headers: auth, body: `["SET","k","${"x".repeat(1024 * 1024)}"]` },
        status: 413,
      },
      {
        name: "bad scheme",
        init: { method: "POST", headers: { authorization: token } },
        status: 401,
      },
    ];
    await fetch(url, {
      method: "POST",
      headers: auth,
      body: '["SET","pf:bridge:not-a-number","abc"]',
    }).then((r) => r.body?.cancel());
    for (const c of cases) {
      const res = await fetch(`${url}${c.path ?? ""}`, c.init);
      assertEquals(res.status, c.status, `${c.name}: status`);
      assertStringIncludes(res.headers.get("content-type") ?? "", "application/json", c.name);
      const body = await res.json();
      assert(typeof body.error === "string" && body.error.length > 0, `${c.name}: error message`);
    }
    assertEquals(upstash.bridge.requests(), cases.length + 1);
  } finally {
    await upstash.stop();
  }
});

Deno.test("upstash bridge: an unreachable Redis is a 503 JSON error", opts, async () => {
  const redis = await startRedis({ env: {} });
  const bridge = await startUpstashBridge({ redisUrl: redis.url, token: "t", log: () => {} });
  try {
    await redis.stop();
    const res = await fetch(bridge.url, {
      method: "POST",
      headers: { authorization: "Bearer t" },
      body: '["GET","k"]',
    });
    assertEquals(res.status, 503);
    assertStringIncludes((await res.json()).error, "Redis unavailable");
  } finally {
    await bridge.stop();
    await redis.stop();
  }
});

Deno.test("startUpstashBridge() rejects malformed options and an unreachable Redis", async () => {
  await assertRejects(
    () => startUpstashBridge({ redisUrl: "http://x", token: "t" }),
    RangeError,
    "redisUrl",
  );
  await assertRejects(
    () => startUpstashBridge({ redisUrl: "redis://127.0.0.1:6390", token: "" }),
    RangeError,
    "token",
  );
  const closed = await startRedis({ env: {} });
  await closed.stop();
  await assertRejects(
    () => startUpstashBridge({ redisUrl: closed.url, token: "t", log: () => {} }),
    Error,
    "cannot reach Redis",
  );
});
