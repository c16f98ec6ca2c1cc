import postgres from "postgres";
import { assertEquals } from "../../../tests/support/assert.ts";
import { testDatabase } from "../../../tests/support/database.ts";
import { int4Array, int8Array, textArray } from "./pg_array.ts";

Deno.test(
  "pg_array parameters work as the first query of a fresh connection",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      const queries = [
        (sql: postgres.Sql) => sql`select ${textArray(sql, ["a,b", 'c"d', ""])}::text[] as x`,
        (sql: postgres.Sql) => sql`select ${textArray(sql, ["2026-01-31"])}::date[]::text[] as x`,
        (sql: postgres.Sql) => sql`select ${int8Array(sql, ["9007199254740993", 2])}::int8[] as x`,
        (sql: postgres.Sql) => sql`select ${int4Array(sql, [0, -1, 7])}::int4[] as x`,
      ];
      const expected = [["a,b", 'c"d', ""], ["2026-01-31"], ["9007199254740993", "2"], [0, -1, 7]];
      for (const [i, query] of queries.entries()) {
        // A new pool each time: the parameter is the very first thing the connection sends.
        const sql = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
        try {
          const [row] = await query(sql);
          assertEquals(row?.x, expected[i]);
        } finally {
          await sql.end({ timeout: 1 });
        }
      }
    } finally {
      await db.drop();
    }
  },
);
