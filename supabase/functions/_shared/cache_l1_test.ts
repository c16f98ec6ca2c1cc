import { assertEquals } from "../../../tests/support/assert.ts";
import { L1Cache } from "./cache_l1.ts";

Deno.test("L1Cache keeps entries by recency within maxEntries and maxBytes until ttlMs", () => {
  let now = 0;
  const l1 = new L1Cache({ maxEntries: 2, maxBytes: 20, ttlMs: 100, now: () => now });
  l1.set("a", "a", '"a"');
  l1.set("b", "b", '"b"');
  assertEquals(l1.get("a")?.value, "a"); // b is now the least recently used
  l1.set("c", "c", '"c"');
  assertEquals([l1.get("b"), l1.occupancy()], [undefined, { entries: 2, bytes: 6 }]);
  l1.set("big", "x".repeat(20), JSON.stringify("x".repeat(20)));
  assertEquals(l1.get("big"), undefined, "larger than maxBytes: not kept");
  l1.set("é", "é✈😀", JSON.stringify("é✈😀")); // 2 + 3 + 4 bytes + 2 quotes
  assertEquals(l1.occupancy(), { entries: 2, bytes: 3 + 11 }, "UTF-8 bytes of the JSON");
  now += 101;
  assertEquals(l1.occupancy(), { entries: 0, bytes: 0 }, "expired entries are not counted");
  l1.set("d", null, "null");
  assertEquals([l1.get("d") !== undefined, l1.get("d")?.value], [true, null], "a null is kept");
  l1.delete("d");
  l1.set("e", 1, "1");
  l1.clear();
  assertEquals([l1.get("d"), l1.get("e")], [undefined, undefined]);
});
