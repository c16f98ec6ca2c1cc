import { assertEquals, assertRejects } from "../../../tests/support/assert.ts";
import { systemClock } from "./clock.ts";
import { FakeClock } from "./fake_clock.ts";

Deno.test("systemClock.setTimeout(fn, 0) runs after the current turn, and can be cleared", async () => {
  const order: string[] = [];
  systemClock.setTimeout(() => order.push("deferred"), 0);
  const cleared = systemClock.setTimeout(() => order.push("cleared"), 0);
  systemClock.clearTimeout(cleared);
  await Promise.resolve();
  order.push("same turn");
  await new Promise((resolve) => systemClock.setTimeout(() => resolve(undefined), 5));
  assertEquals(order, ["same turn", "deferred"]);
});

Deno.test("Clock.sleep() resolves after its time and rejects with the reason once aborted", async () => {
  const clock = new FakeClock();
  let slept = false;
  const sleeping = clock.sleep(1000).then(() => (slept = true));
  await clock.tick(999);
  assertEquals(slept, false);
  await clock.tick(1);
  await sleeping;
  assertEquals([slept, clock.pendingTimers], [true, 0]);

  const controller = new AbortController();
  const aborted = clock.sleep(1000, controller.signal);
  controller.abort(new Error("stop"));
  await assertRejects(() => aborted, Error, "stop");
  assertEquals(clock.pendingTimers, 0, "the timer is cleared");
  await assertRejects(() => systemClock.sleep(5, controller.signal), Error, "stop");
  await systemClock.sleep(1);
});
