import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { bucketCount, bucketOf, inRollout } from "./bucketing.ts";

const on = (trafficPercentage: number) => ({ enabled: true, trafficPercentage });

Deno.test("bucketOf() matches the values every Unleash client computes", () => {
  // unleash-client-node test/strategy/util-test.js: "normalized values are the same across node,
  // java, and go clients".
  assertEquals(bucketOf("gr1", "123"), 73);
  assertEquals(bucketOf("groupX", "999"), 25);
});

Deno.test("inRollout() pins the boundaries of the Unleash specification's vectors", () => {
  // client-specification 10-flexible-rollout-strategy.json, group = the toggle name.
  assert(inRollout(on(10), "Feature.flexibleRollout.10", "174"));
  assert(!inRollout(on(10), "Feature.flexibleRollout.10", "499"));
  assert(inRollout(on(55), "Feature.flexibleRollout.userId.55", "25"));
  assert(inRollout(on(42), "Feature.flexibleRollout.sessionId.42", "147"));
  // Exact boundaries: id 123 in gr1 sits in bucket 73.
  assert(!inRollout(on(72), "gr1", "123"), "not enabled for gr1:123 at 72%");
  assert(inRollout(on(73), "gr1", "123"), "enabled for gr1:123 at 73%");
  assert(!inRollout(on(24), "groupX", "999"), "not enabled for groupX:999 at 24%");
  assert(inRollout(on(25), "groupX", "999"), "enabled for groupX:999 at 25%");
});

Deno.test("inRollout() is off when disabled, at 0% or unknown, and on for everyone at 100%", () => {
  for (let i = 0; i < 1000; i++) {
    const id = `user-${i}`;
    assert(!inRollout(undefined, "flag", id));
    assert(!inRollout({ enabled: false, trafficPercentage: 100 }, "flag", id));
    assert(!inRollout(on(0), "flag", id));
    assert(inRollout(on(100), "flag", id));
  }
});

/** Deterministic UUID-shaped ids (xorshift32), so the statistic below is the same every run. */
function uuidLikeIds(n: number, seed = 0x2545f491): string[] {
  let x = seed;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0).toString(16).padStart(8, "0");
  };
  return Array.from({ length: n }, () => {
    const h = next() + next() + next() + next();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${
      h.slice(20, 32)
    }`;
  });
}

function chiSquare(ids: string[], group: string): number {
  const counts = new Array<number>(bucketCount).fill(0);
  for (const id of ids) {
    const bucket = bucketOf(group, id);
    assert(bucket >= 1 && bucket <= bucketCount, `bucket ${bucket} out of range`);
    counts[bucket - 1]! += 1;
  }
  const expected = ids.length / bucketCount;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

Deno.test("bucketOf() spreads 100k ids uniformly over 100 buckets (chi-square)", () => {
  // 99 degrees of freedom: the 0.999 quantile of chi-square(99) is 148.23. A skewed mapping (a
  // modulo bias, a hash of the id alone ignoring part of it) lands far above it.
  const sequential = Array.from({ length: 100_000 }, (_, i) => String(i + 1));
  const uuids = uuidLikeIds(100_000);
  for (const [name, ids] of [["sequential", sequential], ["uuid", uuids]] as const) {
    const statistic = chiSquare(ids, "flight_search_optimization");
    assert(statistic < 148.23, `${name} ids: chi-square ${statistic.toFixed(1)} ≥ 148.23`);
  }
  // The statistic can fail: all ids in a few buckets is far from uniform.
  const clumped = sequential.map((id) => String(Number(id) % 7));
  assert(chiSquare(clumped, "flight_search_optimization") > 148.23);
});

Deno.test("inRollout() is sticky: raising 10 → 25 → 50 → 100 keeps everyone already in", () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `session-${i}`);
  let previous = new Set<string>();
  for (const percentage of [10, 25, 50, 100]) {
    const current = new Set(ids.filter((id) => inRollout(on(percentage), "flag_x", id)));
    for (const id of previous) assert(current.has(id), `${id} left the rollout at ${percentage}%`);
    // The share is close to the percentage (binomial: 4 standard deviations of 20k draws).
    const share = current.size / ids.length;
    const sd = Math.sqrt((percentage / 100) * (1 - percentage / 100) / ids.length);
    assert(
      Math.abs(share - percentage / 100) <= 4 * sd + 1e-9,
      `share ${share} at ${percentage}%`,
    );
    previous = current;
  }
  assertEquals(previous.size, ids.length);
});

Deno.test("bucketOf() depends on the group: flags bucket independently", () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `u${i}`);
  const same = ids.filter((id) => bucketOf("flag_a", id) === bucketOf("flag_b", id)).length;
  // Independent buckets agree about 1% of the time; identical hashing would agree 100%.
  assert(same < ids.length * 0.05, `${same} of ${ids.length} ids share a bucket across flags`);
});
