import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { findRoutes, readRoutesFile } from "../load/routes.ts";
import { readLoadSummary } from "../load/summary.ts";
import { PreconditionError } from "../_cli/errors.ts";
import { repoRoot } from "./paths.ts";
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

const flights = Array.from({ length: 10 }, (_, i) => ({
  origin: `A${String.fromCharCode(65 + i)}A`,
  destination: `B${String.fromCharCode(65 + i)}B`,
  departure_date: "2027-01-05",
}));

/**
 * k6 is not installable here: a fake `k6` (a shell script, as the supabase stub is) stands in for
 * the binary. It answers `k6 version` with `version`, and for `k6 run` records its arguments, the
 * environment it was given and the routes file, writes `summary` to SUMMARY_FILE and exits `code`.
 */
async function fakeK6(dir: string, version: string, summary: unknown, code: number) {
  const k6 = `${dir}/k6`;
  await Deno.writeTextFile(
    k6,
    `#!/usr/bin/env bash
if [ "$1" = version ]; then echo '${version}'; exit 0; fi
printf '%s\n' "$@" > "${dir}/args"
env | grep -E '^(SUPABASE_|ROUTES_FILE|LOAD_|SUMMARY_FILE)' | sort > "${dir}/env"
cp "$ROUTES_FILE" "${dir}/routes.json"
echo '${JSON.stringify(summary)}' > "$SUMMARY_FILE"
exit ${code}
`,
  );
  await Deno.chmod(k6, 0o755);
  return k6;
}

Deno.test(
  "k6Tester() passes k6 the routes file, the target and the workload; exit 99 lists the failed thresholds",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const anonKey = "test-anon-key";
    const server = startSearchHeaderServer({ anonKey, flights });
    try {
      const k6 = await fakeK6(dir, "k6 v0.53.0 (go1.22.5, linux/amd64)", k6Summary(0.1), 99);
      assertEquals(findOnPath("k6", { PATH: `/nonexistent:${dir}` }), k6);
      assertEquals(findOnPath("k6", { PATH: "/nonexistent" }), undefined);

      const reportsDir = `${dir}/reports`;
      const tester = k6Tester(k6, { reportsDir, keepSummary: true });
      await tester.preflight!();
      const result = await tester({
        api: { apiUrl: server.url, anonKey },
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
      const args = (await Deno.readTextFile(`${dir}/args`)).trim().split("\n");
      assertEquals(args, ["run", "--quiet", `${repoRoot}/tests/load/baseline.js`]);
      assertEquals((await Deno.readTextFile(`${dir}/env`)).trim().split("\n"), [
        "LOAD_DURATION=15s",
        "LOAD_VUS=7",
        `ROUTES_FILE=${reportsDir}/load/routes.json`,
        `SUMMARY_FILE=${reportsDir}/load/baseline.json`,
        `SUPABASE_ANON_KEY=${anonKey}`,
        `SUPABASE_URL=${server.url}`,
      ]);
      // The routes the built-in driver would search: here, flights read through the REST API.
      const expected = await findRoutes({ baseUrl: server.url, anonKey });
      const written = await readRoutesFile(`${dir}/routes.json`);
      assertEquals(written, expected);
      assertEquals(written.length, flights.length);
      // keepSummary: the summary stays where the HTML report reads it.
      assertEquals((await readLoadSummary(`${reportsDir}/load/baseline.json`)).meta.driver, "k6");
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("k6Tester() stops before anything runs when k6 is older than v0.53 or prints no version", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [version, message] of [
        ["k6 v0.52.0 (go1.22.4, linux/amd64)", "k6 v0.52.0; tests/load/ needs k6 v0.53.0 or newer"],
        ["something else", "printed no k6 version"],
      ]
    ) {
      const k6 = await fakeK6(dir, version!, {}, 0);
      const tester = k6Tester(k6, { reportsDir: `${dir}/reports` });
      const error = await assertRejects(() => tester.preflight!(), PreconditionError);
      assertStringIncludes(error.message, message!);
      await assertRejects(
        () =>
          tester({
            api: { apiUrl: "http://127.0.0.1:9", anonKey: "anon" },
            dbUrl: undefined,
            workload: { scenario: "baseline", vus: 1, duration: "1s" },
            sla,
            executor: quiet(),
            signal,
          }),
        PreconditionError,
      );
      assertEquals(await exists(`${dir}/args`), false, "k6 run never ran");
    }
    const k6 = await fakeK6(dir, "k6 v1.3.0 (commit/devel, go1.24.6, linux/amd64)", {}, 0);
    await k6Tester(k6).preflight!();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("k6Tester() in a dry run prints the k6 command with ROUTES_FILE and runs nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const k6 = await fakeK6(dir, "k6 v0.53.0 (go1.22.5, linux/amd64)", {}, 0);
    const lines: string[] = [];
    const result = await k6Tester(k6, { reportsDir: `${dir}/reports` })({
      api: { apiUrl: "http://127.0.0.1:9", anonKey: "anon" },
      dbUrl: undefined,
      workload: { scenario: "baseline", vus: 1, duration: "1s" },
      sla,
      executor: new Executor({ dryRun: true, print: (line) => lines.push(line) }),
      signal,
    });
    assertEquals(result.passed, true);
    const command = lines.find((line) => line.includes("tests/load/baseline.js")) ?? "";
    assertStringIncludes(command, "ROUTES_FILE");
    assert(!command.includes("anon "), command);
    assertEquals(await exists(`${dir}/args`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

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
