import { DescribeKeyCommand } from "@aws-sdk/client-kms";
import { assert, assertEquals, assertRejects } from "../../../../tests/support/assert.ts";
import { startKmsServer } from "../../../../scripts/local/kms_server.ts";
import { createKmsClient, kmsStats } from "./kms_client.ts";
import { kmsConfig } from "./kms_config.ts";
import { reuseRatio } from "./kms_stats.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "createKmsClient() sends 100 operations over 1 connection, counted by both ends",
  opts,
  async () => {
    const kms = await startKmsServer({ https: true });
    const handle = createKmsClient(kmsConfig(kms.env));
    try {
      for (let i = 0; i < 100; i++) {
        await handle.client.send(new DescribeKeyCommand({ KeyId: kms.keyId }));
      }
      assertEquals(kms.connections(), 1);
      assertEquals(kms.requests(), 100);
      const stats = handle.stats.snapshot();
      assertEquals([stats.requests, stats.newConnections], [100, 1]);
      assertEquals(stats.calls, { DescribeKey: 100 });
      assertEquals(reuseRatio(stats), 0.99);
      assert(stats.latencyMsSum.DescribeKey! > 0);
    } finally {
      handle.destroy();
      await kms.stop();
    }
  },
);

Deno.test("createKmsClient() retries a throttled request and then succeeds", opts, async () => {
  const draws = [0, 0.5];
  const kms = await startKmsServer({ throttleRate: 0.1, random: () => draws.shift() ?? 0.5 });
  const handle = createKmsClient(kmsConfig(kms.env));
  try {
    const out = await handle.client.send(new DescribeKeyCommand({ KeyId: kms.keyId }));
    assertEquals(out.KeyMetadata?.KeyId, kms.keyId);
    assertEquals(out.$metadata.attempts, 2);
    assertEquals(kms.calls(), { DescribeKey: 2 });
    const stats = handle.stats.snapshot();
    assertEquals([stats.calls.DescribeKey, stats.requests, stats.errors.DescribeKey], [
      1,
      2,
      undefined,
    ]);
  } finally {
    handle.destroy();
    await kms.stop();
  }
});

Deno.test("createKmsClient() retries 5xx up to KMS_MAX_ATTEMPTS, then fails", opts, async () => {
  const kms = await startKmsServer({ errorRate: 1 });
  const handle = createKmsClient(kmsConfig({ ...kms.env, KMS_MAX_ATTEMPTS: "4" }));
  try {
    const error = await assertRejects(() =>
      handle.client.send(new DescribeKeyCommand({ KeyId: kms.keyId }))
    );
    assertEquals(error.name, "KMSInternalException");
    assertEquals(kms.requests(), 4);
    assertEquals(handle.stats.snapshot().errors, { DescribeKey: 1 });
  } finally {
    handle.destroy();
    await kms.stop();
  }
});

Deno.test("createKmsClient() trusts the configured CA only", opts, async () => {
  const kms = await startKmsServer({ https: true });
  const { KMS_CA_CERT_FILE: _, ...withoutCa } = kms.env;
  const untrusting = createKmsClient(kmsConfig({ ...withoutCa, KMS_MAX_ATTEMPTS: "1" }));
  try {
    await assertRejects(() => untrusting.client.send(new DescribeKeyCommand({ KeyId: kms.keyId })));
    assertEquals(kms.requests(), 0, "no request passes an untrusted TLS handshake");
  } finally {
    untrusting.destroy();
    await kms.stop();
  }
});

Deno.test("kmsStats() is all zeros before the isolate client exists", () => {
  assertEquals(kmsStats(), {
    calls: {},
    errors: {},
    latencyMsSum: {},
    requests: 0,
    newConnections: 0,
  });
});
