// Renderer inputs below are made up to exercise the arithmetic; they are never shown as results.
import { assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { evaluate, loadSla } from "../sla/sla.ts";
import { kmsReportSchema } from "../bench/kms_report.ts";
import { searchReportSchema } from "../bench/search_report.ts";
import { deploymentSchema, type ReportInputs } from "./inputs.ts";
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

function level(contender: string, n: number, queries: number, p95: number, rps: number) {
  return {
    contender,
    level: n,
    waves: 5,
    requests: 5 * n,
    errors: 0,
    queriesPerWave: { median: queries, mean: queries, min: queries, max: queries },
    roundTripsPerWave: { median: queries, mean: queries, min: queries, max: queries },
    otherQueries: 0,
    latencyMs: { p50: p95 / 2, p95, p99: p95 + 1, mean: p95 / 2 },
    serverLatencyMs: { p50: null, p95: p95 - 1, p99: null },
    requestsPerSecond: rps,
  };
}

const search = searchReportSchema.parse({
  meta: {
    startedAt: "2026-11-22T11:00:00.000Z",
    endedAt: "2026-11-22T11:01:00.000Z",
    machine,
    command: "deno task bench:search --levels 10",
  },
  settings: {
    levels: [10],
    requests: 50,
    delayMsEachWay: 5,
    seedFlights: 1000,
    seededFlights: 1000,
    connectionMode: "direct",
    namedParses: 0,
    dbPoolMax: 3,
    coalescing: { windowMs: 2 },
  },
  method: { peer: "dataloader" },
  results: [
    level("legacy", 10, 30, 90, 100),
    level("optimized", 10, 3, 15, 400),
    level("dataloader", 10, 6, 30, 200),
  ],
  targets: [{ name: "queries", goal: "≤ 3", measured: "3", met: true }, {
    name: "p95",
    goal: "≥ 10×",
    measured: "6×",
    met: false,
  }],
});

function scenario(name: string, calls: number, connections: number, reuseRatio: number) {
  const latency = { n: 50, p50: 20, p95: 30, mean: 21 };
  return {
    name,
    label: `${name} label`,
    encrypt: latency,
    decrypt: latency,
    kmsCalls: { GenerateDataKey: calls / 2, Decrypt: calls / 2 },
    kmsCallsTotal: calls,
    requests: calls,
    connections,
    connectionsPer100Ops: connections,
    reuseRatio,
  };
}

const kms = kmsReportSchema.parse({
  meta: {
    startedAt: "2026-11-22T11:30:00.000Z",
    endedAt: "2026-11-22T11:31:00.000Z",
    machine,
    command: "deno task bench:kms",
  },
  settings: {
    operations: 50,
    warmup: 0,
    rttMs: 20,
    handshakeMs: 40,
    https: true,
    maxMessages: 100,
    maxAgeMs: 300000,
    maxBytes: 1048576,
    payloadBytes: 80,
  },
  results: [scenario("naive", 100, 100, 0), scenario("pooled", 100, 1, 0.99)],
  ratios: { "encrypt p50, naive / pooled": 2, "undefined ratio": null },
  targets: [{ name: "pooled: new connections", goal: "≤ 1", measured: "1", met: true }],
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

Deno.test("buildReport() adds the isolates series of bench:search when the report has one", () => {
  const isolate = (k: number, queries: number, p95: number) => ({
    isolates: k,
    level: 50,
    waves: 12,
    requests: 600,
    errors: 0,
    queriesPerWave: { median: queries, mean: queries, min: queries, max: queries },
    latencyMs: { p50: p95 - 10, p95, p99: p95 + 5, mean: p95 - 8 },
    requestsPerSecond: 300,
  });
  const withIsolates = searchReportSchema.parse({
    ...search,
    isolates: [isolate(1, 3, 40), isolate(2, 6, 42), isolate(4, 12, 45)],
  });
  const model = buildReport(
    {
      search: { status: "ok", path: "s.json", data: withIsolates },
      kms: { status: "missing" as const, path: "k.json" },
      loads: [],
    },
    sla,
    context,
  );
  const tables = model.sections[0]!.tables;
  assertEquals(tables.length, 4);
  assertEquals(tables[3]!.rows.map((r) => [r[0], r[3], r[4], r[5], r[7]]), [
    ["1", "3.00", "0.06", "1.0×", "40.0"],
    ["2", "6.00", "0.12", "2.0×", "42.0"],
    ["4", "12.00", "0.24", "4.0×", "45.0"],
  ]);
  // Older reports without the series keep their three tables.
  const without = buildReport(
    {
      search: { status: "ok", path: "s.json", data: search },
      kms: { status: "missing" as const, path: "k.json" },
      loads: [],
    },
    sla,
    context,
  );
  assertEquals(without.sections[0]!.tables.length, 3);
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
  assertEquals(searchSection!.ranAt, "2026-11-22T11:00:00.000Z");
  assertEquals(searchSection!.machine, describeMachine(machine));
  assertEquals(searchSection!.command, "deno task bench:search --levels 10");
  assertEquals(searchSection!.tables[0]!.rows[0]!.slice(0, 6), [
    "legacy",
    "10",
    "50",
    "0",
    "30.00",
    "3.00",
  ]);
  assertEquals(searchSection!.tables[1]!.rows, [["10", "10.0×", "2.0×", "6.0×", "2.0×", "4.0×"]]);
  assertEquals(searchSection!.tables[2]!.rows.map((r) => r[3]), ["✓ met", "✗ missed"]);
  assertEquals(searchSection!.charts.map((c) => c.id), [
    "search-p50",
    "search-p95",
    "search-p99",
    "search-queries",
    "search-rps",
  ]);
  assertEquals(searchSection!.charts[3]!.datasets, [
    { label: "legacy", data: [3] },
    { label: "optimized", data: [0.3] },
    { label: "dataloader", data: [0.6] },
  ]);

  assertEquals(kmsSection!.ranAt, "2026-11-22T11:30:00.000Z");
  assertEquals(kmsSection!.tables[0]!.rows.map((r) => [r[6], r[7], r[9]]), [
    ["100 (GenerateDataKey 50, Decrypt 50)", "100", "0.0%"],
    ["100 (GenerateDataKey 50, Decrypt 50)", "1", "99.0%"],
  ]);
  assertEquals(kmsSection!.tables[1]!.rows, [["encrypt p50, naive / pooled", "2.00"], [
    "undefined ratio",
    "–",
  ]]);
  assertEquals(kmsSection!.tables[2]!.rows, [["pooled: new connections", "≤ 1", "1", "✓ met"]]);

  const reuse = model.compliance.rows.filter((r) => r[0] === "kms_reuse_ratio");
  // Judged on the pooled client only: the naive baseline is in the KMS table, not the SLA.
  assertEquals(reuse.map((r) => [r[1], r[2]]), [["bench:kms: pooled", "99.0%"]]);
  assertEquals(reuse[0]![5], evaluate(sla, "kms_reuse_ratio", 0.99));

  const md = renderMarkdown(model);
  assertStringIncludes(md, "command: `deno task bench:search --levels 10`");
  assertStringIncludes(md, "run started 2026-11-22T11:30:00.000Z, on Test CPU, 2 cores");
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
