import { assertEquals } from "../../../tests/support/assert.ts";
import { systemClock } from "./clock.ts";

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
