import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertThrows,
} from "../../../tests/support/assert.ts";
import { type BatchReport, BatchTimeoutError, Coalescer, OverloadError } from "./coalescer.ts";
import { FakeClock, settle } from "./fake_clock.ts";

/** A batch function that records its calls and answers when the test says so. */
function controlledBatch<K, V>() {
  const calls: Array<{
    keys: readonly K[];
    at: number;
    signal: AbortSignal;
    resolve(values: ReadonlyArray<V | Error>): void;
    reject(error: unknown): void;
  }> = [];
  let clock: FakeClock | undefined;
  const batch = (keys: readonly K[], signal: AbortSignal) => {
    const { promise, resolve, reject } = Promise.withResolvers<ReadonlyArray<V | Error>>();
    calls.push({ keys: [...keys], at: clock?.now() ?? NaN, signal, resolve, reject });
    return promise;
  };
  return { calls, batch, useClock: (c: FakeClock) => (clock = c) };
}

/** Records how each promise settled without leaving rejections unhandled. */
function track<T>(promise: Promise<T>) {
  const state: { status: "pending" | "fulfilled" | "rejected"; value?: T; error?: unknown } = {
    status: "pending",
  };
  promise.then(
    (value) => Object.assign(state, { status: "fulfilled", value }),
    (error) => Object.assign(state, { status: "rejected", error }),
  );
  return state;
}

Deno.test("coalescer.load() returns each caller its own value, in key order", async () => {
  const clock = new FakeClock();
  const reports: BatchReport[] = [];
  const coalescer = new Coalescer<string, string>({
    batch: (keys) => Promise.resolve(keys.map((k) => k.toUpperCase())),
    clock,
    onBatch: (r) => reports.push(r),
  });
  const results = Promise.all(["c", "a", "b"].map((k) => coalescer.load(k)));
  await clock.tick(0);
  assertEquals(await results, ["C", "A", "B"]);
  assertEquals(reports.map((r) => [r.size, r.outcome]), [[3, "ok"]]);
});

Deno.test("coalescer.load() dispatches at once when idle: no added delay", async () => {
  const clock = new FakeClock(1000);
  const { calls, batch, useClock } = controlledBatch<number, number>();
  useClock(clock);
  const coalescer = new Coalescer({ batch, clock, windowMs: 50 });
  const a = track(coalescer.load(1));
  // Same turn: still collecting, so keys loaded together share the batch.
  assertEquals(calls.length, 0);
  await clock.tick(0);
  assertEquals(calls.map((c) => [c.keys, c.at]), [[[1], 1000]], "dispatched at t+0, not t+50");
  calls[0]!.resolve([10]);
  await settle();
  assertEquals(a.value, 10);
});

Deno.test("coalescer.load() gathers under load until keys stop arriving for windowMs", async () => {
  const clock = new FakeClock();
  const { calls, batch, useClock } = controlledBatch<string, string>();
  useClock(clock);
  const coalescer = new Coalescer({ batch, clock, windowMs: 2, maxWaitMs: 10 });
  coalescer.load("first");
  await clock.tick(0);
  assertEquals(calls.length, 1);

  // A batch is in flight: b waits; c arrives 1 ms later and restarts the quiet gap.
  await clock.tick(0.5);
  coalescer.load("b");
  await clock.tick(1);
  coalescer.load("c");
  await clock.tick(1.9);
  assertEquals(calls.length, 1, "2 ms without a new key not over yet (c came at 1.5)");
  await clock.tick(0.1);
  assertEquals(calls.map((c) => [c.keys, c.at]), [[["first"], 0], [["b", "c"], 3.5]]);
  for (const call of calls) call.resolve(call.keys.map((k) => k));
  await settle();
  assertEquals(coalescer.pending, 0);
  assertEquals(coalescer.inFlightBatches, 0);
});

Deno.test("coalescer.load() holds the first waiting key at most maxWaitMs", async () => {
  const clock = new FakeClock();
  const { calls, batch, useClock } = controlledBatch<number, number>();
  useClock(clock);
  const coalescer = new Coalescer({ batch, clock, windowMs: 2, maxWaitMs: 5 });
  coalescer.load(0);
  await clock.tick(0);
  // Under load now; a key every millisecond never leaves a 2 ms lull.
  for (let k = 1; k <= 7; k++) {
    coalescer.load(k);
    await clock.tick(1);
  }
  assertEquals(calls.map((c) => [c.keys, c.at]), [[[0], 0], [[1, 2, 3, 4, 5], 5]]);
  await clock.tick(2);
  assertEquals(calls.at(-1)?.keys, [6, 7], "the rest after their own lull");
  for (const call of calls) call.resolve(call.keys.map((k) => k));
  await settle();
});

Deno.test("coalescer.load() with maxWaitMs = windowMs keeps a fixed window", async () => {
  const clock = new FakeClock();
  const { calls, batch, useClock } = controlledBatch<number, number>();
  useClock(clock);
  const coalescer = new Coalescer({ batch, clock, windowMs: 2, maxWaitMs: 2 });
  coalescer.load(0);
  await clock.tick(0);
  coalescer.load(1);
  await clock.tick(1.5);
  coalescer.load(2);
  await clock.tick(0.5);
  assertEquals(calls.map((c) => [c.keys, c.at]), [[[0], 0], [[1, 2], 2]]);
  for (const call of calls) call.resolve(call.keys.map((k) => k));
  await settle();
});

Deno.test("coalescer.load() keeps gathering for a while after a concurrent batch", async () => {
  const clock = new FakeClock();
  const { calls, batch, useClock } = controlledBatch<string, string>();
  useClock(clock);
  const coalescer = new Coalescer({ batch, clock, windowMs: 2, loadMemoryMs: 1000 });
  const answer = async () => {
    calls.at(-1)!.resolve(calls.at(-1)!.keys.map((k) => k));
    await settle();
  };
  // A lone request, then another: every batch a single key, never a window.
  for (const key of ["solo-1", "solo-2"]) {
    coalescer.load(key);
    await clock.tick(0);
    assertEquals(calls.at(-1)?.keys, [key]);
    await clock.tick(10);
    await answer();
  }
  // A burst shares one batch; the next burst's first key then waits for the rest of it.
  coalescer.load("burst-a");
  coalescer.load("burst-b");
  await clock.tick(0);
  await clock.tick(30);
  await answer();
  coalescer.load("next-a");
  await clock.tick(1);
  coalescer.load("next-b");
  await clock.tick(1.9);
  assertEquals(calls.map((c) => c.keys.length), [1, 1, 2], "still gathering");
  await clock.tick(0.1);
  assertEquals(calls.map((c) => c.keys.length), [1, 1, 2, 2]);
  assertEquals(calls.at(-1)?.keys, ["next-a", "next-b"]);
  await answer();
  // After a quiet second (only single keys since), a lone key goes at once again.
  await clock.tick(1000);
  coalescer.load("later");
  await clock.tick(0);
  assertEquals(calls.at(-1)?.keys, ["later"]);
  await answer();
});

Deno.test("coalescer.load() shortens its windows to fit batches faster than them", async () => {
  const clock = new FakeClock();
  const { calls, batch, useClock } = controlledBatch<number, number>();
  useClock(clock);
  const coalescer = new Coalescer({ batch, clock, windowMs: 2, maxWaitMs: 10 });
  const answerAfter = async (ms: number) => {
    await clock.tick(ms);
    calls.at(-1)!.resolve(calls.at(-1)!.keys.map((k) => k));
    await settle();
  };
  assertEquals(coalescer.windows, { gapMs: 2, capMs: 10 }, "configured until a batch is timed");
  /** Loads two keys and answers their batch `ms` after it was dispatched. */
  const pairTaking = async (first: number, ms: number) => {
    coalescer.load(first);
    coalescer.load(first + 1);
    await clock.tick(0);
    await clock.tick(2.5); // dispatched by now: every gap and cap here is at most 2 ms
    await answerAfter(calls.at(-1)!.at + ms - clock.now());
  };
  // Concurrent batches of 4 ms: a 1 ms gap, a 2 ms cap.
  for (let k = 0; k < 20; k += 2) await pairTaking(k, 4);
  assertEquals(calls.every((c) => c.keys.length === 2), true);
  const fast = coalescer.windows;
  assertEquals(fast, { gapMs: 1, capMs: 2 });
  // Under load a key now waits for a 1 ms lull, not 2 ms.
  coalescer.load(100);
  await clock.tick(0.5);
  coalescer.load(101);
  await clock.tick(0.9);
  assertEquals(calls.at(-1)?.keys, [18, 19], "still gathering");
  await clock.tick(0.2);
  assertEquals(calls.at(-1)?.keys, [100, 101]);
  await answerAfter(40);
  // Slow batches bring the configured windows back (the average moves a fifth of the way).
  for (let i = 0; i < 20; i++) await pairTaking(200 + 2 * i, 40);
  assertEquals(coalescer.windows, { gapMs: 2, capMs: 10 });
});

Deno.test("coalescer with adaptive: false keeps the configured windows", async () => {
  const clock = new FakeClock();
  const { calls, batch, useClock } = controlledBatch<number, number>();
  useClock(clock);
  const coalescer = new Coalescer({ batch, clock, windowMs: 2, maxWaitMs: 10, adaptive: false });
  coalescer.load(1);
  coalescer.load(2);
  await clock.tick(0);
  await clock.tick(1);
  calls[0]!.resolve([1, 2]);
  await settle();
  assertEquals(coalescer.windows, { gapMs: 2, capMs: 10 });
  coalescer.load(3);
  await clock.tick(1.9);
  assertEquals(calls.length, 1, "a 1 ms batch does not shorten the 2 ms gap");
  await clock.tick(0.1);
  assertEquals(calls.at(-1)?.keys, [3]);
  calls.at(-1)!.resolve([3]);
  await settle();
});

Deno.test("coalescer.load() dedupes identical keys, queued or in flight", async () => {
  const clock = new FakeClock();
  const { calls, batch } = controlledBatch<{ id: number }, string>();
  const coalescer = new Coalescer({ batch, clock, keyOf: (k) => k.id });
  const a1 = coalescer.load({ id: 1 });
  const b = coalescer.load({ id: 2 });
  const a2 = coalescer.load({ id: 1 });
  assertEquals(a1, a2, "same promise");
  await clock.tick(0);
  const a3 = coalescer.load({ id: 1 }); // in flight: joins it
  assertEquals(a3, a1);
  assertEquals(calls.length, 1);
  assertEquals(calls[0]!.keys.map((k) => k.id), [1, 2]);
  calls[0]!.resolve(["one", "two"]);
  assertEquals(await Promise.all([a1, a2, a3, b]), ["one", "one", "one", "two"]);
});

Deno.test("coalescer.load() rejects only the key whose value is an Error", async () => {
  const clock = new FakeClock();
  const coalescer = new Coalescer<number, number>({
    batch: (keys) => Promise.resolve(keys.map((k) => (k === 2 ? new Error("no 2") : k * 10))),
    clock,
  });
  const results = [1, 2, 3].map((k) => track(coalescer.load(k)));
  await clock.tick(0);
  assertEquals(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assertEquals([results[0]!.value, results[2]!.value], [10, 30]);
  assertEquals((results[1]!.error as Error).message, "no 2");
});

Deno.test("coalescer.load() settles every caller when the batch fails, and caches nothing", async () => {
  const clock = new FakeClock();
  let calls = 0;
  const reports: BatchReport[] = [];
  const coalescer = new Coalescer<string, string>({
    batch: (keys) => {
      calls++;
      if (calls === 1) return Promise.reject(new Error("connection reset"));
      if (calls === 2) throw new Error("synchronous failure");
      return Promise.resolve(keys.map((k) => `ok:${k}`));
    },
    clock,
    onBatch: (r) => reports.push(r),
  });
  const first = ["a", "b", "c"].map((k) => track(coalescer.load(k)));
  await clock.tick(0);
  assert(first.every((r) => r.status === "rejected"));
  assertEquals(
    new Set(first.map((r) => (r.error as Error).message)),
    new Set(["connection reset"]),
  );

  // Just after a batch of three the coalescer counts as busy: the next key waits the window.
  const second = track(coalescer.load("a"));
  await clock.tick(2);
  assertEquals((second.error as Error).message, "synchronous failure");

  const third = ["a", "b"].map((k) => track(coalescer.load(k)));
  await clock.tick(2);
  assertEquals(third.map((r) => r.value), ["ok:a", "ok:b"]);
  assertEquals(calls, 3, "each load after a failure reached the batch function again");
  assertEquals(reports.map((r) => r.outcome), ["error", "error", "ok"]);
});

Deno.test("coalescer.load() rejects every caller when the batch returns the wrong count", async () => {
  const clock = new FakeClock();
  const coalescer = new Coalescer<number, number>({
    batch: () => Promise.resolve([1]),
    clock,
  });
  const results = [1, 2].map((k) => track(coalescer.load(k)));
  await clock.tick(0);
  for (const r of results) {
    assertInstanceOf(r.error, TypeError);
    assertEquals((r.error as Error).message, "batch function returned 1 values for 2 keys");
  }
});

Deno.test("coalescer.load() times a hanging batch out, aborts it and caches nothing", async () => {
  const clock = new FakeClock();
  const { calls, batch, useClock } = controlledBatch<string, string>();
  useClock(clock);
  const reports: BatchReport[] = [];
  const coalescer = new Coalescer({
    batch,
    clock,
    batchTimeoutMs: 100,
    onBatch: (r) => reports.push(r),
  });
  const results = ["a", "b"].map((k) => track(coalescer.load(k)));
  await clock.tick(99);
  assert(results.every((r) => r.status === "pending"));
  await clock.tick(1);
  for (const r of results) assertInstanceOf(r.error, BatchTimeoutError);
  assert(calls[0]!.signal.aborted, "the batch's signal is aborted");
  assertEquals(coalescer.pending, 0);
  assertEquals(coalescer.inFlightBatches, 0);
  assertEquals(reports.map((r) => [r.size, r.outcome, r.durationMs]), [[2, "timeout", 100]]);

  // The late answer changes nothing; the next load goes to the batch function again.
  calls[0]!.resolve(["late-a", "late-b"]);
  const again = track(coalescer.load("a"));
  await clock.tick(2);
  assertEquals(calls.length, 2);
  calls[1]!.resolve(["fresh-a"]);
  await settle();
  assertEquals(again.value, "fresh-a");
  assertEquals(results.map((r) => r.status), ["rejected", "rejected"]);
});

Deno.test("coalescer.load() dispatches as soon as maxBatchSize keys wait", async () => {
  const clock = new FakeClock();
  const { calls, batch, useClock } = controlledBatch<number, number>();
  useClock(clock);
  const coalescer = new Coalescer({ batch, clock, maxBatchSize: 3, windowMs: 2 });
  for (const k of [1, 2, 3]) coalescer.load(k);
  assertEquals(calls.map((c) => c.keys), [[1, 2, 3]], "full batch goes synchronously");
  for (const k of [4, 5, 6, 7]) coalescer.load(k);
  assertEquals(calls.map((c) => c.keys), [[1, 2, 3], [4, 5, 6]]);
  await clock.tick(1.9);
  assertEquals(calls.length, 2);
  await clock.tick(0.1);
  assertEquals(calls.map((c) => c.keys), [[1, 2, 3], [4, 5, 6], [7]]);
  for (const call of calls) call.resolve(call.keys.map((k) => k));
  await settle();
});

Deno.test("coalescer.load() rejects with OverloadError beyond maxPending, then recovers", async () => {
  const clock = new FakeClock();
  const { calls, batch } = controlledBatch<number, number>();
  const coalescer = new Coalescer({ batch, clock, maxPending: 3 });
  const held = [1, 2, 3].map((k) => coalescer.load(k));
  const error = await assertRejects(() => coalescer.load(4), OverloadError);
  assertEquals(error.maxPending, 3);
  assertEquals(coalescer.load(2), held[1], "a key already outstanding still joins");
  await clock.tick(0);
  calls[0]!.resolve([1, 2, 3]);
  await Promise.all(held);
  const next = coalescer.load(4);
  await clock.tick(2);
  calls[1]!.resolve([4]);
  assertEquals(await next, 4);
});

Deno.test("coalescer constructor rejects out-of-range options, naming them", () => {
  const batch = (keys: readonly number[]) => Promise.resolve([...keys]);
  assertThrows(() => new Coalescer({ batch, windowMs: -1 }), RangeError, "windowMs");
  assertThrows(() => new Coalescer({ batch, loadMemoryMs: -5 }), RangeError, "loadMemoryMs");
  assertThrows(() => new Coalescer({ batch, maxWaitMs: -1 }), RangeError, "maxWaitMs");
  assertThrows(() => new Coalescer({ batch, maxBatchSize: 0 }), RangeError, "maxBatchSize");
  assertThrows(() => new Coalescer({ batch, maxBatchSize: 2.5 }), RangeError, "received 2.5");
  assertThrows(() => new Coalescer({ batch, maxPending: Infinity }), RangeError, "maxPending");
  assertThrows(() => new Coalescer({ batch, batchTimeoutMs: NaN }), RangeError, "batchTimeoutMs");
  assertThrows(() => new Coalescer({ batch, adaptive: "yes" as never }), TypeError, "adaptive");
});
