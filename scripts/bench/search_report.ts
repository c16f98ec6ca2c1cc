/**
 * The report `deno task bench:search` writes (reports/bench/search.json): one schema, used by the
 * benchmark to validate what it writes and by the readiness report to read it.
 *
 * @module
 */
import { z } from "zod";
import { benchRunSchema, benchTargetSchema } from "./bench_run.ts";
import { searchFloorResultSchema } from "./search_floor.ts";

const ms = z.number().nonnegative();
const count = z.number().int().nonnegative();
/** A count per wave over the waves of a level. */
const perWave = z.object({
  median: z.number().nonnegative(),
  mean: z.number().nonnegative(),
  min: count,
  max: count,
});
/** Client-observed latency, ms. */
const latency = z.object({ p50: ms, p95: ms, p99: ms, mean: ms });

/** The contenders, in the order they run: the two paths and the peer. */
export const searchContenders = ["legacy", "optimized", "dataloader"] as const;

/** One contender. */
export type SearchContender = (typeof searchContenders)[number];

/** zod schema of one contender at one concurrency level. */
export const searchLevelResultSchema = z.object({
  contender: z.enum(searchContenders),
  /** Concurrent requests per wave. */
  level: z.number().int().positive(),
  waves: z.number().int().positive(),
  /** Requests measured (warm-up waves excluded). */
  requests: z.number().int().positive(),
  /** Requests not answered 200 by the contender's path. */
  errors: count,
  /** Search queries the database received per wave, counted by the latency proxy. */
  queriesPerWave: perWave,
  /**
   * Round trips of the search statements per wave (client flights that waited for the server,
   * counted by the latency proxy): 1 when the wave's one statement goes out in one flight.
   */
  roundTripsPerWave: perWave,
  /** Statements other than the search's (metrics flushes, connection set-up), all waves. */
  otherQueries: count,
  /** Client-observed: fetch start to last byte of the body. */
  latencyMs: latency,
  /** The function's own duration (its server-timing header); null when it sent none. */
  serverLatencyMs: z.object({ p50: ms.nullable(), p95: ms.nullable(), p99: ms.nullable() }),
  requestsPerSecond: z.number().nonnegative(),
});

/** One contender at one level. */
export type SearchLevelResult = z.output<typeof searchLevelResultSchema>;

/** zod schema of the optimized path at one level over K isolates behind the gateway. */
export const searchIsolatesResultSchema = z.object({
  /** Isolates of flight-search the gateway spread each wave over, round robin. */
  isolates: z.number().int().positive(),
  /** Concurrent requests per wave (over all isolates). */
  level: z.number().int().positive(),
  waves: z.number().int().positive(),
  requests: z.number().int().positive(),
  /** Requests not answered 200 by the optimized path. */
  errors: count,
  /** Search queries per wave over every isolate, counted by the latency proxy. */
  queriesPerWave: perWave,
  /** Client-observed, through the gateway. */
  latencyMs: latency,
  requestsPerSecond: z.number().nonnegative(),
  /**
   * The machine's 1-minute load average when this K finished: K isolates share its cores with
   * Postgres, the proxy, the gateway and the client, so latency is read against it.
   */
  loadAverage1m: z.number().nonnegative().optional(),
});

/** The optimized path over K isolates at one level. */
export type SearchIsolatesResult = z.output<typeof searchIsolatesResultSchema>;

/** zod schema of reports/bench/search.json. */
export const searchReportSchema = z.object({
  meta: benchRunSchema,
  settings: z.object({
    /** Concurrency levels, in run order. */
    levels: z.array(z.number().int().positive()).min(1),
    /** Requests per level and contender asked for (each level runs at least 5 waves). */
    requests: z.number().int().positive(),
    /** Latency the proxy adds between functions and Postgres, each way. */
    delayMsEachWay: ms,
    /** Flights asked for and flights seeded. */
    seedFlights: z.number().int().positive(),
    seededFlights: count,
    /** Wall time of the seed (COPY, index rebuild, VACUUM ANALYZE); absent in older reports. */
    seedElapsedMs: count.optional(),
    /**
     * Flights on the legs a wave of N searches asks for, by N (the busiest route-dates; a wave of
     * more than the distinct legs repeats them); absent in older reports.
     */
    flightsPerWave: z.record(z.string(), count).optional(),
    /**
     * The isolates' connection mode (DB_CONNECTION_MODE): `direct` prepares statements,
     * `pooler` follows a transaction pooler's rules (no named prepared statements).
     */
    connectionMode: z.enum(["direct", "pooler"]),
    /** Named prepared statements the proxy saw (all contenders); 0 is the pooler's rule. */
    namedParses: count,
    /** Connections per isolate's pool. */
    dbPoolMax: z.number().int().positive(),
    /** The coalescer's settings the isolates ran with. */
    coalescing: z.record(z.string(), z.union([z.number(), z.boolean()])),
  }),
  /** How the run was set up, in words (path selection, cache, query counting, client, peer). */
  method: z.record(z.string(), z.string()),
  results: z.array(searchLevelResultSchema).min(1),
  /** The no-database floor per level (search_floor.ts); absent in older reports. */
  floor: z.array(searchFloorResultSchema).optional(),
  /** The optimized path over 1..K isolates behind the gateway; absent in older reports. */
  isolates: z.array(searchIsolatesResultSchema).optional(),
  targets: z.array(benchTargetSchema),
});

/** reports/bench/search.json, validated. */
export type SearchReport = z.output<typeof searchReportSchema>;

/** The result of `contender` at `level`, if it ran. */
export function searchResultAt(
  report: Pick<SearchReport, "results">,
  contender: SearchContender,
  level: number,
): SearchLevelResult | undefined {
  return report.results.find((r) => r.contender === contender && r.level === level);
}

/**
 * Search queries per request: queries per wave (mean) ÷ the requests in a wave.
 *
 * @example
 * ```ts
 * queriesPerRequest({ level: 10, queriesPerWave: { mean: 3 } }); // 0.3
 * ```
 */
export function queriesPerRequest(
  result: { level: number; queriesPerWave: { mean: number } },
): number {
  return result.queriesPerWave.mean / result.level;
}
