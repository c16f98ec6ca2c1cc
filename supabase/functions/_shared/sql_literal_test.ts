import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { testDatabase } from "../../../tests/support/database.ts";
import { integerLiteral, SqlLiteralError, stringLiteral, textArrayLiteral } from "./sql_literal.ts";

Deno.test("stringLiteral() doubles quotes and backslashes inside an escape string", () => {
  assertEquals(stringLiteral("LHR"), "E'LHR'");
  assertEquals(stringLiteral("O'Hare"), "E'O''Hare'");
  assertEquals(stringLiteral("a\\'; drop table x; --"), "E'a\\\\''; drop table x; --'");
});

Deno.test("stringLiteral() refuses NUL", () => {
  assertThrows(() => stringLiteral("a\0b"), SqlLiteralError, "NUL");
});

Deno.test("integerLiteral() accepts safe integers only", () => {
  assertEquals(integerLiteral(-3), "-3");
  assertThrows(() => integerLiteral(1.5), SqlLiteralError);
  assertThrows(() => integerLiteral(Number.NaN), SqlLiteralError);
  assertThrows(() => integerLiteral(2 ** 60), SqlLiteralError);
});

Deno.test("textArrayLiteral() casts the elements by the array type; empty arrays too", () => {
  assertEquals(
    textArrayLiteral(["2026-12-01", "2026-12-02"], "date"),
    "array[E'2026-12-01',E'2026-12-02']::date[]",
  );
  assertEquals(textArrayLiteral([], "text"), "array[]::text[]");
});

Deno.test(
  "textArrayLiteral() and integerLiteral() round-trip hostile values through Postgres unchanged",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      const hostile = ["O'Hare", "back\\slash", "\\'; select 1; --", "$$", "E'x'", "ünï©ødé", ""];
      for (const standard of ["on", "off"]) {
        // The escape-string form does not depend on standard_conforming_strings.
        const [row] = await db.sql.begin(async (tx) => {
          await tx.unsafe(`set local standard_conforming_strings = ${standard}`);
          return await tx.unsafe(
            `select ${textArrayLiteral(hostile, "text")} as texts, ${integerLiteral(-7)} as n`,
          );
        });
        assertEquals(row!.texts, hostile, `standard_conforming_strings ${standard}`);
        assertEquals(row!.n, -7);
      }
    } finally {
      await db.drop();
    }
  },
);
