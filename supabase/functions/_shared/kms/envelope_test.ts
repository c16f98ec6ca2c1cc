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
const context = { payment_method_id: "pm-1", purpose: "payment_method", user_id: "u-1" };
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
        const { envelope, keyArn } = await cipher.encrypt(text("4242 card data"), context);
        assertEquals(keyArn, kms.keyArn);
        assertEquals(envelope[0], 1, "format version 1");
        const plain = await cipher.decrypt(envelope, { ...context });
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
      const { envelope } = await cached.encrypt(text("secret"), context);
      await cached.decrypt(envelope, context); // the data key is now cached for decryption

      const flippedTag = envelope.slice();
      flippedTag[flippedTag.length - 1]! ^= 1;
      await assertRejects(() => cached.decrypt(flippedTag, context), DecryptionError);

      const flippedBody = envelope.slice();
      flippedBody[flippedBody.length - 20]! ^= 0x80;
      await assertRejects(() => cached.decrypt(flippedBody, context), DecryptionError);

      const flippedKey = envelope.slice();
      flippedKey[10]! ^= 1; // inside the encrypted data key: part of the AAD, and KMS refuses it
      await assertRejects(() => cached.decrypt(flippedKey, context), DecryptionError);

      const flippedVersion = envelope.slice();
      flippedVersion[0] = 2;
      await assertRejects(
        () => cached.decrypt(flippedVersion, context),
        DecryptionError,
        "version",
      );

      for (
        const other of [
          { ...context, payment_method_id: "pm-2" },
          { ...context, user_id: "u-2" },
          { ...context, purpose: "other" },
        ]
      ) {
        await assertRejects(() => cached.decrypt(envelope, other), DecryptionError);
      }
      await assertRejects(() => cached.decrypt(envelope.subarray(0, 20), context), DecryptionError);
      assertEquals(new TextDecoder().decode(await cached.decrypt(envelope, context)), "secret");
    }),
);

Deno.test(
  "EnvelopeCipher: 100 parallel encrypts on a cold cache make exactly one GenerateDataKey",
  opts,
  () =>
    withKms(async (kms, handle, keyring) => {
      const cipher = new EnvelopeCipher({ keys: keyring, cache: new DataKeyCache(), policy });
      const sealed = await Promise.all(
        Array.from({ length: 100 }, (_, i) => cipher.encrypt(text(`message ${i}`), context)),
      );
      assertEquals(kms.calls(), { GenerateDataKey: 1 });
      assertEquals(handle.stats.snapshot().calls, { GenerateDataKey: 1 });
      const ivs = new Set(sealed.map((s) => decodeEnvelope(s.envelope).iv.join(",")));
      assertEquals(ivs.size, 100, "every message has its own IV");
      const opened = await Promise.all(sealed.map((s) => cipher.decrypt(s.envelope, context)));
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
      await byAge.encrypt(text("a"), context);
      now += 999;
      await byAge.encrypt(text("a"), context);
      assertEquals(generated(), 1);
      now += 1;
      await byAge.encrypt(text("a"), context);
      assertEquals(generated(), 2);

      const byCount = new EnvelopeCipher({
        keys: keyring,
        cache: new DataKeyCache(),
        policy: { ...policy, partition: "count", maxMessages: 5 },
      });
      for (let i = 0; i < 5; i++) await byCount.encrypt(text("b"), context);
      assertEquals(generated(), 3);
      await byCount.encrypt(text("b"), context);
      assertEquals(generated(), 4);

      const byBytes = new EnvelopeCipher({
        keys: keyring,
        cache: new DataKeyCache(),
        policy: { ...policy, partition: "bytes", maxBytes: 64 },
      });
      await byBytes.encrypt(new Uint8Array(40), context);
      await byBytes.encrypt(new Uint8Array(24), context);
      assertEquals(generated(), 5);
      await byBytes.encrypt(new Uint8Array(1), context);
      assertEquals(generated(), 6);
    }),
);

Deno.test("EnvelopeCipher retries a throttled GenerateDataKey and then succeeds", opts, () => {
  const draws = [0];
  return withKms(async (kms, handle, keyring) => {
    const cipher = new EnvelopeCipher({ keys: keyring });
    const { envelope } = await cipher.encrypt(text("x"), context);
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
      await assertRejects(() => cipher.encrypt(text("x"), context), KmsUnavailableError);
      assertEquals(cache.size, 0);
      kms.configure({ errorRate: 0 });
      await cipher.encrypt(text("x"), context);
      assertEquals(kms.calls().GenerateDataKey, 4, "3 failed attempts, then a fresh call");
    }, { errorRate: 1 }),
);
