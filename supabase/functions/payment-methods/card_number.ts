/**
 * The card number field: how many digits each brand's numbers have (ISO/IEC 7812 primary account
 * numbers, as each network issues them), and the zod schema that checks grouping, length for the
 * brand, and the Luhn digit.
 *
 * A number the right shape for no issuer (a Luhn-valid 12-digit number) would be stored,
 * encrypted and later refused by the acquirer at booking time; it is refused here instead, with
 * a message naming the field and never the number.
 *
 * @module
 */
import { z } from "zod";
import { type CardBrand, cardBrand, luhnValid, normalizeCardNumber } from "./card.ts";

const range = (from: number, to: number): readonly number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Shortest and longest primary account number accepted for any brand. */
export const panLength = { min: 13, max: 19 } as const;

/**
 * Digits a number of each brand has. Maestro has issued 12-digit numbers in the past; they fall
 * outside {@link panLength} and are refused with every other 12-digit number.
 */
export const brandLengths: Readonly<Record<CardBrand, readonly number[]>> = {
  visa: [13, 16, 19],
  mastercard: [16],
  amex: [15],
  discover: range(16, 19),
  diners: range(14, 19),
  jcb: range(16, 19),
  unionpay: range(16, 19),
  maestro: range(13, 19),
  unknown: range(panLength.min, panLength.max),
};

function listLengths(lengths: readonly number[]): string {
  const last = lengths.at(-1);
  if (lengths.length === 1) return `${last}`;
  const contiguous = lengths.every((n, i) => i === 0 || n === lengths[i - 1]! + 1);
  if (contiguous) return `${lengths[0]} to ${last}`;
  return `${lengths.slice(0, -1).join(", ")} or ${last}`;
}

/**
 * What is wrong with a normalized number (digits only), or `undefined` when it is a plausible
 * card number: right length for its brand and Luhn-valid. Never contains the number.
 *
 * @example
 * ```ts
 * cardNumberProblem("4242424242424242"); // undefined
 * cardNumberProblem("411111111117"); // "expected 13 to 19 digits"
 * cardNumberProblem("3782822463100003"); // "an amex card number has 15 digits"
 * ```
 */
export function cardNumberProblem(digits: string): string | undefined {
  if (digits.length < panLength.min || digits.length > panLength.max) {
    return `expected ${panLength.min} to ${panLength.max} digits`;
  }
  const brand = cardBrand(digits);
  const lengths = brandLengths[brand];
  if (!lengths.includes(digits.length)) {
    const article = /^[aeiou]/.test(brand) ? "an" : "a";
    return `${article} ${brand} card number has ${listLengths(lengths)} digits`;
  }
  if (!luhnValid(digits)) return "fails the Luhn check";
  return undefined;
}

/**
 * The `number` field of a new card: a string of digits, optionally grouped by single spaces or
 * dashes, valid by {@link cardNumberProblem}; output is the digits alone.
 */
export const cardNumberSchema = z.string({ error: "expected a string of digits" })
  .max(32, `expected ${panLength.min} to ${panLength.max} digits`)
  .transform((value, ctx) => {
    const digits = normalizeCardNumber(value);
    const problem = digits === undefined
      ? `expected ${panLength.min} to ${panLength.max} digits`
      : cardNumberProblem(digits);
    if (problem !== undefined) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    return digits!;
  });
