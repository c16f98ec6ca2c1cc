import { assert, assertEquals, assertThrows } from "../../tests/support/assert.ts";
import {
  counterValues,
  parseThreshold,
  percentile,
  rateValues,
  thresholdHolds,
  trendStat,
  trendValues,
} from "./k6_metrics.ts";

Deno.test("percentile() interpolates between neighbours as k6's trend sink does", () => {
  const sorted = [10, 20, 30, 40];
  // i = p * (n - 1): p(50) → 1.5 → 20 + 0.5 * 10
  assertEquals(percentile(sorted, 0.5), 25);
  assertEquals(percentile(sorted, 0.95), 30 + (40 - 30) * (0.95 * 3 - 2));
  assertEquals(percentile(sorted, 0), 10);
  assertEquals(percentile(sorted, 1), 40);
  assertEquals(percentile([7], 0.99), 7);
  assertEquals(percentile([], 0.99), 0);
});

Deno.test("trendValues() computes every summary statistic from unsorted samples", () => {
  const values = trendValues([5, 1, 4, 2, 3], [
    "avg",
    "min",
    "med",
    "max",
    "p(90)",
    "p(99.9)",
    "count",
  ]);
  assertEquals(values, {
    avg: 3,
    min: 1,
    med: 3,
    max: 5,
    "p(90)": 4.6,
    "p(99.9)": 4.996,
    count: 5,
  });
  assertEquals(trendValues([], ["avg", "p(95)", "count"]), { avg: 0, "p(95)": 0, count: 0 });
  assertThrows(() => trendStat([1], "p95"), RangeError);
});

Deno.test("counterValues() and rateValues() match k6's definitions", () => {
  assertEquals(counterValues(30, 10), { count: 30, rate: 3 });
  assertEquals(counterValues(0, 0), { count: 0, rate: 0 });
  assertEquals(rateValues(1, 3), { rate: 0.25, passes: 1, fails: 3 });
  assertEquals(rateValues(0, 0), { rate: 0, passes: 0, fails: 0 });
});

Deno.test("thresholdHolds() evaluates k6 expressions at their boundaries", () => {
  const at = (v: number) => () => v;
  assert(thresholdHolds("p(95)<=1000", at(1000)));
  assert(!thresholdHolds("p(95)<=1000", at(1000.001)));
  assert(!thresholdHolds("p(95)<1000", at(1000)));
  assert(thresholdHolds("rate>=0.2", at(0.2)));
  assert(!thresholdHolds("rate>0.2", at(0.2)));
  assert(thresholdHolds("count == 3", at(3)));
  assert(thresholdHolds("count!=3", at(4)));
  assert(thresholdHolds("avg < 1e3", at(999)));
  assertEquals(parseThreshold(" med >= 2.5 "), { aggregation: "med", op: ">=", value: 2.5 });
  assertThrows(() => parseThreshold("p95 < 1"), SyntaxError);
  assertThrows(() => parseThreshold("rate <"), SyntaxError);
  assertThrows(() => thresholdHolds("rate<1", () => undefined), RangeError);
});
