/**
 * SQL literals for the one statement the pooler mode sends without parameters.
 *
 * Why literals at all: behind a transaction pooler postgres.js may not keep a named prepared
 * statement, and an unnamed parameterised one costs it two round trips (it describes the
 * statement before binding). A statement whose values are literals goes out as one flight. The
 * values are escaped here, in one place, and each literal carries its type, so no value can end
 * the literal or change the statement's shape: strings become `E'…'` escape strings (a quote
 * doubled, a backslash doubled — correct whatever `standard_conforming_strings` says), integers
 * must be safe integers, and text containing NUL (which Postgres text cannot hold) is refused.
 *
 * @module
 */

/** Thrown for a value that has no safe literal (NUL in text, a non-integer number). */
export class SqlLiteralError extends Error {
  override name = "SqlLiteralError";
}

/** A string literal: `E'…'` with quotes and backslashes doubled. @throws {SqlLiteralError} */
export function stringLiteral(value: string): string {
  if (value.includes("\0")) throw new SqlLiteralError("text cannot contain NUL");
  return `E'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** An integer literal. @throws {SqlLiteralError} for anything but a safe integer. */
export function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value)) throw new SqlLiteralError(`not a safe integer: ${value}`);
  return String(value);
}

/**
 * An array literal of `type` from strings, e.g. `array[E'LHR',E'JFK']::text[]`; the elements are
 * string literals cast by the array's type, so `date[]` takes `YYYY-MM-DD` strings.
 *
 * @example
 * ```ts
 * textArrayLiteral(["O'Hare"], "text"); // "array[E'O''Hare']::text[]"
 * ```
 * @throws {SqlLiteralError} for an element {@link stringLiteral} refuses or a bad type name.
 */
export function textArrayLiteral(values: readonly string[], type: "text" | "date"): string {
  return `array[${values.map(stringLiteral).join(",")}]::${type}[]`;
}
