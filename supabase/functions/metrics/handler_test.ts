import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { ConfigError } from "../_shared/env.ts";
import { handler, type MetricsDeps } from "./handler.ts";
import { expositionContentType, metricNames } from "./exposition.ts";
import type { MetricsSnapshot } from "./snapshot.ts";

const token = "metrics-token-0123456789-abcdefghij";
const empty: MetricsSnapshot = { latencyBoundsMs: [1, 10], totals: [], memory: [] };

function deps(overrides: Partial<MetricsDeps> = {}): MetricsDeps & { reads: number } {
  const d = {
    reads: 0,
    config: () => ({ bearerToken: token }),
    readSnapshot: () => {
      d.reads++;
      return Promise.resolve(empty);
    },
    ...overrides,
  };
  return d;
}

const get = (authorization?: string, method = "GET") =>
  new Request("http://x/metrics", {
    method,
    headers: authorization ? { authorization } : {},
  });

Deno.test("metrics handler() answers 401 without a bearer token and reads nothing", async () => {
  const d = deps();
  const res = await handler(get(), d);
  assertEquals(res.status, 401);
  assertEquals(res.headers.get("www-authenticate"), 'Bearer realm="metrics"');
  assertEquals((await res.json()).error.code, "unauthorized");
  assertEquals(d.reads, 0);
});

Deno.test("metrics handler() answers 401 to a wrong token or another scheme", async () => {
  const d = deps();
  for (const header of [`Bearer ${token}x`, `Bearer ${token.slice(1)}`, `Basic ${btoa("a:b")}`]) {
    const res = await handler(get(header), d);
    assertEquals(res.status, 401, header);
    await res.body?.cancel();
  }
  assertEquals(d.reads, 0);
});

Deno.test("metrics handler() answers the exposition to the right token", async () => {
  const res = await handler(get(`Bearer ${token}`), deps());
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), expositionContentType);
  assert((await res.text()).includes(`# TYPE ${metricNames.requests} counter`));
});

Deno.test("metrics handler() answers HEAD without a body and 405 to POST", async () => {
  const head = await handler(get(`Bearer ${token}`, "HEAD"), deps());
  assertEquals([head.status, await head.text()], [200, ""]);
  const post = await handler(get(`Bearer ${token}`, "POST"), deps());
  assertEquals(post.status, 405);
  assertEquals(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
});

Deno.test("metrics handler() fails closed with a generic 500 when its secret is not configured", async () => {
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const res = await handler(
      get(`Bearer ${token}`),
      deps({
        config: () => {
          throw new ConfigError("invalid function environment: METRICS_BEARER_TOKEN is not set");
        },
      }),
    );
    assertEquals(res.status, 500);
    assertEquals((await res.json()).error.code, "internal_error");
    assertEquals(errors.length, 1);
  } finally {
    console.error = original;
  }
});

Deno.test("metrics handler() answers 500 without internals when the database fails", async () => {
  const original = console.error;
  console.error = () => {};
  try {
    const res = await handler(
      get(`Bearer ${token}`),
      deps({ readSnapshot: () => Promise.reject(new Error("password=hunter2 refused")) }),
    );
    assertEquals(res.status, 500);
    assertEquals((await res.text()).includes("hunter2"), false);
  } finally {
    console.error = original;
  }
});
