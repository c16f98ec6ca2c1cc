import { assertEquals, assertInstanceOf } from "../../../tests/support/assert.ts";
import { Budget, cancellable, DeadlineExceeded, withDeadline } from "./deadline.ts";
import { FakeClock, settle } from "./fake_clock.ts";

Deno.test("withDeadline() passes a timely outcome through and clears its timer", async () => {
  const clock = new FakeClock();
  assertEquals(await withDeadline(Promise.resolve(7), 100, "work", clock), 7);
  assertEquals(clock.pendingTimers, 0);
});

Deno.test("withDeadline() rejects with DeadlineExceeded once the time is up", async () => {
  const clock = new FakeClock();
  let outcome: unknown = "pending";
  withDeadline(new Promise(() => {}), 100, "legacy search", clock).catch((e) => (outcome = e));
  await clock.tick(99);
  assertEquals(outcome, "pending");
  await clock.tick(1);
  await settle();
  assertInstanceOf(outcome, DeadlineExceeded);
  assertEquals((outcome as Error).message, "legacy search did not finish within 100 ms");
});

Deno.test("withDeadline() aborts the signal it gives the work and names the dependency", async () => {
  const clock = new FakeClock();
  let seen: AbortSignal | undefined;
  let outcome: unknown;
  withDeadline(
    (signal) => {
      seen = signal;
      return new Promise(() => {});
    },
    50,
    "GenerateDataKey",
    clock,
    "kms",
  ).catch((e) => (outcome = e));
  await clock.tick(50);
  assertEquals(seen?.aborted, true);
  assertInstanceOf(outcome, DeadlineExceeded);
  assertEquals((outcome as DeadlineExceeded).dependency, "kms");
});

Deno.test("Budget.remaining() counts down and a child never outlives its parent", async () => {
  const clock = new FakeClock();
  const budget = new Budget(3000, { clock });
  await clock.tick(1000);
  assertEquals(budget.remaining(), 2000);
  const child = budget.child(5000, "fallback");
  assertEquals(child.remaining(), 2000);
  await clock.tick(2000);
  assertEquals([budget.expired, child.expired], [true, true]);
  assertEquals(budget.remaining(), 0);
  assertInstanceOf(child.signal.reason, DeadlineExceeded);
  child.dispose();
  budget.dispose();
  assertEquals(clock.pendingTimers, 0);
});

Deno.test("Budget: a child's end leaves the parent running", async () => {
  const clock = new FakeClock();
  const budget = new Budget(3000, { clock });
  const child = budget.child(100, "L2 read");
  await clock.tick(100);
  assertEquals([budget.expired, child.expired], [false, true]);
  budget.dispose();
});

Deno.test("Budget.run() rejects at once when the budget has already run out", async () => {
  const clock = new FakeClock();
  const budget = new Budget(0, { clock });
  await clock.tick(0);
  let started = false;
  const error = await budget.run(
    () => {
      started = true;
      return Promise.resolve(1);
    },
    "query",
    "database",
  ).catch((e) => e);
  assertEquals(started, false);
  assertInstanceOf(error, DeadlineExceeded);
  assertEquals(error.dependency, "database");
});

Deno.test("Budget() refuses a negative or non-finite budget", () => {
  for (const ms of [-1, Number.NaN, Infinity]) {
    let error: unknown;
    try {
      new Budget(ms);
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, RangeError);
  }
});

Deno.test("cancellable() cancels the query and rejects without waiting for the server", async () => {
  const clock = new FakeClock();
  const budget = new Budget(100, { clock });
  let cancels = 0;
  const query = Object.assign(new Promise<number>(() => {}), { cancel: () => cancels++ });
  let outcome: unknown;
  cancellable(query, budget.signal).catch((e) => (outcome = e));
  await clock.tick(100);
  assertEquals(cancels, 1);
  assertInstanceOf(outcome, DeadlineExceeded);
});

Deno.test("cancellable() never sends a query whose budget is already spent", async () => {
  const controller = new AbortController();
  controller.abort(new DeadlineExceeded("request", 1));
  let awaited = 0;
  const query = {
    then: () => awaited++,
    cancel: () => {},
  } as unknown as Promise<number> & { cancel(): void };
  const error = await cancellable(query, controller.signal).catch((e) => e);
  assertInstanceOf(error, DeadlineExceeded);
  assertEquals(awaited, 0);
});
