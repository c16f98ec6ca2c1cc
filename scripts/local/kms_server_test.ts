import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
} from "@aws-sdk/client-kms";
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/support/assert.ts";
import { createKmsClient } from "../../supabase/functions/_shared/kms/kms_client.ts";
import { kmsConfig } from "../../supabase/functions/_shared/kms/kms_config.ts";
import { startKmsServer } from "./kms_server.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function rawCall(url: string, target: string, body: string, headers: HeadersInit = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": target,
      authorization: "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261122/us-east-1/kms/aws4_request",
      ...headers,
    },
    body,
  });
  return { status: res.status, body: await res.json() };
}

Deno.test(
  "startKmsServer() serves the real SDK: data keys, Encrypt/Decrypt and DescribeKey over HTTPS",
  opts,
  async () => {
    const kms = await startKmsServer({ https: true });
    const handle = createKmsClient(kmsConfig(kms.env));
    try {
      const client = handle.client;
      const context = { purpose: "test", user_id: "u1" };
      const generated = await client.send(
        new GenerateDataKeyCommand({
          KeyId: kms.keyId,
          KeySpec: "AES_256",
          EncryptionContext: context,
        }),
      );
      assertEquals(generated.Plaintext?.length, 32);
      assertEquals(generated.KeyId, kms.keyArn);
      // Context order does not matter; its content does.
      const opened = await client.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          EncryptionContext: { user_id: "u1", purpose: "test" },
          KeyId: kms.keyArn,
        }),
      );
      assertEquals(opened.Plaintext, generated.Plaintext);
      const wrong = await assertRejects(() =>
        client.send(
          new DecryptCommand({
            CiphertextBlob: generated.CiphertextBlob,
            EncryptionContext: { purpose: "test", user_id: "u2" },
          }),
        )
      );
      assertEquals(wrong.name, "InvalidCiphertextException");

      const message = new TextEncoder().encode("hello");
      const encrypted = await client.send(
        new EncryptCommand({ KeyId: "alias/parker-flight-local", Plaintext: message }),
      );
      const decrypted = await client.send(
        new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }),
      );
      assertEquals(new TextDecoder().decode(decrypted.Plaintext), "hello");

      const described = await client.send(new DescribeKeyCommand({ KeyId: kms.keyId }));
      assertEquals(described.KeyMetadata?.Arn, kms.keyArn);
      assertEquals(described.KeyMetadata?.KeyState, "Enabled");

      const missing = await assertRejects(() =>
        client.send(new DescribeKeyCommand({ KeyId: crypto.randomUUID() }))
      );
      assertEquals(missing.name, "NotFoundException");
      const otherKey = await assertRejects(() =>
        client.send(
          new DecryptCommand({
            CiphertextBlob: encrypted.CiphertextBlob,
            KeyId: `arn:aws:kms:us-east-1:000000000000:key/${crypto.randomUUID()}`,
          }),
        )
      );
      assertEquals(otherKey.name, "NotFoundException");
      assertEquals(kms.calls(), { GenerateDataKey: 1, Decrypt: 4, Encrypt: 1, DescribeKey: 2 });
    } finally {
      handle.destroy();
      await kms.stop();
    }
  },
);

Deno.test(
  "startKmsServer() answers protocol mistakes with AWS error types and statuses",
  opts,
  async () => {
    const kms = await startKmsServer({ accessKeyId: "AKIDLOCAL" });
    try {
      assertEquals(await rawCall(kms.url, "TrentService.Decrypt", "{nope"), {
        status: 400,
        body: { __type: "SerializationException", message: "body is not valid JSON" },
      });
      const unknown = await rawCall(kms.url, "TrentService.ScheduleKeyDeletion", "{}");
      assertEquals([unknown.status, unknown.body.__type], [400, "UnknownOperationException"]);
      const invalid = await rawCall(
        kms.url,
        "TrentService.GenerateDataKey",
        JSON.stringify({ KeyId: kms.keyId }),
      );
      assertEquals([invalid.status, invalid.body.__type], [400, "ValidationException"]);
      const badBase64 = await rawCall(
        kms.url,
        "TrentService.Decrypt",
        JSON.stringify({ CiphertextBlob: "!!!" }),
      );
      assertEquals([badBase64.status, badBase64.body.__type], [400, "ValidationException"]);
      const stranger = await rawCall(kms.url, "TrentService.DescribeKey", "{}", {
        authorization: "AWS4-HMAC-SHA256 Credential=SOMEONE/20261122/us-east-1/kms/aws4_request",
      });
      assertEquals([stranger.status, stranger.body.__type], [400, "UnrecognizedClientException"]);
      const unsigned = await rawCall(kms.url, "TrentService.DescribeKey", "{}", {
        authorization: "",
      });
      assertEquals(unsigned.body.__type, "MissingAuthenticationTokenException");
      const tampered = await rawCall(
        kms.url,
        "TrentService.Decrypt",
        JSON.stringify({ CiphertextBlob: btoa("\x01\x05hello" + "x".repeat(40)) }),
      );
      assertEquals([tampered.status, tampered.body.__type], [400, "InvalidCiphertextException"]);
    } finally {
      await kms.stop();
    }
  },
);

Deno.test(
  "startKmsServer() injects throttling and internal errors from its random source",
  opts,
  async () => {
    const draws = [0.05, 0.15, 0.5];
    const kms = await startKmsServer({
      throttleRate: 0.1,
      errorRate: 0.1,
      random: () => draws.shift() ?? 0.9,
    });
    try {
      const body = JSON.stringify({ KeyId: kms.keyId });
      const throttled = await rawCall(kms.url, "TrentService.DescribeKey", body);
      assertEquals([throttled.status, throttled.body.__type], [400, "ThrottlingException"]);
      const failed = await rawCall(kms.url, "TrentService.DescribeKey", body);
      assertEquals([failed.status, failed.body.__type], [500, "KMSInternalException"]);
      const ok = await rawCall(kms.url, "TrentService.DescribeKey", body);
      assertEquals(ok.status, 200);
      assertEquals(kms.calls(), { DescribeKey: 3 });
      assertEquals(kms.requests(), 3);
      kms.configure({ errorRate: 1, throttleRate: 0 });
      assertEquals((await rawCall(kms.url, "TrentService.DescribeKey", body)).status, 500);
      assertThrows(() => kms.configure({ throttleRate: 0.5 }), RangeError, "must not exceed 1");
    } finally {
      await kms.stop();
    }
  },
);

Deno.test(
  "startKmsServer() counts TCP connections: one pooled client opens 1, twenty fresh clients open 20",
  opts,
  async () => {
    const kms = await startKmsServer({ https: true });
    try {
      const pooled = createKmsClient(kmsConfig(kms.env));
      for (let i = 0; i < 20; i++) {
        await pooled.client.send(new DescribeKeyCommand({ KeyId: kms.keyId }));
      }
      pooled.destroy();
      assertEquals(kms.connections(), 1);
      for (let i = 0; i < 20; i++) {
        const fresh = createKmsClient(kmsConfig(kms.env));
        await fresh.client.send(new DescribeKeyCommand({ KeyId: kms.keyId }));
        fresh.destroy();
      }
      assertEquals(kms.connections(), 21);
      assertEquals(kms.requests(), 40);
    } finally {
      await kms.stop();
    }
  },
);

Deno.test("startKmsServer() keeps its key in keyFile across restarts", opts, async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-kms-key-" });
  const keyFile = `${dir}/nested/key.json`;
  try {
    const first = await startKmsServer({ keyFile });
    const client = new KMSClient({
      endpoint: first.url,
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    const sealed = await client.send(
      new EncryptCommand({ KeyId: first.keyId, Plaintext: Uint8Array.of(1, 2, 3) }),
    );
    client.destroy();
    await first.stop();
    assertEquals((await Deno.stat(keyFile)).mode! & 0o777, 0o600);

    const second = await startKmsServer({ keyFile });
    const again = new KMSClient({
      endpoint: second.url,
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    try {
      assertEquals(second.keyId, first.keyId);
      const opened = await again.send(
        new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }),
      );
      assertEquals([...opened.Plaintext!], [1, 2, 3]);
    } finally {
      again.destroy();
      await second.stop();
    }
    const fresh = await startKmsServer();
    assert(fresh.keyId !== first.keyId, "without a key file every start has its own key");
    await fresh.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startKmsServer() rejects rates outside 0..1 and negative delays", async () => {
  await assertRejects(() => startKmsServer({ errorRate: 1.5 }), RangeError, "errorRate");
  await assertRejects(() => startKmsServer({ latencyMs: -1 }), RangeError, "latencyMs");
  await assertRejects(
    () => startKmsServer({ errorRate: 0.6, throttleRate: 0.6 }),
    RangeError,
    "must not exceed 1",
  );
});
