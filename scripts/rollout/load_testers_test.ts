import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { loadSla } from "./_sla_shim.ts";
import { Executor } from "./executor.ts";
import {
  defaultPerformanceTester,
  findOnPath,
  judgeLoadSummary,
  k6Tester,
} from "./load_testers.ts";

const sla = await loadSla();
const summary = (errorRate: number, p95: number) => ({
  metrics: {
    http_reqs: { type: "counter", values: { count: 500, rate: 50 } },
    server_errors: { type: "rate", values: { rate: errorRate } },
    http_req_duration: { type: "trend", values: { "p(95)": p95 } },
  },
});

Deno.test("judgeLoadSummary() fails a summary past the SLA's rollback levels only", () => {
  const errors = sla.metrics.error_rate!.rollback!;
  const p95 = sla.metrics.latency_p95_ms!.rollback!;
  assertEquals(judgeLoadSummary(sla, summary(errors, p95)).passed, true);
  const failed = judgeLoadSummary(sla, summary(errors * 2, p95 + 1));
  assertEquals(failed.passed, false);
  assertEquals(failed.failures.length, 2);
  assertEquals(failed.summary, { requests: 500, error_rate: errors * 2, p95_ms: p95 + 1 });
  assertEquals(judgeLoadSummary(sla, { metrics: {} }).passed, false, "no data is not a pass");
});

Deno.test("k6Tester() runs the scenario script with the target in the environment and reads exit 99 as failed thresholds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // k6 is not installable here; a stub on PATH stands in for the binary (as the supabase stub does).
    const k6 = `${dir}/k6`;
    await Deno.writeTextFile(
      k6,
      `#!/usr/bin/env bash
echo "$@" > "${dir}/args"; echo "$SUPABASE_URL $LOAD_VUS $LOAD_DURATION" > "${dir}/env"
echo '${JSON.stringify(summary(0.2, 50))}' > "$SUMMARY_FILE"
exit 99
`,
    );
    await Deno.chmod(k6, 0o755);
    assertEquals(findOnPath("k6", { PATH: `/nonexistent:${dir}` }), k6);
    assert(defaultPerformanceTester(undefined, { PATH: dir }) !== undefined);
    assertEquals(defaultPerformanceTester(undefined, { PATH: "/nonexistent" }), undefined);

    const result = await k6Tester(k6)({
      api: { apiUrl: "http://127.0.0.1:54321", anonKey: "anon" },
      workload: { scenario: "baseline", vus: 7, duration: "15s" },
      sla,
      executor: new Executor({ dryRun: false, echo: false, print: () => {} }),
      signal: new AbortController().signal,
    });
    assertEquals(result.passed, false);
    assertStringIncludes(result.failures.join(), "thresholds");
    assertEquals(result.summary.error_rate, 0.2);
    assertStringIncludes(await Deno.readTextFile(`${dir}/args`), "run --quiet");
    assertStringIncludes(await Deno.readTextFile(`${dir}/args`), "tests/load/baseline.js");
    assertEquals((await Deno.readTextFile(`${dir}/env`)).trim(), "http://127.0.0.1:54321 7 15s");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
