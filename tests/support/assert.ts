/**
 * Assertions for tests. Deno's std library (jsr:) is not reachable from our machines, so the
 * few assertions the tests use live here, with std's names and semantics.
 *
 * @module
 */
import { deepStrictEqual } from "node:assert";

/** Thrown by a failed assertion. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Asserts `condition` is truthy. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Asserts deep structural equality (strict). */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  try {
    deepStrictEqual(actual, expected);
  } catch (error) {
    throw new AssertionError(`${message ? `${message}: ` : ""}${(error as Error).message}`);
  }
}

/** Asserts `actual` and `expected` differ structurally. */
export function assertNotEquals<T>(actual: T, expected: T, message = "values are equal"): void {
  let equal = true;
  try {
    deepStrictEqual(actual, expected);
  } catch {
    equal = false;
  }
  if (equal) throw new AssertionError(message);
}

/** Asserts `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, message?: string): void {
  if (!text.includes(part)) {
    throw new AssertionError(
      message ?? `expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`,
    );
  }
}

/** Asserts `value` is an instance of `type`. */
export function assertInstanceOf<T>(
  value: unknown,
  type: abstract new (...args: never[]) => T,
  message?: string,
): asserts value is T {
  if (!(value instanceof type)) {
    throw new AssertionError(message ?? `expected an instance of ${type.name}`);
  }
}

/**
 * Asserts `fn` rejects (optionally with an instance of `type` whose message includes `includes`)
 * and returns the error.
 */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  type?: abstract new (...args: never[]) => E,
  includes?: string,
): Promise<E> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new AssertionError("expected the function to reject");
  if (type && !(error instanceof type)) {
    throw new AssertionError(
      `expected ${type.name}, received ${(error as Error)?.name}: ${(error as Error)?.message}`,
    );
  }
  if (includes && !(error as Error).message.includes(includes)) {
    throw new AssertionError(
      `expected the error message to include ${JSON.stringify(includes)}: ${
        (error as Error).message
      }`,
    );
  }
  return error as E;
}

/** Asserts `fn` throws synchronously and returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  type?: abstract new (...args: never[]) => E,
  includes?: string,
): E {
  let error: unknown;
  let threw = false;
  try {
    fn();
  } catch (e) {
    error = e;
    threw = true;
  }
  if (!threw) throw new AssertionError("expected the function to throw");
  if (type && !(error instanceof type)) {
    throw new AssertionError(
      `expected ${type.name}, received ${(error as Error)?.name}: ${(error as Error)?.message}`,
    );
  }
  if (includes && !(error as Error).message.includes(includes)) {
    throw new AssertionError(
      `expected the error message to include ${JSON.stringify(includes)}: ${
        (error as Error).message
      }`,
    );
  }
  return error as E;
}
