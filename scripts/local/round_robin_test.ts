import { assertEquals } from "../../tests/support/assert.ts";
import { RoundRobin } from "./round_robin.ts";

const up = () => true;

Deno.test("RoundRobin.next() hands out every item in turn", () => {
  const rr = new RoundRobin();
  const picks = Array.from({ length: 7 }, () => rr.next([1, 2, 3], up));
  assertEquals(picks, [1, 2, 3, 1, 2, 3, 1]);
});

Deno.test("RoundRobin.next() skips items that are not available and keeps the order", () => {
  const rr = new RoundRobin();
  const down = new Set([2]);
  const picks = Array.from({ length: 4 }, () => rr.next([1, 2, 3], (n) => !down.has(n)));
  assertEquals(picks, [1, 3, 1, 3]);
  down.clear(); // back: it gets its turn again
  assertEquals(Array.from({ length: 3 }, () => rr.next([1, 2, 3], up)), [1, 2, 3]);
});

Deno.test("RoundRobin.next() gives undefined when nothing is available or the list is empty", () => {
  const rr = new RoundRobin();
  assertEquals(rr.next([1, 2], () => false), undefined);
  assertEquals(rr.next([], up), undefined);
  assertEquals(rr.next([7], up), 7);
});

Deno.test("RoundRobin.next() stays in range when the list shrinks between calls", () => {
  const rr = new RoundRobin();
  rr.next([1, 2, 3, 4], up);
  rr.next([1, 2, 3, 4], up);
  rr.next([1, 2, 3, 4], up); // cursor now at index 3
  assertEquals(rr.next(["a", "b"], up), "b");
  assertEquals(rr.next(["a", "b"], up), "a");
});
