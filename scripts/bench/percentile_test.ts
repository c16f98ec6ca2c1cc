import { assertEquals } from "../../tests/support/assert.ts";
import { median, percentile } from "./percentile.ts";

Deno.test("percentile() picks the nearest rank, a value of the list", () => {
  const sorted = [10, 20, 30, 40];
  assertEquals([0, 25, 50, 75, 95, 100].map((p) => percentile(sorted, p)), [
    10,
    10,
    20,
    30,
    40,
    40,
  ]);
  assertEquals(percentile([7], 95), 7);
  assertEquals(percentile([], 50), NaN);
});

Deno.test("median() sorts a copy and leaves its input alone", () => {
  const values = [3, 1, 2];
  assertEquals(median(values), 2);
  assertEquals(values, [3, 1, 2]);
  assertEquals(median([4, 1, 3, 2]), 2);
});
