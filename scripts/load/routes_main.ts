/**
 * `deno task load:routes`: writes the routes file the k6 scripts read (ROUTES_FILE) from the
 * busiest route-dates of a database.
 *
 *   deno task load:routes --db-url postgres://... [--limit 50] [--out reports/load/routes.json]
 *
 * @module
 */
import postgres from "postgres";
import { resolve } from "node:path";
import { z } from "zod";
import { parseCommandLine, validateOptions } from "../_cli/args.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
import { reportsDir } from "../local/paths.ts";
import { defaultRouteLimit, routesFromDatabase, writeRoutesFile } from "./routes.ts";

const usage =
  "Usage: deno task load:routes --db-url URL (or SUPABASE_DB_URL) [--limit N] [--out PATH]";

const optionsSchema = z.object({
  dbUrl: z.string({ error: "expected a postgres:// URL" })
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL"),
  limit: z.string().refine((text) => /^\d+$/.test(text) && Number(text) >= 1, {
    error: (issue) => `expected a positive integer, got "${issue.input}"`,
  }).transform(Number),
  out: z.string(),
});

/** Writes the routes file; resolves with the exit code. */
async function main(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, { strings: ["db-url", "limit", "out"] });
  if (values.help) return showUsage(usage);
  const options = validateOptions(optionsSchema, {
    dbUrl: values["db-url"] ?? Deno.env.get("SUPABASE_DB_URL"),
    limit: values.limit ?? String(defaultRouteLimit),
    out: resolve((values.out as string | undefined) ?? `${reportsDir}/load/routes.json`),
  });
  const sql = postgres(options.dbUrl, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const routes = await routesFromDatabase(sql, options.limit);
    await writeRoutesFile(options.out, routes);
    console.log(`${routes.length} routes written to ${options.out} (ROUTES_FILE=${options.out})`);
    return 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) await runMain(main, { usage, failureCode: 1 });
