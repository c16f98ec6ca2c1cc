/**
 * flight-search end to end on the local stack: the JWT-verifying gateway, the function in its
 * own isolate (a Deno process), Postgres behind the latency proxy that counts queries.
 */
import { SignJWT } from "jose";
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startLatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { popularRoutes } from "../../scripts/seed/seed.ts";
import { inRollout } from "../../supabase/functions/_shared/bucketing.ts";
import { rolloutFlagKey } from "../../supabase/functions/_shared/rollout_flag.ts";
import { searchQueryCount } from "../support/search.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Polls `check` until it returns a value, up to `timeoutMs`. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** At least 30 ways to get a search wrong, each answered 4xx. */
function malformedRequests(url: string, key: string): Array<[name: string, Request]> {
  const auth = { authorization: `Bearer ${key}` };
  const ok = "origin=JFK&destination=ORD&departure_date=2027-01-04";
  const get = (query: string, headers: Record<string, string> = {}) =>
    new Request(`${url}?${query}`, { headers: { ...auth, ...headers } });
  const post = (body: string, type = "application/json") =>
    new Request(url, { method: "POST", body, headers: { ...auth, "content-type": type } });
  const cases: Array<[string, Request]> = [
    ["no parameters", get("")],
    ["origin missing", get("destination=ORD&departure_date=2027-01-04")],
    ["destination missing", get("origin=JFK&departure_date=2027-01-04")],
    ["date missing", get("origin=JFK&destination=ORD")],
    ["origin too short", get(ok.replace("JFK", "JF"))],
    ["origin too long", get(ok.replace("JFK", "JFKX"))],
    ["origin digits", get(ok.replace("JFK", "J4K"))],
    ["origin empty", get(ok.replace("JFK", ""))],
    ["same airports", get(ok.replace("ORD", "JFK"))],
    ["date format", get(ok.replace("2027-01-04", "04/01/2027"))],
    ["date not in calendar", get(ok.replace("2027-01-04", "2027-02-29"))],
    ["date month 13", get(ok.replace("2027-01-04", "2027-13-01"))],
    ["date year 0", get(ok.replace("2027-01-04", "0000-01-01"))],
    ["date far future", get(ok.replace("2027-01-04", "9999-12-31"))],
    ["return before departure", get(`${ok}&return_date=2027-01-03`)],
    ["return malformed", get(`${ok}&return_date=tomorrow`)],
    ["passengers zero", get(`${ok}&passengers=0`)],
    ["passengers negative", get(`${ok}&passengers=-2`)],
    ["passengers too many", get(`${ok}&passengers=10`)],
    ["passengers fraction", get(`${ok}&passengers=1.5`)],
    ["passengers text", get(`${ok}&passengers=two`)],
    ["limit zero", get(`${ok}&limit=0`)],
    ["limit too big", get(`${ok}&limit=1000`)],
    ["limit huge", get(`${ok}&limit=99999999999999999999`)],
    ["cabin unknown", get(`${ok}&cabin=coach`)],
    ["sort unknown", get(`${ok}&sort=cheapest`)],
    ["repeated parameter", get(`${ok}&origin=LAX`)],
    ["unknown parameter", get(`${ok}&passenger=2`)],
    ["SQL in origin", get(ok.replace("JFK", "'%3B--"))],
    ["session header malformed", get(ok, { "x-session-id": "no spaces allowed" })],
    ["session header too short", get(ok, { "x-session-id": "abc" })],
    ["POST invalid JSON", post("{origin:")],
    ["POST array body", post("[]")],
    ["POST null body", post("null")],
    [
      "POST string types",
      post(
        JSON.stringify({
          origin: "JFK",
          destination: "ORD",
          departure_date: "2027-01-04",
          limit: "5",
        }),
      ),
    ],
    [
      "POST unknown field",
      post(
        JSON.stringify({
          origin: "JFK",
          destination: "ORD",
          departure_date: "2027-01-04",
          debug: true,
        }),
      ),
    ],
    ["POST wrong content type", post(JSON.stringify({ origin: "JFK" }), "text/plain")],
    ["POST too large", post(JSON.stringify({ pad: "x".repeat(10_000) }))],
    ["PUT", new Request(url, { method: "PUT", headers: auth })],
    ["DELETE", new Request(url, { method: "DELETE", headers: auth })],
    ["unknown sub-path", new Request(`${url}/admin`, { headers: auth })],
    ["no API key", new Request(`${url}?${ok}`)],
  ];
  return cases;
}

Deno.test(
  "flight-search over the gateway: routing, client mistakes, queries, metrics",
  opts,
  async (t) => {
    const db = await testDatabase();
    const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 1 });
    const stack = await startStack({
      databaseUrl: db.url,
      port: 0,
      seedFlights: false,
      functions: ["flight-search"],
      env: {
        DB_POOLER_URL: proxy.urlFor(db.url),
        FLAG_CACHE_TTL_MS: "200",
        METRICS_FLUSH_INTERVAL_MS: "300",
      },
    });
    const url = `${stack.functionsUrl}/flight-search`;
    const auth = { authorization: `Bearer ${stack.anonKey}` };
    const routes = await popularRoutes(db.sql, 25);
    const searchUrl = (i: number, extra = "") => {
      const r = routes[i % routes.length]!;
      const sort = ["price", "departure", "duration"][Math.floor(i / routes.length) % 3];
      return `${url}?origin=${r.origin}&destination=${r.destination}&departure_date=${r.departureDate}&sort=${sort}${extra}`;
    };
    const setFlag = (enabled: boolean, percentage: number) =>
      db.sql`update public.feature_flags set enabled = ${enabled},
             traffic_percentage = ${percentage}, reason = 'http test' where flag_key = ${rolloutFlagKey}`;
    const pathOf = async (target: string, headers: Record<string, string> = {}) => {
      const res = await fetch(target, { headers: { ...auth, ...headers } });
      await res.body?.cancel();
      assertEquals(res.status, 200);
      return res.headers.get("x-search-path");
    };
    const searchQueries = () => searchQueryCount(proxy);

    try {
      await t.step("answers a search with flights, fares, airports and airlines", async () => {
        const res = await fetch(searchUrl(0, "&limit=2"), { headers: auth });
        assertEquals(res.status, 200);
        assertEquals(res.headers.get("x-search-path"), "legacy");
        assertEquals(res.headers.get("x-cache"), "miss");
        const body = await res.json();
        const flight = body.outbound.flights[0];
        assertEquals(body.search.origin, routes[0]!.origin);
        assert(body.outbound.flights.length >= 1 && body.outbound.flights.length <= 2);
        assert(flight.fares.length > 0 && typeof flight.airline.name === "string");
        assertEquals(flight.origin.code, routes[0]!.origin);
        assertEquals(body.return, null);
      });

      await t.step("answers at least 30 malformed requests with 4xx JSON, never 5xx", async () => {
        const cases = malformedRequests(url, stack.anonKey);
        assert(cases.length >= 30);
        for (const [name, req] of cases) {
          const res = await fetch(req);
          const body = await res.json();
          assert(
            res.status >= 400 && res.status < 500,
            `${name}: ${res.status} ${JSON.stringify(body)}`,
          );
          assert(
            typeof body.error?.code === "string",
            `${name}: error body ${JSON.stringify(body)}`,
          );
        }
      });

      await t.step("moves traffic when the flag changes, sticky per session", async () => {
        await setFlag(true, 100);
        await eventually(
          "optimized path at 100%",
          async () => (await pathOf(searchUrl(1))) === "optimized" ? true : undefined,
        );
        await setFlag(true, 50);
        const half = { enabled: true, trafficPercentage: 50 };
        await eventually("50% routing", async () => {
          const session = "sticky-probe-0001";
          const expected = inRollout(half, rolloutFlagKey, session) ? "optimized" : "legacy";
          const other = "sticky-probe-0002";
          const otherExpected = inRollout(half, rolloutFlagKey, other) ? "optimized" : "legacy";
          const seen = [
            await pathOf(searchUrl(2), { "x-session-id": session }),
            await pathOf(searchUrl(2), { "x-session-id": other }),
          ];
          return seen[0] === expected && seen[1] === otherExpected ? true : undefined;
        });
        for (let i = 0; i < 20; i++) {
          const session = `session-${String(i).padStart(6, "0")}`;
          const expected = inRollout(half, rolloutFlagKey, session) ? "optimized" : "legacy";
          assertEquals(await pathOf(searchUrl(i), { "x-session-id": session }), expected);
          assertEquals(await pathOf(searchUrl(i + 1), { "x-session-id": session }), expected);
        }
        // A signed-in user is bucketed by the JWT subject.
        const sub = "5b6f6a3e-7c1f-4f0e-9a55-0c1d2e3f4a5b";
        const userJwt = await new SignJWT({ sub, role: "authenticated" })
          .setProtectedHeader({ alg: "HS256" })
          .setExpirationTime("1h")
          .sign(new TextEncoder().encode(stack.jwtSecret));
        assertEquals(
          await pathOf(searchUrl(3), { authorization: `Bearer ${userJwt}` }),
          inRollout(half, rolloutFlagKey, sub) ? "optimized" : "legacy",
        );
      });

      await t.step(
        "queries counted by the database: legacy 3 per request, optimized one per batch",
        async () => {
          await setFlag(false, 0);
          // Probe as a session the 50% rollout had on the optimized path: it gets legacy only
          // once the isolate has seen 0% (a random id would get legacy half the time at 50%).
          const inAtHalf = Array.from({ length: 100 }, (_, i) => `probe-session-${i}`)
            .find((id) => inRollout({ enabled: true, trafficPercentage: 50 }, rolloutFlagKey, id))!;
          await eventually(
            "legacy path at 0%",
            async () =>
              (await pathOf(searchUrl(4), { "x-session-id": inAtHalf })) === "legacy"
                ? true
                : undefined,
          );
          proxy.reset();
          const legacy = await Promise.all(
            // limit=7 and 8: searches nobody asked before, so the result cache cannot answer.
            Array.from(
              { length: 10 },
              (_, i) => fetch(searchUrl(i, "&limit=7"), { headers: auth }),
            ),
          );
          for (const res of legacy) {
            assertEquals(res.headers.get("x-search-path"), "legacy");
            await res.body?.cancel();
          }
          assertEquals(searchQueries(), 30);

          await setFlag(true, 100);
          await eventually(
            "optimized path at 100%",
            async () => (await pathOf(searchUrl(5))) === "optimized" ? true : undefined,
          );
          proxy.setDelay(5);
          proxy.reset();
          const optimized = await Promise.all(
            Array.from(
              { length: 50 },
              (_, i) => fetch(searchUrl(i, "&limit=8"), { headers: auth }),
            ),
          );
          for (const res of optimized) {
            assertEquals(res.headers.get("x-search-path"), "optimized");
            await res.body?.cancel();
          }
          const count = searchQueries();
          assert(
            count < 150,
            `50 optimized requests over HTTP cost ${count} queries (legacy: 150)`,
          );
          assert(count >= 1, `each batch is one statement: ${count}`);
          proxy.setDelay(1);
        },
      );

      await t.step("answers a repeated search from the result cache, without a query", async () => {
        const target = searchUrl(6, "&limit=9&passengers=2");
        const first = await fetch(target, { headers: auth });
        assertEquals([first.status, first.headers.get("x-cache")], [200, "miss"]);
        const body = await first.json();
        proxy.reset();
        const again = await fetch(target, { headers: auth });
        assertEquals([again.status, again.headers.get("x-cache")], [200, "l1"]);
        assertEquals(await again.json(), body);
        assertEquals(searchQueries(), 0);
      });

      await t.step(
        "flushes metrics into monitoring.function_metrics in the background",
        async () => {
          const rows = await eventually("metrics rows", async () => {
            const rows = await db.sql<
              { path: string; requests: number; client_errors: number; db_queries: number }[]
            >`select path, sum(requests)::int as requests, sum(client_errors)::int as client_errors,
                 sum(db_queries)::int as db_queries
            from monitoring.function_metrics where function_name = 'flight-search'
           group by path order by path`;
            const total = rows.reduce((n, r) => n + r.requests, 0);
            return total >= 100 && rows.some((r) => r.path === "optimized") ? rows : undefined;
          });
          const legacy = rows.find((r) => r.path === "legacy")!;
          const optimized = rows.find((r) => r.path === "optimized")!;
          assert(legacy.client_errors >= 30, `client errors recorded: ${legacy.client_errors}`);
          assert(legacy.db_queries >= 30 && optimized.db_queries >= 3);
          // Never one INSERT per request: a burst of 60 requests (client mistakes: no search
          // queries) is written by the proxy-counted INSERTs of one or two flushes.
          const clientErrors = async () => {
            const [row] = await db.sql<{ n: number }[]>`
              select coalesce(sum(client_errors), 0)::int as n from monitoring.function_metrics
               where function_name = 'flight-search'`;
            return row!.n;
          };
          const before = await clientErrors();
          proxy.reset();
          await Promise.all(Array.from({ length: 60 }, async () => {
            const res = await fetch(`${url}?origin=JFK`, { headers: auth });
            assertEquals(res.status, 400);
            await res.body?.cancel();
          }));
          await eventually(
            "the burst's metrics",
            async () => (await clientErrors()) >= before + 60 ? true : undefined,
          );
          const inserts = Object.entries(proxy.stats().byStatement)
            .filter(([text]) => text.startsWith("insert into monitoring.function_metrics"))
            .reduce((n, [, count]) => n + count, 0);
          assert(inserts >= 1 && inserts <= 3, `${inserts} INSERTs for a burst of 60 requests`);
        },
      );

      await t.step(
        "a fresh isolate answers a search another isolate cached from L2 (the stack's Redis)",
        async () => {
          assert(stack.upstashUrl, "the stack runs Redis behind the Upstash bridge");
          const target = searchUrl(7, "&limit=7&passengers=3");
          const first = await fetch(target, { headers: auth });
          assertEquals([first.status, first.headers.get("x-cache")], [200, "miss"]);
          const body = await first.json();
          // The L2 write is in the background: wait until it is readable before restarting.
          await new Promise((resolve) => setTimeout(resolve, 300));
          await stack.restartFunction("flight-search");
          proxy.reset();
          const again = await fetch(target, { headers: auth });
          assertEquals([again.status, again.headers.get("x-cache")], [200, "l2"]);
          assertEquals(await again.json(), body);
          assertEquals(searchQueries(), 0);
        },
      );

      await t.step(
        "stats and cache warm through the gateway: service_role only, 4xx for client mistakes",
        async () => {
          const userJwt = await new SignJWT({ sub: "user-1", role: "authenticated" })
            .setProtectedHeader({ alg: "HS256" })
            .setExpirationTime("1h")
            .sign(new TextEncoder().encode(stack.jwtSecret));
          const call = async (path: string, init: RequestInit, key?: string) => {
            const res = await fetch(`${url}${path}`, {
              ...init,
              headers: {
                "content-type": "application/json",
                ...(key ? { authorization: `Bearer ${key}` } : {}),
              },
            });
            return { status: res.status, body: await res.json() };
          };
          for (
            const [path, init] of [["/stats", {}], ["/cache/warm", { method: "POST" }]] as const
          ) {
            assertEquals((await call(path, init)).status, 401, `${path} without a JWT`);
            assertEquals((await call(path, init, "a.b.c")).status, 401, `${path} bad JWT`);
            for (const key of [stack.anonKey, userJwt]) {
              const res = await call(path, init, key);
              assertEquals([res.status, res.body.error.code], [403, "forbidden"], path);
            }
          }

          const stats = await call("/stats", {}, stack.serviceRoleKey);
          assertEquals(stats.status, 200);
          assertEquals(
            [stats.body.flag.known, stats.body.flag.enabled, stats.body.flag.traffic_percentage],
            [true, true, 100],
          );
          assertEquals([stats.body.cache.enabled, stats.body.cache.l2_enabled], [true, true]);
          assertEquals(stats.body.pool.max, 3);
          assert(stats.body.isolate.memory_rss_bytes > 0);

          const bad = await call(
            "/cache/warm",
            { method: "POST", body: JSON.stringify({ top: 0 }) },
            stack.serviceRoleKey,
          );
          assertEquals([bad.status, bad.body.error.field], [400, "top"]);

          // The searches of the steps above were flushed with their routes: the top three exist.
          const warm = await call(
            "/cache/warm",
            { method: "POST", body: JSON.stringify({ top: 3, window_minutes: 60 }) },
            stack.serviceRoleKey,
          );
          assertEquals(warm.status, 200, JSON.stringify(warm.body));
          assertEquals([warm.body.routes, warm.body.failed], [3, 0]);
          assertEquals(warm.body.warmed + warm.body.already_cached, warm.body.searches);
        },
      );
    } finally {
      await stack.stop();
      await proxy.close();
      await db.drop();
    }
  },
);
