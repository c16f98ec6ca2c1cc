/**
 * k6's metric arithmetic, reproduced for the built-in driver so its summary means what k6's
 * does: trend statistics (k6's percentile interpolation), counter and rate values, and threshold
 * expressions such as `p(95)<=1000` or `rate>=0.2`.
 *
 * @module
 */

/** Values of a k6 trend metric for the `summaryTrendStats` the scripts ask for. */
export type TrendValues = Record<string, number>;

/**
 * The `p`-th quantile (0..1) of ascending `sorted` values, interpolated between neighbours as
 * k6's trend sink does; 0 for no values.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  if (sorted.length === 1) return sorted[0]!;
  const i = p * (sorted.length - 1);
  const lower = sorted[Math.floor(i)]!;
  const upper = sorted[Math.ceil(i)]!;
  return lower + (upper - lower) * (i - Math.floor(i));
}

const percentileStat = /^p\((\d+(?:\.\d+)?)\)$/;

/**
 * One trend statistic (`avg`, `min`, `med`, `max`, `count`, `p(N)`) of ascending `sorted` values.
 * With no values every statistic is 0, as in k6.
 *
 * @throws {RangeError} for a statistic k6 does not know.
 */
export function trendStat(sorted: readonly number[], stat: string): number {
  const n = sorted.length;
  switch (stat) {
    case "count":
      return n;
    case "min":
      return n === 0 ? 0 : sorted[0]!;
    case "max":
      return n === 0 ? 0 : sorted[n - 1]!;
    case "avg":
      return n === 0 ? 0 : sorted.reduce((sum, v) => sum + v, 0) / n;
    case "med":
      return percentile(sorted, 0.5);
  }
  const match = percentileStat.exec(stat);
  if (!match) throw new RangeError(`unknown trend statistic "${stat}"`);
  return percentile(sorted, Number(match[1]) / 100);
}

/** The trend values for `stats` of unsorted `samples`. */
export function trendValues(samples: readonly number[], stats: readonly string[]): TrendValues {
  const sorted = [...samples].sort((a, b) => a - b);
  return Object.fromEntries(stats.map((stat) => [stat, trendStat(sorted, stat)]));
}

/** A counter's values: total and per second of test run. */
export function counterValues(count: number, testRunS: number): { count: number; rate: number } {
  return { count, rate: testRunS > 0 ? count / testRunS : 0 };
}

/** A rate's values: share of non-zero samples (0 without samples), passes and fails. */
export function rateValues(
  passes: number,
  fails: number,
): { rate: number; passes: number; fails: number } {
  const total = passes + fails;
  return { rate: total === 0 ? 0 : passes / total, passes, fails };
}

const expressionPattern =
  /^\s*(count|rate|value|avg|min|med|max|p\(\d+(?:\.\d+)?\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/;

/** A parsed threshold expression. */
export interface ThresholdExpression {
  aggregation: string;
  op: "<" | "<=" | ">" | ">=" | "==" | "===" | "!=";
  value: number;
}

/**
 * Parses a k6 threshold expression (`<aggregation> <op> <number>`).
 *
 * @throws {SyntaxError} when it is not one.
 */
export function parseThreshold(expression: string): ThresholdExpression {
  const match = expressionPattern.exec(expression);
  if (!match) throw new SyntaxError(`not a k6 threshold expression: "${expression}"`);
  return {
    aggregation: match[1]!,
    op: match[2] as ThresholdExpression["op"],
    value: Number(match[3]),
  };
}

/**
 * Whether `expression` holds, reading aggregations with `lookup`.
 *
 * @throws {SyntaxError} for a malformed expression.
 * @throws {RangeError} when `lookup` has no value for the aggregation.
 */
export function thresholdHolds(
  expression: string,
  lookup: (aggregation: string) => number | undefined,
): boolean {
  const { aggregation, op, value } = parseThreshold(expression);
  const actual = lookup(aggregation);
  if (actual === undefined) {
    throw new RangeError(`threshold "${expression}": the metric has no "${aggregation}"`);
  }
  switch (op) {
    case "<":
      return actual < value;
    case "<=":
      return actual <= value;
    case ">":
      return actual > value;
    case ">=":
      return actual >= value;
    case "==":
    case "===":
      return actual === value;
    case "!=":
      return actual !== value;
  }
}
