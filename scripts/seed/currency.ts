/**
 * The currency a fare is sold in, by the origin airport's country — a small mapping, USD for
 * every country not listed. Rates are fixed illustrative conversions from USD so the same seed
 * always yields the same prices; they are not market rates.
 *
 * @module
 */

/** A currency with its ISO 4217 code and minor-unit digits. */
export interface Currency {
  code: string;
  /** Digits of the minor unit: 2 for cents, 0 for yen. */
  minorDigits: number;
  /** Units of this currency per US dollar (fixed, illustrative). */
  perUsd: number;
}

const usd: Currency = { code: "USD", minorDigits: 2, perUsd: 1 };
const eur: Currency = { code: "EUR", minorDigits: 2, perUsd: 0.92 };

/** Euro-area members (ISO 3166-1 alpha-2), Bulgaria since 2026. */
const euro = "AT BE BG CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK".split(" ");

const byCountry = new Map<string, Currency>([
  ...euro.map((country) => [country, eur] as const),
  ["GB", { code: "GBP", minorDigits: 2, perUsd: 0.79 }],
  ["CA", { code: "CAD", minorDigits: 2, perUsd: 1.37 }],
  ["AU", { code: "AUD", minorDigits: 2, perUsd: 1.52 }],
  ["CH", { code: "CHF", minorDigits: 2, perUsd: 0.88 }],
  ["JP", { code: "JPY", minorDigits: 0, perUsd: 150 }],
]);

/** The selling currency for a flight departing `country` (ISO 3166-1 alpha-2). */
export function currencyFor(country: string): Currency {
  return byCountry.get(country) ?? usd;
}

/**
 * A USD amount in `currency`'s minor units, rounded to a whole major unit (whole hundreds for
 * currencies without minor units), the way fares are usually filed.
 */
export function toMinorUnits(usdAmount: number, currency: Currency): number {
  const major = usdAmount * currency.perUsd;
  const step = currency.minorDigits === 0 ? 100 : 1;
  const rounded = Math.max(step, Math.round(major / step) * step);
  return rounded * 10 ** currency.minorDigits;
}
