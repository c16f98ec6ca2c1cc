import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { searchBody, searchFor } from "./workloads/search_mix.js";
import { evaluate, loadSla } from "../sla/sla.ts";
import { canonicalBody, startSearchHeaderServer } from "./_search_header_server.ts";
import { DriverError, DriverOptionsError, runScenario } from "./driver.ts";
import { RoutesError } from "./routes.ts";
import { parseLoadSummary, slaFigures, thresholdsOk } from "./summary.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const anonKey = "test-anon-key";
const routes = Array.from({ length: 20 }, (_, i) => ({
  origin: `A${String.fromCharCode(65 + i)}A`,
  destination: `B${String.fromCharCode(65 + i)}B`,
  departureDate: "2027-01-05",
}));

const count = (summary: Awaited<ReturnType<typeof runScenario>>, name: string, key = "count") =>
  summary.metrics[name]?.values[key] ?? 0;

Deno.test(
  "runScenario() sends the shared search mix and reports what the server answered",
  opts,
  async () => {
    const server = startSearchHeaderServer({ anonKey, optimizedPercent: 50 });
    try {
      const vus = 4;
      const summary = await runScenario({
        baseUrl: server.url,
        anonKey,
        scenario: "cache-high",
        durationS: 2,
        vus,
        routes,
      });
      // Valid against the schema the k6 summaries are validated with (runScenario parsed it too).
      parseLoadSummary(JSON.parse(JSON.stringify(summary)));
      assertEquals(summary.meta.driver, "autocannon");
      assertEquals(summary.meta.routes, routes.length);
      assert(summary.meta.machine && summary.meta.machine.cores > 0);

      const s = server.stats;
      const answered = count(summary, "http_reqs");
      assert(answered > 50, `requests: ${answered}`);
      assertEquals(s.unauthorized + s.badRequests + s.serverErrors, 0);
      // The server also counts the requests still in flight when the run stopped: at most one
      // per VU.
      assert(
        s.requests >= answered && s.requests <= answered + vus,
        `${s.requests} vs ${answered}`,
      );
      const legacy = count(summary, "search_legacy");
      const optimized = count(summary, "search_optimized");
      assertEquals(legacy + optimized, answered);
      assert(s.byPath.legacy >= legacy && s.byPath.legacy <= legacy + vus);
      assert(s.byPath.optimized >= optimized && s.byPath.optimized <= optimized + vus);
      const l1 = count(summary, "cache_l1");
      assertEquals(l1 + count(summary, "cache_miss"), answered);
      assert(s.byCache.l1 >= l1 && s.byCache.l1 <= l1 + vus);
      assertEquals(s.sessions.size, vus, "one session per VU");
      assertEquals(
        summary.root_group!.checks.every((c) => c.fails === 0 && c.passes === answered),
        true,
      );

      // Every body the server got is one of the mix's searches, in the mix's order of keys.
      const mix = {
        routes,
        duplication: summary.meta.duplication,
        seed: summary.meta.seed,
        phaseCount: 1,
      };
      const expected = new Set<string>();
      for (let i = 0; i < s.requests + vus; i++) {
        expected.add(canonicalBody(searchBody(searchFor(mix, 0, i))));
      }
      assert(s.bodies.every((b) => expected.has(b)), "a body outside the search mix");
      const hitRatio = slaFigures(summary).cache_hit_ratio!;
      assert(Math.abs(hitRatio - l1 / answered) < 1e-12);
      assertEquals(thresholdsOk(summary), true);
    } finally {
      await server.close();
    }
  },
);

Deno.test(
  "runScenario() reports the sweep per concurrency level with at most that many in flight",
  opts,
  async () => {
    const server = startSearchHeaderServer({ anonKey, delayMs: 5 });
    try {
      const summary = await runScenario({
        baseUrl: server.url,
        anonKey,
        scenario: "sweep",
        durationS: 4,
        routes,
      });
      let perLevel = 0;
      for (const level of [1, 5, 10, 50]) {
        const n = count(summary, `http_req_duration{concurrency:${level}}`);
        assert(n > 0, `level ${level} ran`);
        perLevel += n;
        const paths = count(summary, `search_duration_legacy{concurrency:${level}}`) +
          count(summary, `search_duration_optimized{concurrency:${level}}`);
        assertEquals(paths, n, `level ${level}: every response names its path`);
      }
      assertEquals(perLevel, count(summary, "http_req_duration"));
      assert(server.stats.maxInFlight <= 50, `in flight: ${server.stats.maxInFlight}`);
      assert(server.stats.maxInFlight > 10, `level 50 overlapped: ${server.stats.maxInFlight}`);
      // A session per request (the sweep compares the paths at every level, one VU included).
      assertEquals(server.stats.sessions.size, server.stats.requests);
      assertEquals(thresholdsOk(summary), true, "every level and path served requests");
      // Every search of the sweep is fresh, so nothing is answered from the cache.
      assertEquals(server.stats.byCache.l1, 0);
    } finally {
      await server.close();
    }
  },
);

Deno.test(
  "runScenario() fails the error-rate threshold when the server answers 5xx",
  opts,
  async () => {
    const server = startSearchHeaderServer({ anonKey, failEvery: 4 });
    try {
      const summary = await runScenario({
        baseUrl: server.url,
        anonKey,
        scenario: "baseline",
        durationS: 1,
        vus: 2,
        routes,
      });
      const errorRate = slaFigures(summary).error_rate!;
      assert(Math.abs(errorRate - 0.25) < 0.05, `error rate ${errorRate}`);
      assertEquals(thresholdsOk(summary), false);
      assertEquals(
        summary.metrics.server_errors!
          .thresholds![`rate<=${(await loadSla()).metrics.error_rate.rollback}`]!.ok,
        false,
      );
      assertEquals(evaluate(await loadSla(), "error_rate", errorRate), "rollback");
    } finally {
      await server.close();
    }
  },
);

Deno.test("runScenario() derives routes from the REST API when none are given", opts, async () => {
  const flights = routes.flatMap((r, i) =>
    Array.from({ length: i + 1 }, () => ({
      origin: r.origin,
      destination: r.destination,
      departure_date: r.departureDate,
    }))
  );
  const server = startSearchHeaderServer({ anonKey, flights });
  try {
    const summary = await runScenario({
      baseUrl: server.url,
      anonKey,
      scenario: "baseline",
      durationS: 1,
      vus: 1,
    });
    assertEquals(summary.meta.routes, routes.length);
    assert(count(summary, "http_reqs") > 0);
  } finally {
    await server.close();
  }
  const bare = startSearchHeaderServer({ anonKey });
  try {
    const error = await assertRejects(
      () => runScenario({ baseUrl: bare.url, anonKey, scenario: "baseline", durationS: 1 }),
      RoutesError,
    );
    assertStringIncludes(error.message, "answered 404");
  } finally {
    await bare.close();
  }
});

Deno.test("runScenario() refuses bad options, naming them, before sending anything", async () => {
  const base = { baseUrl: "http://127.0.0.1:9", anonKey, scenario: "baseline", routes };
  const cases: [Record<string, unknown>, string][] = [
    [{ baseUrl: "ftp://x" }, "baseUrl"],
    [{ anonKey: "" }, "anonKey"],
    [{ anonKey: undefined }, "anonKey: is required"],
    [{ scenario: "smoke" }, "scenario"],
    [{ durationS: 0 }, "durationS"],
    [{ vus: 1.5 }, "vus"],
    [{ gateLevel: "panic" }, "gateLevel"],
    [
      { routes: [{ origin: "xx", destination: "BBB", departureDate: "2027-01-01" }] },
      "routes.0.origin",
    ],
    [{ dbUrl: "mysql://x" }, "dbUrl"],
    [{ bogus: 1 }, "bogus"],
    [{ rate: 5 }, "rate:"],
    [{ scenario: "sweep", vus: 3 }, "vus:"],
  ];
  for (const [patch, field] of cases) {
    const error = await assertRejects(
      () => runScenario({ ...base, ...patch } as Parameters<typeof runScenario>[0]),
      DriverOptionsError,
    );
    assertStringIncludes(error.message, field);
  }
});

Deno.test("runScenario() says what is missing when Node cannot be started", opts, async () => {
  const error = await assertRejects(
    () =>
      runScenario({
        baseUrl: "http://127.0.0.1:9",
        anonKey,
        scenario: "baseline",
        durationS: 1,
        routes,
        node: "/nonexistent/node",
      }),
    DriverError,
  );
  assertStringIncludes(error.message, "install Node");
});

Deno.test("runScenario() aborted before its runner starts, starts none", async () => {
  // Ctrl-C as the monitoring window begins: the runner must not run out its whole duration.
  const controller = new AbortController();
  controller.abort(new DOMException("monitoring ended", "AbortError"));
  const error = await assertRejects(() =>
    runScenario({
      baseUrl: "http://127.0.0.1:9",
      anonKey,
      scenario: "baseline",
      durationS: 60,
      routes,
      node: "/nonexistent/node", // reached only if a runner were started
      signal: controller.signal,
    })
  );
  assertEquals((error as DOMException).name, "AbortError");
});
