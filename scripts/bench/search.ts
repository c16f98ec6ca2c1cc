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
import { describeMachine, machineInfo } from "../load/machine.ts";
import { startEmbeddedPostgres } from "../local/embedded_postgres.ts";
import { startPgBouncer } from "../local/pgbouncer.ts";
import { startFunction } from "../local/function_process.ts";
import { discoverFunctions } from "../local/functions_config.ts";
import { apiKeys } from "../local/keys.ts";
import type { ProxyStats } from "../local/latency_proxy.ts";
import { pushMigrations } from "../local/migrate.ts";
import { reportsDir } from "../local/paths.ts";
import { freePort } from "../local/ports.ts";
import { ensureSupabaseRoles } from "../local/supabase_roles.ts";
import { seedDatabase } from "../seed/seed.ts";
import { airportSetStatement } from "../../supabase/functions/flight-search/airports.ts";
import { searchConfig } from "../../supabase/functions/flight-search/config.ts";
import { camelKeys, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { UsageError } from "../_cli/errors.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
import { benchCommand, finiteOrNull } from "./bench_run.ts";
import { median, percentile } from "./percentile.ts";
import { isolatesLevel, renderIsolatesMarkdown, runIsolatesSeries } from "./search_isolates.ts";
import { maxIsolates } from "../local/function_isolates.ts";
import { searchTargets } from "./search_targets.ts";
import {
  queriesPerRequest,
  type SearchContender as Contender,
  searchContenders as contenders,
  type SearchLevelResult as LevelResult,
  type SearchReport,
  searchReportSchema,
  searchResultAt,
} from "./search_report.ts";

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

/** The latency proxy in a worker thread. */
class ProxyWorker {
  #worker = new Worker(new URL("./_latency_proxy_worker.ts", import.meta.url), { type: "module" });
  #queue: Array<(data: Record<string, unknown>) => void> = [];

  constructor() {
    this.#worker.onmessage = (event) => this.#queue.shift()?.(event.data);
  }

  #ask(message: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.#queue.push((
        data,
      ) => (data.error ? reject(new Error(String(data.error))) : resolve(data)));
      this.#worker.postMessage(message);
    });
  }

  async start(targetPort: number, delayMs: number): Promise<number> {
    return (await this.#ask({ start: { targetPort, delayMs } })).port as number;
  }
  async stats(): Promise<ProxyStats> {
    return (await this.#ask({ cmd: "stats" })).stats as ProxyStats;
  }
  async close(): Promise<void> {
    await this.#ask({ cmd: "close" });
    this.#worker.terminate();
  }
}

/**
 * Statements of the search itself (the legacy queries on flights, fares, airports/airlines; the
 * optimized wave statement); the rest is reported apart, the isolate's airport set read (at start
 * and per refresh, not per request) among them.
 */
function isSearchQuery(text: string): boolean {
  return /public\.(flights|fares|airports|airlines|search_wave)\b/.test(text) &&
    !text.startsWith(airportSetStatement);
}

function countQueries(stats: ProxyStats): { search: number; other: number; roundTrips: number } {
  let search = 0;
  let other = 0;
  let roundTrips = 0;
  for (const [text, n] of Object.entries(stats.byStatement)) {
    if (isSearchQuery(text)) search += n;
    else other += n;
  }
  for (const [text, n] of Object.entries(stats.roundTripsByStatement)) {
    if (isSearchQuery(text)) roundTrips += n;
  }
  return { search, other, roundTrips };
}

/** Median, mean, min and max of per-wave counts. */
function perWaveSummary(values: number[]) {
  return {
    median: median(values),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length, 2),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (options.help) return showUsage(usage);
  let compared: SearchReport | undefined;
  if (options.compare) {
    try {
      compared = searchReportSchema.parse(JSON.parse(await Deno.readTextFile(options.compare)));
    } catch (error) {
      throw new UsageError(
        `--compare ${options.compare}: ${(error as Error).message}`,
        "--compare",
      );
    }
  }
  const startedAt = new Date();
  const log = (line: string) => console.error(`[bench] ${line}`);
  const cleanups: Array<() => Promise<void>> = [];
  try {
    // 1. A database with the migrations and the seed.
    let dbUrl: string;
    const external = Deno.env.get("DATABASE_URL");
    if (external) {
      const name = `pf_bench_${crypto.randomUUID().slice(0, 8)}`;
      const admin = postgres(external, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database "${name}"`);
      await admin.end();
      const u = new URL(external);
      u.pathname = `/${name}`;
      dbUrl = u.toString();
      cleanups.push(async () => {
        const dropper = postgres(external, { max: 1, onnotice: () => {} });
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
        await dropper.end();
      });
    } else {
      const dir = await Deno.makeTempDir({ prefix: "pf-bench-pg-" });
      const pg = await startEmbeddedPostgres({
        dataDir: `${dir}/data`,
        port: freePort(),
        ephemeral: true,
      });
      dbUrl = pg.url;
      cleanups.push(async () => {
        await pg.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      });
    }
    log(`Postgres at ${new URL(dbUrl).host}`);
    await ensureSupabaseRoles(dbUrl);
    await pushMigrations(dbUrl);
    const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 2 }));
    const seeded = await seedDatabase(sql, { flights: options.seedFlights });
    log(
      `seeded ${seeded.counts.flights} flights, ${seeded.counts.fares} fares in ${
        round(seeded.elapsedMs / 1000)
      } s (${JSON.stringify(seeded.phasesMs)} ms)`,
    );

    // 2. Under the pooler's rules a real PgBouncer in transaction mode sits in front of Postgres;
    //    the latency proxy, on its own thread, in front of either.
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

    // 3. One isolate per contender, pinned to its path, result cache off.
    const spec = (await discoverFunctions()).find((s) => s.name === "flight-search");
    if (!spec) throw new Error("supabase/functions/flight-search is missing");
    const keys = await apiKeys();
    const ports = new Map<Contender, number>();
    for (const contender of contenders) {
      const fn = await startFunction(spec, {
        env: {
          SUPABASE_DB_URL: proxyUrl.toString(),
          DB_POOLER_URL: proxyUrl.toString(),
          DB_CONNECTION_MODE: options.connectionMode,
          FLIGHT_SEARCH_FORCE_PATH: contender,
          FLIGHT_SEARCH_RESULT_CACHE: "off",
        },
      });
      cleanups.push(() => fn.stop());
      ports.set(contender, fn.port);
    }
    // The isolates inherit this environment (COALESCE_* and the rest), so this is what they run.
    const fnConfig = searchConfig();

    // 4. Distinct searches that find flights: the busiest route-dates.
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
    const headers = { authorization: `Bearer ${keys.anonKey}` };

    const wave = async (contender: Contender, level: number, offset: number) => {
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
    };

    // 5. Run: per level, each contender in turn, warm-up waves first.
    const results: LevelResult[] = [];
    for (const level of options.levels) {
      const waves = Math.max(5, Math.ceil(options.requests / level));
      for (const contender of contenders) {
        for (let w = 0; w < 2; w++) await wave(contender, level, w * level);
        const latencies: number[] = [];
        // A response without server-timing leaves its server latency unknown, not zero.
        const serverLatencies: number[] = [];
        const perWave: number[] = [];
        const roundTripsPerWave: number[] = [];
        let other = 0;
        let errors = 0;
        let wall = 0;
        for (let w = 0; w < waves; w++) {
          const before = countQueries(await proxy.stats());
          const { outcomes, wallMs } = await wave(contender, level, w * level);
          const after = countQueries(await proxy.stats());
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
        const result: LevelResult = {
          contender,
          level,
          waves,
          requests: latencies.length,
          errors,
          queriesPerWave: perWaveSummary(perWave),
          roundTripsPerWave: perWaveSummary(roundTripsPerWave),
          otherQueries: other,
          latencyMs: {
            p50: round(percentile(latencies, 50)),
            p95: round(percentile(latencies, 95)),
            p99: round(percentile(latencies, 99)),
            mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
          },
          serverLatencyMs: {
            p50: finiteOrNull(round(percentile(serverLatencies, 50))),
            p95: finiteOrNull(round(percentile(serverLatencies, 95))),
            p99: finiteOrNull(round(percentile(serverLatencies, 99))),
          },
          requestsPerSecond: round(latencies.length / (wall / 1000)),
        };
        results.push(result);
        log(
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

    // 6. The optimized path over K isolates behind the gateway: each coalesces on its own.
    const isolates = options.isolates.length === 0 ? undefined : await runIsolatesSeries({
      spec,
      dbUrl: proxyUrl.toString(),
      counts: options.isolates,
      requests: options.requests,
      searches,
      searchQueries: async () => countQueries(await proxy.stats()).search,
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
      method: {
        pathSelection: "FLIGHT_SEARCH_FORCE_PATH per isolate (the flag is not read)",
        resultCache: "off (FLIGHT_SEARCH_RESULT_CACHE=off): every request reaches the database",
        queryCounting:
          "latency proxy, Execute + simple Query messages of the wire protocol; search statements only (flights/fares/airports/airlines, search_wave); other statements (metrics flushes, connection set-up) listed apart",
        roundTripCounting:
          "latency proxy: a client flight between two server answers is one round trip, attributed to each search statement its Parse/Bind/Execute/Query messages name",
        pooler,
        connectionMode: options.connectionMode === "direct"
          ? "direct: postgres.js prepare: true"
          : "pooler: prepare: false, as behind a transaction pooler; named prepared statements counted (must be 0)",
        client: "one Deno process, fetch, direct to each function isolate's port",
        peer:
          "dataloader 2.2.3, one loader per isolate, default scheduling and batch size, cache: false",
        isolates:
          `optimized path at N=${isolatesLevel} over K isolates started alike, through the local gateway (round robin, on its own thread), 2 warm-up waves per K`,
      },
      results,
      isolates,
      targets,
    });
    await Deno.mkdir(options.out, { recursive: true });
    await Deno.writeTextFile(`${options.out}/search.json`, JSON.stringify(report, null, 2) + "\n");
    const markdown = renderMarkdown(report);
    await Deno.writeTextFile(`${options.out}/search.md`, markdown);
    console.log(markdown);
    log(`wrote ${options.out}/search.json and ${options.out}/search.md`);
    return 0;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

const cellMs = (v: number | null) => (v === null ? "–" : String(v));

function renderMarkdown(report: SearchReport): string {
  const { meta, settings, method, results, targets } = report;
  const lines: string[] = [];
  lines.push("# flight-search benchmark", "");
  lines.push(
    `Started ${meta.startedAt} (finished ${meta.endedAt}) on ${describeMachine(meta.machine)}.`,
    "",
    `Command: \`${meta.command}\``,
    "",
    `Levels ${settings.levels.join(", ")} · ${settings.requests} requests per level and ` +
      `contender · proxy +${settings.delayMsEachWay} ms each way · ${settings.seededFlights} ` +
      `flights · ${settings.connectionMode} connections (${settings.namedParses} named prepared statements) · DB pool ${settings.dbPoolMax} per isolate · coalescing ${
        JSON.stringify(settings.coalescing)
      }`,
    "",
    `Paths forced with ${method.pathSelection}. Result cache ${method.resultCache}. Queries counted by the ${method.queryCounting}. Client: ${method.client}. Peer: ${method.peer}.`,
    "",
  );
  lines.push(
    "| contender | N | waves | queries/wave (median) | min–max | round trips/wave (median) | min–max | queries/request | p50 ms | p95 ms | p99 ms | server p50 | server p95 | req/s | errors | other queries |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of results) {
    lines.push(
      `| ${r.contender} | ${r.level} | ${r.waves} | ${r.queriesPerWave.median} | ${r.queriesPerWave.min}–${r.queriesPerWave.max} | ${r.roundTripsPerWave.median} | ${r.roundTripsPerWave.min}–${r.roundTripsPerWave.max} | ${
        round(queriesPerRequest(r), 2)
      } | ${r.latencyMs.p50} | ${r.latencyMs.p95} | ${r.latencyMs.p99} | ${
        cellMs(r.serverLatencyMs.p50)
      } | ${
        cellMs(r.serverLatencyMs.p95)
      } | ${r.requestsPerSecond} | ${r.errors} | ${r.otherQueries} |`,
    );
  }
  lines.push("", "## Ratios", "");
  lines.push(
    "| N | legacy ÷ optimized queries | peer ÷ optimized queries | legacy ÷ optimized p95 | peer ÷ optimized p95 |",
    "|---:|---:|---:|---:|---:|",
  );
  for (const level of settings.levels) {
    const o = searchResultAt(report, "optimized", level);
    const l = searchResultAt(report, "legacy", level);
    const p = searchResultAt(report, "dataloader", level);
    if (!o || !l || !p) continue;
    lines.push(
      `| ${level} | ${round(l.queriesPerWave.mean / o.queriesPerWave.mean, 2)} | ${
        round(p.queriesPerWave.mean / o.queriesPerWave.mean, 2)
      } | ${round(l.latencyMs.p95 / o.latencyMs.p95, 2)} | ${
        round(p.latencyMs.p95 / o.latencyMs.p95, 2)
      } |`,
    );
  }
  lines.push(...renderIsolatesMarkdown(report.isolates));
  lines.push(
    "",
    "## Targets (issue 14)",
    "",
    "| target | goal | measured | |",
    "|---|---|---|---|",
  );
  for (const t of targets) {
    lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met ? "met" : "**missed**"} |`);
  }
  return lines.join("\n") + "\n";
}

if (import.meta.main) await runMain(main, { usage });
