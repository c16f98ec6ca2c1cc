/**
 * `deno task bench:search` — a benchmark, not a test: how many database queries and how much
 * latency N concurrent searches cost on the legacy path, the optimized path (our coalescer) and
 * a peer (the same batch search behind the `dataloader` npm package, default scheduling).
 *
 * Set-up: an embedded Postgres 17 (or a scratch database on DATABASE_URL's server) with the
 * migrations pushed by the Supabase CLI and the deterministic seed; the latency proxy between the
 * functions and Postgres (default 5 ms each way, on its own thread), which also counts the
 * queries by reading the wire protocol; one flight-search isolate per contender, started as the
 * local stack starts functions, each pinned to its path with FLIGHT_SEARCH_FORCE_PATH and with
 * the result cache off (FLIGHT_SEARCH_RESULT_CACHE=off), so every request reaches the database.
 *
 * Each level N is a series of waves: N different searches sent at once, the next wave when all
 * have answered. "Queries per wave" is what the proxy saw for one wave.
 *
 * Then the isolates series (`--isolates`, scripts/bench/search_isolates.ts): the optimized path
 * at N=50 over K isolates behind the local gateway, round robin, for each K — each isolate
 * coalesces only what it receives, so queries per wave grow with K at the same load.
 *
 * Writes reports/bench/search.json and reports/bench/search.md (git-ignored) and prints the
 * markdown.
 *
 * @module
 */
import postgres from "postgres";
import { z } from "zod";
import { machineInfo } from "../load/machine.ts";
import { startPgBouncer } from "../local/pgbouncer.ts";
import { startFunction } from "../local/function_process.ts";
import { discoverFunctions, type FunctionSpec } from "../local/functions_config.ts";
import { apiKeys } from "../local/keys.ts";
import { pushMigrations } from "../local/migrate.ts";
import { reportsDir } from "../local/paths.ts";
import { ensureSupabaseRoles } from "../local/supabase_roles.ts";
import { seedDatabase } from "../seed/seed.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { searchConfig } from "../../supabase/functions/flight-search/config.ts";
import { benchCommand } from "./bench_run.ts";
import { startBenchDatabase } from "./bench_database.ts";
import { ProxyWorker } from "./latency_proxy_thread.ts";
import { isolatesLevel, runIsolatesSeries } from "./search_isolates.ts";
import { camelKeys, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { UsageError } from "../_cli/errors.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
import { maxIsolates } from "../local/function_isolates.ts";
import { runLevels } from "./search_levels.ts";
import { renderMarkdown } from "./search_markdown.ts";
import { countQueries } from "./search_queries.ts";
import { searchTargets } from "./search_targets.ts";
import { measureFloor, type SearchFloorResult } from "./search_floor.ts";
import {
  type SearchContender as Contender,
  searchContenders as contenders,
  type SearchReport,
  searchReportSchema,
} from "./search_report.ts";
import { round } from "./wave_summary.ts";

const usage = `Usage: deno task bench:search [options]

Options:
  --delay-ms N       latency added by the proxy, each way           default 5
  --levels LIST      concurrency levels, comma-separated            default 1,5,10,50,200
  --requests N       requests per level and contender (≥ 5 waves)   default 600
  --seed-flights N   flights in the benchmark database (COPY)       default 20000
  --connection-mode M  direct (prepared statements) or pooler (a real PgBouncer in transaction
                     mode in front of Postgres; no named prepared statements)  default direct
  --compare FILE     a search.json to compare optimized p95 at N=50 with (e.g. the 20,000-flight
                     run when this one seeds 1,000,000)
  --isolates LIST    the optimized path at N=50 over K isolates     default 1,2,4
                     behind the gateway, round robin, for each K
                     (comma-separated, 1..${maxIsolates}; "none" skips it)
  --out DIR          where search.json and search.md go             default $REPORTS_DIR/bench, else reports/bench
  -h, --help

Environment: DATABASE_URL runs it in a scratch database on that server instead of an embedded
Postgres.`;

const optionsSchema = z.object({
  delayMs: z.coerce.number().min(0).max(1000).default(5),
  levels: z.string().default("1,5,10,50,200").transform((text, ctx) => {
    const levels = text.split(",").map((p) => Number(p.trim()));
    if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
      ctx.addIssue({ code: "custom", message: "expected integers 1..1000, comma-separated" });
      return z.NEVER;
    }
    return levels;
  }),
  requests: z.coerce.number().int().min(1).max(100_000).default(600),
  seedFlights: z.coerce.number().int().min(1000).max(2_000_000).default(20_000),
  isolates: z.string().default("1,2,4").transform((text, ctx) => {
    if (text.trim() === "none") return [];
    const counts = text.split(",").map((p) => Number(p.trim()));
    if (counts.some((k) => !Number.isInteger(k) || k < 1 || k > maxIsolates)) {
      ctx.addIssue({
        code: "custom",
        message: `expected integers 1..${maxIsolates}, comma-separated, or "none"`,
      });
      return z.NEVER;
    }
    return counts;
  }),
  connectionMode: z.enum(["direct", "pooler"]).default("direct"),
  compare: z.string().min(1).optional(),
  out: z.string().min(1).default(`${reportsDir}/bench`),
  help: z.boolean().default(false),
});
type BenchOptions = z.output<typeof optionsSchema>;

function parseOptions(args: string[]): BenchOptions {
  const { values } = parseCommandLine(args, {
    strings: [
      "delay-ms",
      "levels",
      "requests",
      "seed-flights",
      "isolates",
      "connection-mode",
      "compare",
      "out",
    ],
  });
  return validateOptions(optionsSchema, camelKeys(values));
}

/** Cleanups of what the benchmark started, run last first. */
type Cleanups = Array<() => Promise<void>>;

/**
 * Under the pooler's rules a real PgBouncer in transaction mode sits in front of Postgres; the
 * latency proxy, on its own thread, in front of either. Resolves to the proxy, the database URL
 * through it and what stands between it and Postgres, in words.
 */
async function startProxy(
  dbUrl: string,
  options: BenchOptions,
  cleanups: Cleanups,
  log: (line: string) => void,
): Promise<{ proxy: ProxyWorker; proxyUrl: URL; pooler: string }> {
  let targetPort = Number(new URL(dbUrl).port);
  let pooler = "none: the isolates connect to Postgres directly";
  if (options.connectionMode === "pooler") {
    const bouncer = await startPgBouncer({ targetPort, poolSize: 10 });
    cleanups.push(() => bouncer.stop());
    targetPort = bouncer.port;
    pooler =
      "PgBouncer (Debian) pool_mode = transaction, default_pool_size 10, in front of Postgres";
    log(`pgbouncer (transaction mode) on 127.0.0.1:${bouncer.port}`);
  }
  const proxy = new ProxyWorker();
  const proxyPort = await proxy.start(targetPort, options.delayMs);
  cleanups.push(() => proxy.close());
  const proxyUrl = new URL(dbUrl);
  proxyUrl.port = String(proxyPort);
  log(`latency proxy on 127.0.0.1:${proxyPort}, +${options.delayMs} ms each way`);
  return { proxy, proxyUrl, pooler };
}

/** One isolate per contender, pinned to its path, result cache off; their ports. */
async function startContenders(
  spec: FunctionSpec,
  proxyUrl: URL,
  connectionMode: BenchOptions["connectionMode"],
  cleanups: Cleanups,
): Promise<Map<Contender, number>> {
  const ports = new Map<Contender, number>();
  for (const contender of contenders) {
    const fn = await startFunction(spec, {
      env: {
        SUPABASE_DB_URL: proxyUrl.toString(),
        DB_POOLER_URL: proxyUrl.toString(),
        DB_CONNECTION_MODE: connectionMode,
        FLIGHT_SEARCH_FORCE_PATH: contender,
        FLIGHT_SEARCH_RESULT_CACHE: "off",
      },
    });
    cleanups.push(() => fn.stop());
    ports.set(contender, fn.port);
  }
  return ports;
}

/** The isolate of the no-database floor (search_floor.ts): the optimized path, cache on. */
async function startFloorIsolate(
  spec: FunctionSpec,
  proxyUrl: URL,
  connectionMode: BenchOptions["connectionMode"],
  cleanups: Cleanups,
): Promise<number> {
  const fn = await startFunction(spec, {
    env: {
      SUPABASE_DB_URL: proxyUrl.toString(),
      DB_POOLER_URL: proxyUrl.toString(),
      DB_CONNECTION_MODE: connectionMode,
      FLIGHT_SEARCH_FORCE_PATH: "optimized",
      FLIGHT_SEARCH_RESULT_CACHE: "on",
    },
  });
  cleanups.push(() => fn.stop());
  return fn.port;
}

/** The no-database floor at every level, after the contenders. */
async function runFloor(
  port: number,
  options: BenchOptions,
  searches: readonly string[],
  headers: Record<string, string>,
  log: (line: string) => void,
): Promise<SearchFloorResult[]> {
  const floor: SearchFloorResult[] = [];
  for (const level of options.levels) {
    const waves = Math.max(5, Math.ceil(options.requests / level));
    const f = await measureFloor({ port, level, waves, searches, headers });
    floor.push(f);
    log(
      `floor      N=${String(level).padStart(3)}: p50 ${f.latencyMs.p50} ms, p95 ` +
        `${f.latencyMs.p95} ms (server ${f.serverLatencyMs.p50}/${f.serverLatencyMs.p95}), ` +
        `${f.misses} not from the cache`,
    );
  }
  return floor;
}

/**
 * Distinct searches that find flights: the busiest route-dates, enough for the largest wave,
 * and how many flights a wave of each level reads.
 */
async function busiestSearches(
  sql: Sql,
  options: BenchOptions,
): Promise<{ searches: string[]; flightsPerWave: Record<string, number> }> {
  const maxLevel = Math.max(...options.levels, options.isolates.length ? isolatesLevel : 1);
  const legs = await sql<{ origin: string; destination: string; date: string; n: number }[]>`
    select origin, destination, departure_date::text as date, count(*)::int as n
      from public.flights group by 1, 2, 3
     order by count(*) desc, 1, 2, 3 limit ${maxLevel}`;
  // What a wave of N distinct searches reads grows with the data: say how much, per level.
  const flightsPerWave = Object.fromEntries(
    options.levels.map((level) => [
      String(level),
      legs.slice(0, level).reduce((sum, leg) => sum + leg.n, 0),
    ]),
  );
  const sorts = ["price", "departure", "duration"];
  const searches = Array.from({ length: maxLevel }, (_, i) => {
    const leg = legs[i % legs.length]!;
    const sort = sorts[Math.floor(i / legs.length) % sorts.length];
    return `origin=${leg.origin}&destination=${leg.destination}&departure_date=${leg.date}&sort=${sort}`;
  });
  return { searches, flightsPerWave };
}

/** How the run was set up, in words, for the report's `method`. */
function method(options: BenchOptions, pooler: string): Record<string, string> {
  return {
    pathSelection: "FLIGHT_SEARCH_FORCE_PATH per isolate (the flag is not read)",
    resultCache: "off (FLIGHT_SEARCH_RESULT_CACHE=off): every request reaches the database",
    queryCounting:
      "latency proxy, Execute + simple Query messages of the wire protocol; search statements only (flights/fares/airports/airlines, search_wave_columns); other statements (metrics flushes, connection set-up) listed apart",
    roundTripCounting:
      "latency proxy: a client flight between two server answers is one round trip, attributed to each search statement its Parse/Bind/Execute/Query messages name",
    pooler,
    connectionMode: options.connectionMode === "direct"
      ? "direct: postgres.js prepare: true"
      : "pooler: prepare: false, as behind a transaction pooler; named prepared statements counted (must be 0)",
    client: "one Deno process, fetch, direct to each function isolate's port",
    floor:
      "no-database floor: one more optimized-path isolate with the result cache on, every search cached before the measured waves, so each answer is an in-isolate cache hit (x-cache: l1): client, HTTP, JWT, validation and JSON only",
    peer:
      "dataloader 2.2.3, one loader per isolate, default scheduling and batch size, cache: false",
    isolates:
      `optimized path at N=${isolatesLevel} over K isolates started alike, through the local gateway (round robin, on its own thread), 2 warm-up waves per K`,
  };
}

/** The report `--compare` names, validated. @throws {UsageError} when it cannot be read. */
async function readCompared(path: string): Promise<SearchReport> {
  try {
    return searchReportSchema.parse(JSON.parse(await Deno.readTextFile(path)));
  } catch (error) {
    throw new UsageError(`--compare ${path}: ${(error as Error).message}`, "--compare");
  }
}

/** A scratch or embedded Postgres with Supabase's roles, the migrations and `flights` seeded. */
async function seededDatabase(flights: number, cleanups: Cleanups, log: (line: string) => void) {
  const db = await startBenchDatabase();
  cleanups.push(() => db.stop());
  const dbUrl = db.url;
  log(`Postgres at ${new URL(dbUrl).host}`);
  await ensureSupabaseRoles(dbUrl);
  await pushMigrations(dbUrl);
  const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  cleanups.push(() => sql.end({ timeout: 2 }));
  const seeded = await seedDatabase(sql, { flights });
  log(
    `seeded ${seeded.counts.flights} flights, ${seeded.counts.fares} fares in ${
      round(seeded.elapsedMs / 1000)
    } s (${JSON.stringify(seeded.phasesMs)} ms)`,
  );
  return { dbUrl, sql, seeded };
}

/** Writes search.json and search.md into `out` and prints the markdown. */
async function writeReport(report: SearchReport, out: string, log: (line: string) => void) {
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(`${out}/search.json`, JSON.stringify(report, null, 2) + "\n");
  const markdown = renderMarkdown(report);
  await Deno.writeTextFile(`${out}/search.md`, markdown);
  console.log(markdown);
  log(`wrote ${out}/search.json and ${out}/search.md`);
}

async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (options.help) return showUsage(usage);
  const compared = options.compare ? await readCompared(options.compare) : undefined;
  const startedAt = new Date();
  const log = (line: string) => console.error(`[bench] ${line}`);
  const cleanups: Cleanups = [];
  try {
    // 1. A database with the migrations and the seed.
    const { dbUrl, sql, seeded } = await seededDatabase(options.seedFlights, cleanups, log);

    // 2. PgBouncer under the pooler's rules, the latency proxy in front.
    const { proxy, proxyUrl, pooler } = await startProxy(dbUrl, options, cleanups, log);

    // 3. One isolate per contender, pinned to its path, result cache off.
    const spec = (await discoverFunctions()).find((s) => s.name === "flight-search");
    if (!spec) throw new Error("supabase/functions/flight-search is missing");
    const keys = await apiKeys();
    const ports = await startContenders(spec, proxyUrl, options.connectionMode, cleanups);
    const floorPort = await startFloorIsolate(spec, proxyUrl, options.connectionMode, cleanups);
    // The isolates inherit this environment (COALESCE_* and the rest), so this is what they run.
    const fnConfig = searchConfig();

    // 4. Distinct searches that find flights: the busiest route-dates.
    const { searches, flightsPerWave } = await busiestSearches(sql, options);
    const queryCounts = async () => countQueries(await proxy.stats());

    // 5. Run: per level, each contender in turn, warm-up waves first.
    const headers = { authorization: `Bearer ${keys.anonKey}` };
    const results = await runLevels({
      levels: options.levels,
      requests: options.requests,
      ports,
      searches,
      headers,
      queryCounts,
      log,
    });
    const floor = await runFloor(floorPort, options, searches, headers, log);

    // 6. The optimized path over K isolates behind the gateway: each coalesces on its own.
    const isolates = options.isolates.length === 0 ? undefined : await runIsolatesSeries({
      spec,
      dbUrl: proxyUrl.toString(),
      counts: options.isolates,
      requests: options.requests,
      searches,
      searchQueries: async () => (await queryCounts()).search,
      log,
    });

    // 7. Targets from the issue, judged on the numbers above.
    const namedParses = (await proxy.stats()).namedParses;
    const targets = searchTargets(results, {
      levels: options.levels,
      maxBatchSize: fnConfig.coalescing.maxBatchSize,
      delayMsEachWay: options.delayMs,
      connectionMode: options.connectionMode,
      namedParses,
      compare: compared,
      floor,
      flightsPerWave50: flightsPerWave["50"],
    });

    // Validated before it is written: the readiness report reads it with the same schema.
    const report: SearchReport = searchReportSchema.parse({
      meta: {
        startedAt: startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        machine: machineInfo(),
        command: benchCommand("bench:search", Deno.args),
      },
      settings: {
        levels: options.levels,
        requests: options.requests,
        delayMsEachWay: options.delayMs,
        seedFlights: options.seedFlights,
        seededFlights: seeded.counts.flights,
        seedElapsedMs: Math.round(seeded.elapsedMs),
        flightsPerWave,
        connectionMode: options.connectionMode,
        namedParses,
        dbPoolMax: Number(Deno.env.get("DB_POOL_MAX") ?? 3),
        coalescing: fnConfig.coalescing,
      },
      method: method(options, pooler),
      results,
      floor,
      isolates,
      targets,
    });
    await writeReport(report, options.out, log);
    return 0;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

if (import.meta.main) await runMain(main, { usage });
