import { assertEquals, assertRejects, assertThrows } from "../../../tests/support/assert.ts";
import { ConfigError } from "../_shared/env.ts";
import { FakeClock, settle } from "../_shared/fake_clock.ts";
import { HttpError } from "../_shared/http_error.ts";
import { AirportSet, airportSetOptionsFromEnv, requireKnownAirports } from "./airports.ts";

function controlledLoader() {
  const calls: Array<{ resolve(codes: string[]): void; reject(e: unknown): void }> = [];
  const load = () => {
    const { promise, resolve, reject } = Promise.withResolvers<string[]>();
    calls.push({ resolve, reject });
    return promise;
  };
  return { calls, load };
}

Deno.test("AirportSet.isKnown() answers from memory: one read for a thousand checks", async () => {
  const clock = new FakeClock();
  let reads = 0;
  const set = new AirportSet({
    load: () => (reads++, Promise.resolve(["JFK", "LAX"])),
    refreshMs: 60_000,
    clock,
  });
  assertEquals(await set.isKnown("JFK"), true);
  assertEquals(await set.isKnown("ZZZ"), false);
  for (let i = 0; i < 1000; i++) {
    await clock.tick(10);
    assertEquals(await set.isKnown(i % 2 ? "LAX" : "ZZZ"), i % 2 === 1);
  }
  assertEquals(reads, 1);
  assertEquals(set.stats().size, 2);
});

Deno.test("AirportSet refreshes on schedule in the background and picks up a new airport", async () => {
  const clock = new FakeClock();
  const { calls, load } = controlledLoader();
  const set = new AirportSet({ load, refreshMs: 60_000, clock });
  const first = set.isKnown("NEW");
  calls[0]!.resolve(["JFK"]);
  assertEquals(await first, false);
  await clock.tick(59_999);
  assertEquals(await set.isKnown("NEW"), false);
  assertEquals(calls.length, 1, "no read before refreshMs");
  await clock.tick(1);
  assertEquals(await set.isKnown("NEW"), false, "the stale set answers; no waiting");
  assertEquals(await set.isKnown("JFK"), true);
  assertEquals(calls.length, 2, "one refresh in flight, not two");
  calls[1]!.resolve(["JFK", "NEW"]);
  await settle();
  assertEquals(await set.isKnown("NEW"), true);
});

Deno.test("AirportSet keeps the last known set while reads fail, retrying per interval", async () => {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  let down = false;
  let reads = 0;
  const set = new AirportSet({
    load: () => {
      reads++;
      return down ? Promise.reject(new Error("connection refused")) : Promise.resolve(["JFK"]);
    },
    refreshMs: 10_000,
    retryMs: 5000,
    clock,
    onError: (e) => errors.push(e),
  });
  assertEquals(await set.isKnown("ZZZ"), false);
  down = true;
  await clock.tick(10_000);
  for (let i = 0; i < 100; i++) {
    assertEquals(await set.isKnown("ZZZ"), false, "still refused from the last known set");
    assertEquals(await set.isKnown("JFK"), true);
    await clock.tick(100);
  }
  // 10 s of checks during the outage: the failed read at 10 s, a retry at 15 s.
  assertEquals([reads, errors.length], [3, 2]);
  down = false;
  await clock.tick(5000);
  await set.isKnown("JFK");
  await settle();
  assertEquals(set.stats().failures, 2);
  assertEquals(set.stats().ageMs, 0);
});

Deno.test("AirportSet accepts every code while no set was ever read, and a slow first read waits at most initialWaitMs", async () => {
  const clock = new FakeClock();
  const { calls, load } = controlledLoader();
  const set = new AirportSet({
    load,
    initialWaitMs: 250,
    readTimeoutMs: 2000,
    clock,
    onError: () => {},
  });
  let answered: boolean | undefined;
  set.isKnown("ZZZ").then((known) => answered = known);
  await clock.tick(249);
  assertEquals(answered, undefined);
  await clock.tick(1);
  assertEquals(answered, true, "no set yet: a format-valid code is accepted");
  await clock.tick(2000); // the read times out
  assertEquals(set.stats(), { loaded: false, size: 0, ageMs: undefined, reads: 1, failures: 1 });
  calls[0]!.resolve(["JFK"]); // its late answer is ignored
  await settle();
  assertEquals(set.stats().loaded, false);
  await clock.tick(30_000);
  const next = set.isKnown("ZZZ");
  calls[1]!.resolve(["JFK"]);
  assertEquals(await next, false);
});

Deno.test("AirportSet never replaces a known set with an empty one", async () => {
  const clock = new FakeClock();
  let codes = ["JFK"];
  const set = new AirportSet({
    load: () => Promise.resolve(codes),
    refreshMs: 1000,
    clock,
    onError: () => {},
  });
  assertEquals(await set.isKnown("JFK"), true);
  codes = [];
  await clock.tick(1000);
  await set.refresh();
  assertEquals(await set.isKnown("JFK"), true);
  assertEquals(set.stats().failures, 1);
});

Deno.test("requireKnownAirports() answers 400 naming the unknown field, origin first", async () => {
  const set = new AirportSet({ load: () => Promise.resolve(["JFK", "LAX"]) });
  await requireKnownAirports({ origin: "JFK", destination: "LAX" }, set);
  for (
    const [search, field] of [
      [{ origin: "ZZZ", destination: "LAX" }, "origin"],
      [{ origin: "JFK", destination: "ZZZ" }, "destination"],
      [{ origin: "ZZZ", destination: "QQQ" }, "origin"],
    ] as const
  ) {
    const error = await assertRejects(() => requireKnownAirports(search, set), HttpError);
    assertEquals([error.status, error.code, error.field], [400, "invalid_request", field]);
    assertEquals(error.message, `${field}: no airport with IATA code ${search[field]}`);
  }
});

Deno.test("airportSetOptionsFromEnv() reads the schedule with defaults and names a bad variable", () => {
  assertEquals(airportSetOptionsFromEnv({}), { refreshMs: 600_000, initialWaitMs: 250 });
  assertEquals(
    airportSetOptionsFromEnv({ AIRPORTS_REFRESH_MS: "5000", AIRPORTS_INITIAL_WAIT_MS: "0" }),
    { refreshMs: 5000, initialWaitMs: 0 },
  );
  assertThrows(
    () => airportSetOptionsFromEnv({ AIRPORTS_REFRESH_MS: "10" }),
    ConfigError,
    "AIRPORTS_REFRESH_MS",
  );
  assertThrows(
    () => new AirportSet({ load: () => Promise.resolve([]), refreshMs: -1 }),
    RangeError,
  );
});
