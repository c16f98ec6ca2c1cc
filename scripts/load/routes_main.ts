/**
 * `deno task load:routes`: writes the routes file the k6 scripts read (ROUTES_FILE) from the
 * busiest route-dates of a database.
 *
 *   deno task load:routes --db-url postgres://... [--limit 50] [--out reports/load/routes.json]
 *
 * @module
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { resolve } from "node:path";
import { reportsDir } from "../local/paths.ts";
import { defaultRouteLimit, routesFromDatabase, writeRoutesFile } from "./routes.ts";

if (import.meta.main) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        "db-url": { type: "string" },
        limit: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const usage =
    "Usage: deno task load:routes --db-url URL (or SUPABASE_DB_URL) [--limit N] [--out PATH]";
  if (values.help) {
    console.log(usage);
    Deno.exit(0);
  }
  const dbUrl = (values["db-url"] as string | undefined) ?? Deno.env.get("SUPABASE_DB_URL");
  const limitText = (values.limit as string | undefined) ?? String(defaultRouteLimit);
  if (!dbUrl || !/^postgres(ql)?:\/\//.test(dbUrl)) {
    console.error(`error: --db-url: expected a postgres:// URL\n${usage}`);
    Deno.exit(2);
  }
  if (!/^\d+$/.test(limitText) || Number(limitText) < 1) {
    console.error(`error: --limit: expected a positive integer, got "${limitText}"\n${usage}`);
    Deno.exit(2);
  }
  const out = resolve((values.out as string | undefined) ?? `${reportsDir}/load/routes.json`);
  const sql = postgres(dbUrl, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const routes = await routesFromDatabase(sql, Number(limitText));
    await writeRoutesFile(out, routes);
    console.log(`${routes.length} routes written to ${out} (ROUTES_FILE=${out})`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
