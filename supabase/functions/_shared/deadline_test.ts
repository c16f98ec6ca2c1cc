import { assertEquals, assertInstanceOf } from "../../../tests/support/assert.ts";
import { DeadlineError, withDeadline } from "./deadline.ts";
import { FakeClock, settle } from "./fake_clock.ts";

Deno.test("withDeadline() passes a timely outcome through and clears its timer", async () => {
  const clock = new FakeClock();
  assertEquals(await withDeadline(Promise.resolve(7), 100, "work", clock), 7);
  assertEquals(clock.pendingTimers, 0);
});

Deno.test("withDeadline() rejects with DeadlineError once the time is up", async () => {
  const clock = new FakeClock();
  let outcome: unknown = "pending";
  withDeadline(new Promise(() => {}), 100, "legacy search", clock).catch((e) => (outcome = e));
  await clock.tick(99);
  assertEquals(outcome, "pending");
  await clock.tick(1);
  await settle();
  assertInstanceOf(outcome, DeadlineError);
  assertEquals((outcome as Error).message, "legacy search did not finish within 100 ms");
});
