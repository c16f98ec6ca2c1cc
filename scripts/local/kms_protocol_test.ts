import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { openKeyStore } from "./kms_keys.ts";
import { KmsFault, performOperation } from "./kms_protocol.ts";

async function fault(promise: Promise<unknown>): Promise<[number, string]> {
  const error = await assertRejects(() => promise, KmsFault);
  return [error.status, error.type];
}

Deno.test("performOperation() answers as AWS KMS does: data key, Decrypt, Encrypt, DescribeKey", async () => {
  const keys = await openKeyStore();
  const context = { purpose: "test" };
  const generated = await performOperation(keys, "GenerateDataKey", {
    KeyId: keys.keyId,
    KeySpec: "AES_128",
    EncryptionContext: context,
  }) as { CiphertextBlob: string; Plaintext: string; KeyId: string };
  assertEquals(atob(generated.Plaintext).length, 16);
  assertEquals(generated.KeyId, keys.keyArn);
  const opened = await performOperation(keys, "Decrypt", {
    CiphertextBlob: generated.CiphertextBlob,
    EncryptionContext: context,
  }) as { Plaintext: string };
  assertEquals(opened.Plaintext, generated.Plaintext);
  const sealed = await performOperation(keys, "Encrypt", {
    KeyId: "alias/parker-flight-local",
    Plaintext: btoa("hi"),
  }) as { CiphertextBlob: string; EncryptionAlgorithm: string };
  assertEquals(sealed.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
  const described = await performOperation(keys, "DescribeKey", { KeyId: keys.keyArn }) as {
    KeyMetadata: { KeyId: string; KeyState: string };
  };
  assertEquals([described.KeyMetadata.KeyId, described.KeyMetadata.KeyState], [
    keys.keyId,
    "Enabled",
  ]);
});

Deno.test("performOperation() turns mistakes into AWS error types", async () => {
  const keys = await openKeyStore();
  assertEquals(
    await fault(performOperation(keys, "GenerateDataKey", { KeyId: keys.keyId })),
    [400, "ValidationException"],
  );
  assertEquals(
    await fault(performOperation(keys, "Decrypt", { CiphertextBlob: "!!!" })),
    [400, "ValidationException"],
  );
  assertEquals(
    await fault(performOperation(keys, "DescribeKey", { KeyId: crypto.randomUUID() })),
    [400, "NotFoundException"],
  );
  assertEquals(
    await fault(
      performOperation(keys, "Decrypt", { CiphertextBlob: btoa("\x01\x05hello" + "x".repeat(40)) }),
    ),
    [400, "InvalidCiphertextException"],
  );
});
