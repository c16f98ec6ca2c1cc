/**
 * The report's section for `deno task bench:search`: legacy vs optimized vs the dataloader peer
 * per concurrency level (queries counted by the database proxy, latency client-observed), their
 * ratios, the benchmark's targets and, when run, the no-database floor and the optimized path
 * over K isolates.
 *
 * @module
 */
import { describeMachine } from "../load/machine.ts";
import {
  queriesPerRequest,
  searchContenders,
  type SearchLevelResult,
  type SearchReport,
  searchResultAt,
} from "../bench/search_report.ts";
import { fmtMs, fmtNum, fmtRatio } from "./format.ts";
import type { Input } from "./inputs.ts";
import { type ChartSpec, type Section, sectionOf, type Table, targetsTable } from "./section.ts";

function uniqueSorted<T>(values: T[], compare?: (a: T, b: T) => number): T[] {
  return [...new Set(values)].sort(compare);
}

/**
 * The optimized path over K isolates (bench:search's isolates series), when the report has it:
 * each isolate coalesces alone, so queries per request grow with K at the same load.
 */
function isolatesTables(bench: SearchReport): Table[] {
  const series = bench.isolates ?? [];
  if (series.length === 0) return [];
  const one = series.find((r) => r.isolates === 1);
  return [{
    caption: `Optimized path at N=${series[0]!.level} over K isolates behind the gateway ` +
      "(round robin): each isolate coalesces only the requests it receives",
    columns: [
      "Isolates",
      "Requests",
      "Errors",
      "Queries/wave",
      "Queries/request",
      "Queries vs 1 isolate",
      "p50 ms",
      "p95 ms",
      "req/s",
      "Load average (1 min)",
    ],
    rows: series.map((r) => [
      String(r.isolates),
      fmtNum(r.requests),
      fmtNum(r.errors),
      fmtNum(r.queriesPerWave.mean, 2),
      fmtNum(queriesPerRequest(r), 2),
      fmtRatio(
        one && one.queriesPerWave.mean > 0 ? r.queriesPerWave.mean / one.queriesPerWave.mean : null,
      ),
      fmtMs(r.latencyMs.p50),
      fmtMs(r.latencyMs.p95),
      fmtNum(r.requestsPerSecond, 1),
      fmtNum(r.loadAverage1m, 2),
    ]),
  }];
}

/**
 * The no-database floor (bench:search's search_floor.ts), when the report has it: the optimized
 * path answering every search from its in-isolate cache, so what is left is client and HTTP.
 */
function floorTables(bench: SearchReport): Table[] {
  const floor = bench.floor ?? [];
  if (floor.length === 0) return [];
  return [{
    caption: "No-database floor: the optimized path's isolate answering every search from its " +
      "in-isolate result cache (client, HTTP, JWT, validation and JSON only), per level",
    columns: ["Concurrency", "Requests", "Not from the cache", "p50 ms", "p95 ms", "Server p95 ms"],
    rows: floor.map((f) => [
      String(f.level),
      fmtNum(f.requests),
      fmtNum(f.misses),
      fmtMs(f.latencyMs.p50),
      fmtMs(f.latencyMs.p95),
      fmtMs(f.serverLatencyMs.p95),
    ]),
  }];
}

/** Every result, one row per contender and level. */
function resultsTable(bench: SearchReport): Table {
  return {
    caption: "Per contender and concurrency level (queries counted by the database proxy; " +
      "latency client-observed)",
    columns: [
      "Contender",
      "Concurrency",
      "Requests",
      "Errors",
      "Queries/wave",
      "Queries/request",
      "p50 ms",
      "p95 ms",
      "p99 ms",
      "Server p95 ms",
      "req/s",
    ],
    rows: bench.results.map((r) => [
      r.contender,
      String(r.level),
      fmtNum(r.requests),
      fmtNum(r.errors),
      fmtNum(r.queriesPerWave.mean, 2),
      fmtNum(queriesPerRequest(r), 2),
      fmtMs(r.latencyMs.p50),
      fmtMs(r.latencyMs.p95),
      fmtMs(r.latencyMs.p99),
      fmtMs(r.serverLatencyMs.p95),
      fmtNum(r.requestsPerSecond, 1),
    ]),
  };
}

/** Legacy and the peer against optimized at each level where optimized ran. */
function ratiosTable(bench: SearchReport, levels: number[]): Table {
  const ratio = (a: number | undefined, b: number | undefined) =>
    fmtRatio(a !== undefined && b !== undefined && b > 0 ? a / b : null);
  return {
    caption: "Ratios at each level (queries per request and p95: higher is better for optimized)",
    columns: [
      "Concurrency",
      "Queries: legacy ÷ optimized",
      "Queries: peer ÷ optimized",
      "p95: legacy ÷ optimized",
      "p95: peer ÷ optimized",
      "req/s: optimized ÷ legacy",
    ],
    rows: levels.flatMap((level) => {
      const legacy = searchResultAt(bench, "legacy", level);
      const optimized = searchResultAt(bench, "optimized", level);
      const peer = searchResultAt(bench, "dataloader", level);
      if (!optimized) return [];
      return [[
        String(level),
        ratio(legacy?.queriesPerWave.mean, optimized.queriesPerWave.mean),
        ratio(peer?.queriesPerWave.mean, optimized.queriesPerWave.mean),
        ratio(legacy?.latencyMs.p95, optimized.latencyMs.p95),
        ratio(peer?.latencyMs.p95, optimized.latencyMs.p95),
        ratio(optimized.requestsPerSecond, legacy?.requestsPerSecond),
      ]];
    }),
  };
}

/** Latency, queries per request and throughput by level, a series per contender. */
function searchCharts(bench: SearchReport, levels: number[]): ChartSpec[] {
  const contenders = searchContenders.filter((c) => bench.results.some((r) => r.contender === c));
  const series = (pick: (r: SearchLevelResult) => number | null) =>
    contenders.map((contender) => ({
      label: contender,
      data: levels.map((level) => {
        const r = searchResultAt(bench, contender, level);
        return r ? pick(r) : null;
      }),
    }));
  const labels = levels.map(String);
  const latencyChart = (stat: "p50" | "p95" | "p99"): ChartSpec => ({
    id: `search-${stat}`,
    title: `${stat} latency by concurrency (client-observed)`,
    kind: "line",
    xTitle: "concurrent requests",
    yTitle: "ms",
    labels,
    datasets: series((r) => r.latencyMs[stat]),
  });
  return [
    latencyChart("p50"),
    latencyChart("p95"),
    latencyChart("p99"),
    {
      id: "search-queries",
      title: "Database queries per request",
      kind: "bar",
      xTitle: "concurrent requests",
      yTitle: "queries / request",
      labels,
      datasets: series(queriesPerRequest),
    },
    {
      id: "search-rps",
      title: "Throughput by concurrency",
      kind: "line",
      xTitle: "concurrent requests",
      yTitle: "requests/s",
      labels,
      datasets: series((r) => r.requestsPerSecond),
    },
  ];
}

/** The search benchmark's section. */
export function searchSection(input: Input<SearchReport>): Section {
  const head = {
    id: "search-bench",
    title: "Flight search: legacy vs optimized vs the dataloader peer (benchmark)",
    command: "deno task bench:search",
  };
  return sectionOf(head, input, (bench) => {
    const { settings } = bench;
    const levels = uniqueSorted(bench.results.map((r) => r.level), (a, b) => a - b);
    return {
      command: bench.meta.command,
      notes: [
        `Settings: levels ${settings.levels.join(", ")}; ${settings.requests} requests per level ` +
        `and contender; +${settings.delayMsEachWay} ms each way between functions and Postgres; ` +
        `${fmtNum(settings.seededFlights)} flights; DB pool ${settings.dbPoolMax} per isolate; ` +
        `coalescing ${
          Object.entries(settings.coalescing).map(([k, v]) => `${k} ${v}`).join(", ")
        }.`,
        `Method: ${Object.entries(bench.method).map(([k, v]) => `${k}: ${v}`).join("; ")}.`,
      ],
      ranAt: bench.meta.startedAt,
      machine: describeMachine(bench.meta.machine),
      tables: [
        resultsTable(bench),
        ratiosTable(bench, levels),
        targetsTable(bench.targets),
        ...floorTables(bench),
        ...isolatesTables(bench),
      ],
      charts: searchCharts(bench, levels),
    };
  });
}
