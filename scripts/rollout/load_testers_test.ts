import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { loadSla } from "../sla/sla.ts";
import { startSearchHeaderServer } from "../load/_search_header_server.ts";
import { Executor } from "./executor.ts";
import { driverTester, findOnPath, k6Tester } from "./load_testers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const sla = await loadSla();
const quiet = () => new Executor({ dryRun: false, echo: false, print: () => {} });
const signal = new AbortController().signal;

/** A summary as the k6 scripts' handleSummary writes it, with one failed threshold. */
function k6Summary(errorRate: number) {
  const trend = { avg: 20, min: 5, med: 18, max: 90, "p(90)": 40, "p(95)": 50, count: 400 };
  const limit = sla.metrics.error_rate.rollback;
  return {
    meta: {
      driver: "k6",
      workload: "baseline",
      description: "",
      startedAt: "2026-11-22T10:00:00.000Z",
      endedAt: "2026-11-22T10:00:15.000Z",
      baseUrl: "http://127.0.0.1:54321",
      seed: 1,
      duplication: 0.5,
      gateLevel: "rollback",
      routes: 20,
      phases: [{
        name: "baseline",
        index: 0,
        executor: "constant-vus",
        startS: 0,
        durationS: 15,
        vus: 7,
        tags: {},
      }],
    },
    state: { testRunDurationMs: 15000 },
    metrics: {
      http_reqs: { type: "counter", contains: "default", values: { count: 400, rate: 26 } },
      http_req_duration: { type: "trend", contains: "time", values: trend },
      http_req_failed: {
        type: "rate",
        contains: "default",
        values: { rate: errorRate, passes: 40, fails: 360 },
      },
      server_errors: {
        type: "rate",
        contains: "default",
        values: { rate: errorRate, passes: 40, fails: 360 },
        thresholds: { [`rate<=${limit}`]: { ok: limit === null || errorRate <= limit } },
      },
    },
  };
}

Deno.test("k6Tester() runs the scenario script with the target in the environment; exit 99 lists the failed thresholds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // k6 is not installable here; a stub on PATH stands in for the binary (as the supabase stub does).
    const k6 = `${dir}/k6`;
    await Deno.writeTextFile(
      k6,
      `#!/usr/bin/env bash
echo "$@" > "${dir}/args"; echo "$SUPABASE_URL $LOAD_VUS $LOAD_DURATION" > "${dir}/env"
echo '${JSON.stringify(k6Summary(0.1))}' > "$SUMMARY_FILE"
exit 99
`,
    );
    await Deno.chmod(k6, 0o755);
    assertEquals(findOnPath("k6", { PATH: `/nonexistent:${dir}` }), k6);
    assertEquals(findOnPath("k6", { PATH: "/nonexistent" }), undefined);

    const result = await k6Tester(k6)({
      api: { apiUrl: "http://127.0.0.1:54321", anonKey: "anon" },
      dbUrl: undefined,
      workload: { scenario: "baseline", vus: 7, duration: "15s" },
      sla,
      executor: quiet(),
      signal,
    });
    assertEquals(result.passed, false);
    assertEquals(result.failures, [`server_errors rate<=${sla.metrics.error_rate.rollback}`]);
    assertEquals(result.summary.error_rate, 0.1);
    assertEquals(result.summary.requests, 400);
    const args = await Deno.readTextFile(`${dir}/args`);
    assertStringIncludes(args, "run --quiet");
    assertStringIncludes(args, "tests/load/baseline.js");
    assert(!args.includes("anon"), "the key is not on the command line");
    assertEquals((await Deno.readTextFile(`${dir}/env`)).trim(), "http://127.0.0.1:54321 7 15s");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const flights = Array.from({ length: 10 }, (_, i) => ({
  origin: `A${String.fromCharCode(65 + i)}A`,
  destination: `B${String.fromCharCode(65 + i)}B`,
  departure_date: "2027-01-05",
}));

Deno.test(
  "driverTester() runs the built-in driver and fails on its crossed thresholds",
  opts,
  async () => {
    const anonKey = "test-anon-key";
    const failing = startSearchHeaderServer({ anonKey, flights, failEvery: 4 });
    const healthy = startSearchHeaderServer({ anonKey, flights });
    try {
      const workload = { scenario: "baseline", vus: 2, duration: "1s" };
      const bad = await driverTester()({
        api: { apiUrl: failing.url, anonKey },
        dbUrl: undefined,
        workload,
        sla,
        executor: quiet(),
        signal,
      });
      assertEquals(bad.tool, "driver");
      assertEquals(bad.passed, false);
      assert(bad.failures.some((f) => f.startsWith("server_errors")), bad.failures.join());
      assert(failing.stats.serverErrors > 0);

      const good = await driverTester()({
        api: { apiUrl: healthy.url, anonKey },
        dbUrl: undefined,
        workload,
        sla,
        executor: quiet(),
        signal,
      });
      assertEquals(good.passed, true, good.failures.join());
      const requests = Number(good.summary.requests ?? 0);
      // The driver counts completed requests; the server also saw the few in flight at the end.
      assert(
        requests > 0 && requests <= healthy.stats.requests,
        `${requests} of ${healthy.stats.requests}`,
      );
    } finally {
      await failing.close();
      await healthy.close();
    }
  },
);
