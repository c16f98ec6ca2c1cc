// Tests of tests/load/scenarios.js (tests/load/ itself is outside `deno test`: it holds k6 scripts).
import { assert, assertEquals, assertThrows } from "../../tests/support/assert.ts";
import {
  freshSeed,
  gracefulStopS,
  hotSetSize,
  overridesFromEnv,
  resolveWorkload,
  type Route,
  searchAt,
  searchBody,
  searchFor,
  searchSpace,
  sessionId,
  workloadNames,
  workloads,
} from "../../tests/load/scenarios.js";

const routes: Route[] = Array.from({ length: 50 }, (_, i) => ({
  origin: `A${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`,
  destination: "ZZZ",
  departureDate: "2027-01-05",
}));

Deno.test("workloads: every workload has a same-named k6 script and every script a workload", async () => {
  const scripts = [...Deno.readDirSync(new URL("../../tests/load/", import.meta.url))]
    .filter((e) => e.isFile && e.name.endsWith(".js") && e.name !== "scenarios.js")
    .map((e) => e.name.replace(/\.js$/, ""))
    .sort();
  assertEquals(scripts, [...workloadNames].sort());
  for (const name of workloadNames) {
    const text = await Deno.readTextFile(new URL(`../../tests/load/${name}.js`, import.meta.url));
    assert(text.includes(`k6Workload("${name}"`), `${name}.js runs workload ${name}`);
  }
});

Deno.test("resolveWorkload() lays out the documented shapes", () => {
  const baseline = resolveWorkload("baseline");
  assertEquals(baseline.phases.length, 1);
  assertEquals(baseline.phases[0]!.executor, "constant-vus");
  assertEquals(baseline.phases[0]!.vus, workloads.baseline!.vus);

  const stress = resolveWorkload("stress");
  const peak = Math.max(...workloads.stress!.stages!.map((s) => s.target));
  assertEquals(stress.phases[0]!.vus, peak);
  assertEquals(stress.phases[0]!.executor, "ramping-vus");

  const sweep = resolveWorkload("sweep");
  assertEquals(sweep.phases.map((p) => p.vus), workloads.sweep!.levels);
  assertEquals(sweep.phases.map((p) => p.tags.concurrency), workloads.sweep!.levels!.map(String));
  for (let i = 1; i < sweep.phases.length; i++) {
    const prev = sweep.phases[i - 1]!;
    assertEquals(sweep.phases[i]!.startS, prev.startS + prev.durationS + gracefulStopS);
  }

  const soak = resolveWorkload("soak");
  assertEquals(soak.phases[0]!.executor, "constant-arrival-rate");
  assertEquals(soak.phases[0]!.rate, workloads.soak!.rate);
});

Deno.test("resolveWorkload() scales durations and VUs to overrides", () => {
  const stress = resolveWorkload("stress", { durationS: 39, vus: 30 });
  assertEquals(stress.phases[0]!.vus, 30);
  const total = stress.phases[0]!.stages!.reduce((sum, s) => sum + s.durationS, 0);
  assert(Math.abs(total - 39) <= stress.phases[0]!.stages!.length, `total ${total}`);
  assertEquals(stress.phases[0]!.durationS, total);

  const sweep = resolveWorkload("sweep", { durationS: 8 });
  assertEquals(sweep.phases.map((p) => p.durationS), [2, 2, 2, 2]);
  assertEquals(resolveWorkload("soak", { rate: 7 }).phases[0]!.rate, 7);
  assertEquals(resolveWorkload("baseline", { seed: 9 }).seed, 9);
  assertEquals(resolveWorkload("baseline").seed, null, "no seed: the driver picks one per run");
});

Deno.test("resolveWorkload() refuses unknown names and overrides that do not fit", () => {
  assert(assertThrows(() => resolveWorkload("smoke"), RangeError).message.includes("baseline"));
  assertThrows(() => resolveWorkload("toString"), RangeError);
  assert(
    assertThrows(() => resolveWorkload("baseline", { rate: 5 }), RangeError).message.startsWith(
      "rate:",
    ),
  );
  assert(
    assertThrows(() => resolveWorkload("sweep", { vus: 5 }), RangeError).message.startsWith("vus:"),
  );
  assertThrows(() => resolveWorkload("baseline", { vus: 0 }), RangeError);
  assertThrows(() => resolveWorkload("baseline", { durationS: 1.5 }), RangeError);
});

Deno.test("overridesFromEnv() reads LOAD_* and names a malformed one", () => {
  assertEquals(
    overridesFromEnv({ LOAD_DURATION: "1m30s", LOAD_VUS: "7", LOAD_RATE: "3", LOAD_SEED: "4" }),
    { durationS: 90, vus: 7, rate: 3, seed: 4 },
  );
  assertEquals(overridesFromEnv({ LOAD_DURATION: "" }), {});
  assert(
    assertThrows(() => overridesFromEnv({ LOAD_DURATION: "90" }), RangeError).message.startsWith(
      "LOAD_DURATION:",
    ),
  );
  assert(
    assertThrows(() => overridesFromEnv({ LOAD_VUS: "-3" }), RangeError).message.startsWith(
      "LOAD_VUS:",
    ),
  );
});

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
