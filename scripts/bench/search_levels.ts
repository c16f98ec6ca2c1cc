/**
 * bench:search's main series: for each concurrency level N, each contender in turn sends waves
 * of N different searches at once to its own isolate (the next wave when all have answered),
 * after two warm-up waves; the latency proxy's counts before and after a wave are that wave's
 * queries and round trips.
 *
 * @module
 */
import { finiteOrNull } from "./bench_run.ts";
import type { QueryCounts } from "./search_queries.ts";
import {
  type SearchContender as Contender,
  searchContenders as contenders,
  type SearchLevelResult as LevelResult,
} from "./search_report.ts";
import { latencySummary, perWaveSummary, round } from "./wave_summary.ts";

/** Options of {@link runLevels}. */
export interface LevelsOptions {
  /** Concurrency levels, in run order. */
  levels: readonly number[];
  /** Requests per level and contender; at least 5 waves run. */
  requests: number;
  /** The port of each contender's isolate. */
  ports: ReadonlyMap<Contender, number>;
  /** Distinct search query strings, used in turn. */
  searches: readonly string[];
  /** Headers of every request (the anon key). */
  headers: HeadersInit;
  /** What the latency proxy has counted so far. */
  queryCounts: () => Promise<QueryCounts>;
  /** Progress lines. */
  log: (line: string) => void;
}

interface Outcome {
  ms: number;
  /** The function's own time (server-timing); NaN when it sent none. */
  serverMs: number;
  ok: boolean;
}

/** One wave: `level` searches at once from `offset` on; each outcome and the wall time. */
async function wave(
  options: LevelsOptions,
  contender: Contender,
  level: number,
  offset: number,
): Promise<{ outcomes: Outcome[]; wallMs: number }> {
  const { ports, searches, headers } = options;
  const port = ports.get(contender)!;
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: level }, async (_, i) => {
      const t0 = performance.now();
      const query = searches[(offset + i) % searches.length];
      const res = await fetch(`http://127.0.0.1:${port}/flight-search?${query}`, { headers });
      await res.arrayBuffer();
      const ok = res.status === 200 && res.headers.get("x-search-path") === contender;
      const server = /total;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
      return { ms: performance.now() - t0, serverMs: Number(server?.[1] ?? NaN), ok };
    }),
  );
  return { outcomes, wallMs: performance.now() - started };
}

/** `contender` at `level`: warm-up waves, then `waves` measured ones summed up. */
async function measureLevel(
  options: LevelsOptions,
  contender: Contender,
  level: number,
  waves: number,
): Promise<LevelResult> {
  for (let w = 0; w < 2; w++) await wave(options, contender, level, w * level);
  const latencies: number[] = [];
  // A response without server-timing leaves its server latency unknown, not zero.
  const serverLatencies: number[] = [];
  const perWave: number[] = [];
  const roundTripsPerWave: number[] = [];
  let other = 0;
  let errors = 0;
  let wall = 0;
  for (let w = 0; w < waves; w++) {
    const before = await options.queryCounts();
    const { outcomes, wallMs } = await wave(options, contender, level, w * level);
    const after = await options.queryCounts();
    perWave.push(after.search - before.search);
    roundTripsPerWave.push(after.roundTrips - before.roundTrips);
    other += after.other - before.other;
    wall += wallMs;
    for (const o of outcomes) {
      latencies.push(o.ms);
      if (Number.isFinite(o.serverMs)) serverLatencies.push(o.serverMs);
      if (!o.ok) errors++;
    }
  }
  latencies.sort((a, b) => a - b);
  serverLatencies.sort((a, b) => a - b);
  const server = latencySummary(serverLatencies);
  return {
    contender,
    level,
    waves,
    requests: latencies.length,
    errors,
    queriesPerWave: perWaveSummary(perWave),
    roundTripsPerWave: perWaveSummary(roundTripsPerWave),
    otherQueries: other,
    latencyMs: latencySummary(latencies),
    serverLatencyMs: {
      p50: finiteOrNull(server.p50),
      p95: finiteOrNull(server.p95),
      p99: finiteOrNull(server.p99),
    },
    requestsPerSecond: round(latencies.length / (wall / 1000)),
  };
}

/** Every level, each contender in turn; a progress line per contender and level. */
export async function runLevels(options: LevelsOptions): Promise<LevelResult[]> {
  const results: LevelResult[] = [];
  for (const level of options.levels) {
    const waves = Math.max(5, Math.ceil(options.requests / level));
    for (const contender of contenders) {
      const result = await measureLevel(options, contender, level, waves);
      results.push(result);
      const { errors } = result;
      options.log(
        `${contender.padEnd(10)} N=${String(level).padStart(3)}: ` +
          `${result.queriesPerWave.median} queries/wave (max ${result.queriesPerWave.max}), ` +
          `${result.roundTripsPerWave.median} round trips/wave ` +
          `(max ${result.roundTripsPerWave.max}), ` +
          `p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms ` +
          `(server ${result.serverLatencyMs.p50}/${result.serverLatencyMs.p95}), ` +
          `${result.requestsPerSecond} req/s${errors ? `, ${errors} errors` : ""}`,
      );
    }
  }
  return results;
}
