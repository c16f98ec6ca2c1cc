import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../../../tests/support/assert.ts";
import { TwoTierCache } from "./cache.ts";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** A loader that counts its calls and returns what `make` gives for the key. */
function countingLoader<V>(make: (call: number) => V) {
  let calls = 0;
  return {
    calls: () => calls,
    load: () => Promise.resolve(make(++calls)),
  };
}

/** A promise settled from outside. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

Deno.test("TwoTierCache.getOrLoad() loads on a miss and serves the next look-up from L1", async () => {
  const cache = new TwoTierCache<{ n: number }>({ log: () => {} });
  const loader = countingLoader((n) => ({ n }));
  assertEquals(await cache.getOrLoad("k", loader.load), { value: { n: 1 }, tier: "miss" });
  assertEquals(await cache.getOrLoad("k", loader.load), { value: { n: 1 }, tier: "l1" });
  assertEquals(loader.calls(), 1);
  assertEquals(cache.l2Enabled, false);
  assertEquals(cache.stats(), {
    l1Hits: 1,
    l1Misses: 1,
    l2Hits: 0,
    l2Misses: 0,
    l2Errors: 0,
    l1Entries: 1,
    l1Bytes: JSON.stringify({ n: 1 }).length,
    inFlight: 0,
  });
});

Deno.test("TwoTierCache evicts the least recently used entry beyond l1MaxEntries", async () => {
  const cache = new TwoTierCache<string>({ l1MaxEntries: 3 });
  let loads = 0;
  const load = (key: string) => cache.getOrLoad(key, () => Promise.resolve(`${key}${++loads}`));
  await load("a");
  await load("b");
  await load("c");
  assertEquals((await load("a")).tier, "l1"); // a is now the most recently used
  await load("d"); // evicts b
  assertEquals(cache.stats().l1Entries, 3);
  assertEquals((await load("c")).tier, "l1");
  assertEquals((await load("a")).tier, "l1");
  assertEquals(await load("b"), { value: "b5", tier: "miss" });
});

Deno.test("TwoTierCache evicts by the UTF-8 bytes of the values' JSON beyond l1MaxBytes", async () => {
  const cache = new TwoTierCache<string>({ l1MaxBytes: 100 });
  const value = (c: string) => c.repeat(38); // JSON "xxx…" is 40 bytes
  await cache.getOrLoad("a", () => Promise.resolve(value("a")));
  await cache.getOrLoad("b", () => Promise.resolve(value("b")));
  assertEquals(cache.stats().l1Bytes, 80);
  await cache.getOrLoad("c", () => Promise.resolve(value("c")));
  assertEquals(cache.stats().l1Entries, 2);
  assertEquals(cache.stats().l1Bytes, 80);
  assertEquals((await cache.getOrLoad("a", () => Promise.resolve("again"))).tier, "miss");

  const multibyte = new TwoTierCache<string>({});
  await multibyte.getOrLoad("k", () => Promise.resolve("é✈😀")); // 2 + 3 + 4 bytes + 2 quotes
  assertEquals(multibyte.stats().l1Bytes, 11);
});

Deno.test("TwoTierCache serves a value larger than l1MaxBytes without keeping it", async () => {
  const cache = new TwoTierCache<string>({ l1MaxBytes: 10 });
  const loader = countingLoader(() => "x".repeat(20));
  assertEquals((await cache.getOrLoad("big", loader.load)).value.length, 20);
  assertEquals((await cache.getOrLoad("big", loader.load)).tier, "miss");
  assertEquals(loader.calls(), 2);
  assertEquals(cache.stats().l1Entries, 0);
  assertEquals(cache.stats().l1Bytes, 0);
});

Deno.test("TwoTierCache expires L1 entries after ttlMs on the injected clock", async () => {
  for (const start of [0, 1_000]) {
    const clock = fakeClock(start);
    const cache = new TwoTierCache<number>({ ttlMs: 100, now: clock.now });
    const loader = countingLoader((n) => n);
    await cache.getOrLoad("k", loader.load);
    clock.advance(100);
    assertEquals(await cache.getOrLoad("k", loader.load), { value: 1, tier: "l1" }, `at ${start}`);
    clock.advance(1);
    assertEquals(cache.stats().l1Entries, 0, "expired entries are not counted");
    assertEquals(await cache.getOrLoad("k", loader.load), { value: 2, tier: "miss" });
    assertEquals(loader.calls(), 2);
  }
});

Deno.test("TwoTierCache.getOrLoad() calls the loader once for 100 concurrent misses", async () => {
  const cache = new TwoTierCache<{ id: string }>({});
  const gate = deferred<{ id: string }>();
  let calls = 0;
  const loader = () => {
    calls++;
    return gate.promise;
  };
  const waiting = Array.from({ length: 100 }, () => cache.getOrLoad("k", loader));
  assertEquals(cache.stats().inFlight, 1);
  gate.resolve({ id: "one" });
  const results = await Promise.all(waiting);
  assertEquals(calls, 1);
  for (const result of results) assertEquals(result, { value: { id: "one" }, tier: "miss" });
  assertEquals(cache.stats().l1Misses, 100);
  assertEquals(cache.stats().inFlight, 0);
  assertEquals((await cache.getOrLoad("k", loader)).tier, "l1");
  assertEquals(calls, 1);
});

Deno.test("TwoTierCache.getOrLoad() rejects every waiter of a failed load and caches nothing", async () => {
  const cache = new TwoTierCache<string>({});
  const gate = deferred<string>();
  let calls = 0;
  const waiting = Array.from(
    { length: 10 },
    () =>
      cache.getOrLoad("k", () => {
        calls++;
        return gate.promise;
      }),
  );
  const failure = new Error("database down");
  gate.reject(failure);
  const settled = await Promise.allSettled(waiting);
  assertEquals(calls, 1);
  for (const outcome of settled) {
    assert(outcome.status === "rejected" && outcome.reason === failure, "every waiter rejects");
  }
  assertEquals(cache.stats().l1Entries, 0);
  assertEquals(cache.stats().inFlight, 0);
  assertEquals(await cache.getOrLoad("k", () => Promise.resolve("ok")), {
    value: "ok",
    tier: "miss",
  });
});

Deno.test("TwoTierCache.getOrLoad() rejects a loader that throws synchronously", async () => {
  const cache = new TwoTierCache<string>({});
  await assertRejects(
    () =>
      cache.getOrLoad("k", () => {
        throw new RangeError("bad input");
      }),
    RangeError,
    "bad input",
  );
  assertEquals(cache.stats().inFlight, 0);
});

Deno.test("TwoTierCache hands out frozen JSON copies of the loaded value", async () => {
  const cache = new TwoTierCache<{ when: unknown; list: number[] }>({});
  const original = { when: new Date(0), list: [1, 2] };
  const { value } = await cache.getOrLoad("k", () => Promise.resolve(original));
  assertEquals(value, { when: "1970-01-01T00:00:00.000Z", list: [1, 2] });
  assertThrows(() => value.list.push(3), TypeError);
  original.list.push(3); // the loader's own object stays the loader's
  assertEquals((await cache.getOrLoad("k", () => Promise.resolve(original))).value.list, [1, 2]);
});

Deno.test("TwoTierCache.getOrLoad() rejects a value JSON cannot represent and keeps nothing", async () => {
  const cache = new TwoTierCache<unknown>({});
  await assertRejects(() => cache.getOrLoad("k", () => Promise.resolve(undefined)), TypeError);
  await assertRejects(() => cache.getOrLoad("k", () => Promise.resolve(10n)), TypeError);
  assertEquals(cache.stats().l1Entries, 0);
  assertEquals((await cache.getOrLoad("k", () => Promise.resolve(null))).value, null);
});

Deno.test("TwoTierCache.delete() during a load answers its callers but keeps nothing", async () => {
  const cache = new TwoTierCache<string>({});
  const gate = deferred<string>();
  const running = cache.getOrLoad("k", () => gate.promise);
  await cache.delete("k");
  const fresh = cache.getOrLoad("k", () => Promise.resolve("new"));
  gate.resolve("old");
  assertEquals(await running, { value: "old", tier: "miss" });
  assertEquals(await fresh, { value: "new", tier: "miss" });
  assertEquals(await cache.getOrLoad("k", () => Promise.resolve("newer")), {
    value: "new",
    tier: "l1",
  });
  await cache.delete("k");
  assertEquals((await cache.getOrLoad("k", () => Promise.resolve("after"))).value, "after");
});

Deno.test("TwoTierCache.clear() empties L1 and drops running loads", async () => {
  const cache = new TwoTierCache<string>({});
  await cache.getOrLoad("a", () => Promise.resolve("a"));
  const gate = deferred<string>();
  const running = cache.getOrLoad("b", () => gate.promise);
  cache.clear();
  gate.resolve("b");
  await running;
  assertEquals(cache.stats().l1Entries, 0);
  assertEquals(cache.stats().inFlight, 0);
});

Deno.test("TwoTierCache rejects malformed options and keys", async () => {
  const range = assertThrows(() => new TwoTierCache({ l1MaxEntries: 0 }), RangeError);
  assertStringIncludes(range.message, "l1MaxEntries");
  assertStringIncludes(range.message, "received 0");
  assertThrows(() => new TwoTierCache({ l1MaxBytes: 1.5 }), RangeError, "l1MaxBytes");
  assertThrows(() => new TwoTierCache({ ttlMs: -1 }), RangeError, "ttlMs");
  assertThrows(() => new TwoTierCache({ l2TimeoutMs: 0 }), RangeError, "l2TimeoutMs");
  assertThrows(() => new TwoTierCache({ prefix: "has space" }), RangeError, "prefix");
  assertThrows(() => new TwoTierCache({ version: "" }), RangeError, "version");
  assertThrows(
    () => new TwoTierCache({ l2: { get: () => Promise.resolve(null) } as never }),
    TypeError,
    "l2",
  );
  assertThrows(() => new TwoTierCache({ now: 5 as never }), TypeError, "now");
  const cache = new TwoTierCache<string>({});
  await assertRejects(() => cache.getOrLoad("", () => Promise.resolve("")), TypeError, "key");
  await assertRejects(
    () => cache.getOrLoad("k".repeat(1025), () => Promise.resolve("")),
    TypeError,
    "key",
  );
});
