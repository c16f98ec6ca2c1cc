import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../../../../tests/support/assert.ts";
import { type CachePolicy, DataKeyCache } from "./data_key_cache.ts";
import type { DataKeyMaterial } from "./kms_keyring.ts";

const policy: CachePolicy = {
  partition: "test",
  maxAgeMs: 60_000,
  maxMessages: 1000,
  maxBytes: 1_000_000,
};
const context = { purpose: "test", user_id: "u1" };

/** A data-key source that counts its calls and hands out distinct keys. */
function source() {
  const issued: Uint8Array[] = [];
  let n = 0;
  return {
    calls: () => n,
    issued,
    generate: async (): Promise<DataKeyMaterial> => {
      n++;
      await Promise.resolve();
      const plaintext = crypto.getRandomValues(new Uint8Array(32));
      issued.push(plaintext);
      return { plaintext, encryptedKey: Uint8Array.of(n), keyArn: `arn:key/${n}` };
    },
    decrypt: async (): Promise<Uint8Array> => {
      n++;
      await Promise.resolve();
      return crypto.getRandomValues(new Uint8Array(32));
    },
  };
}

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("DataKeyCache.encryptionKey() shares one generate call among 100 concurrent misses", async () => {
  const cache = new DataKeyCache();
  const src = source();
  const keys = await Promise.all(
    Array.from({ length: 100 }, () => cache.encryptionKey(policy, context, 10, src.generate)),
  );
  assertEquals(src.calls(), 1);
  assert(keys.every((k) => k.keyArn === "arn:key/1"));
  assertEquals(cache.stats().misses, 1);
  assertEquals(cache.stats().hits, 99);
});

Deno.test("DataKeyCache.encryptionKey() needs ceil(n / maxMessages) keys for n concurrent messages", async () => {
  const cache = new DataKeyCache();
  const src = source();
  await Promise.all(
    Array.from(
      { length: 100 },
      () => cache.encryptionKey({ ...policy, maxMessages: 30 }, context, 10, src.generate),
    ),
  );
  assertEquals(src.calls(), 4);
});

Deno.test("DataKeyCache.encryptionKey() zeroes the plaintext key bytes once imported", async () => {
  const cache = new DataKeyCache();
  const src = source();
  const key = await cache.encryptionKey(policy, context, 10, src.generate);
  assertEquals(src.issued[0]!.every((b) => b === 0), true);
  assertEquals(key.key.extractable, false);
});

Deno.test("DataKeyCache.encryptionKey() settles every waiter with a failure and caches nothing", async () => {
  const cache = new DataKeyCache();
  let calls = 0;
  const failing = async (): Promise<DataKeyMaterial> => {
    calls++;
    await Promise.resolve();
    throw new Error("KMS down");
  };
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, () => cache.encryptionKey(policy, context, 1, failing)),
  );
  assertEquals(results.map((r) => r.status), Array(10).fill("rejected"));
  assertEquals(calls, 1);
  assertEquals(cache.size, 0);
  const src = source();
  await cache.encryptionKey(policy, context, 1, src.generate);
  assertEquals(src.calls(), 1, "the failure was not cached");
});

Deno.test("DataKeyCache enforces maxAgeMs with the injected clock and sweeps expired keys", async () => {
  const clock = fakeClock();
  const cache = new DataKeyCache({ now: clock.now });
  const src = source();
  const p = { ...policy, maxAgeMs: 5_000 };
  await cache.encryptionKey(p, context, 1, src.generate);
  clock.advance(4_999);
  await cache.encryptionKey(p, context, 1, src.generate);
  assertEquals(src.calls(), 1);
  clock.advance(1);
  const fresh = await cache.encryptionKey(p, context, 1, src.generate);
  assertEquals([src.calls(), fresh.keyArn], [2, "arn:key/2"]);

  await cache.encryptionKey(p, { purpose: "other", user_id: "u9" }, 1, src.generate);
  assertEquals(cache.size, 2);
  clock.advance(5_000);
  assertEquals(cache.sweep(), 2);
  assertEquals(cache.size, 0);
});

Deno.test("DataKeyCache enforces maxMessages: message n+1 gets a new key", async () => {
  const cache = new DataKeyCache();
  const src = source();
  const p = { ...policy, maxMessages: 3 };
  for (let i = 0; i < 3; i++) await cache.encryptionKey(p, context, 1, src.generate);
  assertEquals(src.calls(), 1);
  assertEquals(cache.size, 0, "a used-up key is dropped at once");
  await cache.encryptionKey(p, context, 1, src.generate);
  assertEquals(src.calls(), 2);
});

Deno.test("DataKeyCache enforces maxBytes and bypasses the cache for a larger message", async () => {
  const cache = new DataKeyCache();
  const src = source();
  const p = { ...policy, maxBytes: 100 };
  await cache.encryptionKey(p, context, 60, src.generate);
  await cache.encryptionKey(p, context, 40, src.generate);
  assertEquals(src.calls(), 1);
  await cache.encryptionKey(p, context, 1, src.generate);
  assertEquals(src.calls(), 2, "100 bytes used: the next byte needs a new key");
  await cache.encryptionKey(p, context, 100, src.generate);
  assertEquals(src.calls(), 3, "100 more bytes do not fit in the second key");
  await cache.encryptionKey(p, context, 10, src.generate);
  assertEquals(src.calls(), 4, "the third key was used up by its 100 bytes");
  await cache.encryptionKey(p, context, 101, src.generate);
  assertEquals([src.calls(), cache.stats().bypasses], [5, 1]);
  await cache.encryptionKey(p, context, 10, src.generate);
  assertEquals(src.calls(), 5, "the bypass did not disturb the cached key");
});

Deno.test("DataKeyCache keeps partitions and contexts apart and bounds its size", async () => {
  const cache = new DataKeyCache({ capacity: 2 });
  const src = source();
  await cache.encryptionKey(policy, context, 1, src.generate);
  await cache.encryptionKey({ ...policy, partition: "other" }, context, 1, src.generate);
  assertEquals(src.calls(), 2);
  await cache.encryptionKey(policy, { ...context, user_id: "u2" }, 1, src.generate);
  assertEquals([src.calls(), cache.size], [3, 2]);
  await cache.encryptionKey(policy, context, 1, src.generate);
  assertEquals(src.calls(), 4, "the least recently used entry was evicted");
});

Deno.test("DataKeyCache.decryptionKey() caches by encrypted key and context", async () => {
  const clock = fakeClock();
  const cache = new DataKeyCache({ now: clock.now });
  const src = source();
  const edk = Uint8Array.of(1, 2, 3);
  const p = { ...policy, maxMessages: 2, maxAgeMs: 1_000 };
  await Promise.all([
    cache.decryptionKey(p, edk, context, 10, src.decrypt),
    cache.decryptionKey(p, edk, context, 10, src.decrypt),
  ]);
  assertEquals(src.calls(), 1);
  await cache.decryptionKey(p, edk, context, 10, src.decrypt);
  assertEquals(src.calls(), 2, "maxMessages applies to decryption too");
  await cache.decryptionKey(p, edk, { ...context, user_id: "u2" }, 10, src.decrypt);
  await cache.decryptionKey(p, Uint8Array.of(1, 2, 4), context, 10, src.decrypt);
  assertEquals(src.calls(), 4);
  clock.advance(1_000);
  await cache.decryptionKey(p, edk, context, 10, src.decrypt);
  assertEquals(src.calls(), 5, "maxAgeMs applies to decryption too");
});

Deno.test("DataKeyCache validates its policy and options", async () => {
  assertThrows(() => new DataKeyCache({ capacity: 0 }), RangeError, "capacity");
  const cache = new DataKeyCache();
  const src = source();
  await assertRejects(
    () => cache.encryptionKey({ ...policy, maxMessages: 0 }, context, 1, src.generate),
    RangeError,
    "maxMessages",
  );
  await assertRejects(
    () => cache.encryptionKey({ ...policy, partition: "" }, context, 1, src.generate),
    RangeError,
    "partition",
  );
  await assertRejects(() => cache.encryptionKey(policy, context, -1, src.generate), RangeError);
  assertEquals(src.calls(), 0);
});
