import { assertEquals } from "../../tests/support/assert.ts";
import type { SearchLevelResult } from "./search_report.ts";
import { searchTargets } from "./search_targets.ts";

function result(
  contender: SearchLevelResult["contender"],
  level: number,
  { queries = 1, roundTrips = 1, p50 = 10, p95 = 20 } = {},
): SearchLevelResult {
  const wave = (n: number) => ({ median: n, mean: n, min: n, max: n });
  return {
    contender,
    level,
    waves: 5,
    requests: 5 * level,
    errors: 0,
    queriesPerWave: wave(queries),
    roundTripsPerWave: wave(roundTrips),
    otherQueries: 0,
    latencyMs: { p50, p95, p99: p95, mean: p50 },
    serverLatencyMs: { p50: null, p95: null, p99: null },
    requestsPerSecond: 1,
  };
}

const context = {
  levels: [1, 50],
  maxBatchSize: 100,
  delayMsEachWay: 5,
  connectionMode: "pooler" as const,
  namedParses: 0,
};

Deno.test("searchTargets() judges the issue's goals in round trips of the proxy's delay", () => {
  const targets = searchTargets([
    result("optimized", 1, { p50: 15.9, p95: 18 }),
    result("optimized", 50, { p50: 20, p95: 25 }),
    result("legacy", 50, { queries: 150, roundTrips: 300, p50: 400, p95: 500 }),
    result("dataloader", 1, { p50: 16, p95: 18 }),
    result("dataloader", 50, { p50: 21, p95: 24 }),
  ], context);
  const met = Object.fromEntries(targets.map((t) => [t.name, t.met]));
  assertEquals(met, {
    "optimized queries per wave, every level ≤ maxBatchSize": true,
    "optimized round trips per wave, steady state (median), pooler": true,
    "optimized p50 at N=1": true,
    "optimized p95 at N=50": true,
    "legacy ÷ optimized p95 at N=50": true,
    "optimized no slower than the dataloader peer (p50 and p95, every level)": false,
    "pooler rules: named prepared statements": true,
  });
});

Deno.test("searchTargets() misses on a second statement, a named statement, a slower 1M run", () => {
  const targets = searchTargets(
    [result("optimized", 1, { queries: 2, roundTrips: 2 }), result("optimized", 50)],
    {
      ...context,
      namedParses: 3,
      compare: {
        results: [result("optimized", 50, { p95: 10 })],
        settings: { seededFlights: 20000 },
      },
    } as never,
  );
  const missed = targets.filter((t) => !t.met).map((t) => t.name);
  assertEquals(missed, [
    "optimized queries per wave, every level ≤ maxBatchSize",
    "optimized round trips per wave, steady state (median), pooler",
    "pooler rules: named prepared statements",
    "optimized p95 at N=50 vs the 20000-flight run",
  ]);
});

Deno.test("searchTargets() reads optimized p95 at N=50 against the no-database floor", () => {
  const floor = (level: number, p95: number) => ({
    level,
    waves: 5,
    requests: 5 * level,
    misses: 0,
    latencyMs: { p50: p95 / 2, p95, p99: p95 },
    serverLatencyMs: { p50: 0.3, p95: 0.5 },
  });
  const judged = (p95: number, floorP95: number) =>
    searchTargets([result("optimized", 50, { p95 })], {
      ...context,
      floor: [floor(1, 2), floor(50, floorP95)],
    });
  const above = (p95: number, floorP95: number) =>
    judged(p95, floorP95).find((t) => t.name.includes("above the no-database floor"));
  assertEquals(above(50, 30)?.met, true); // 20 ms above: within 2.5 round trips of 10 ms
  assertEquals(above(50, 20)?.met, false); // 30 ms above
  assertEquals(above(50, 30)?.measured.startsWith("20 ms (2 round trips"), true);
  // The original goal is judged as before; the floor only adds to what it says.
  const p95Row = judged(50, 30).find((t) => t.name === "optimized p95 at N=50");
  assertEquals(p95Row?.met, false);
  assertEquals(p95Row?.measured.endsWith("no-database floor p95 30 ms"), true);
  // A floor whose answers did not all come from the cache is no floor: not read.
  const missed = searchTargets([result("optimized", 50, { p95: 50 })], {
    ...context,
    floor: [{ ...floor(50, 30), misses: 3 }],
  });
  assertEquals(missed.some((t) => t.name.includes("floor")), false);
  assertEquals(missed.some((t) => t.measured.includes("floor")), false);
  // Without a floor at N=50 there is nothing to read it against.
  assertEquals(
    searchTargets([result("optimized", 50)], context).some((t) => t.name.includes("floor")),
    false,
  );
});
