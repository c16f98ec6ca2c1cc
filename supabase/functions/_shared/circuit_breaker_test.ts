import { assertEquals, assertInstanceOf } from "../../../tests/support/assert.ts";
import { breakerOptionsFromEnv, CircuitBreaker, CircuitOpenError } from "./circuit_breaker.ts";
import { DeadlineExceeded } from "./deadline.ts";
import { FakeClock } from "./fake_clock.ts";

const down = () => Promise.reject(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }));
const up = () => Promise.resolve("ok");

async function outcome(breaker: CircuitBreaker, work: () => Promise<string>): Promise<unknown> {
  try {
    return await breaker.run(work);
  } catch (error) {
    return error;
  }
}

Deno.test("CircuitBreaker opens after failureThreshold dependency failures in a row", async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker({ dependency: "database", failureThreshold: 3, clock });
  for (let i = 0; i < 2; i++) await outcome(breaker, down);
  assertEquals(breaker.state, "closed");
  await outcome(breaker, down);
  assertEquals(breaker.state, "open");
  let ran = false;
  const refused = await outcome(breaker, () => {
    ran = true;
    return up();
  });
  assertEquals(ran, false);
  assertInstanceOf(refused, CircuitOpenError);
  assertEquals((refused as CircuitOpenError).dependency, "database");
  assertEquals(breaker.snapshot().opens, 1);
  assertEquals(breaker.snapshot().rejected, 1);
});

Deno.test("CircuitBreaker: a success resets the count; defects never count", async () => {
  const breaker = new CircuitBreaker({ dependency: "kms", failureThreshold: 2 });
  await outcome(breaker, down);
  await outcome(breaker, up);
  await outcome(breaker, down);
  assertEquals(breaker.state, "closed");
  for (let i = 0; i < 5; i++) await outcome(breaker, () => Promise.reject(new TypeError("bug")));
  assertEquals(breaker.state, "closed");
});

Deno.test("CircuitBreaker lets one trial through when half-open; success closes it", async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker({
    dependency: "database",
    failureThreshold: 1,
    openMs: 1000,
    clock,
  });
  await outcome(breaker, () => Promise.reject(new DeadlineExceeded("query", 10, "database")));
  assertEquals(breaker.state, "open");
  await clock.tick(1000);
  assertEquals(breaker.state, "half_open");
  const trial = Promise.withResolvers<string>();
  const first = outcome(breaker, () => trial.promise);
  assertInstanceOf(await outcome(breaker, up), CircuitOpenError);
  trial.resolve("ok");
  assertEquals(await first, "ok");
  assertEquals(breaker.state, "closed");
  assertEquals(await outcome(breaker, up), "ok");
});

Deno.test("CircuitBreaker: a failed trial opens it again for openMs", async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker({
    dependency: "database",
    failureThreshold: 1,
    openMs: 500,
    clock,
  });
  await outcome(breaker, down);
  await clock.tick(500);
  await outcome(breaker, down);
  assertEquals(breaker.state, "open");
  await clock.tick(499);
  assertEquals(breaker.state, "open");
  await clock.tick(1);
  assertEquals(breaker.state, "half_open");
  assertEquals(breaker.snapshot().opens, 2);
});

Deno.test("CircuitBreaker calls onOpen when it opens and when a trial fails, not while open", async () => {
  const clock = new FakeClock();
  let opened = 0;
  const breaker = new CircuitBreaker({
    dependency: "database",
    failureThreshold: 2,
    openMs: 500,
    clock,
    onOpen: () => opened++,
  });
  await outcome(breaker, down);
  assertEquals(opened, 0);
  await outcome(breaker, down);
  assertEquals(opened, 1);
  await outcome(breaker, down); // refused while open: no new open
  assertEquals(opened, 1);
  assertEquals(breaker.state, "open");
  await clock.tick(500);
  await outcome(breaker, down); // the trial fails
  assertEquals(opened, 2);
  await clock.tick(500);
  await outcome(breaker, up);
  assertEquals([breaker.state, opened], ["closed", 2]);
});

Deno.test("CircuitBreaker: calls in flight that fail after it opened do not call onOpen again", async () => {
  let opened = 0;
  const breaker = new CircuitBreaker({
    dependency: "database",
    failureThreshold: 1,
    clock: new FakeClock(),
    onOpen: () => opened++,
  });
  const failLater = Promise.withResolvers<never>();
  const slow = outcome(breaker, () => failLater.promise);
  await outcome(breaker, down); // opens it
  failLater.reject(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
  await slow;
  assertEquals([breaker.state, opened, breaker.snapshot().opens], ["open", 1, 1]);
});

Deno.test("CircuitBreaker() refuses out-of-range options", () => {
  for (const options of [{ failureThreshold: 0 }, { failureThreshold: 1.5 }, { openMs: 0 }]) {
    let error: unknown;
    try {
      new CircuitBreaker({ dependency: "database", ...options });
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, RangeError);
  }
});

Deno.test("breakerOptionsFromEnv() reads the dependency's variables with defaults", () => {
  assertEquals(breakerOptionsFromEnv("database", {}), { failureThreshold: 5, openMs: 5000 });
  assertEquals(
    breakerOptionsFromEnv("kms", { KMS_BREAKER_FAILURES: "2", KMS_BREAKER_OPEN_MS: "750" }),
    { failureThreshold: 2, openMs: 750 },
  );
});
