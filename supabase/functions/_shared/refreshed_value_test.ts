import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { FakeClock, settle } from "./fake_clock.ts";
import { nonNegativeOption, RefreshedValue } from "./refreshed_value.ts";

/** A value whose reads the test answers: `reads[i].resolve(v)` or `.reject(e)`. */
function refreshed(clock: FakeClock) {
  const reads: Array<PromiseWithResolvers<number>> = [];
  const errors: unknown[] = [];
  const value = new RefreshedValue<number>({
    what: "test value",
    load: () => {
      const read = Promise.withResolvers<number>();
      reads.push(read);
      return read.promise;
    },
    refreshMs: 1000,
    retryMs: 500,
    initialWaitMs: 100,
    readTimeoutMs: 300,
    clock,
    onError: (error) => errors.push(error),
  });
  return { value, reads, errors };
}

Deno.test("RefreshedValue waits initialWaitMs at most for its first read, then serves it stale while refreshing", async () => {
  const clock = new FakeClock();
  const { value, reads } = refreshed(clock);
  const first = value.current();
  await clock.tick(100);
  assertEquals(await first, undefined, "slower than the initial wait: no value yet");
  reads[0]!.resolve(1);
  await settle();
  assertEquals([await value.current(), reads.length], [1, 1]);
  await clock.tick(1000);
  assertEquals(await value.current(), 1, "stale, answered at once");
  assertEquals(await value.current(), 1);
  assertEquals(reads.length, 2, "one background refresh");
  reads[1]!.resolve(2);
  await settle();
  assertEquals(value.peek(), { value: 2, ageMs: 0 });
  assertEquals(value.stats(), { reads: 2, failures: 0, loaded: true });
});

Deno.test("RefreshedValue keeps the last value through hung and failed reads, retrying per retryMs", async () => {
  const clock = new FakeClock();
  const { value, reads, errors } = refreshed(clock);
  const first = value.refresh();
  reads[0]!.resolve(7);
  await first;
  await clock.tick(1000);
  assertEquals(await value.current(), 7, "stale: a refresh starts, and hangs");
  await clock.tick(300);
  assertEquals([await value.current(), errors.length, reads.length], [7, 1, 2], "timed out");
  await clock.tick(200);
  assertEquals(await value.current(), 7, "retryMs passed: another read");
  reads[2]!.reject(new Error("down"));
  await settle();
  assertEquals(await value.current(), 7);
  assertEquals(value.stats(), { reads: 3, failures: 2, loaded: true });
});

Deno.test("nonNegativeOption() names its owner and option", () => {
  assertEquals(nonNegativeOption("flag cache", "ttlMs", 0), 0);
  assertThrows(
    () => nonNegativeOption("flag cache", "ttlMs", -1),
    RangeError,
    "flag cache option ttlMs",
  );
  assertThrows(() => nonNegativeOption("airport set", "retryMs", NaN), RangeError, "received NaN");
});
