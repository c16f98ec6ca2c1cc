/**
 * bench:search's isolates series: the optimized path at N = {@link isolatesLevel} over K isolates
 * of flight-search behind the local gateway, round robin, for each K asked for.
 *
 * A hosted function runs in as many isolates as Supabase keeps warm for its traffic, and each
 * isolate coalesces only the requests it receives: a wave of N concurrent searches spread over K
 * isolates becomes K smaller batches. This series measures what that costs — queries per wave
 * and per request, and latency — with everything else as in the main run (the latency proxy in
 * front of Postgres, the path pinned to optimized, the result cache off).
 *
 * @module
 */
import { startIsolates } from "../local/function_isolates.ts";
import type { FunctionSpec } from "../local/functions_config.ts";
import { apiKeys } from "../local/keys.ts";
import { queriesPerRequest, type SearchIsolatesResult } from "./search_report.ts";
import { latencySummary, perWaveSummary, round } from "./wave_summary.ts";
import { WorkerThread } from "./worker_thread.ts";

/** Concurrent requests per wave in the series (over all isolates). */
export const isolatesLevel = 50;

/** Options for {@link runIsolatesSeries}. */
export interface IsolatesSeriesOptions {
  /** The flight-search function. */
  spec: FunctionSpec;
  /** Postgres URL the isolates connect to (the latency proxy's). */
  dbUrl: string;
  /** Isolate counts to measure, in order, e.g. `[1, 2, 4]`. */
  counts: readonly number[];
  /** Requests per count; at least 5 waves run. */
  requests: number;
  /** Distinct search query strings, used in turn. */
  searches: readonly string[];
  /** Search statements the database has received so far (the latency proxy's count). */
  searchQueries: () => Promise<number>;
  /** Progress lines. @default ignore */
  log?: (line: string) => void;
}

/** The gateway in a worker thread (`_gateway_worker.ts`), one message answered at a time. */
class GatewayWorker extends WorkerThread {
  constructor() {
    super(new URL("./_gateway_worker.ts", import.meta.url));
  }

  async close(): Promise<void> {
    await this.ask({ cmd: "close" }).catch(() => {});
    this.terminate();
  }
}

type Wave = () => Promise<{ outcomes: { ms: number; ok: boolean }[]; wallMs: number }>;

/** Runs `waves` waves and sums them up as one K's result. */
async function measure(
  k: number,
  waves: number,
  wave: Wave,
  searchQueries: () => Promise<number>,
): Promise<SearchIsolatesResult> {
  const latencies: number[] = [];
  const perWave: number[] = [];
  let errors = 0;
  let wall = 0;
  for (let w = 0; w < waves; w++) {
    const before = await searchQueries();
    const { outcomes, wallMs } = await wave();
    perWave.push((await searchQueries()) - before);
    wall += wallMs;
    for (const o of outcomes) {
      latencies.push(o.ms);
      if (!o.ok) errors++;
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    isolates: k,
    level: isolatesLevel,
    waves,
    requests: latencies.length,
    errors,
    queriesPerWave: perWaveSummary(perWave),
    latencyMs: latencySummary(latencies),
    requestsPerSecond: round(latencies.length / (wall / 1000)),
    loadAverage1m: round(Deno.loadavg()[0] ?? 0, 2),
  };
}

/**
 * Starts max(counts) isolates (path pinned to optimized, result cache off) and the gateway on a
 * thread of its own, then for each K routes the function to the first K isolates and measures
 * waves of {@link isolatesLevel} requests through the gateway, after two warm-up waves.
 *
 * @throws {RangeError} when a count is not a positive integer or there are no searches.
 */
export async function runIsolatesSeries(
  options: IsolatesSeriesOptions,
): Promise<SearchIsolatesResult[]> {
  const { spec, dbUrl, counts, requests, searches, searchQueries, log = () => {} } = options;
  if (counts.length === 0 || counts.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new RangeError(`isolates: expected positive integers, received ${counts.join(",")}`);
  }
  if (searches.length === 0) throw new RangeError("isolates: expected at least one search");
  const keys = await apiKeys();
  const isolates = await startIsolates(spec, Math.max(...counts), {
    env: {
      SUPABASE_DB_URL: dbUrl,
      DB_POOLER_URL: dbUrl,
      FLIGHT_SEARCH_FORCE_PATH: "optimized",
      FLIGHT_SEARCH_RESULT_CACHE: "off",
    },
  });
  const gateway = new GatewayWorker();
  try {
    const started = await gateway.ask({
      start: { jwtSecret: keys.jwtSecret, name: spec.name, verifyJwt: spec.verifyJwt },
    });
    const url = `${started.url}/functions/v1/${spec.name}`;
    const headers = { authorization: `Bearer ${keys.anonKey}` };
    let sent = 0;
    const wave: Wave = async () => {
      const waveStart = performance.now();
      const offset = sent;
      sent += isolatesLevel;
      const outcomes = await Promise.all(
        Array.from({ length: isolatesLevel }, async (_, i) => {
          const t0 = performance.now();
          const query = searches[(offset + i) % searches.length];
          const res = await fetch(`${url}?${query}`, { headers });
          await res.arrayBuffer();
          const ok = res.status === 200 && res.headers.get("x-search-path") === "optimized";
          return { ms: performance.now() - t0, ok };
        }),
      );
      return { outcomes, wallMs: performance.now() - waveStart };
    };

    const results: SearchIsolatesResult[] = [];
    const waves = Math.max(5, Math.ceil(requests / isolatesLevel));
    for (const k of counts) {
      await gateway.ask({ ports: isolates.slice(0, k).map((p) => p.port) });
      for (let w = 0; w < 2; w++) await wave();
      const result = await measure(k, waves, wave, searchQueries);
      results.push(result);
      log(
        `optimized  N=${isolatesLevel} over ${k} isolate(s): ` +
          `${result.queriesPerWave.median} queries/wave (max ${result.queriesPerWave.max}), ` +
          `p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms, ` +
          `${result.requestsPerSecond} req/s, load average ${result.loadAverage1m}` +
          `${result.errors ? `, ${result.errors} errors` : ""}`,
      );
    }
    return results;
  } finally {
    await gateway.close();
    await Promise.all(isolates.map((p) => p.stop()));
  }
}

/** The series as a markdown section of search.md; empty when it did not run. */
export function renderIsolatesMarkdown(results: readonly SearchIsolatesResult[] = []): string[] {
  if (results.length === 0) return [];
  const lines = [
    "",
    `## Optimized path over K isolates (N=${results[0]!.level}, through the gateway, round robin)`,
    "",
    "Each isolate coalesces only the requests it receives: a wave spread over K isolates is K batches.",
    "",
    "| isolates | waves | queries/wave (median) | min–max | queries/request | p50 ms | p95 ms | p99 ms | req/s | errors | load average (1 min) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.isolates} | ${r.waves} | ${r.queriesPerWave.median} | ${r.queriesPerWave.min}–${r.queriesPerWave.max} | ${
        round(queriesPerRequest(r), 2)
      } | ${r.latencyMs.p50} | ${r.latencyMs.p95} | ${r.latencyMs.p99} | ${r.requestsPerSecond} | ${r.errors} | ${
        r.loadAverage1m ?? "–"
      } |`,
    );
  }
  return lines;
}
