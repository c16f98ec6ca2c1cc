import { assert, assertEquals, assertStringIncludes } from "../../../tests/support/assert.ts";
import { TwoTierCache } from "./cache.ts";
import { type CacheL2Client, L2Tier } from "./cache_l2.ts";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** An L2 tier over `client` with the cache's defaults and a log the test reads. */
function tier(client: Partial<CacheL2Client>, maxPendingWrites = 64) {
  const logged: string[] = [];
  const l2 = new L2Tier({
    client: client as CacheL2Client,
    keyPrefix: "t:v1:",
    ttlS: 300,
    timeoutMs: 50,
    maxPendingWrites,
    waitUntil: undefined,
    log: (line) => logged.push(line),
    now: () => 0,
  });
  return { l2, logged };
}

Deno.test("L2Tier stores values in an envelope under the prefixed key and reads them back", async () => {
  const stored = new Map<string, unknown>();
  const { l2 } = tier({
    get: <T>(key: string) => Promise.resolve((stored.get(key) ?? null) as T),
    set: (key: string, value: unknown) => (stored.set(key, value), Promise.resolve("OK")),
  } as never);
  assertEquals(await l2.get("k"), undefined);
  l2.write("k", JSON.stringify({ n: 1 }));
  await l2.flush();
  assertEquals([...stored], [["t:v1:k", '{"v":{"n":1}}']]);
  assertEquals(await l2.get("k"), { v: { n: 1 } });
  assertEquals(l2.counts(), { hits: 1, misses: 1, errors: 0 });
});

Deno.test("L2Tier counts garbage as an error and sheds writes beyond maxPendingWrites", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const { l2, logged } = tier({
    get: <T>() => Promise.resolve('{"not":"an envelope"}' as T),
    set: () => held.then(() => "OK" as const),
  } as never, 1);
  assertEquals(await l2.get("k"), undefined, "garbage is a miss to the caller");
  l2.write("a", "1");
  l2.write("b", "2"); // one write already pending: dropped
  release();
  await l2.flush();
  assertEquals(l2.counts(), { hits: 0, misses: 0, errors: 2 });
  assertEquals(logged.length, 2, "one line for the outage, not one per error, and its end");
  assertStringIncludes(logged[0]!, "L2 read failed (TypeError: L2 entry is not a cache envelope)");
  assertEquals(logged[1], "cache: L2 answering again");
});

Deno.test("L2Tier, through TwoTierCache, logs an L2 that flaps at most once per interval, then its recovery", async () => {
  const clock = fakeClock();
  let failing = false;
  const answer = <T>(value: T) =>
    failing ? Promise.reject(new Error("HTTP 503")) : Promise.resolve(value);
  const l2 = {
    get: () => answer(null),
    set: () => answer("OK"),
    del: () => answer(1),
  };
  const logged: string[] = [];
  const cache = new TwoTierCache<string>({
    l2: l2 as never,
    now: clock.now,
    log: (line) => logged.push(line),
  });
  let key = 0;
  const search = async () => {
    await cache.getOrLoad(`k${key++}`, () => Promise.resolve("v"));
    await cache.flush();
  };

  await search();
  assertEquals(logged, [], "a healthy L2 logs nothing");
  // Flapping within one interval: one failure line, one recovery line.
  for (let i = 0; i < 5; i++) {
    failing = true;
    await search();
    failing = false;
    await search();
    clock.advance(1_000);
  }
  assertEquals(logged.length, 2, logged.join("\n"));
  assertStringIncludes(logged[0]!, "cache: L2 read failed (Error: HTTP 503)");
  assertEquals(logged[1], "cache: L2 answering again");
  const errors = cache.stats().l2Errors;
  assertEquals(errors, 5 * 2, "get and background set fail on every failing search");

  // Past the interval the next failure is logged again, with what went unlogged.
  clock.advance(10_000);
  failing = true;
  await search();
  assertEquals(logged.length, 3);
  assertStringIncludes(logged[2]!, "(9 more L2 errors since the last report)");
  assert(logged.every((line) => !line.includes('"v"')), "no cached value in the log");
});
