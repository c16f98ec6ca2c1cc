/**
 * The targets `bench:search` judges its run by (issue #14), computed from the measured results
 * only. Latency goals are stated in round trips of the proxy (2 × its delay each), so they keep
 * their meaning at any `--delay-ms`.
 *
 * @module
 */
import type { BenchTarget } from "./bench_run.ts";
import type { SearchFloorResult } from "./search_floor.ts";
import {
  type SearchContender,
  type SearchLevelResult,
  type SearchReport,
  searchResultAt,
} from "./search_report.ts";
import { round } from "./wave_summary.ts";

/** What the targets need besides the results. */
export interface SearchTargetContext {
  levels: readonly number[];
  /** Levels above it need more than one batch per wave. */
  maxBatchSize: number;
  delayMsEachWay: number;
  connectionMode: "direct" | "pooler";
  /** Named prepared statements the proxy saw. */
  namedParses: number;
  /** A report to compare optimized p95 at N=50 with (the 20,000-flight run for a 1M run). */
  compare?: Pick<SearchReport, "results" | "settings">;
  /** The no-database floor per level (search_floor.ts), when it ran. */
  floor?: readonly SearchFloorResult[];
  /** Flights a wave of 50 reads in this run (see `settings.flightsPerWave`). */
  flightsPerWave50?: number;
}

type At = (c: SearchContender, level: number) => SearchLevelResult | undefined;

/** One batch per wave, and one round trip per wave, at every level up to maxBatchSize. */
function batchTargets(at: At, context: SearchTargetContext): BenchTarget[] {
  const batchLevels = context.levels.filter((l) => l <= context.maxBatchSize);
  const optimized = batchLevels.map((l) => at("optimized", l)).filter((r) => r !== undefined);
  if (optimized.length === 0) return [];
  const worstQueries = Math.max(...optimized.map((r) => r.queriesPerWave.max));
  const worstMedian = Math.max(...optimized.map((r) => r.roundTripsPerWave.median));
  return [{
    name: "optimized queries per wave, every level ≤ maxBatchSize",
    goal: `1 (levels ${batchLevels.join(", ")}; maxBatchSize ${context.maxBatchSize})`,
    measured: `max ${worstQueries} (medians ${
      optimized.map((r) => `N=${r.level}: ${r.queriesPerWave.median}`).join(", ")
    })`,
    met: worstQueries <= 1,
  }, {
    name: `optimized round trips per wave, steady state (median), ${context.connectionMode}`,
    goal: "1",
    measured: optimized.map((r) =>
      `N=${r.level}: ${r.roundTripsPerWave.median} (max ${r.roundTripsPerWave.max})`
    ).join(", "),
    met: worstMedian <= 1,
  }];
}

/** A latency of at most `limit` round trips of the proxy (`rtt` ms each). */
function roundTripTarget(name: string, ms: number, limit: number, rtt: number): BenchTarget {
  return {
    name,
    goal: `≤ ${limit} round trips (${round(limit * rtt)} ms)`,
    measured: `${ms} ms (${round(ms / rtt, 2)} round trips)`,
    met: ms <= limit * rtt,
  };
}

/** The optimized path's latency in round trips, and against the legacy path at N=50. */
function latencyTargets(at: At, context: SearchTargetContext): BenchTarget[] {
  const targets: BenchTarget[] = [];
  const rtt = 2 * context.delayMsEachWay;
  const o1 = at("optimized", 1);
  const o50 = at("optimized", 50);
  const l50 = at("legacy", 50);
  if (o1 && rtt > 0) {
    targets.push(roundTripTarget("optimized p50 at N=1", o1.latencyMs.p50, 1.6, rtt));
  }
  // A floor with answers not from the cache measured database work too: not a floor.
  const floor50 = context.floor?.find((f) => f.level === 50 && f.misses === 0);
  if (o50 && rtt > 0) {
    const target = roundTripTarget("optimized p95 at N=50", o50.latencyMs.p95, 2.5, rtt);
    if (floor50) target.measured += `; no-database floor p95 ${floor50.latencyMs.p95} ms`;
    targets.push(target);
  }
  if (o50 && floor50 && rtt > 0) {
    // What the database work adds to a wave on this machine: the same p95 less the floor's.
    const above = round(o50.latencyMs.p95 - floor50.latencyMs.p95);
    const target = roundTripTarget(
      "optimized p95 at N=50 above the no-database floor's p95",
      above,
      2.5,
      rtt,
    );
    target.measured = `${
      target.measured.slice(0, -1)
    }: ${o50.latencyMs.p95} − ${floor50.latencyMs.p95} ms)`;
    targets.push(target);
  }
  if (o50 && l50) {
    const ratio = l50.latencyMs.p95 / o50.latencyMs.p95;
    targets.push({
      name: "legacy ÷ optimized p95 at N=50",
      goal: "≥ 20×",
      measured: `${round(ratio, 2)}× (${l50.latencyMs.p95} vs ${o50.latencyMs.p95} ms)`,
      met: ratio >= 20,
    });
  }
  return targets;
}

/** The optimized path against the dataloader peer at every level both ran. */
function peerTargets(at: At, context: SearchTargetContext): BenchTarget[] {
  const versusPeer = context.levels.flatMap((level) => {
    const o = at("optimized", level);
    const p = at("dataloader", level);
    return o && p ? [{ level, o, p }] : [];
  });
  if (versusPeer.length === 0) return [];
  return [{
    name: "optimized no slower than the dataloader peer (p50 and p95, every level)",
    goal: "optimized ≤ peer",
    measured: versusPeer.map(({ level, o, p }) =>
      `N=${level}: p50 ${o.latencyMs.p50} vs ${p.latencyMs.p50}, p95 ${o.latencyMs.p95} vs ${p.latencyMs.p95} ms`
    ).join("; "),
    met: versusPeer.every(({ o, p }) =>
      o.latencyMs.p50 <= p.latencyMs.p50 && o.latencyMs.p95 <= p.latencyMs.p95
    ),
  }];
}

/** No named prepared statements under the pooler's rules. */
function poolerTargets(context: SearchTargetContext): BenchTarget[] {
  if (context.connectionMode !== "pooler") return [];
  return [{
    name: "pooler rules: named prepared statements",
    goal: "0",
    measured: String(context.namedParses),
    met: context.namedParses === 0,
  }];
}

/** The optimized p95 at N=50 against the run compared with, when one is. */
function compareTargets(at: At, context: SearchTargetContext): BenchTarget[] {
  const o50 = at("optimized", 50);
  const before = context.compare && searchResultAt(context.compare, "optimized", 50);
  if (!o50 || !before || !context.compare) return [];
  const ratio = o50.latencyMs.p95 / before.latencyMs.p95;
  return [{
    name: `optimized p95 at N=50 vs the ${context.compare.settings.seededFlights}-flight run`,
    goal: "≤ 1.5×",
    measured: `${round(ratio, 2)}× (${o50.latencyMs.p95} vs ${before.latencyMs.p95} ms; flights ` +
      `per wave of 50: ${context.flightsPerWave50 ?? "?"} vs ${
        context.compare.settings.flightsPerWave?.["50"] ?? "?"
      })`,
    met: ratio <= 1.5,
  }];
}

/** Every target that the results allow judging, met or not. */
export function searchTargets(
  results: readonly SearchLevelResult[],
  context: SearchTargetContext,
): BenchTarget[] {
  const at: At = (c, level) => searchResultAt({ results: [...results] }, c, level);
  return [
    ...batchTargets(at, context),
    ...latencyTargets(at, context),
    ...peerTargets(at, context),
    ...poolerTargets(context),
    ...compareTargets(at, context),
  ];
}
