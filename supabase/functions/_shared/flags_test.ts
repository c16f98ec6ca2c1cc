import { assertEquals, assertInstanceOf, assertThrows } from "../../../tests/support/assert.ts";
import { DeadlineExceeded } from "./deadline.ts";
import { FakeClock, settle } from "./fake_clock.ts";
import { FlagCache } from "./flags.ts";
import { type FlagState, rolloutFlagKey as key } from "./rollout_flag.ts";

function controlledLoader() {
  const calls: Array<{ resolve(rows: FlagState[]): void; reject(e: unknown): void }> = [];
  const load = () => {
    const { promise, resolve, reject } = Promise.withResolvers<FlagState[]>();
    calls.push({ resolve, reject });
    return promise;
  };
  return { calls, load };
}

const flag = (trafficPercentage: number, enabled = true): FlagState => ({
  flagKey: key,
  enabled,
  trafficPercentage,
  updatedAt: new Date(0),
  updatedBy: "ops@host",
  reason: "test",
});

Deno.test("FlagCache.get() answers from memory within the TTL: no read per request", async () => {
  const clock = new FakeClock();
  let reads = 0;
  const cache = new FlagCache({
    keys: [key],
    load: () => (reads++, Promise.resolve([flag(10)])),
    ttlMs: 5000,
    clock,
  });
  assertEquals(await cache.get(key), flag(10));
  for (let i = 0; i < 1000; i++) {
    await clock.tick(4);
    assertEquals((await cache.get(key))?.trafficPercentage, 10);
  }
  assertEquals(reads, 1, "1000 requests over 4 s: only the first read");
});

Deno.test("FlagCache.get() serves the stale value and refreshes it in the background", async () => {
  const clock = new FakeClock();
  const { calls, load } = controlledLoader();
  const cache = new FlagCache({ keys: [key], load, ttlMs: 1000, clock });
  const first = cache.get(key);
  calls[0]!.resolve([flag(10)]);
  assertEquals(await first, flag(10));

  await clock.tick(1000);
  assertEquals(await cache.get(key), flag(10), "stale value, no waiting");
  assertEquals(await cache.get(key), flag(10), "one refresh in flight, not two");
  assertEquals(calls.length, 2);
  calls[1]!.resolve([flag(25)]);
  await settle();
  assertEquals(await cache.get(key), flag(25));
});

Deno.test("FlagCache.get() keeps the last known value while reads fail, retrying per interval", async () => {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  let down = false;
  let reads = 0;
  const cache = new FlagCache({
    keys: [key],
    load: () => {
      reads++;
      return down ? Promise.reject(new Error("connection refused")) : Promise.resolve([flag(50)]);
    },
    ttlMs: 1000,
    retryMs: 3000,
    clock,
    onError: (e) => errors.push(e),
  });
  assertEquals(await cache.get(key), flag(50));
  down = true;
  for (let i = 0; i < 100; i++) {
    await clock.tick(50); // 5 s in all
    assertEquals(await cache.get(key), flag(50));
  }
  // Stale at 1 s: a failed read then, the next attempt 3 s later: 2 failures, not 80.
  assertEquals([reads - 1, errors.length, cache.stats().failures], [2, 2, 2]);
  down = false;
  await clock.tick(3000);
  await cache.get(key);
  await settle();
  assertEquals(cache.stats().loaded, true);
});

Deno.test("FlagCache.get() before any successful read waits at most initialWaitMs, then off", async () => {
  const clock = new FakeClock();
  const { calls, load } = controlledLoader();
  const cache = new FlagCache({ keys: [key], load, initialWaitMs: 200, clock, onError: () => {} });
  let answered: FlagState | undefined | "pending" = "pending";
  cache.get(key).then((v) => (answered = v));
  await clock.tick(199);
  assertEquals(answered, "pending");
  await clock.tick(1);
  assertEquals(answered, undefined, "unknown → callers route to legacy");
  // The read goes on in the background and its value is used once it arrives.
  calls[0]!.resolve([flag(100)]);
  await settle();
  assertEquals(await cache.get(key), flag(100));
});

Deno.test("FlagCache gives up on a hanging read after readTimeoutMs and reads again later", async () => {
  const clock = new FakeClock();
  const { calls, load } = controlledLoader();
  const errors: unknown[] = [];
  const cache = new FlagCache({
    keys: [key],
    load,
    ttlMs: 1000,
    readTimeoutMs: 500,
    clock,
    onError: (e) => errors.push(e),
  });
  const first = cache.get(key);
  calls[0]!.resolve([flag(20)]);
  await first;
  await clock.tick(1000);
  await cache.get(key); // starts a read that never answers
  await clock.tick(500);
  assertEquals(cache.stats().failures, 1);
  assertInstanceOf(errors[0], DeadlineExceeded);
  assertEquals((errors[0] as Error).message, "flag read did not finish within 500 ms");
  await clock.tick(1000);
  await cache.get(key);
  assertEquals(calls.length, 3, "the hung read did not block the next one");
  calls[2]!.resolve([flag(30)]);
  calls[1]!.resolve([flag(99)]); // late: ignored
  await settle();
  assertEquals(await cache.get(key), flag(30));
});

Deno.test("FlagCache.get() treats a missing row as unknown", async () => {
  const cache = new FlagCache({ keys: [key], load: () => Promise.resolve([]) });
  assertEquals(await cache.get(key), undefined);
  assertEquals(cache.stats(), { reads: 1, failures: 0, loaded: true });
});

Deno.test("FlagCache constructor rejects bad options, naming them", () => {
  const load = () => Promise.resolve([]);
  assertThrows(() => new FlagCache({ keys: [], load }), RangeError, "keys");
  assertThrows(() => new FlagCache({ keys: [key], load, ttlMs: -1 }), RangeError, "ttlMs");
  assertThrows(() => new FlagCache({ keys: [key], load, initialWaitMs: NaN }), RangeError);
});

Deno.test("FlagCache.peek() tells the state and its age without reading", async () => {
  const clock = new FakeClock();
  const { calls, load } = controlledLoader();
  const cache = new FlagCache({ keys: [key], load, ttlMs: 1000, clock });
  assertEquals(cache.peek(key), { state: undefined, ageMs: undefined });
  assertEquals(calls.length, 0, "peek starts no read");
  const first = cache.get(key);
  await clock.tick(40);
  calls[0]!.resolve([flag(10)]);
  await first;
  await clock.tick(3000);
  assertEquals(cache.peek(key), { state: flag(10), ageMs: 3000 });
  assertEquals(calls.length, 1, "a stale value is peeked, not refreshed");
});
