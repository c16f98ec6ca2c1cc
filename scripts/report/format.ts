/**
 * How the readiness report writes a figure in a table cell: one function per kind of figure, each
 * writing a missing value as `–`.
 *
 * @module
 */

/** The dash a cell shows for a figure that is missing. */
const none = "–";

/** Milliseconds: two decimals below 10, one above. */
export const fmtMs = (v: number | null | undefined): string =>
  v === null || v === undefined ? none : v < 10 ? v.toFixed(2) : v.toFixed(1);

/** A share (0..1) as a percentage with one decimal. */
export const fmtPct = (v: number | null | undefined): string =>
  v === null || v === undefined ? none : `${(v * 100).toFixed(1)}%`;

/** A factor with two decimals and `×`. */
export const fmtFactor = (v: number | null | undefined): string =>
  v === null || v === undefined ? none : `${v.toFixed(2)}×`;

/** A number with thousands separators and exactly `digits` decimals. */
export const fmtNum = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? none : v.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });

/** A ratio with one decimal and `×`; a missing or infinite one is `–`. */
export const fmtRatio = (v: number | null): string =>
  v === null || !Number.isFinite(v) ? none : `${v.toFixed(1)}×`;

/** A number with exactly `digits` decimals, no separators. */
export const fmtFixed = (v: number | null, digits = 0): string =>
  v === null ? none : v.toFixed(digits);
