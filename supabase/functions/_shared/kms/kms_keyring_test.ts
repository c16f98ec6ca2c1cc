import { assertEquals, assertRejects } from "../../../../tests/support/assert.ts";
import { startKmsServer } from "../../../../scripts/local/kms_server.ts";
import { createKmsClient } from "./kms_client.ts";
import { kmsConfig } from "./kms_config.ts";
import { DecryptionError, KmsRequestError, KmsUnavailableError } from "./kms_error.ts";
import { KmsKeyring } from "./kms_keyring.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const context = { purpose: "test", user_id: "u1" };

Deno.test(
  "KmsKeyring generates a data key and decrypts it only under the same context",
  opts,
  async () => {
    const kms = await startKmsServer();
    const handle = createKmsClient(kmsConfig(kms.env));
    try {
      const keyring = new KmsKeyring(handle.client, kms.keyId);
      const material = await keyring.generateDataKey(context);
      assertEquals(material.keyArn, kms.keyArn);
      const plain = await keyring.decryptDataKey(material.encryptedKey, context);
      assertEquals(plain, material.plaintext);
      const error = await assertRejects(
        () => keyring.decryptDataKey(material.encryptedKey, { ...context, user_id: "u2" }),
        DecryptionError,
        "InvalidCiphertextException",
      );
      assertEquals(error.message.includes("u2"), false);
    } finally {
      handle.destroy();
      await kms.stop();
    }
  },
);

Deno.test("KmsKeyring reports an unknown key as a request error, not an outage", opts, async () => {
  const kms = await startKmsServer();
  const handle = createKmsClient(kmsConfig(kms.env));
  try {
    const keyring = new KmsKeyring(handle.client, crypto.randomUUID());
    await assertRejects(
      () => keyring.generateDataKey(context),
      KmsRequestError,
      "NotFoundException",
    );
    assertEquals(kms.requests(), 1, "a refusal is not retried");
  } finally {
    handle.destroy();
    await kms.stop();
  }
});

Deno.test("KmsKeyring reports a stopped endpoint as unavailable after retries", opts, async () => {
  const kms = await startKmsServer();
  await kms.stop();
  const handle = createKmsClient(kmsConfig(kms.env));
  try {
    const keyring = new KmsKeyring(handle.client, kms.keyId);
    await assertRejects(() => keyring.generateDataKey(context), KmsUnavailableError, "unavailable");
    assertEquals(handle.stats.snapshot().requests, 3);
  } finally {
    handle.destroy();
  }
});
