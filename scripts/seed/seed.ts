/**
 * Loads the deterministic seed into a migrated database: airports and airlines from the committed
 * reference data, then flights and fares streamed through COPY.
 *
 * Everything happens in one transaction that locks and truncates the four tables (after refusing
 * non-empty ones unless `replace`), which lets COPY use FREEZE: rows are written frozen and
 * all-visible, so the covering search indexes answer index-only without waiting for a vacuum.
 * Secondary indexes, unique constraints and foreign keys of flights and fares are rebuilt after
 * the load from their catalog definitions (see `bulk_load.ts`), which checks every row against
 * them; the flights trigger computes every `departure_date` and is never bypassed. Ids are
 * supplied (COPY always accepts identity values) so fares reference flights without a round trip;
 * the identity sequences are moved past them afterwards. Local departure times are converted
 * with the database's own tz rules, so the trigger's local date is always the planned one. A
 * final VACUUM ANALYZE sets statistics and the visibility map index-only scans rely on.
 *
 * @module
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type postgres from "postgres";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { withIndexesDeferred } from "./bulk_load.ts";
import { fareColumns, fareCopyRows, flightColumns, flightCopyRows } from "./copy_rows.ts";
import { loadDatabaseTimeZoneRules } from "./database_time_zone_rules.ts";
import { parseSeedOptions, type SeedOptions } from "./options.ts";
import { type Airline, type Airport, referenceData } from "./reference_data.ts";
import { planDays, planSeed } from "./seed_plan.ts";
import { departureWindow } from "./timetable.ts";

export { SeedOptionsError } from "./options.ts";
export type { SeedOptions } from "./options.ts";

/** A route with many flights on one day: what tests and load scenarios search for. */
export interface PopularRoute {
  origin: string;
  destination: string;
  /** Local departure date, YYYY-MM-DD. */
  departureDate: string;
  /** Flights on that route and date. */
  flights: number;
}

/** What a seed run wrote, read back from the database. */
export interface SeedSummary {
  options: SeedOptions;
  counts: { airports: number; airlines: number; flights: number; fares: number };
  /** Wall time of the run up to and including ANALYZE (the summary queries excluded). */
  elapsedMs: number;
  /** Where that time went: planning, each COPY, rebuilding indexes and keys, VACUUM ANALYZE. */
  phasesMs: { plan: number; flights: number; fares: number; indexes: number; analyze: number };
  /** First and last local departure date present. */
  dateRange: { from: string; to: string };
  /** The busiest routes (one date each), busiest first. */
  popularRoutes: PopularRoute[];
}

/** Thrown when the tables hold data and `replace` was not given. */
export class SeedError extends Error {
  override name = "SeedError";
}

const tables = ["public.fares", "public.flights", "public.airlines", "public.airports"] as const;

/** Characters per chunk handed to COPY: large writes keep per-message overhead negligible. */
const chunkChars = 1 << 20;

function* chunked(lines: Iterable<string>): Generator<string> {
  let buffer = "";
  for (const line of lines) {
    buffer += line;
    if (buffer.length >= chunkChars) {
      yield buffer;
      buffer = "";
    }
  }
  if (buffer.length > 0) yield buffer;
}

async function copyInto(
  tx: postgres.TransactionSql,
  statement: string,
  rows: Iterable<string>,
): Promise<void> {
  const writable = await tx.unsafe(statement).writable();
  await pipeline(Readable.from(chunked(rows)), writable);
}

/** The `public.airports` row of a reference airport. */
function airportRow(a: Airport) {
  return {
    iata_code: a.iata,
    name: a.name,
    city: a.city,
    country_code: a.country,
    time_zone: a.timeZone,
    latitude: a.latitude,
    longitude: a.longitude,
  };
}

/** The `public.airlines` row of a reference airline. */
function airlineRow(a: Airline) {
  return { iata_code: a.iata, name: a.name, country_code: a.country, alliance: a.alliance };
}

/**
 * Seeds the database `sql` points at (migrations applied) and returns what it wrote.
 *
 * @example
 * ```ts
 * const summary = await seedDatabase(sql, { flights: 5000 });
 * const [route] = summary.popularRoutes; // search this origin/destination/date
 * ```
 * @throws {SeedOptionsError} for an invalid option, before touching the database.
 * @throws {SeedError} when a table holds rows and `replace` is not set.
 */
export async function seedDatabase(
  sql: Sql,
  options: Partial<SeedOptions> = {},
): Promise<SeedSummary> {
  const started = performance.now();
  let last = started;
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - last);
    last = now;
    return ms;
  };
  const opts = parseSeedOptions(options);
  const data = referenceData();
  const rules = await loadDatabaseTimeZoneRules(sql, {
    zones: [...new Set(data.airports.map((a) => a.timeZone))],
    ...planDays(opts),
    window: departureWindow,
  });
  const plan = planSeed(opts, { data, rules });
  const phasesMs = { plan: lap(), flights: 0, fares: 0, indexes: 0, analyze: 0 };

  await sql.begin(async (tx) => {
    // Tools' pools may carry a short statement timeout; a large load legitimately runs longer.
    await tx`set local statement_timeout = 0`;
    await tx`set local maintenance_work_mem = '256MB'`;
    await tx.unsafe(`lock table ${tables.join(", ")} in access exclusive mode`);
    const [occupied] = await tx.unsafe<Record<string, boolean>[]>(
      `select ${tables.map((t) => `exists (select 1 from ${t}) as "${t}"`).join(", ")}`,
    );
    const nonEmpty = tables.filter((t) => occupied?.[t]);
    if (nonEmpty.length > 0 && !opts.replace) {
      throw new SeedError(
        `refusing to seed: ${
          nonEmpty.join(", ")
        } already hold rows (replace: true / --replace truncates them first)`,
      );
    }
    // Also on empty tables: truncating in this transaction is what allows COPY ... FREEZE.
    await tx.unsafe(`truncate ${tables.join(", ")} restart identity`);
    await tx`insert into public.airports ${tx(data.airports.map(airportRow))}`;
    await tx`insert into public.airlines ${tx(data.airlines.map(airlineRow))}`;
    await withIndexesDeferred(tx, ["public.flights", "public.fares"], async () => {
      await copyInto(
        tx,
        `copy public.flights (${flightColumns}) from stdin with (freeze)`,
        flightCopyRows(plan),
      );
      phasesMs.flights = lap();
      await copyInto(
        tx,
        `copy public.fares (${fareColumns}) from stdin with (freeze)`,
        fareCopyRows(plan),
      );
      phasesMs.fares = lap();
    });
    for (const table of ["public.flights", "public.fares"]) {
      await tx.unsafe(
        `select setval(pg_get_serial_sequence('${table}', 'id'), coalesce(max(id), 0) + 1, false) from ${table}`,
      );
    }
    phasesMs.indexes = lap();
  });
  // VACUUM, not only ANALYZE: COPY into a table with a row trigger writes frozen rows one by one
  // and leaves the visibility map unset, and index-only scans need it.
  const session = await sql.reserve();
  try {
    await session`set statement_timeout = 0`;
    await session.unsafe(`vacuum (analyze) ${tables.join(", ")}`);
  } finally {
    await session`reset statement_timeout`.catch(() => {});
    session.release();
  }
  phasesMs.analyze = lap();
  const elapsedMs = Math.round(performance.now() - started);

  const [counts] = await sql<SeedSummary["counts"][]>`
    select (select count(*) from public.airports)::int as airports,
           (select count(*) from public.airlines)::int as airlines,
           (select count(*) from public.flights)::int as flights,
           (select count(*) from public.fares)::int as fares`;
  const [range] = await sql<{ from: string; to: string }[]>`
    select min(departure_date)::text as from, max(departure_date)::text as to from public.flights`;
  return {
    options: opts,
    counts: counts ?? { airports: 0, airlines: 0, flights: 0, fares: 0 },
    elapsedMs,
    phasesMs,
    dateRange: { from: range?.from ?? opts.startDate, to: range?.to ?? opts.startDate },
    popularRoutes: await popularRoutes(sql, 5),
  };
}

/**
 * The `limit` busiest routes in the database, each with its busiest local date, busiest first
 * (ties by origin, destination, date, so the answer is stable).
 */
export async function popularRoutes(sql: Sql, limit = 5): Promise<PopularRoute[]> {
  const rows = await sql<PopularRoute[]>`
    select origin, destination, departure_date::text as "departureDate", flights
    from (
      select distinct on (origin, destination) origin, destination, departure_date,
             count(*)::int as flights
      from public.flights
      group by origin, destination, departure_date
      order by origin, destination, count(*) desc, departure_date
    ) busiest
    order by flights desc, origin, destination, "departureDate"
    limit ${limit}`;
  return [...rows];
}
