import { assertEquals } from "../../../../tests/support/assert.ts";
import { KmsStats, reuseRatio } from "./kms_stats.ts";

Deno.test("KmsStats.snapshot() sums calls, errors and latency by operation", () => {
  const stats = new KmsStats();
  stats.recordCall("Decrypt", 4, true);
  stats.recordCall("Decrypt", 6, false);
  stats.recordCall("GenerateDataKey", 3, true);
  stats.recordRequest();
  stats.recordRequest();
  stats.recordRequest();
  stats.recordNewConnection();
  const snap = stats.snapshot();
  assertEquals(snap, {
    calls: { Decrypt: 2, GenerateDataKey: 1 },
    errors: { Decrypt: 1 },
    latencyMsSum: { Decrypt: 10, GenerateDataKey: 3 },
    requests: 3,
    newConnections: 1,
  });
  snap.calls.Decrypt = 99;
  assertEquals(stats.snapshot().calls.Decrypt, 2, "a snapshot is a copy");
});

Deno.test("reuseRatio() is the share of requests on an open connection", () => {
  assertEquals(reuseRatio({ requests: 0, newConnections: 0 }), undefined);
  assertEquals(reuseRatio({ requests: 100, newConnections: 1 }), 0.99);
  assertEquals(reuseRatio({ requests: 20, newConnections: 20 }), 0);
});
