// Renderer inputs below are made up to exercise the arithmetic; they are never shown as results.
import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { evaluate, loadSla } from "../sla/sla.ts";
import {
  deploymentSchema,
  kmsBenchSchema,
  type ReportInputs,
  searchBenchSchema,
} from "./inputs.ts";
import { renderMarkdown } from "./markdown.ts";
import { buildReport, describeMachine } from "./model.ts";

const sla = await loadSla();
const machine = {
  cpuModel: "Test CPU",
  cores: 2,
  memoryBytes: 24 * 2 ** 30,
  os: "linux 6.1 x86_64",
  runtime: "deno 2.9.6",
};
const context = { generatedAt: new Date("2026-11-22T12:00:00Z"), machine };

const search = searchBenchSchema.parse({
  startedAt: "2026-11-22T11:00:00Z",
  machine,
  results: [
    {
      contender: "legacy",
      concurrency: 10,
      requests: 10,
      queries: 30,
      p50Ms: 40,
      p95Ms: 90,
      p99Ms: 99,
      reqPerS: 100,
    },
    {
      contender: "optimized",
      concurrency: 10,
      requests: 10,
      queries: 3,
      p50Ms: 10,
      p95Ms: 15,
      p99Ms: 18,
      reqPerS: 400,
    },
  ],
});
const kms = kmsBenchSchema.parse({
  startedAt: "2026-11-22T11:30:00Z",
  results: [
    {
      contender: "naive",
      operation: "encrypt",
      operations: 100,
      p50Ms: 40,
      p95Ms: 60,
      kmsCalls: 100,
      newConnections: 100,
    },
    {
      contender: "pooled",
      operation: "encrypt",
      operations: 100,
      p50Ms: 21,
      p95Ms: 25,
      kmsCalls: 100,
      newConnections: 1,
    },
  ],
});

Deno.test("buildReport() marks every section not run when reports/ is empty", () => {
  const inputs: ReportInputs = {
    search: { status: "missing", path: "r/bench/search.json" },
    kms: { status: "invalid", path: "r/bench/kms.json", error: "results: required" },
    loads: [],
  };
  const model = buildReport(inputs, sla, context);
  assertEquals(model.sections.map((s) => s.status), ["not_run", "not_run", "invalid"]);
  assertEquals(model.sections.flatMap((s) => s.charts), []);
  assertEquals(model.machine, describeMachine(machine));
  const md = renderMarkdown(model);
  assertStringIncludes(md, "not run: r/bench/search.json not found — run `deno task bench:search`");
  assertStringIncludes(md, "invalid: r/bench/kms.json: results: required");
  assertStringIncludes(md, "Generated 2026-11-22T12:00:00.000Z on Test CPU, 2 cores, 24.0 GiB");
});

Deno.test("buildReport() derives per-request queries, ratios and KMS reuse from the inputs", () => {
  const model = buildReport(
    {
      search: { status: "ok", path: "s.json", data: search },
      kms: { status: "ok", path: "k.json", data: kms },
      loads: [],
    },
    sla,
    context,
  );
  const [searchSection, , kmsSection] = model.sections;
  assertEquals(searchSection!.tables[0]!.rows[0]!.slice(0, 5), [
    "legacy",
    "10",
    "10",
    "30",
    "3.00",
  ]);
  assertEquals(searchSection!.tables[1]!.rows, [["10", "10.0×", "6.0×", "4.0×"]]);
  assertEquals(searchSection!.charts.map((c) => c.id), [
    "search-p95",
    "search-queries",
    "search-rps",
  ]);
  assertEquals(searchSection!.charts[1]!.datasets, [
    { label: "legacy", data: [30] },
    { label: "optimized", data: [3] },
  ]);
  assertEquals(kmsSection!.tables[0]!.rows.map((r) => r[6]), ["100.0", "1.0"]);

  const reuse = model.compliance.rows.filter((r) => r[0] === "kms_reuse_ratio");
  assertEquals(reuse.map((r) => [r[1], r[2]]), [["bench:kms: naive", "0.0%"], [
    "bench:kms: pooled",
    "99.0%",
  ]]);
  assertEquals(reuse[1]![5], evaluate(sla, "kms_reuse_ratio", 0.99));
  assert(reuse[0]![5] !== "pass", "a client per operation reuses nothing");
});

Deno.test("buildReport() leads with the latest rollout: outcome, phases, checks side by side", () => {
  const deployment = deploymentSchema.parse({
    id: "dep_20261122_110000_abcdef",
    environment: "local",
    flagKey: "flight_search_optimization",
    fromPercentage: 0,
    toPercentage: 0,
    steps: [10, 50],
    status: "rolled_back",
    reason: "2 consecutive failed checks at 10%: error_rate 0.110 > rollback level 0.05",
    startedAt: "2026-11-22T11:00:00.000Z",
    finishedAt: "2026-11-22T11:01:00.000Z",
    startedBy: "tester@host",
    dryRun: false,
    phases: [
      { number: 1, name: "Database", durationMs: 1200, outcome: "ok", detail: "schema verified" },
      { number: 4, name: "Monitoring", step: 10, durationMs: 10_000, outcome: "ok" },
    ],
    checks: [1, 2].map((index) => ({
      step: 10,
      check: {
        index,
        outcome: "fail",
        optimizedRequests: 300,
        legacyRequests: 2700,
        metrics: [
          { metric: "error_rate", optimized: 0.11, legacy: 0, verdict: "rollback" },
          { metric: "latency_p95_ms", optimized: 120, legacy: 150, verdict: "pass" },
        ],
        notes: ["error_rate 0.110 > rollback level 0.05"],
      },
    })),
  });
  const model = buildReport(
    {
      search: { status: "missing", path: "s.json" },
      kms: { status: "missing", path: "k.json" },
      loads: [],
      rollout: { status: "ok", path: "d.json", data: deployment },
    },
    sla,
    context,
  );
  const [rollout] = model.sections;
  assertEquals(rollout?.id, "rollout");
  assertStringIncludes(rollout!.notes[0]!, "rolled back — 2 consecutive failed checks");
  assertEquals(rollout!.tables[0]!.rows[1]!.slice(0, 5), ["4", "Monitoring", "10%", "ok", "10.0"]);
  assertEquals(rollout!.tables[1]!.rows[0]!.slice(0, 6), [
    "10%",
    "1",
    "fail",
    "300 / 2,700",
    "11.0% / 0.0%",
    "120.0 / 150.0",
  ]);
  assertEquals(rollout!.charts.map((c) => [c.id, c.labels]), [
    ["rollout-p95", ["10% #1", "10% #2"]],
    ["rollout-errors", ["10% #1", "10% #2"]],
  ]);
  assertEquals(rollout!.charts[1]!.datasets, [
    { label: "optimized", data: [0.11, 0.11] },
    { label: "legacy", data: [0, 0] },
  ]);
  assertStringIncludes(renderMarkdown(model), "Rollout: optimized vs legacy");
});
