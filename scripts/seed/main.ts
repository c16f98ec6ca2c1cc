/**
 * `deno task seed`: seeds a migrated database with the deterministic flight data and prints what
 * it wrote.
 *
 * Exit codes: 0 seeded, 1 the seed failed (tables not empty, database unreachable…), 2 a bad
 * command line (the message names the option).
 *
 * @module
 */
import { z } from "zod";
import { camelKeys, optionName, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { UsageError } from "../_cli/errors.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
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

/** A parsed command line. */
export interface SeedCli {
  help: boolean;
  json: boolean;
  dbUrl: string;
  options: Partial<SeedOptions>;
}

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
  const { values } = parseCommandLine(args, {
    strings: ["db-url", "flights", "seed", "start-date", "days"],
    switches: ["replace", "json"],
  });
  const help = values.help === true;
  const json = values.json === true;
  if (help) return { help, json, dbUrl: "", options: {} };
  const { dbUrl, ...rest } = validateOptions(cliSchema, {
    ...camelKeys(values),
    dbUrl: values["db-url"] ?? env.DATABASE_URL ?? env.SUPABASE_DB_URL,
  });
  const options: Partial<SeedOptions> = { replace: values.replace === true };
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) Object.assign(options, { [key]: value });
  }
  try {
    parseSeedOptions(options);
  } catch (error) {
    if (!(error instanceof SeedOptionsError)) throw error;
    const option = optionName(error.field);
    throw new UsageError(`${option}: ${error.detail}`, option);
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

/** Seeds the database of `args`; resolves with the exit code. */
async function main(args: string[]): Promise<number> {
  const cli = parseSeedArgs(args);
  if (cli.help) return showUsage(usage);
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

if (import.meta.main) await runMain(main, { usage });
