/**
 * `deno task seed`: seeds a migrated database with the deterministic flight data and prints what
 * it wrote.
 *
 * Exit codes: 0 seeded, 1 the seed failed (tables not empty, database unreachable…), 2 a bad
 * command line (the message names the option).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { createPool } from "../../supabase/functions/_shared/db.ts";
import { defaultStartDate, parseSeedOptions, SeedOptionsError } from "./options.ts";
import { seedDatabase, SeedError, type SeedOptions, type SeedSummary } from "./seed.ts";

const usage = `Usage: deno task seed [options]

Seeds a migrated database (supabase db push already applied) with real airports and airlines and
a deterministic schedule of flights and fares.

Options:
  --db-url URL       database to seed      default DATABASE_URL, else SUPABASE_DB_URL
  --flights N        flights in total      default 5000 (1000000 for scale benchmarks)
  --seed N           PRNG seed             default 42
  --start-date DATE  first local date      default ${defaultStartDate}
  --days N           days of schedule      default 14
  --replace          truncate airports, airlines, flights and fares first
  --json             print the summary as JSON
  -h, --help         show this help`;

/** Thrown for a bad command line; the caller prints it and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A parsed command line. */
export interface SeedCli {
  help: boolean;
  json: boolean;
  dbUrl: string;
  options: Partial<SeedOptions>;
}

const flags: Record<string, string> = {
  dbUrl: "--db-url",
  flights: "--flights",
  seed: "--seed",
  startDate: "--start-date",
  days: "--days",
  replace: "--replace",
};

const integer = z.string().regex(/^\d+$/, "expected a whole number").transform(Number).optional();
// Seed options first so a bad value is reported before a missing URL.
const cliSchema = z.object({
  flights: integer,
  seed: integer,
  startDate: z.string().optional(),
  days: integer,
  dbUrl: z.string({ error: "not given and neither DATABASE_URL nor SUPABASE_DB_URL is set" })
    .regex(/^postgres(ql)?:\/\/\S+$/, "expected a postgres:// URL"),
});

/**
 * Parses `args`, taking the database URL from `env` when `--db-url` is absent.
 *
 * @throws {UsageError} naming the offending option.
 */
export function parseSeedArgs(
  args: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
): SeedCli {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        "db-url": { type: "string" },
        flights: { type: "string" },
        seed: { type: "string" },
        "start-date": { type: "string" },
        days: { type: "string" },
        replace: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const help = values.help === true;
  const json = values.json === true;
  if (help) return { help, json, dbUrl: "", options: {} };
  const parsed = cliSchema.safeParse({
    flights: values.flights,
    seed: values.seed,
    startDate: values["start-date"],
    days: values.days,
    dbUrl: values["db-url"] ?? env.DATABASE_URL ?? env.SUPABASE_DB_URL,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0]);
    throw new UsageError(`${flags[field] ?? field}: ${issue?.message}`);
  }
  const { dbUrl, ...rest } = parsed.data;
  const options: Partial<SeedOptions> = { replace: values.replace === true };
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) Object.assign(options, { [key]: value });
  }
  try {
    parseSeedOptions(options);
  } catch (error) {
    if (!(error instanceof SeedOptionsError)) throw error;
    throw new UsageError(`${flags[error.field] ?? error.field}: ${error.detail}`);
  }
  return { help, json, dbUrl, options };
}

/** The summary as a person reads it. */
export function summaryLines(summary: SeedSummary): string[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const { counts, phasesMs: p } = summary;
  return [
    `Seeded ${counts.airports} airports, ${counts.airlines} airlines, ${counts.flights} flights, ${counts.fares} fares in ${
      s(summary.elapsedMs)
    } (plan ${s(p.plan)}, flights ${s(p.flights)}, fares ${s(p.fares)}, indexes and keys ${
      s(p.indexes)
    }, vacuum analyze ${s(p.analyze)})`,
    `Local departure dates ${summary.dateRange.from} to ${summary.dateRange.to}, seed ${summary.options.seed}`,
    "Busiest routes:",
    ...summary.popularRoutes.map((r) =>
      `  ${r.origin} → ${r.destination} on ${r.departureDate}: ${r.flights} flights`
    ),
  ];
}

async function main(args: string[]): Promise<number> {
  let cli: SeedCli;
  try {
    cli = parseSeedArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\nRun \`deno task seed --help\` for the options.`);
    return 2;
  }
  if (cli.help) {
    console.log(usage);
    return 0;
  }
  const sql = createPool({
    url: cli.dbUrl,
    max: 2,
    statementTimeoutMs: 0,
    idleTimeoutS: 20,
    connectTimeoutS: 10,
    applicationName: "seed",
  });
  try {
    const summary = await seedDatabase(sql, cli.options);
    console.log(cli.json ? JSON.stringify(summary, null, 2) : summaryLines(summary).join("\n"));
    return 0;
  } catch (error) {
    if (error instanceof SeedError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    // Connection and server errors: their message, without a stack trace or the URL's password.
    console.error(`error: seeding failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
