/**
 * Array parameters for postgres.js with their Postgres type named.
 *
 * `sql.array(values)` infers the array type from a map postgres.js fills only after a connection
 * has fetched the server's types; on the first query of a new connection the map is empty, the
 * parameter goes out as plain `text`, and `= any($1::text[])` fails with "malformed array
 * literal". Naming the array type's oid avoids the lookup altogether.
 *
 * @module
 */
import type { Sql } from "./db.ts";

/** Oids of the array types we send (pg_type.typarray of text, int8, int4). */
const oids = { text: 1009, int8: 1016, int4: 1007 } as const;

/** A `text[]` parameter (cast it in SQL for other element types, e.g. `::date[]`). */
export function textArray(sql: Sql, values: readonly string[]) {
  return sql.array([...values], oids.text);
}

/** An `int8[]` parameter; ids as postgres.js returns them (strings) or numbers. */
export function int8Array(sql: Sql, values: readonly (string | number)[]) {
  return sql.array([...values], oids.int8);
}

/** An `int4[]` parameter. */
export function int4Array(sql: Sql, values: readonly number[]) {
  return sql.array([...values], oids.int4);
}
