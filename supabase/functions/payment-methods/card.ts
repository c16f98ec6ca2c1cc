/**
 * Card number rules: normalisation, the Luhn check, the brand from the leading digits, and the
 * scrubbing of anything that looks like a card number out of text bound for a log.
 *
 * @module
 */

/** Brands stored with a payment method (`public.payment_methods.brand`). */
export type CardBrand =
  | "visa"
  | "mastercard"
  | "amex"
  | "discover"
  | "diners"
  | "jcb"
  | "unionpay"
  | "maestro"
  | "unknown";

/** Digits of `input` when it is 12..19 digits, optionally grouped by single spaces or dashes. */
export function normalizeCardNumber(input: string): string | undefined {
  if (!/^\d(?:[ -]?\d){11,18}$/.test(input)) return undefined;
  return input.replace(/[ -]/g, "");
}

/**
 * The Luhn (mod 10) check over a string of digits.
 *
 * @example
 * ```ts
 * luhnValid("4242424242424242"); // true
 * luhnValid("4242424242424241"); // false
 * ```
 */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function prefixIn(digits: string, length: number, from: number, to: number): boolean {
  const prefix = Number(digits.slice(0, length));
  return prefix >= from && prefix <= to;
}

/** The card brand by issuer identification number ranges. */
export function cardBrand(digits: string): CardBrand {
  if (/^3[47]/.test(digits)) return "amex";
  if (prefixIn(digits, 2, 51, 55) || prefixIn(digits, 4, 2221, 2720)) return "mastercard";
  if (digits.startsWith("4")) return "visa";
  if (
    digits.startsWith("6011") || digits.startsWith("65") || prefixIn(digits, 3, 644, 649)
  ) return "discover";
  if (prefixIn(digits, 4, 3528, 3589)) return "jcb";
  if (/^3(?:6|8|9|0[0-5])/.test(digits)) return "diners";
  if (digits.startsWith("62")) return "unionpay";
  if (/^(?:5[068]|6[37])/.test(digits)) return "maestro";
  return "unknown";
}

/**
 * Replaces every run of 12..19 digits (spaces or dashes allowed between them) and every long
 * base64 token (a data key is 44 characters of base64) with a marker. Defence in depth for log
 * lines: the code never logs card data on purpose.
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\d(?:[ -]?\d){11,18}/g, "[redacted-number]")
    .replace(/[A-Za-z0-9+/_-]{40,}={0,2}/g, "[redacted-token]");
}
