import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
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
