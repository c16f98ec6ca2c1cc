/**
 * What phase 1 checks after `supabase db push`: every table and index the migrations create (and
 * do not drop again), read from supabase/migrations/ so the list never drifts from the SQL, plus
 * the SQL function the monitoring phase reads.
 *
 * @module
 */
import type { Executor, Queryable } from "./executor.ts";
import { repoRoot } from "./paths.ts";

/** Relations (tables, indexes) and functions the database must have. */
export interface ExpectedSchema {
  /** Schema-qualified table names. */
  tables: string[];
  /** Schema-qualified index names. */
  indexes: string[];
  /** Function signatures for `to_regprocedure`. */
  functions: string[];
}

/** The function phase 4 reads; owned by the monitoring migration. */
export const pathSummarySignature = "monitoring.path_summary(text, timestamptz, timestamptz)";

/** Tables the search reads on every request: phase 1 runs ANALYZE on them. */
export const hotTables = [
  "public.flights",
  "public.fares",
  "public.airports",
  "public.airlines",
] as const;

const ident = String.raw`(?:"[^"]+"|[A-Za-z_][\w$]*)`;
const qualified = String.raw`(${ident}(?:\.${ident})?)`;
const createTable = new RegExp(
  String.raw`create\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?${qualified}`,
  "gi",
);
const createIndex = new RegExp(
  String
    .raw`create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?(${ident})\s+on\s+(?:only\s+)?${qualified}`,
  "gi",
);
const dropTable = new RegExp(String.raw`drop\s+table\s+(?:if\s+exists\s+)?${qualified}`, "gi");
const dropIndex = new RegExp(
  String.raw`drop\s+index\s+(?:concurrently\s+)?(?:if\s+exists\s+)?${qualified}`,
  "gi",
);

const unquote = (name: string) => name.replaceAll('"', "");
const withSchema = (name: string) => name.includes(".") ? unquote(name) : `public.${unquote(name)}`;

/** Strips `--` and `/* *\/` comments so commented-out DDL is not expected. */
function stripComments(sql: string): string {
  return sql.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/--[^\n]*/g, " ");
}

/**
 * The schema the migration files in `dir` create, in file order (later drops remove earlier
 * creations).
 */
export async function expectedSchema(
  dir = `${repoRoot}/supabase/migrations`,
): Promise<ExpectedSchema> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".sql")) files.push(entry.name);
  }
  files.sort();
  const tables = new Set<string>();
  const indexes = new Set<string>();
  for (const file of files) {
    const sql = stripComments(await Deno.readTextFile(`${dir}/${file}`));
    for (const m of sql.matchAll(createTable)) tables.add(withSchema(m[1]!));
    for (const m of sql.matchAll(createIndex)) {
      // An index lives in its table's schema.
      const table = withSchema(m[2]!);
      indexes.add(`${table.split(".")[0]}.${unquote(m[1]!)}`);
    }
    for (const m of sql.matchAll(dropTable)) tables.delete(withSchema(m[1]!));
    for (const m of sql.matchAll(dropIndex)) {
      const name = unquote(m[1]!);
      for (const known of indexes) {
        if (known === withSchema(name) || known.endsWith(`.${name}`)) indexes.delete(known);
      }
    }
  }
  return {
    tables: [...tables].sort(),
    indexes: [...indexes].sort(),
    functions: [pathSummarySignature],
  };
}

/**
 * The expected objects the database lacks (empty when all exist). In a dry run without a
 * connection: `undefined`.
 */
export async function missingObjects(
  executor: Executor,
  db: Queryable | undefined,
  expected: ExpectedSchema,
): Promise<string[] | undefined> {
  const rows = await executor.read<{ name: string; kind: string }>(db, {
    text: `select name, kind from (
        select unnest($1::text[]) as name, 'table' as kind
        union all select unnest($2::text[]), 'index'
        union all select unnest($3::text[]), 'function'
      ) expected
      where case kind when 'function' then to_regprocedure(name) is null
                      else to_regclass(name) is null end
      order by kind, name`,
    params: [expected.tables, expected.indexes, expected.functions],
  });
  return rows?.map((r) => `${r.kind} ${r.name}`);
}
