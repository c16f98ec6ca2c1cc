import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/support/assert.ts";
import { InvalidCiphertextError, kmsAlias, openKeyStore, UnknownKeyError } from "./kms_keys.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("openKeyStore() seals bound to the encryption context, whatever its order", async () => {
  const keys = await openKeyStore();
  const blob = await keys.encrypt(new TextEncoder().encode("card"), { a: "1", b: "2" });
  assertEquals(text(await keys.decrypt(blob, { b: "2", a: "1" })), "card");
  await assertRejects(() => keys.decrypt(blob, { a: "1", b: "3" }), InvalidCiphertextError);
  await assertRejects(() => keys.decrypt(blob), InvalidCiphertextError);
  const tampered = blob.slice();
  tampered[tampered.length - 1]! ^= 1;
  await assertRejects(() => keys.decrypt(tampered, { a: "1", b: "2" }), InvalidCiphertextError);
  await assertRejects(() => keys.decrypt(Uint8Array.of(1, 5)), InvalidCiphertextError);
});

Deno.test("openKeyStore() refuses another store's blobs and names only its own key", async () => {
  const keys = await openKeyStore({ region: "eu-west-1" });
  const other = await openKeyStore();
  const blob = await other.encrypt(Uint8Array.of(1, 2, 3));
  await assertRejects(() => keys.decrypt(blob), InvalidCiphertextError);
  assert(keys.keyArn.startsWith("arn:aws:kms:eu-west-1:000000000000:key/"));
  for (
    const name of [
      keys.keyId,
      keys.keyArn,
      kmsAlias,
      `arn:aws:kms:eu-west-1:000000000000:${kmsAlias}`,
    ]
  ) {
    keys.resolve(name);
  }
  assertThrows(() => keys.resolve(other.keyId), UnknownKeyError, "does not exist");
});

Deno.test("openKeyStore() generates data keys of the asked size, sealed to their context", async () => {
  const keys = await openKeyStore();
  const { plaintext, blob } = await keys.generateDataKey(16, { purpose: "test" });
  assertEquals(plaintext.length, 16);
  assertEquals(await keys.decrypt(blob, { purpose: "test" }), plaintext);
});

Deno.test("openKeyStore() keeps its key in keyFile, and refuses a malformed one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-kms-keys-" });
  try {
    const keyFile = `${dir}/nested/key.json`;
    const first = await openKeyStore({ keyFile });
    const blob = await first.encrypt(Uint8Array.of(7));
    assertEquals((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
    const second = await openKeyStore({ keyFile });
    assertEquals(second.keyId, first.keyId);
    assertEquals([...await second.decrypt(blob)], [7]);
    await Deno.writeTextFile(keyFile, "{}");
    await assertRejects(() => openKeyStore({ keyFile }), Error, "delete it to start over");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
