import { assert, assertEquals } from "../../tests/support/assert.ts";
import { faultsSection } from "../report/faults_section.ts";
import { faultsMarkdown, faultsReportSchema } from "./faults_report.ts";

const report = {
  meta: {
    startedAt: "2026-12-07T14:00:00.000Z",
    endedAt: "2026-12-07T14:01:00.000Z",
    machine: { cpuModel: "test cpu", cores: 2, memoryBytes: 1, os: "linux", runtime: "deno 2" },
    command: "deno task bench:faults",
  },
  settings: { concurrency: 8, faultMs: 6000, cachedShare: 0.2 },
  results: [{
    name: "postgres_freeze",
    label: "Postgres frozen",
    function: "flight-search",
    budgetMs: 3000,
    faultMs: 6000,
    requests: 10,
    withinBudgetPct: 100,
    marginMs: 1000,
    statusHistogram: { "200": 2, "503": 8 },
    errorCodes: { database_unavailable: 8 },
    p50Ms: 12,
    p99Ms: 3050,
    maxMs: 3050,
    breakerOpenAfterMs: 3100,
    openBreakerP50Ms: 6.5,
    recoveredAfterMs: 90,
  }],
  targets: [{ name: "no 500", goal: "0", measured: "0", met: true }],
};

Deno.test("faultsReportSchema accepts a report and refuses a share above 100 %", () => {
  const parsed = faultsReportSchema.safeParse(report);
  assert(parsed.success, JSON.stringify(parsed.error?.issues));
  const bad = structuredClone(report);
  bad.results[0]!.withinBudgetPct = 101;
  assertEquals(faultsReportSchema.safeParse(bad).success, false);
});

Deno.test("faultsMarkdown() and faultsSection() show each fault's figures as measured", () => {
  const parsed = faultsReportSchema.parse(report);
  const md = faultsMarkdown(parsed);
  assert(md.includes("| Postgres frozen (flight-search, budget 3000 ms) | 10 | 100.0 % |"), md);
  assert(md.includes("503: 8 (database_unavailable 8)"), md);
  const section = faultsSection({ status: "ok", path: "reports/bench/faults.json", data: parsed });
  assertEquals(section.status, "ok");
  const row = section.tables[0]!.rows[0]!;
  assertEquals([row[2], row[3], row[7], row[8], row[9]], ["10", "100.0%", "3100", "6.5", "90"]);
  const missing = faultsSection({ status: "missing", path: "reports/bench/faults.json" });
  assertEquals(missing.status, "not_run");
});
