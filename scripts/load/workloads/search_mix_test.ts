// Tests of ./search_mix.js.
import { assert, assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import type { Route } from "./routes.js";
import {
  freshSeed,
  hotSetSize,
  searchAt,
  searchBody,
  searchFor,
  searchSpace,
  sessionId,
} from "./search_mix.js";
import { resolveWorkload } from "./workloads.js";

const routes: Route[] = Array.from({ length: 50 }, (_, i) => ({
  origin: `A${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`,
  destination: "ZZZ",
  departureDate: "2027-01-05",
}));

Deno.test("searchAt() gives distinct searches for distinct keys across the whole space", () => {
  const few = routes.slice(0, 2);
  const space = searchSpace(few.length);
  const seen = new Set<string>();
  for (let key = 0; key < space; key++) {
    const { key: _key, ...search } = searchAt(few, key);
    seen.add(JSON.stringify(search));
  }
  assertEquals(seen.size, space);
  assertEquals(searchAt(few, space + 3).passengers, searchAt(few, 3).passengers);
});

Deno.test("searchFor() repeats the configured share from the hot set and never repeats fresh searches", () => {
  for (const duplication of [0.7, 0.5, 0.2, 0]) {
    const mix = { routes, duplication, seed: 1, phaseCount: 1 };
    const n = 20_000;
    let repeats = 0;
    const fresh = new Set<number>();
    for (let i = 0; i < n; i++) {
      const search = searchFor(mix, 0, i);
      if (search.repeat) {
        repeats++;
        assert(search.key < hotSetSize, "repeats come from the hot set");
      } else {
        assert(!fresh.has(search.key), `fresh search ${i} repeats key ${search.key}`);
        fresh.add(search.key);
        assert(search.key >= hotSetSize);
      }
    }
    const share = repeats / n;
    assert(Math.abs(share - duplication) < 0.015, `duplication ${duplication}: share ${share}`);
  }
});

Deno.test("searchFor() is a function of (seed, phase, iteration) and phases use separate blocks", () => {
  const mix = { routes, duplication: 0, seed: 3, phaseCount: 4 };
  assertEquals(searchFor(mix, 2, 17), searchFor({ ...mix }, 2, 17));
  const keys = new Set<number>();
  for (let phase = 0; phase < 4; phase++) {
    for (let i = 0; i < 1000; i++) keys.add(searchFor(mix, phase, i).key);
  }
  assertEquals(keys.size, 4000);
  const other = { ...mix, duplication: 0.5 };
  const a = Array.from({ length: 50 }, (_, i) => searchFor(other, 0, i).repeat);
  const b = Array.from({ length: 50 }, (_, i) => searchFor({ ...other, seed: 4 }, 0, i).repeat);
  assert(JSON.stringify(a) !== JSON.stringify(b), "another seed gives another mix");
  assertThrows(() => searchFor({ ...mix, routes: [] }, 0, 0), RangeError);
});

Deno.test("searchFor() starts fresh searches elsewhere for another seed", () => {
  const fresh = (seed: number) =>
    new Set(
      Array.from({ length: 2000 }, (_, i) =>
        searchFor({ routes, duplication: 0, seed, phaseCount: 1 }, 0, i).key),
    );
  const a = fresh(1);
  const b = fresh(2);
  const shared = [...a].filter((key) => b.has(key)).length;
  assertEquals(shared, 0, "seeds 1 and 2 send disjoint fresh searches");
  const seed = freshSeed();
  assert(seed >= 1 && seed < 2 ** 31 && Number.isInteger(seed));
});

Deno.test("searchBody() and sessionId() give the request's body and session", () => {
  const search = searchFor({ routes, duplication: 0, seed: 1, phaseCount: 1 }, 0, 0);
  const body = searchBody(search);
  assertEquals(body.origin, search.origin);
  assertEquals(body.departure_date, search.departureDate);
  assertEquals(Object.keys(body).includes("repeat"), false);
  assertEquals(sessionId(1, 7), "load-1-vu-7");
  assertEquals(sessionId(1, 7, 3), "load-1-vu-7-req-3");
  assertEquals(resolveWorkload("baseline").sessions, "vu");
  assertEquals(resolveWorkload("sweep").sessions, "request");
});
