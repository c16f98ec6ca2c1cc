// @ts-check
/**
 * Durations written the way k6 and Go write them (`500ms`, `30s`, `10m`, `1h`, `1h30m`), parsed
 * in plain JavaScript so the k6 scripts, the built-in driver and the rollout CLI read the same
 * strings the same way.
 *
 * Written for k6's JavaScript engine too: ES2020 syntax and library only.
 *
 * @module
 */

const unitMs = /** @type {const} */ ({ ms: 1, s: 1000, m: 60000, h: 3600000 });
const whole = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * Parses a duration into milliseconds.
 *
 * Units: `ms`, `s`, `m`, `h`, combinable largest first or not (`1m30s`, `90s`, `1.5m`); a bare
 * number is refused because its unit would be a guess.
 *
 * @example
 * ```ts
 * parseDuration("30s"); // 30000
 * parseDuration("1h30m"); // 5400000
 * ```
 * @param {string} text
 * @returns {number} milliseconds (an integer)
 * @throws {RangeError} when `text` is not a duration, naming what was received.
 */
export function parseDuration(text) {
  const trimmed = String(text).trim();
  if (!whole.test(trimmed)) {
    throw new RangeError(
      `expected a duration like 500ms, 30s, 10m, 1h or 1m30s, received "${String(text)}"`,
    );
  }
  let total = 0;
  part.lastIndex = 0;
  for (let match = part.exec(trimmed); match !== null; match = part.exec(trimmed)) {
    const unit = /** @type {keyof typeof unitMs} */ (match[2]);
    total += Number(match[1]) * unitMs[unit];
  }
  return Math.round(total);
}

/**
 * Formats whole seconds for k6 options (`90` → `"90s"`).
 *
 * @param {number} seconds
 * @returns {string}
 */
export function k6Duration(seconds) {
  return `${Math.max(0, Math.round(seconds))}s`;
}
