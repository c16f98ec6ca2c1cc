import { assert, assertEquals, assertNotEquals, assertThrows } from "../../tests/support/assert.ts";
import { createPrng } from "./prng.ts";

const take = (prng: { uint32(): number }, n: number) => Array.from({ length: n }, prng.uint32);

// Vectors from PractRand's reference sfc32 (raw32() after seed(Uint64)), compiled from C.
Deno.test("createPrng() matches PractRand's sfc32 reference outputs", () => {
  assertEquals(take(createPrng(0), 5), [1363572419, 145230303, 808754475, 4216505632, 947923937]);
  assertEquals(
    take(createPrng(42), 5),
    [1264412219, 1947509147, 3919439299, 1251167922, 656401615],
  );
  assertEquals(
    take(createPrng(42, 7), 5),
    [2414206571, 3306267311, 2536670639, 1417999003, 3775503304],
  );
  assertEquals(
    take(createPrng(0xffff_ffff), 5),
    [1984736529, 3747275468, 1287205723, 2021412065, 2215341480],
  );
});

Deno.test("createPrng() gives the same sequence for the same seed and another for another", () => {
  assertEquals(take(createPrng(123), 100), take(createPrng(123), 100));
  assertNotEquals(take(createPrng(123), 100), take(createPrng(124), 100));
  assertNotEquals(take(createPrng(123, 1), 100), take(createPrng(123, 2), 100));
});

Deno.test("createPrng() int() stays within bounds and reaches both ends", () => {
  const prng = createPrng(9);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const value = prng.int(3, 7);
    assert(value >= 3 && value <= 7, `out of range: ${value}`);
    seen.add(value);
  }
  assertEquals([...seen].sort(), [3, 4, 5, 6, 7]);
  for (let i = 0; i < 1000; i++) {
    const x = prng.next();
    assert(x >= 0 && x < 1, `next() out of [0, 1): ${x}`);
  }
});

Deno.test("createPrng() rejects seeds outside [0, 2^32)", () => {
  assertThrows(() => createPrng(-1), RangeError, "seed");
  assertThrows(() => createPrng(2 ** 32), RangeError, "seed");
  assertThrows(() => createPrng(1.5), RangeError, "seed");
  assertThrows(() => createPrng(1, -1), RangeError, "stream");
  assertThrows(() => createPrng(1).pick([]), RangeError, "non-empty");
});
