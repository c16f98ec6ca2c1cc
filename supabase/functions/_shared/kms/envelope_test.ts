import { assert, assertEquals, assertRejects } from "../../../../tests/support/assert.ts";
import { type KmsServer, startKmsServer } from "../../../../scripts/local/kms_server.ts";
import { type CachePolicy, DataKeyCache } from "./data_key_cache.ts";
import { EnvelopeCipher } from "./envelope.ts";
import { decodeEnvelope } from "./envelope_format.ts";
import { createKmsClient, type KmsClientHandle } from "./kms_client.ts";
import { kmsConfig } from "./kms_config.ts";
import { DecryptionError, KmsUnavailableError } from "./kms_error.ts";
import { KmsKeyring } from "./kms_keyring.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const scope = {
  context: { environment: "test", purpose: "payment_method" },
  binding: { payment_method_id: "pm-1", user_id: "u-1" },
};
/** The scope of another new card: same KMS context, another row. */
const card = (i: number) => ({
  ...scope,
  binding: { payment_method_id: `pm-${i}`, user_id: `u-${i}` },
});
const policy: CachePolicy = {
  partition: "test",
  maxAgeMs: 60_000,
  maxMessages: 1000,
  maxBytes: 1_000_000,
};
const text = (s: string) => new TextEncoder().encode(s);

async function withKms(
  fn: (kms: KmsServer, handle: KmsClientHandle, keyring: KmsKeyring) => Promise<void>,
  options: Parameters<typeof startKmsServer>[0] = {},
) {
  const kms = await startKmsServer(options);
  const handle = createKmsClient(kmsConfig(kms.env));
  try {
    await fn(kms, handle, new KmsKeyring(handle.client, kms.keyId));
  } finally {
    handle.destroy();
    await kms.stop();
  }
}

Deno.test(
  "EnvelopeCipher round-trips a payload through KMS, with and without a cache",
  opts,
  () =>
    withKms(async (kms, _handle, keyring) => {
      for (
        const cipher of [
          new EnvelopeCipher({ keys: keyring }),
          new EnvelopeCipher({ keys: keyring, cache: new DataKeyCache(), policy }),
        ]
      ) {
        const { envelope, keyArn, version } = await cipher.encrypt(text("4242 card data"), scope);
        assertEquals(keyArn, kms.keyArn);
        assertEquals([envelope[0], version], [2, 2], "format version 2");
        const plain = await cipher.decrypt(envelope, { ...scope });
        assertEquals(new TextDecoder().decode(plain), "4242 card data");
      }
      assertEquals(kms.calls(), { GenerateDataKey: 2, Decrypt: 2 });
    }),
);

Deno.test(
  "EnvelopeCipher.decrypt() refuses tampered ciphertext, header or context",
  opts,
  () =>
    withKms(async (_kms, _handle, keyring) => {
      const cached = new EnvelopeCipher({ keys: keyring, cache: new DataKeyCache(), policy });
      const { envelope } = await cached.encrypt(text("secret"), scope);
      await cached.decrypt(envelope, scope); // the data key is now cached for decryption

      const flippedTag = envelope.slice();
      flippedTag[flippedTag.length - 1]! ^= 1;
      await assertRejects(() => cached.decrypt(flippedTag, scope), DecryptionError);

      const flippedBody = envelope.slice();
      flippedBody[flippedBody.length - 20]! ^= 0x80;
      await assertRejects(() => cached.decrypt(flippedBody, scope), DecryptionError);

      const flippedKey = envelope.slice();
      flippedKey[10]! ^= 1; // inside the encrypted data key: part of the AAD, and KMS refuses it
      await assertRejects(() => cached.decrypt(flippedKey, scope), DecryptionError);

      const flippedVersion = envelope.slice();
      flippedVersion[0] = 3;
      await assertRejects(() => cached.decrypt(flippedVersion, scope), DecryptionError, "version");
      // Read as version 1 (same layout, other AAD), even with the matching whole context.
      const downgraded = envelope.slice();
      downgraded[0] = 1;
      for (const v1Context of [scope.context, { ...scope.context, ...scope.binding }]) {
        await assertRejects(
          () => cached.decrypt(downgraded, { ...scope, v1Context }),
          DecryptionError,
        );
      }

      await assertRejects(() => cached.decrypt(envelope.subarray(0, 20), scope), DecryptionError);
      assertEquals(new TextDecoder().decode(await cached.decrypt(envelope, scope)), "secret");
    }),
);

Deno.test(
  "EnvelopeCipher: 100 parallel encrypts on a cold cache make exactly one GenerateDataKey",
  opts,
  () =>
    withKms(async (kms, handle, keyring) => {
      const cipher = new EnvelopeCipher({ keys: keyring, cache: new DataKeyCache(), policy });
      const sealed = await Promise.all(
        Array.from({ length: 100 }, (_, i) => cipher.encrypt(text(`message ${i}`), scope)),
      );
      assertEquals(kms.calls(), { GenerateDataKey: 1 });
      assertEquals(handle.stats.snapshot().calls, { GenerateDataKey: 1 });
      const ivs = new Set(sealed.map((s) => decodeEnvelope(s.envelope).iv.join(",")));
      assertEquals(ivs.size, 100, "every message has its own IV");
      const opened = await Promise.all(sealed.map((s) => cipher.decrypt(s.envelope, scope)));
      assertEquals(new TextDecoder().decode(opened[42]), "message 42");
      assertEquals(kms.calls(), { GenerateDataKey: 1, Decrypt: 1 });
    }),
);

Deno.test(
  "EnvelopeCipher: each cache limit (age, messages, bytes) forces a new data key",
  opts,
  () =>
    withKms(async (kms, _handle, keyring) => {
      let now = 0;
      const generated = () => kms.calls().GenerateDataKey ?? 0;

      const byAge = new EnvelopeCipher({
        keys: keyring,
        cache: new DataKeyCache({ now: () => now }),
        policy: { ...policy, partition: "age", maxAgeMs: 1000 },
      });
      await byAge.encrypt(text("a"), scope);
      now += 999;
      await byAge.encrypt(text("a"), scope);
      assertEquals(generated(), 1);
      now += 1;
      await byAge.encrypt(text("a"), scope);
      assertEquals(generated(), 2);

      const byCount = new EnvelopeCipher({
        keys: keyring,
        cache: new DataKeyCache(),
        policy: { ...policy, partition: "count", maxMessages: 5 },
      });
      for (let i = 0; i < 5; i++) await byCount.encrypt(text("b"), scope);
      assertEquals(generated(), 3);
      await byCount.encrypt(text("b"), scope);
      assertEquals(generated(), 4);

      const byBytes = new EnvelopeCipher({
        keys: keyring,
        cache: new DataKeyCache(),
        policy: { ...policy, partition: "bytes", maxBytes: 64 },
      });
      await byBytes.encrypt(new Uint8Array(40), scope);
      await byBytes.encrypt(new Uint8Array(24), scope);
      assertEquals(generated(), 5);
      await byBytes.encrypt(new Uint8Array(1), scope);
      assertEquals(generated(), 6);
    }),
);

Deno.test("EnvelopeCipher retries a throttled GenerateDataKey and then succeeds", opts, () => {
  const draws = [0];
  return withKms(async (kms, handle, keyring) => {
    const cipher = new EnvelopeCipher({ keys: keyring });
    const { envelope } = await cipher.encrypt(text("x"), scope);
    assert(envelope.length > 0);
    assertEquals(kms.calls(), { GenerateDataKey: 2 });
    assertEquals(handle.stats.snapshot().requests, 2);
  }, { throttleRate: 0.5, random: () => draws.shift() ?? 0.9 });
});

Deno.test(
  "EnvelopeCipher fails with KmsUnavailableError while KMS keeps failing, caching nothing",
  opts,
  () =>
    withKms(async (kms, _handle, keyring) => {
      const cache = new DataKeyCache();
      const cipher = new EnvelopeCipher({ keys: keyring, cache, policy });
      await assertRejects(() => cipher.encrypt(text("x"), scope), KmsUnavailableError);
      assertEquals(cache.size, 0);
      kms.configure({ errorRate: 0 });
      await cipher.encrypt(text("x"), scope);
      assertEquals(kms.calls().GenerateDataKey, 4, "3 failed attempts, then a fresh call");
    }, { errorRate: 1 }),
);

Deno.test(
  "EnvelopeCipher: one data key seals 100 new cards (a new row and user each) and opens them with one Decrypt",
  opts,
  () =>
    withKms(async (kms, _handle, keyring) => {
      const cache = new DataKeyCache();
      const cipher = new EnvelopeCipher({
        keys: keyring,
        cache,
        policy: { ...policy, maxMessages: 100 },
      });
      const sealed = [];
      for (let i = 0; i < 100; i++) sealed.push(await cipher.encrypt(text(`card ${i}`), card(i)));
      assertEquals(kms.calls(), { GenerateDataKey: 1 });
      assertEquals(
        new Set(sealed.map((s) => decodeEnvelope(s.envelope).encryptedKey.join())).size,
        1,
      );
      for (let i = 0; i < 100; i++) {
        assertEquals(
          new TextDecoder().decode(await cipher.decrypt(sealed[i]!.envelope, card(i))),
          `card ${i}`,
        );
      }
      assertEquals(kms.calls(), { GenerateDataKey: 1, Decrypt: 1 });
      // 100 more new cards at once on a cold cache (another cipher): one shared KMS call.
      const cold = new EnvelopeCipher({ keys: keyring, cache: new DataKeyCache(), policy });
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => cold.encrypt(text(`card ${i}`), card(1000 + i))),
      );
      assertEquals(kms.calls(), { GenerateDataKey: 2, Decrypt: 1 });
      // The 101st new card is past maxMessages: a new data key.
      await cipher.encrypt(text("card 100"), card(100));
      assertEquals(kms.calls().GenerateDataKey, 3);
      assertEquals(cache.stats().misses, 3); // 2 encryption keys, 1 decryption key
    }),
);

Deno.test(
  "EnvelopeCipher: an envelope moved to another row, another user or another context does not open",
  opts,
  () =>
    withKms(async (_kms, _handle, keyring) => {
      for (
        const cipher of [
          new EnvelopeCipher({ keys: keyring }),
          new EnvelopeCipher({ keys: keyring, cache: new DataKeyCache(), policy }),
        ]
      ) {
        const { envelope } = await cipher.encrypt(text("secret"), scope);
        // Opened once first, so with the cache the data key is at hand for every attempt below:
        // what refuses them is the AAD, not KMS.
        assertEquals(new TextDecoder().decode(await cipher.decrypt(envelope, scope)), "secret");
        const others = [
          { ...scope, binding: { ...scope.binding, payment_method_id: "pm-2" } }, // another row
          { ...scope, binding: { ...scope.binding, user_id: "u-2" } }, // another user
          { ...scope, binding: { payment_method_id: "pm-2", user_id: "u-2" } }, // both
          { ...scope, binding: { ...scope.binding, extra: "x" } },
          { ...scope, context: { ...scope.context, environment: "other" } }, // KMS refuses
          { ...scope, context: { ...scope.context, purpose: "other" } },
          // A binding pair moved into the KMS context.
          {
            context: { ...scope.context, user_id: "u-1" },
            binding: { payment_method_id: "pm-1" },
          },
        ];
        for (const other of others) {
          await assertRejects(() => cipher.decrypt(envelope, other), DecryptionError);
        }
        assertEquals(new TextDecoder().decode(await cipher.decrypt(envelope, scope)), "secret");
      }
    }),
);

interface V1Fixture {
  kmsKey: { keyId: string; material: string; createdAt: string };
  keyArn: string;
  v1Context: Record<string, string>;
  row: { id: string; user_id: string; envelope: string };
  card: Record<string, unknown>;
}

const v1Fixture: V1Fixture = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/envelope_v1.json", import.meta.url)),
);

Deno.test(
  "EnvelopeCipher opens a version-1 envelope written by the code before version 2, only with its v1 context",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "pf-kms-v1-" });
    const keyFile = `${dir}/key.json`;
    await Deno.writeTextFile(keyFile, JSON.stringify(v1Fixture.kmsKey));
    try {
      await withKms(async (kms, _handle, keyring) => {
        assertEquals(kms.keyArn, v1Fixture.keyArn);
        const envelope = Uint8Array.from(atob(v1Fixture.row.envelope), (c) => c.charCodeAt(0));
        assertEquals(envelope[0], 1);
        const rowScope = {
          context: { environment: "default", purpose: "payment_method" },
          binding: { payment_method_id: v1Fixture.row.id, user_id: v1Fixture.row.user_id },
        };
        for (
          const cipher of [
            new EnvelopeCipher({ keys: keyring }),
            new EnvelopeCipher({ keys: keyring, cache: new DataKeyCache(), policy }),
          ]
        ) {
          const plain = await cipher.decrypt(envelope, {
            ...rowScope,
            v1Context: v1Fixture.v1Context,
          });
          assertEquals(JSON.parse(new TextDecoder().decode(plain)), v1Fixture.card);
          await assertRejects(
            () => cipher.decrypt(envelope, rowScope),
            DecryptionError,
            "version 1 needs",
          );
          await assertRejects(
            () =>
              cipher.decrypt(envelope, {
                ...rowScope,
                v1Context: { ...v1Fixture.v1Context, user_id: "someone-else" },
              }),
            DecryptionError,
          );
          // The same bytes relabelled version 2 do not open either.
          const relabelled = envelope.slice();
          relabelled[0] = 2;
          await assertRejects(
            () => cipher.decrypt(relabelled, { ...rowScope, v1Context: v1Fixture.v1Context }),
            DecryptionError,
          );
        }
      }, { keyFile });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "EnvelopeCipher.encrypt() refuses a key in both context and binding before any KMS call",
  opts,
  () =>
    withKms(async (kms, _handle, keyring) => {
      const cipher = new EnvelopeCipher({ keys: keyring, cache: new DataKeyCache(), policy });
      await assertRejects(
        () => cipher.encrypt(text("x"), { ...scope, binding: { ...scope.binding, purpose: "x" } }),
        TypeError,
        "purpose",
      );
      await assertRejects(() => cipher.encrypt(text("x"), { ...scope, binding: {} }), TypeError);
      assertEquals(kms.requests(), 0);
    }),
);
