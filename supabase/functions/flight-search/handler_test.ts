import { SignJWT } from "jose";
import { apiKeys, defaultJwtSecret } from "../../../scripts/local/keys.ts";
import { createAuthVerifier } from "../_shared/auth.ts";
import type { WarmReport, WarmRequest } from "./cache_warm.ts";
import type { IsolateStats } from "./stats.ts";
import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { inRollout, type RolloutFlag } from "../_shared/bucketing.ts";
import { TwoTierCache } from "../_shared/cache.ts";
import { OverloadError } from "../_shared/coalescer.ts";
import { DeadlineExceeded } from "../_shared/deadline.ts";
import type { MetricPath } from "../_shared/metric_row.ts";
import { rolloutFlagKey } from "../_shared/rollout_flag.ts";
import { handler, type SearchDeps } from "./handler.ts";
import { createSearchPipeline, type SearchPath, type SearchPipelineOptions } from "./pipeline.ts";
import type { SearchRequest } from "./request.ts";
import type { SearchResult } from "./result.ts";

const query = "origin=JFK&destination=LAX&departure_date=2026-12-01";

function resultFor(search: SearchRequest, tag: string): SearchResult {
  return {
    search,
    outbound: { origin: search.origin, destination: search.destination, date: tag, flights: [] },
    return: null,
  };
}

/** What a test may set: the pipeline's parts, the handler's other deps, and the flag. */
type FakeOverrides =
  & Partial<Omit<SearchPipelineOptions, "metrics">>
  & Partial<Omit<SearchDeps, "pipeline" | "metrics">>
  & { flag?: RolloutFlag };

/** The handler over a real pipeline of fake paths that count their calls. */
function fakeDeps(overrides: FakeOverrides = {}) {
  const recorded: Array<{ path: MetricPath; status: number; fallback?: boolean }> = [];
  const logged: string[] = [];
  const calls = { legacy: 0, optimized: 0 };
  const routes: string[] = [];
  const tiers: string[] = [];
  const log = (message: string) => logged.push(message);
  const pipeline = createSearchPipeline({
    legacy: (s) => (calls.legacy++, Promise.resolve(resultFor(s, "legacy"))),
    optimized: (s) => (calls.optimized++, Promise.resolve(resultFor(s, "optimized"))),
    flags: { get: (key) => Promise.resolve(key === rolloutFlagKey ? overrides.flag : undefined) },
    metrics: { recordCache: (_path, tier) => tiers.push(tier) },
    log,
    ...overrides,
  });
  const deps: SearchDeps = {
    pipeline,
    metrics: {
      recordRequest: (path, o) => recorded.push({ path, status: o.status, fallback: o.fallback }),
      recordRoute: (_path, origin, destination) => routes.push(`${origin}-${destination}`),
    },
    randomId: () => "random-id",
    log,
    ...overrides,
  };
  return { deps, recorded, logged, calls, routes, tiers };
}

const get = (path = `/flight-search?${query}`, headers: Record<string, string> = {}) =>
  new Request(`http://127.0.0.1${path}`, { headers });

Deno.test("flight-search handler() answers on both the gateway and the function path", async () => {
  const { deps } = fakeDeps();
  for (const path of [`/flight-search?${query}`, `/functions/v1/flight-search?${query}`]) {
    const res = await handler(get(path), deps);
    assertEquals(res.status, 200, path);
    assertEquals(res.headers.get("x-search-path"), "legacy");
    assertEquals(res.headers.get("x-cache"), "miss");
    assertEquals((await res.json()).search.origin, "JFK");
  }
  const post = await handler(
    new Request("http://127.0.0.1/flight-search", {
      method: "POST",
      body: JSON.stringify({ origin: "JFK", destination: "LAX", departure_date: "2026-12-01" }),
      headers: { "content-type": "application/json" },
    }),
    deps,
  );
  assertEquals(post.status, 200);
});

Deno.test("flight-search handler() answers 404, 405 and CORS preflight", async () => {
  const { deps, calls } = fakeDeps();
  const notFound = await handler(get("/flight-searches"), deps);
  assertEquals(notFound.status, 404);
  const put = await handler(new Request("http://x/flight-search", { method: "PUT" }), deps);
  assertEquals([put.status, put.headers.get("allow")], [405, "GET, POST, OPTIONS"]);
  const preflight = await handler(
    new Request("http://x/flight-search", { method: "OPTIONS" }),
    deps,
  );
  assertEquals(preflight.status, 204);
  assert(preflight.headers.get("access-control-allow-headers")?.includes("x-session-id"));
  assertEquals(calls, { legacy: 0, optimized: 0 });
});

Deno.test("flight-search handler() answers 400 naming the field for an unknown airport, before any search", async () => {
  const known = new Set(["JFK", "LAX"]);
  const { deps, calls, routes, recorded } = fakeDeps({
    airports: { isKnown: (code) => Promise.resolve(known.has(code)) },
  });
  const ok = await handler(get(), deps);
  assertEquals(ok.status, 200);
  for (
    const [q, field] of [["origin=ZZZ&destination=LAX", "origin"], [
      "origin=JFK&destination=zzz",
      "destination",
    ]]
  ) {
    const res = await handler(get(`/flight-search?${q}&departure_date=2026-12-01`), deps);
    assertEquals(res.status, 400, q);
    const body = await res.json();
    assertEquals([body.error.code, body.error.field], ["invalid_request", field]);
    assertEquals(body.error.message, `${field}: no airport with IATA code ZZZ`);
  }
  assertEquals(calls, { legacy: 1, optimized: 0 }, "an unknown airport runs no search");
  assertEquals(routes, ["JFK-LAX"], "nor counts as route demand");
  assertEquals(recorded.map((r) => r.status), [200, 400, 400]);
});

Deno.test("flight-search handler() routes by flag and sticky bucket", async () => {
  const off = fakeDeps({ flag: { enabled: false, trafficPercentage: 100 } });
  assertEquals((await handler(get(), off.deps)).headers.get("x-search-path"), "legacy");
  const unknown = fakeDeps({ flag: undefined });
  assertEquals((await handler(get(), unknown.deps)).headers.get("x-search-path"), "legacy");
  const all = fakeDeps({ flag: { enabled: true, trafficPercentage: 100 } });
  assertEquals((await handler(get(), all.deps)).headers.get("x-search-path"), "optimized");

  const half = { enabled: true, trafficPercentage: 50 };
  const { deps, recorded } = fakeDeps({ flag: half });
  let optimized = 0;
  for (let i = 0; i < 200; i++) {
    const session = `session-${i.toString().padStart(4, "0")}`;
    const expected = inRollout(half, rolloutFlagKey, session) ? "optimized" : "legacy";
    for (let again = 0; again < 2; again++) {
      const res = await handler(get(undefined, { "x-session-id": session }), deps);
      assertEquals(res.headers.get("x-search-path"), expected, session);
      await res.body?.cancel();
    }
    if (expected === "optimized") optimized++;
  }
  assert(optimized > 60 && optimized < 140, `${optimized} of 200 sessions optimized at 50%`);
  assertEquals(recorded.filter((r) => r.path === "optimized").length, optimized * 2);
});

Deno.test("flight-search handler() serves a failed optimized search on the legacy path", async () => {
  const failing: SearchPath = () => Promise.reject(new Error("batch exploded"));
  const { deps, recorded, logged, calls } = fakeDeps({
    forcePath: "optimized",
    optimized: failing,
  });
  const res = await handler(get(), deps);
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("x-search-path"), "legacy");
  assertEquals(res.headers.get("x-search-fallback"), "optimized");
  assertEquals((await res.json()).outbound.date, "legacy");
  assertEquals(calls.legacy, 1);
  assertEquals(recorded, [{ path: "optimized", status: 200, fallback: true }]);
  assertEquals(logged, ["optimized path failed, answering on the legacy path"]);
});

Deno.test("flight-search handler() answers 503 with Retry-After when the coalescer sheds load", async () => {
  const overloaded: SearchPath = () => Promise.reject(new OverloadError(1000));
  const { deps, calls, recorded } = fakeDeps({ forcePath: "optimized", optimized: overloaded });
  const res = await handler(get(), deps);
  assertEquals([res.status, res.headers.get("retry-after")], [503, "1"]);
  assertEquals((await res.json()).error.code, "overloaded");
  assertEquals(calls.legacy, 0, "no fallback onto the legacy path under overload");
  assertEquals(recorded[0]?.fallback, false);
});

Deno.test("flight-search handler() answers 500 without internals when legacy fails", async () => {
  const broken: SearchPath = () => Promise.reject(new Error("password=hunter2 refused"));
  const { deps } = fakeDeps({ legacy: broken });
  const res = await handler(get(), deps);
  assertEquals(res.status, 500);
  const text = await res.text();
  assert(!text.includes("hunter2"));
});

Deno.test("flight-search handler() answers client mistakes with 4xx and counts them", async () => {
  const { deps, recorded, calls } = fakeDeps({ flag: { enabled: true, trafficPercentage: 100 } });
  const cases = [
    get("/flight-search"),
    get("/flight-search?origin=JFK"),
    get(`/flight-search?${query}&cabin=steerage`),
    get(`/flight-search?${query}`, { "x-session-id": "bad id" }),
    new Request("http://x/flight-search", { method: "POST", body: "{}" }),
  ];
  for (const req of cases) {
    const res = await handler(req, deps);
    assert(res.status >= 400 && res.status < 500, `${req.url}: ${res.status}`);
    const body = await res.json();
    assert(typeof body.error.code === "string" && typeof body.error.message === "string");
  }
  assertEquals(calls, { legacy: 0, optimized: 0 });
  assert(recorded.every((r) => r.status >= 400 && r.status < 500));
});

Deno.test("flight-search handler() answers 503 when the search outlives its deadline", async () => {
  const slow: SearchPath = () =>
    Promise.reject(new DeadlineExceeded("legacy search", 3000, "database"));
  const { deps, recorded } = fakeDeps({ legacy: slow });
  const res = await handler(get(), deps);
  assertEquals([res.status, res.headers.get("retry-after")], [503, "1"]);
  assertEquals((await res.json()).error.code, "database_unavailable");
  assertEquals(recorded[0]?.status, 503);
});

Deno.test("flight-search handler() reports its own duration in server-timing", async () => {
  let now = 100;
  const { deps } = fakeDeps({
    clock: {
      now: () => now,
      wallNow: () => 0,
      setTimeout: () => 0,
      clearTimeout: () => {},
      sleep: () => Promise.resolve(),
    },
    legacy: (s) => {
      now += 42.25;
      return Promise.resolve(resultFor(s, "legacy"));
    },
  });
  const res = await handler(get(), deps);
  assertEquals(res.headers.get("server-timing"), "total;dur=42.3");
});

Deno.test("flight-search handler() answers a repeated search from the result cache", async () => {
  const cache = new TwoTierCache<SearchResult>({ log: () => {} });
  const { deps, calls, tiers } = fakeDeps({ cache });
  const first = await handler(get(), deps);
  assertEquals([first.status, first.headers.get("x-cache")], [200, "miss"]);
  const again = await handler(get(`/functions/v1/flight-search?${query}`), deps);
  assertEquals([again.headers.get("x-cache"), again.headers.get("x-search-path")], [
    "l1",
    "legacy",
  ]);
  assertEquals(await again.json(), await first.json());
  const other = await handler(get(`/flight-search?${query}&limit=3`), deps);
  assertEquals(other.headers.get("x-cache"), "miss");
  await other.body?.cancel();
  assertEquals(calls.legacy, 2, "the repeated search did not reach a path");
  assertEquals(tiers, ["miss", "l1", "miss"]);
});

Deno.test("flight-search handler() never caches a failed search", async () => {
  const cache = new TwoTierCache<SearchResult>({ log: () => {} });
  let fail = true;
  const { deps } = fakeDeps({
    cache,
    legacy: (s) =>
      fail ? Promise.reject(new Error("database down")) : Promise.resolve(resultFor(s, "legacy")),
  });
  assertEquals((await handler(get(), deps)).status, 500);
  fail = false;
  const res = await handler(get(), deps);
  assertEquals([res.status, res.headers.get("x-cache")], [200, "miss"]);
  await res.body?.cancel();
  assertEquals(cache.stats().l1Entries, 1);
});

Deno.test("flight-search handler() counts the route of every valid search, none of an invalid one", async () => {
  const { deps, routes } = fakeDeps();
  await handler(get(`/flight-search?${query}`), deps);
  await handler(get("/flight-search?origin=jfk&destination=lax&departure_date=2026-12-02"), deps);
  const invalid = await handler(get("/flight-search?origin=JFK&destination=JFK"), deps);
  assertEquals(invalid.status, 400);
  assertEquals(routes, ["JFK-LAX", "JFK-LAX"]);
});

// The service_role routes (`/flight-search/stats`, `/flight-search/cache/warm`): who may call
// them and what they answer to client mistakes, with real JWT verification and the local secret.
// The stats and the warmer are fakes here; they have their own tests.

const keys = await apiKeys(defaultJwtSecret);
const authenticatedKey = await new SignJWT({ role: "authenticated", sub: "user-1" })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setExpirationTime("1h")
  .sign(new TextEncoder().encode(defaultJwtSecret));
const otherSecretKey = await new SignJWT({ role: "service_role" })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .sign(new TextEncoder().encode("another-secret-of-at-least-32-characters!!"));

const stats = { isolate: { id: "iso-1" } } as unknown as IsolateStats;

function deps(overrides: Partial<SearchDeps> = {}) {
  const warmed: WarmRequest[] = [];
  const recorded: number[] = [];
  const d: SearchDeps = {
    pipeline: createSearchPipeline({
      legacy: () => Promise.reject(new Error("no search here")),
      optimized: () => Promise.reject(new Error("no search here")),
      flags: { get: () => Promise.resolve(undefined) },
      metrics: { recordCache: () => {} },
    }),
    metrics: {
      recordRequest: (_path, o) => recorded.push(o.status),
      recordRoute: () => {},
    },
    verify: createAuthVerifier({ jwtSecret: defaultJwtSecret }),
    stats: () => stats,
    warm: (request) => {
      warmed.push(request);
      return Promise.resolve({ ...request, path: "optimized" } as unknown as WarmReport);
    },
    ...overrides,
  };
  return { deps: d, warmed, recorded };
}

const statsUrl = "http://127.0.0.1/functions/v1/flight-search/stats";
const warmUrl = "http://127.0.0.1/flight-search/cache/warm";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const post = (body: string | undefined, headers: Record<string, string> = {}) =>
  new Request(warmUrl, {
    method: "POST",
    body,
    headers: { ...bearer(keys.serviceRoleKey), "content-type": "application/json", ...headers },
  });

Deno.test("flight-search stats and cache warm answer 401 without a valid JWT, 403 to other roles", async () => {
  const { deps: d, warmed } = deps();
  for (
    const make of [
      (h: HeadersInit) => new Request(statsUrl, { headers: h }),
      (h: HeadersInit) => new Request(warmUrl, { method: "POST", headers: h }),
    ]
  ) {
    const none = await handler(make({}), d);
    assertEquals(none.status, 401);
    assertEquals((await none.json()).error.code, "unauthorized");
    const garbage = await handler(make(bearer("not.a.jwt")), d);
    assertEquals(garbage.status, 401);
    await garbage.body?.cancel();
    const forged = await handler(make(bearer(otherSecretKey)), d);
    assertEquals(forged.status, 401, "a service_role claim signed with another secret");
    await forged.body?.cancel();
    for (const key of [keys.anonKey, authenticatedKey]) {
      const res = await handler(make(bearer(key)), d);
      assertEquals(res.status, 403);
      assertEquals((await res.json()).error.code, "forbidden");
    }
  }
  assertEquals(warmed.length, 0, "nothing warmed for anyone but service_role");
});

Deno.test("flight-search answers 405 with Allow to an unsupported method on every route, before auth", async () => {
  const { deps: d, warmed } = deps();
  const routes: [string, string][] = [
    ["http://x/flight-search", "GET, POST, OPTIONS"],
    [statsUrl, "GET, HEAD, OPTIONS"],
    [warmUrl, "POST, OPTIONS"],
  ];
  for (const [url, allow] of routes) {
    for (const method of ["PATCH", "PUT", "PROPFIND"]) {
      const res = await handler(new Request(url, { method }), d);
      assertEquals([res.status, res.headers.get("allow")], [405, allow], `${method} ${url}`);
      assertEquals((await res.json()).error.code, "method_not_allowed");
    }
  }
  assertEquals(warmed.length, 0);
});

Deno.test("flight-search stats answers service_role with the isolate's numbers", async () => {
  const { deps: d, recorded } = deps();
  const res = await handler(new Request(statsUrl, { headers: bearer(keys.serviceRoleKey) }), d);
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("cache-control"), "no-store");
  assertEquals(await res.json(), stats);
  const head = await handler(
    new Request(statsUrl, { method: "HEAD", headers: bearer(keys.serviceRoleKey) }),
    d,
  );
  assertEquals([head.status, await head.text()], [200, ""]);
  const wrong = await handler(
    new Request(statsUrl, { method: "DELETE", headers: bearer(keys.serviceRoleKey) }),
    d,
  );
  assertEquals(wrong.status, 405);
  assertEquals(wrong.headers.get("allow"), "GET, HEAD, OPTIONS");
  assertEquals(recorded, [], "operational requests are not search traffic");
});

Deno.test("flight-search cache warm validates its body with defaults, naming the field at fault", async () => {
  const { deps: d, warmed } = deps();
  for (const body of [undefined, "", "{}"]) {
    const res = await handler(post(body), d);
    assertEquals(res.status, 200, JSON.stringify(body));
  }
  const res = await handler(post(JSON.stringify({ top: 500, window_minutes: 10_080 })), d);
  assertEquals(res.status, 200);
  assertEquals(warmed, [
    { top: 50, window_minutes: 60 },
    { top: 50, window_minutes: 60 },
    { top: 50, window_minutes: 60 },
    { top: 500, window_minutes: 10_080 },
  ]);

  const cases: Array<[string, number, string, string | undefined]> = [
    [JSON.stringify({ top: 0 }), 400, "invalid_request", "top"],
    [JSON.stringify({ top: 501 }), 400, "invalid_request", "top"],
    [JSON.stringify({ top: 2.5 }), 400, "invalid_request", "top"],
    [JSON.stringify({ top: "10" }), 400, "invalid_request", "top"],
    [JSON.stringify({ window_minutes: 0 }), 400, "invalid_request", "window_minutes"],
    [JSON.stringify({ window_minutes: 10_081 }), 400, "invalid_request", "window_minutes"],
    [JSON.stringify({ top: 5, tpo: 5 }), 400, "invalid_request", "tpo"],
    ["[1]", 400, "invalid_request", undefined],
    ["{", 400, "invalid_json", undefined],
    [JSON.stringify({ pad: "x".repeat(2000) }), 413, "payload_too_large", undefined],
  ];
  for (const [body, status, code, field] of cases) {
    const answer = await handler(post(body), d);
    assertEquals(answer.status, status, body.slice(0, 40));
    const { error } = await answer.json();
    assertEquals([error.code, error.field], [code, field], body.slice(0, 40));
  }
  const text = await handler(post("top=5", { "content-type": "text/plain" }), d);
  assertEquals(text.status, 415);
  await text.body?.cancel();
  const get = await handler(new Request(warmUrl, { headers: bearer(keys.serviceRoleKey) }), d);
  assertEquals(get.status, 405);
  await get.body?.cancel();
  assertEquals(warmed.length, 4, "no warm for a rejected request");
});

Deno.test("flight-search cache warm answers 409 when the deployment runs without a result cache", async () => {
  const { deps: d } = deps({ warm: undefined });
  const res = await handler(post("{}"), d);
  assertEquals(res.status, 409);
  assertEquals((await res.json()).error.code, "cache_disabled");
});

Deno.test("flight-search service_role routes answer 500 without internals when auth is not configured", async () => {
  const logged: string[] = [];
  const { deps: d } = deps({
    verify: () => {
      throw new Error("invalid function environment: neither JWT_SECRET nor SUPABASE_URL is set");
    },
    log: (message) => logged.push(message),
  });
  const res = await handler(new Request(statsUrl, { headers: bearer(keys.serviceRoleKey) }), d);
  assertEquals(res.status, 500);
  const text = await res.text();
  assert(!text.includes("JWT_SECRET"), "internals are logged, not echoed");
  assertEquals(logged.length, 1);
});
